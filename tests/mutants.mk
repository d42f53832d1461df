# Mutation testing (TESTING.md), included from the top-level Makefile. Not part of `make test`:
# a full pass over the security modules takes hours on two cores, so it runs one module at a
# time, each against the test targets that exercise it.
#
#   make mutants                       every module in MUTANTS_MODULES, one after the other
#   make mutants MUTANTS_MODULES=ratchet
#   make mutants-list                  what would be mutated, without running anything
#
# Results go to target/mutants/<module>/mutants.out (caught.txt, missed.txt, timeout.txt).
# cargo-mutants is installed (pinned) on first use.

CARGO_MUTANTS_VERSION ?= 27.1.0
MUTANTS_MODULES ?= crypto ratchet ake smp wire conversation store trust forge ffi otr migrate
# Extra module groups that may be named in MUTANTS_MODULES: trust-routing (routing consent, SMP trust,
# name binding: the security fixes of 2026-11); ui-calls (per-peer policy, forgetting, texts,
# presence, message kinds: issue #16); data-message (src/wire/data_message.rs); codec
# (src/wire/codec.rs); wire-text (the rest of src/wire but fragment.rs: tags, queries, armour, TLVs,
# reports); fragment (src/wire/fragment.rs); libotr-key-file (the s-expression reader and libotr's
# private key file in src/migrate, the parsers a hostile file meets first); plaintext-guards (policy,
# held messages, the downgrade guard and pins, stranger caps: what keeps user text out of the
# clear); otr-session (the conversation layer's OTR session and its peer side).
MUTANTS_JOBS ?= 1
# Empty: cargo-mutants' own limit, 5x the unmutated test time and at least a minute
# (.cargo/mutants.toml). A fixed 300 s cost five minutes per mutant that loops (a random source
# returning zeros makes key generation retry forever) against a 5 s baseline.
MUTANTS_TIMEOUT ?=
# Extra cargo-mutants arguments, e.g. MUTANTS_ARGS=--iterate to retry only what was not caught.
MUTANTS_ARGS ?=

