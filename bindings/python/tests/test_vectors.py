"""The Python binding agrees byte for byte with the frozen vectors in tests/vectors/ (the C
and Go bindings run the same checks): restored identities have the recorded fingerprints, and
forging the recorded transcript gives the recorded bytes."""
import json
from pathlib import Path

import offrec

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors"


def test_identities_have_the_recorded_fingerprints():
    ake = json.loads((VECTORS / "ake.json").read_text())
    for name in ("alice", "bob"):
        identity = ake["identities"][name]
        with offrec.Client("vector", "net", identity_secret=bytes.fromhex(identity["secret"]), instance_tag=0x100,
                           on_send=lambda *a: None, on_deliver=lambda *a: None) as client:
            assert client.fingerprint.hex() == identity["fingerprint"]


def test_forging_the_recorded_transcript_gives_the_recorded_bytes():
    vector = json.loads((VECTORS / "forge.json").read_text())
    forged = offrec.forge(vector["captured"], vector["later"], vector["known"], vector["new"])
    assert forged == vector["forged"]
