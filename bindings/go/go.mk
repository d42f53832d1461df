# Go binding (bindings/go), included from the top-level Makefile:
#
#   include bindings/go/go.mk
#
#   make go-lib     the soname link target/release/liboffrec.so.<ABI> that cgo's rpath needs
#   make go-tests   go vet, go test -race, and the GC-stress run (in `make test`)
#
# The package links target/release/liboffrec.so by default (see bindings/go/link_default.go);
# build with -tags offrec_pkgconfig to use an installed library through pkg-config instead.
# Only the standard library is used: no module downloads.

GO ?= go
GO_DIR := bindings/go
# Go's build cache does not see changes to C headers outside the package directory, so a new
# include/offrec.h would leave the cgo compile (and drift.go's compile-time checks of every
# constant) cached from the old header. The header's hash in CGO_CFLAGS is part of the cache
# key: any change to it recompiles the package.
GO_HEADER_HASH := $(shell sha256sum include/offrec.h 2>/dev/null | cut -c1-16)
GO_ENV := CGO_ENABLED=1 GOTOOLCHAIN=local CGO_CFLAGS="-O2 -g -DOFFREC_HEADER_SHA256_16=$(GO_HEADER_HASH)"

TEST_TARGETS += go-tests

.PHONY: go-lib go-tests

go-lib: build
	ln -sfn liboffrec.so $(RELEASE_DIR)/liboffrec.so.$(ABI_VERSION)

go-tests: go-lib
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -race -count=1 ./...
	cd $(GO_DIR) && $(GO_ENV) OFFREC_GC_EVERY_CALL=1 $(GO) test -count=1 ./...
	# AddressSanitizer over the cgo boundary and everything the library allocates (Go's runtime
	# does not run under valgrind; -asan is its supported memory checker).
	cd $(GO_DIR) && $(GO_ENV) ASAN_OPTIONS=detect_leaks=1 $(GO) test -asan -count=1 .

# The tests of the library's test hooks (otr_vectors_test.go, -tags offrec_testhooks: libotr's
# OTR vectors through the binding), linked against the hooks library (link_testhooks.go).
TEST_TARGETS += go-tests-hooks
.PHONY: go-tests-hooks
go-tests-hooks: hooks-lib
	ln -sfn liboffrec.so $(dir $(HOOKS_LIB))liboffrec.so.$(ABI_VERSION)
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet -tags offrec_testhooks .
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -tags offrec_testhooks -race -count=1 \
	    -run 'OTRVector|OTRTestHooks|LibotrSMP|TamperedLibotr' .

# The Go scripted party for tests/cross (the driver runs target/go-party).
.PHONY: go-party
go-party: go-lib
	cd $(GO_DIR) && $(GO_ENV) $(GO) build -o $(abspath $(RELEASE_DIR)/../go-party) ./cmd/party