# Which files each module covers, and the test targets that exercise it (the whole suite per
# mutant would cost minutes each; these sets were chosen to include every test that names the
# module's behaviour). `--lib` runs the unit tests in src/. They go to every cargo call
# (`--cargo-arg`), so each mutant's build links only these targets, not all ~70 test programs:
# a forge mutant's build fell from 26-37 s to a few seconds.
MUTANTS_FILES_crypto := src/crypto/**
MUTANTS_TESTS_crypto := --lib --test kat_primitives --test vectors --test ratchet --test ake --test zeroize_evidence
MUTANTS_FILES_ratchet := src/ratchet/**
MUTANTS_TESTS_ratchet := --lib --test ratchet --test ratchet_boundaries --test ratchet_props --test vectors --test forge --test hostile_inputs --test store --test store_vector --test store_restore_safety --test session_end_reveals --test loss_reports
MUTANTS_FILES_ake := src/ake/**
MUTANTS_TESTS_ake := --lib --test ake --test ake_finish_tags --test noise_cacophony --test vectors --test hostile_inputs --test conversation --test name_binding
# The modern data message's parser and builder alone (a part of `wire` small enough for one sitting).
MUTANTS_FILES_data-message := src/wire/data_message.rs
MUTANTS_TESTS_data-message := --lib --test wire_api --test wire_props --test vectors --test hostile_inputs --test fuzz_corpus --test ratchet --test ratchet_boundaries --test forge --test session_end_reveals
# The binary field reader and writer every message parser stands on.
MUTANTS_FILES_codec := src/wire/codec.rs
MUTANTS_TESTS_codec := --lib --test wire_api --test wire_props --test vectors --test hostile_inputs --test fuzz_corpus --test conversation --test zeroize_evidence
# The small text-level parsers the OTR layer shares (whitespace tags, queries, versions, armour,
# TLVs, unreadable reports, instance tags): all of src/wire but fragment.rs and the two groups above.
MUTANTS_FILES_wire-text := src/wire/{armour,base64,classify,error_message,instance_tag,query,tlv,unreadable_report,versions,whitespace}.rs
MUTANTS_TESTS_wire-text := --lib --test wire_api --test wire_props --test vectors --test hostile_inputs --test fuzz_corpus --test conversation --test otr_text --test otr_downgrade --test app_tlv --test session_end_reveals --test unauthenticated_budget
# The modern protocol's fragmenter and reassembler (the part of src/wire the groups above leave out).
MUTANTS_FILES_fragment := src/wire/fragment.rs
MUTANTS_TESTS_fragment := --lib --test wire_api --test wire_props --test vectors --test hostile_inputs --test fuzz_corpus --test conversation --test unauthenticated_budget --test ui_calls
MUTANTS_FILES_smp := src/smp/**
MUTANTS_TESTS_smp := --lib --test smp_protocol --test smp_tampering --test smp_mitm --test smp_vectors --test smp_degenerate
MUTANTS_FILES_wire := src/wire/**
MUTANTS_TESTS_wire := --lib --test wire_api --test wire_props --test vectors --test hostile_inputs --test fuzz_corpus --test conversation
MUTANTS_FILES_conversation := src/conversation/**
MUTANTS_TESTS_conversation := --lib --test conversation --test conversation_caps --test hostile_inputs --test smp_mitm --test store --test store_vector --test store_v2 --test adversarial_network --test session_end_reveals --test loss_reports --test routing --test name_binding --test smp_calls
MUTANTS_FILES_store := src/store/**
MUTANTS_TESTS_store := --lib --test store --test store_load --test store_vector --test store_v2 --test store_restore_safety --test store_crash
MUTANTS_FILES_trust := src/trust/**
MUTANTS_FILES_trust-routing := {src/conversation/peer/routing.rs,src/conversation/peer/smp.rs,src/conversation/names.rs}
MUTANTS_TESTS_trust-routing := --lib --test conversation --test routing --test name_binding --test smp_mitm --test store_restore_safety --test smp_calls --test hostile_inputs
MUTANTS_TESTS_trust := --lib --test conversation --test smp_mitm --test store
MUTANTS_FILES_forge := src/forge.rs
MUTANTS_TESTS_forge := --lib --test forge --test forge_vector
MUTANTS_FILES_ui-calls := {src/conversation/peer_policies.rs,src/conversation/peer_directory.rs,src/conversation/peer/forget.rs,src/conversation/texts.rs,src/conversation/presence.rs,src/conversation/persist/peer_policies.rs,src/message_kind.rs}
MUTANTS_TESTS_ui-calls := --lib --test ui_calls --test store_v2
# otr_live (a live libotr peer) is left out: its tests are #[ignore]d unless `make otr-live` runs them.
MUTANTS_FILES_otr := src/otr/**
MUTANTS_TESTS_otr := --lib --test otr_ake --test otr_core --test otr_data --test otr_smp --test otr_text --test otr_conversation --test otr_downgrade --test otr_hostile --test otr_props
# What stands between the user's text and the clear: policy, held messages, the downgrade guard and
# protocol pins, and the caps on what strangers can make a client keep.
MUTANTS_FILES_plaintext-guards := {src/conversation/policy.rs,src/conversation/held.rs,src/conversation/peer/upgrade.rs,src/conversation/peer/holding.rs,src/conversation/peer/strangers.rs,src/conversation/peer/linking.rs}
MUTANTS_TESTS_plaintext-guards := --lib --test store --test conversation --test conversation_caps --test otr_conversation --test otr_downgrade --test otr_text --test unauthenticated_budget --test hostile_inputs --test adversarial_network --test ui_calls --test routing
# The conversation layer's OTR v3/v2 session (behind the same interface as a modern one) and the
# peer's OTR side: instance routing, v2, errors, the upgrade probe.
MUTANTS_FILES_otr-session := {src/conversation/otr_session.rs,src/conversation/peer/otr.rs}
MUTANTS_TESTS_otr-session := --lib --test otr_conversation --test otr_downgrade --test otr_hostile --test unauthenticated_budget --test otr_hand_played_peer --test conversation_caps --test app_tlv --test ui_calls
MUTANTS_FILES_migrate := src/migrate/**
MUTANTS_TESTS_migrate := --lib --test migrate_hostile --test migrate_props --test cli --test otr_conversation
MUTANTS_FILES_libotr-key-file := {src/migrate/sexp.rs,src/migrate/libotr_key.rs}
MUTANTS_TESTS_libotr-key-file := $(MUTANTS_TESTS_migrate)
# The FFI layer is where users meet every feature, and its real tests are the C programs in tests/c:
# tests/c_suite.rs builds them against the mutated library and runs them (ignored in plain `cargo
# test`, hence the test argument). About 45 s a mutant here; 323 mutants.
MUTANTS_FILES_ffi := src/ffi/**
MUTANTS_TESTS_ffi := --lib --test panic_boundary --test zeroize_evidence --test header_drift --test c_suite
MUTANTS_TEST_ARGS_ffi := --include-ignored

.PHONY: mutants mutants-list mutants-tool

mutants-tool:
	@cargo mutants --version 2>/dev/null | grep -qx 'cargo-mutants $(CARGO_MUTANTS_VERSION)' || \
	    cargo install --locked cargo-mutants --version $(CARGO_MUTANTS_VERSION)

mutants-list: mutants-tool
	@$(foreach m,$(MUTANTS_MODULES),printf '%-14s %s mutants\n' $(m) \
	    "$$(cargo mutants --list -f '$(MUTANTS_FILES_$(m))' | wc -l)";)

# `|| true`: cargo-mutants exits non-zero when mutants survive; the summary below says which.
mutants: mutants-tool
	@set -e; for m in $(MUTANTS_MODULES); do \
	    echo "== mutants: $$m"; \
	    $(MAKE) --no-print-directory mutants-one MUTANTS_MODULE=$$m || true; \
	done; \
	for m in $(MUTANTS_MODULES); do \
	    out=target/mutants/$$m/mutants.out; \
	    printf '%-14s caught %4s  missed %4s  timeout %4s  unviable %4s\n' $$m \
	        "$$(cat $$out/caught.txt 2>/dev/null | wc -l)" "$$(cat $$out/missed.txt 2>/dev/null | wc -l)" \
	        "$$(cat $$out/timeout.txt 2>/dev/null | wc -l)" "$$(cat $$out/unviable.txt 2>/dev/null | wc -l)"; \
	done

mutants-one:
	mkdir -p target/mutants/$(MUTANTS_MODULE)
	cargo mutants --no-shuffle -j $(MUTANTS_JOBS) $(if $(MUTANTS_TIMEOUT),--timeout $(MUTANTS_TIMEOUT)) $(MUTANTS_ARGS) \
	    -f '$(MUTANTS_FILES_$(MUTANTS_MODULE))' -o target/mutants/$(MUTANTS_MODULE) \
	    $(foreach a,$(MUTANTS_TESTS_$(MUTANTS_MODULE)),--cargo-arg=$(a)) \
	    $(if $(MUTANTS_TEST_ARGS_$(MUTANTS_MODULE)),-- -- $(MUTANTS_TEST_ARGS_$(MUTANTS_MODULE)))
