// The Go binding of offrec, a directory of https://github.com/offrec/offrec; releases are tagged
// bindings/go/vX.Y.Z. Until then, use it from a checkout: go mod edit -replace (README.md).
module github.com/offrec/offrec/bindings/go

// The oldest Go this module builds with: it uses clear (1.21) and unsafe.StringData (1.20).
// `go vet` (make go-tests) runs under this directive, so newer language features or standard
// library calls are reported there.
go 1.21
