# OTR v3 SMP against libotr 4.1.1 (tests/otr_smp_vectors/gen.c; needs libotr5-dev).
#
#   make otr-smp-vectors    regenerate tests/vectors/otr3_smp.json (libotr against libotr)
#
# Not a TEST_TARGETS entry: tests/otr_smp.rs compiles gen.c itself for its mixed runs against
# libotr and skips them, loudly, where libotr's headers are missing.

OTR_SMP_GEN := target/otr-smp-gen

.PHONY: otr-smp-vectors

$(OTR_SMP_GEN): tests/otr_smp_vectors/gen.c
	mkdir -p target
	$(CC) -O1 -Wall -Wextra -o $@ $< -lotr -lgcrypt

otr-smp-vectors: $(OTR_SMP_GEN)
	$(OTR_SMP_GEN) vectors > tests/vectors/otr3_smp.json
