# Fuzzing (fuzz/): include from the main Makefile, before `test:`:
#
#   include fuzz/fuzz.mk
#   TEST_TARGETS += fuzz-corpus
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="wire_text ..."]
#       runs every cargo-fuzz target for FUZZ_SECONDS each (nightly + cargo-fuzz required).
#       New inputs go to fuzz/work/<target> (ignored by git), crashes to fuzz/artifacts/;
#       the committed corpus fuzz/corpus/<target> is read, never written. To add the new
#       inputs to the committed corpus, minimise: `make fuzz-cmin`.
#   make fuzz-corpus
#       replays the committed corpus on stable (tests/fuzz_corpus.rs); `make test` runs it too.

FUZZ_SECONDS ?= 60
FUZZ_TOOLCHAIN ?= +nightly
FUZZ_TARGETS ?= wire_text fragments ake_messages data_messages tlv_body smp_messages store_load client_receive ffi_calls otr_text otr_messages otr_client_receive migrate_sexp migrate_fingerprints migrate_potr

.PHONY: fuzz fuzz-corpus fuzz-cmin

fuzz:
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
	    mkdir -p work/$$t && \
	    echo "== fuzz $$t ($(FUZZ_SECONDS) s)" && \
	    cargo $(FUZZ_TOOLCHAIN) fuzz run $$t work/$$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) \
	        || exit 1; \
	done

# Merges fuzz/work/<target> into the committed corpus, keeping only inputs that add coverage.
fuzz-cmin:
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
	    mkdir -p work/$$t && \
	    cargo $(FUZZ_TOOLCHAIN) fuzz run $$t corpus/$$t work/$$t -- -merge=1 || exit 1; \
	done

fuzz-corpus:
	$(CARGO) test --test fuzz_corpus
