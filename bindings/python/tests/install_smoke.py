"""Run by tests/wheel_test.sh (`make python-wheel-test`) with the installed wheel, without OFFREC_LIB:
the bundled library loads and two clients converse. Not a pytest module."""

import os
import sys
from pathlib import Path

assert "OFFREC_LIB" not in os.environ, "the install test must not use OFFREC_LIB"
import offrec  # noqa: E402

here = Path(__file__).resolve().parents[1]
assert not Path(offrec.__file__).resolve().is_relative_to(here), f"imported the source tree: {offrec.__file__}"
wire = []
got = []
alice = offrec.Client("alice", "smoke", on_send=lambda p, t: wire.append(("bob", "alice", t)),
                      on_deliver=lambda p, t, s, i: got.append(("alice", t, s)))
bob = offrec.Client("bob", "smoke", on_send=lambda p, t: wire.append(("alice", "bob", t)),
                    on_deliver=lambda p, t, s, i: got.append(("bob", t, s)))
clients = {"alice": alice, "bob": bob}
alice.start_session("bob")
alice.send("bob", "hello from an installed package")
while wire:
    to, sender, text = wire.pop(0)
    clients[to].receive(sender, text)
alice.send("bob", "encrypted now")
while wire:
    to, sender, text = wire.pop(0)
    clients[to].receive(sender, text)
assert got[-1] == ("bob", "encrypted now", offrec.Security.ENCRYPTED_UNVERIFIED), got
where = offrec.loaded_from()
assert where is not None and Path(where).parent == Path(offrec.__file__).parent / "_native", where
print(f"install_smoke: offrec {offrec.version()} from {where}: ok")
alice.close()
bob.close()
sys.exit(0)
