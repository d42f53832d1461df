package offrec

import (
	"bytes"
	"os"
	"testing"
)

// The module's header (offrec.h, what cgo compiles against) is a copy of the repository's
// include/offrec.h, byte for byte: `make header` refreshes both. Inside the source tree a stale
// copy fails here; a copy of the module alone (what `go get` fetches) has nothing to compare.
func TestHeaderCopyIsCurrent(t *testing.T) {
	if _, err := os.Stat("../../Cargo.toml"); err != nil {
		t.Skip("not inside the offrec source tree: no include/offrec.h to compare with")
	}
	repo, err := os.ReadFile("../../include/offrec.h")
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile("offrec.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(own, repo) {
		t.Fatal("bindings/go/offrec.h differs from include/offrec.h: run `make header` and commit both")
	}
}
