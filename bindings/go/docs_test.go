package offrec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// undocumented lists the exported identifiers of the Go files in dir (tests excluded) that
// have no doc comment: functions, methods of exported types, types, and constants and
// variables (a comment on the spec, on its line, or on its parenthesised group counts).
func undocumented(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		missing = append(missing, undocumentedIn(fset, f)...)
	}
	sort.Strings(missing)
	return missing
}

func hasText(g *ast.CommentGroup) bool { return g != nil && strings.TrimSpace(g.Text()) != "" }

func receiverType(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return ""
	}
	expr := fn.Recv.List[0].Type
	if star, ok := expr.(*ast.StarExpr); ok {
		expr = star.X
	}
	if idx, ok := expr.(*ast.IndexExpr); ok {
		expr = idx.X
	}
	if id, ok := expr.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func undocumentedIn(fset *token.FileSet, f *ast.File) []string {
	var missing []string
	where := func(p token.Pos, what string) string {
		pos := fset.Position(p)
		return filepath.Base(pos.Filename) + ": " + what
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if recv := receiverType(d); recv != "" {
				if !ast.IsExported(recv) {
					continue
				}
				name = recv + "." + name
			}
			if !hasText(d.Doc) {
				missing = append(missing, where(d.Pos(), name))
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && !hasText(s.Doc) && !(len(d.Specs) == 1 && hasText(d.Doc)) {
						missing = append(missing, where(s.Pos(), "type "+s.Name.Name))
					}
				case *ast.ValueSpec:
					documented := hasText(s.Doc) || hasText(s.Comment) || (d.Lparen.IsValid() && hasText(d.Doc)) ||
						(!d.Lparen.IsValid() && hasText(d.Doc))
					for _, n := range s.Names {
						if n.IsExported() && !documented {
							missing = append(missing, where(n.Pos(), n.Name))
						}
					}
				}
			}
		}
	}
	return missing
}

// TestEveryExportedIdentifierIsDocumented: go doc shows real text for the whole API.
func TestEveryExportedIdentifierIsDocumented(t *testing.T) {
	if missing := undocumented(t, "."); len(missing) > 0 {
		t.Errorf("%d exported identifiers without a doc comment:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}

// TestTheDocCheckerFindsGaps: the check above fails when something is undocumented.
func TestTheDocCheckerFindsGaps(t *testing.T) {
	src := `package p
// Documented is fine.
func Documented() {}
func Bare() {}
type T int
func (T) M() {}
// Group doc.
const (
	A = 1
	B = 2
)
const (
	C = 3 // line comment
	D = 4
)
var E = 5
func unexported() {}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(undocumentedIn(fset, f), ",")
	want := "p.go: Bare,p.go: type T,p.go: T.M,p.go: D,p.go: E"
	if got != want {
		t.Fatalf("checker found %q, want %q", got, want)
	}
}

// TestTheCallbackTableMatchesTheCode: the README's table of callback argument orders says what
// the Handler interfaces declare.
func TestTheCallbackTableMatchesTheCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "callbacks.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // method -> "(peer, text string)" as written in Go
	ast.Inspect(f, func(n ast.Node) bool {
		it, ok := n.(*ast.InterfaceType)
		if !ok {
			return true
		}
		for _, m := range it.Methods.List {
			fn, ok := m.Type.(*ast.FuncType)
			if !ok || len(m.Names) == 0 {
				continue
			}
			var params []string
			for _, p := range fn.Params.List {
				var names []string
				for _, n := range p.Names {
					names = append(names, n.Name)
				}
				params = append(params, strings.Join(names, ", ")+" "+exprString(p.Type))
			}
			sig := m.Names[0].Name + "(" + strings.Join(params, ", ") + ")"
			if fn.Results != nil && len(fn.Results.List) > 0 {
				sig += " " + exprString(fn.Results.List[0].Type)
			}
			declared[m.Names[0].Name] = sig
		}
		return true
	})
	rows := 0
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || !strings.HasPrefix(strings.TrimSpace(cells[4]), "`") {
			continue
		}
		goSig := strings.Trim(strings.TrimSpace(cells[4]), "`")
		name := goSig[:strings.Index(goSig, "(")]
		if declared[name] != goSig {
			t.Errorf("README says %q, callbacks.go declares %q", goSig, declared[name])
		}
		rows++
	}
	if rows != 6 {
		t.Fatalf("found %d rows of the callback table, want 6", rows)
	}
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.ArrayType:
		return "[]" + exprString(x.Elt)
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "?"
}
