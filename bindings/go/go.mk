# Go binding (bindings/go), included from the top-level Makefile:
#
#   include bindings/go/go.mk
#
#   make go-lib     the soname link target/release/liboffrec.so.<ABI> that cgo's rpath needs
#   make go-tests   go vet, go test -race, the GC-stress and the ASan run (in `make test`)
#
# The module is self-contained: its own copy of the header (bindings/go/offrec.h, refreshed by
# `make header`) and, by default, an installed library found through pkg-config. Here in the
# source tree every build uses the tag offrec_intree, which links target/release/liboffrec.so
# with an rpath instead (bindings/go/link_intree.go). tests/install_test.sh builds the module
# the default way, against `make install`. Only the standard library is used: no downloads.

GO ?= go
GO_DIR := bindings/go
# The header is in the package directory, so Go's build cache sees any change to it.
GO_ENV := CGO_ENABLED=1 GOTOOLCHAIN=local GOFLAGS=-tags=offrec_intree

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
