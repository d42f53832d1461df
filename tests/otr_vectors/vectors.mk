# libotr 4.1.1 test vectors for the OTR v3/v2 core (tests/otr_core.rs). Not part of `make test`:
# the vectors are committed; regenerate them only when the generator changes.
#
#   make -f tests/otr_vectors/vectors.mk                   rebuild the generator, rewrite
#                                                          tests/vectors/otr3_session.json and
#                                                          tests/vectors/otr3_v2_session.json, then
#                                                          otr-signatures (they use the new key)
#   make -f tests/otr_vectors/vectors.mk otr-live          tests/otr_live.rs against a live libotr
#   make -f tests/otr_vectors/vectors.mk otr-signatures    offrec signs (cargo test writes
#                                                          tests/vectors/otr3_offrec_signatures.txt,
#                                                          deterministic), libotr's
#                                                          otrl_privkey_verify must accept every line
#
# Needs libotr5-dev and libgcrypt20-dev (the generator reads libotr's installed private headers
# context_priv.h, auth.h, dh.h to dump DH secrets).

CC ?= cc
CARGO ?= cargo
OTR_VECTORS_SRC := tests/otr_vectors/gen.c
OTR_VECTORS_BIN := target/otr-vectors/gen
OTR_VECTORS_CFLAGS := -std=c11 -Wall -Wextra -Wno-unused-parameter -O1 -g
OTR_VECTORS_LDLIBS := -lotr -lgcrypt

.PHONY: otr-vectors otr-signatures

otr-vectors: $(OTR_VECTORS_BIN)
	$(OTR_VECTORS_BIN) session 3 > tests/vectors/otr3_session.json.tmp
	mv tests/vectors/otr3_session.json.tmp tests/vectors/otr3_session.json
	$(OTR_VECTORS_BIN) session 2 > tests/vectors/otr3_v2_session.json.tmp
	mv tests/vectors/otr3_v2_session.json.tmp tests/vectors/otr3_v2_session.json
	$(MAKE) -f tests/otr_vectors/vectors.mk otr-signatures
	@echo "tests/vectors/otr3_session.json and otr3_v2_session.json regenerated; run cargo test --test otr_core"

otr-signatures: $(OTR_VECTORS_BIN)
	OFFREC_WRITE_OTR_SIGNATURES=1 $(CARGO) test --test otr_core offrec_signatures_are_deterministic
	$(OTR_VECTORS_BIN) verify tests/vectors/otr3_offrec_signatures.txt

$(OTR_VECTORS_BIN): $(OTR_VECTORS_SRC)
	mkdir -p $(dir $@)
	$(CC) $(OTR_VECTORS_CFLAGS) $< -o $@ $(OTR_VECTORS_LDLIBS)

# A live libotr party (gen peer) against offrec's OTR core: tests/otr_live.rs, both AKE roles,
# v3 and v2, data both ways, extra keys, the end of the session.
.PHONY: otr-live
otr-live: $(OTR_VECTORS_BIN)
	OFFREC_OTR_PEER=$(abspath $(OTR_VECTORS_BIN)) $(CARGO) test --test otr_live -- --ignored
