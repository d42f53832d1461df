"""Run under valgrind and AddressSanitizer by `make python-memcheck` (not a pytest module):
every kind of call through the binding (conversation, SMP, extra key, trust, persistence,
forging, errors raised from callbacks, OTR sessions and keys, TLVs, in-place calls), so memory errors or leaks in the library or in the
binding's C boundary show up with the Python frames that caused them."""

import offrec

wire = []
seen = []
clients = {}


def make(name, policy=offrec.Policy.MANUAL):
    return offrec.Client(name, "memcheck", policy, on_send=lambda to, text: wire.append((to, name, text)),
                         on_deliver=lambda peer, text, security, instance: seen.append((name, text)))


def pump():
    while wire:
        to, sender, text = wire.pop(0)
        clients[to].receive(sender, text)


clients["alice"], clients["bob"] = alice, bob = make("alice"), make("bob")
alice.start_session("bob")
pump()
for i in range(20):
    alice.send("bob", f"message {i} " + "x" * (i * 50))
    bob.send("alice", f"reply {i}")
    pump()
alice.smp_start("bob", "secret", "question?")
pump()
bob.smp_respond("alice", "secret")
pump()
key = alice.extra_symmetric_key("bob", 7, b"context")
pump()
# Application TLVs and the in-place calls (their buffers and lists cross the boundary).
alice.send_tlvs("bob", "with tlvs", [(0x8001, b"value"), (0x8002, b"")])
pump()
out = alice.send_inplace("bob", "in place " * 40)
for text in out.wire:
    wire.append(("bob", "alice", text))
pump()
bob.send("alice", "to be shown in place")
while wire:
    to, sender, text = wire.pop(0)
    got = clients[to].receive_inplace(sender, text) if to == "alice" else clients[to].receive(sender, text)
alice.set_trust("bob", bob.fingerprint, offrec.Trust.VERIFIED_MANUAL)
alice.accept_key("bob", bob.instance_tag)
try:
    alice.accept_key("bob", 0x4242)
except offrec.NoSessionError:
    pass
sealed = alice.save(key=bytes(32))
restored = offrec.Client.load(sealed, account="alice", key=bytes(32), on_send=lambda to, text: wire.append((to, "alice", text)),
                              on_deliver=lambda peer, text, security, instance: seen.append(("alice", text)))
alice.close()
clients["alice"] = restored
restored.send("bob", "after restore")
pump()
# The error path through the boundary, checked: a wrong key must raise WrongKeyError exactly.
try:
    offrec.Client.load(sealed, account="alice", key=bytes([1] * 32), on_send=print, on_deliver=print)
except offrec.WrongKeyError:
    pass
else:
    raise AssertionError("a wrong key opened the store")
restored.end_session("bob")
pump()
restored.close()
bob.close()
assert ("bob", "after restore") in seen, seen

# OTR: a session forced by a query whose modern offer was stripped, and every OTR call.
otr_only = offrec.Policy.ALLOW | offrec.Policy.ALLOW_OTR_V3 | offrec.Policy.ALLOW_OTR_V2
clients["carol"], clients["dave"] = carol, dave = make("carol", otr_only), make("dave", otr_only)
assert carol.otr_fingerprint() is None  # the NO_OTR_KEY error path
dave_fp = dave.generate_otr_key()
assert dave.generate_otr_key() == dave_fp
carol.receive("dave", "?OTRv3?")
pump()
carol.send("dave", "over otr")
dave.send("carol", "back over otr")
pump()
sp = carol.session_protocol("dave", 0)
assert sp.protocol == offrec.Protocol.OTR_V3 and sp.otr.their_fingerprint == dave_fp
assert offrec.key_id_is_otr(carol.sessions("dave")[0].their_fingerprint) == dave_fp
assert offrec.format_otr_fingerprint(dave_fp) == offrec.format_fingerprint(b"otr-dsa-sha1" + dave_fp)
carol.smp_start("dave", "secret", "question?")
pump()
dave.smp_respond("carol", "secret")
pump()
carol.extra_symmetric_key("dave", 3, b"ctx")
pump()
carol.end_session("dave")
pump()
# The UI calls: peers and keys, forgetting, per-peer policy, texts, classify, names.
assert carol.peers() == ["dave"]
[dave_key] = [k for k in carol.known_keys("dave") if k.kind == offrec.KeyKind.OTR_DSA]
carol.set_peer_policy("erin", offrec.Policy.NEVER)
assert carol.peer_policy("erin") == offrec.Policy.NEVER
carol.clear_peer_policy("erin")
carol.set_text(offrec.Text.QUERY, "Bitte verschlüsseln.")
assert carol.text(offrec.Text.QUERY) == "Bitte verschlüsseln."
try:
    carol.set_text(offrec.Text.QUERY, "?OTR")
except offrec.InvalidTextError:
    pass
carol.forget_key("dave", dave_key.key_id)
carol.forget_peer("dave")
assert offrec.classify("?OTRv3?") == offrec.MessageKind.OTR_QUERY
assert offrec.event_name(offrec.EventCode.SMP_FAILED) == "smp_failed"
carol.close()
dave.close()
assert ("dave", "over otr") in seen and ("carol", "back over otr") in seen, seen
print("memcheck_session: ok")
