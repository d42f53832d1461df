//! The handshake: agreement, crossed starts, downgrade and misbinding attempts, wrong
//! instances, messages in the wrong state, replays from another session.

mod common;

use offrec::ake::{
    phi_commitment, AkeConfig, AkeError, AkeMessage, Established, Initiator, Responder, PHI_COMMITMENT_LEN,
};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::wire::data_message::DataMessage;

const ALICE_TAG: u32 = 0x1111_1111;
const BOB_TAG: u32 = 0x2222_2222;
const PHI: &[u8] = b"alice@example.org\0bob@example.org\0xmpp";

struct Parties {
    alice: IdentityKey,
    bob: IdentityKey,
    rng: DeterministicRandom,
}

fn parties(label: &str) -> Parties {
    let mut rng = DeterministicRandom::from_label(label);
    Parties { alice: IdentityKey::generate(&mut rng).unwrap(), bob: IdentityKey::generate(&mut rng).unwrap(), rng }
}

fn config<'a>(identity: &'a IdentityKey, tag: u32, phi: &'a [u8]) -> AkeConfig<'a> {
    AkeConfig { identity, our_tag: tag, phi }
}

/// Bob initiates (he saw Alice's query), Alice responds.
fn handshake(p: &mut Parties) -> (Established, Established) {
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap();
    let (finish, bob) = bob_init.finish(&reply, &mut p.rng).unwrap();
    let alice = alice_resp.finish(&finish, &mut p.rng).unwrap();
    (alice, bob)
}

#[test]
fn both_sides_agree_on_ssid_identities_and_keys() {
    let mut p = parties("agree");
    let (mut alice, mut bob) = handshake(&mut p);
    assert_eq!(alice.ssid, bob.ssid);
    assert_eq!(&alice.their_identity, p.bob.public());
    assert_eq!(&bob.their_identity, p.alice.public());
    assert_eq!((alice.their_tag, bob.their_tag), (BOB_TAG, ALICE_TAG));
    assert!(bob.we_initiated && !alice.we_initiated);
    assert_eq!((alice.version, bob.version), (1, 1));
    // The ratchets talk to each other in both directions straight away.
    let m = bob.ratchet.encrypt(BOB_TAG, ALICE_TAG, 0, b"from bob").unwrap();
    let n = alice.ratchet.encrypt(ALICE_TAG, BOB_TAG, 0, b"from alice").unwrap();
    let got = alice.ratchet.decrypt(&DataMessage::parse(&m.bytes).unwrap(), 0, &mut p.rng).unwrap();
    assert_eq!(&got.body[..], b"from bob");
    let got = bob.ratchet.decrypt(&DataMessage::parse(&n.bytes).unwrap(), 0, &mut p.rng).unwrap();
    assert_eq!(&got.body[..], b"from alice");
}

#[test]
fn different_phi_fails_the_handshake() {
    let mut p = parties("phi");
    let other_phi: &[u8] = b"alice\0mallory\0xmpp";
    // The responder sees the mismatch in Start itself (the phi commitment) and says so.
    let (_bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, other_phi), &start, 0, &mut p.rng).unwrap_err(),
        AkeError::NamesDiffer
    );
}

#[test]
fn a_forged_phi_commitment_does_not_defeat_the_binding() {
    // The commitment is only an early warning: phi itself is in the prologue. A man in the
    // middle who rewrites the commitment in Start to match the responder's phi gets past the
    // responder's check, and the initiator's check of Reply fails.
    let mut p = parties("forged commitment");
    let other_phi: &[u8] = b"alice\0mallory\0xmpp";
    let (bob_init, mut start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let at = start.noise.len() - PHI_COMMITMENT_LEN;
    start.noise[at..].copy_from_slice(&phi_commitment(other_phi));
    let (_alice, reply) = Responder::respond(config(&p.alice, ALICE_TAG, other_phi), &start, 0, &mut p.rng).unwrap();
    assert_eq!(bob_init.finish(&reply, &mut p.rng).unwrap_err(), AkeError::AuthenticationFailed);
    // And with equal phis, a tampered commitment is refused as a mismatch, not ignored.
    let (_b, mut start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let last = start.noise.len() - 1;
    start.noise[last] ^= 1;
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap_err(),
        AkeError::NamesDiffer
    );
}

#[test]
fn stripped_or_altered_offer_is_a_downgrade_and_fails() {
    let mut p = parties("downgrade");
    // Bob saw an offer that differs from what Alice advertised (someone rewrote the query).
    let (_b, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b10, &mut p.rng).unwrap();
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap_err(),
        AkeError::VersionMismatch
    );
    // Tampering with the cleartext offer bytes in Start breaks the transcript at Reply/Finish.
    let (bob_init, mut start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let offer_at = 32; // versions byte after the ephemeral key
    start.noise[offer_at] = 0b11;
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap();
    assert_eq!(bob_init.finish(&reply, &mut p.rng).unwrap_err(), AkeError::AuthenticationFailed);
    let _ = alice_resp;
    // No version in common.
    let (_b, mut start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    start.noise[offer_at] = 0b100;
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap_err(),
        AkeError::VersionMismatch
    );
}

#[test]
fn altered_instance_tags_fail() {
    let mut p = parties("tags");
    let (bob_init, mut start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    start.sender_tag = 0x3333_3333; // header is in the transcript
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    let mut reply_for_bob = reply.clone();
    reply_for_bob.receiver_tag = BOB_TAG;
    assert_eq!(bob_init.finish(&reply_for_bob, &mut p.rng).unwrap_err(), AkeError::AuthenticationFailed);
    let _ = alice_resp;
    // A reply addressed to another instance is refused before any crypto.
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (_a, mut reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    reply.receiver_tag = 0x4444_4444;
    assert_eq!(bob_init.finish(&reply, &mut p.rng).unwrap_err(), AkeError::WrongInstance);
    // A start naming another instance of Alice is refused.
    let (_b, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0x5555_5555, 0, &mut p.rng).unwrap();
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap_err(),
        AkeError::WrongInstance
    );
}

#[test]
fn forged_reply_leaves_the_initiator_able_to_finish() {
    let mut p = parties("forged");
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    for position in 0..reply.noise.len() {
        let mut forged = reply.clone();
        forged.noise[position] ^= 1;
        assert!(bob_init.finish(&forged, &mut p.rng).is_err());
    }
    let (finish, _bob) = bob_init.finish(&reply, &mut p.rng).unwrap();
    for position in 0..finish.noise.len() {
        let mut forged = finish.clone();
        forged.noise[position] ^= 1;
        assert!(alice_resp.finish(&forged, &mut p.rng).is_err());
    }
    assert!(alice_resp.finish(&finish, &mut p.rng).is_ok());
}

#[test]
fn messages_of_the_wrong_kind_are_refused() {
    let mut p = parties("kinds");
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    assert_eq!(bob_init.finish(&start, &mut p.rng).unwrap_err(), AkeError::Malformed);
    assert_eq!(alice_resp.finish(&reply, &mut p.rng).unwrap_err(), AkeError::Malformed);
    assert_eq!(
        Responder::respond(config(&p.alice, ALICE_TAG, PHI), &reply, 0, &mut p.rng).unwrap_err(),
        AkeError::Malformed
    );
}

#[test]
fn finish_replayed_from_another_session_fails() {
    let mut p = parties("replay");
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (_alice_old, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    let (old_finish, _) = bob_init.finish(&reply, &mut p.rng).unwrap();
    // A new handshake; the attacker replays the old Finish.
    let (_bob2, start2) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (alice_new, _reply2) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start2, 0, &mut p.rng).unwrap();
    assert_eq!(alice_new.finish(&old_finish, &mut p.rng).unwrap_err(), AkeError::AuthenticationFailed);
    // A replayed Start yields a fresh Reply that the old initiator state cannot use.
    let (_a, reply_to_replay) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0, &mut p.rng).unwrap();
    assert_ne!(reply_to_replay.noise, reply.noise);
}

#[test]
fn crossed_starts_resolve_to_one_session() {
    let mut p = parties("crossed");
    let (alice_init, alice_start) = Initiator::start(config(&p.alice, ALICE_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (bob_init, bob_start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let alice_yields = alice_init.should_yield_to(&bob_start);
    let bob_yields = bob_init.should_yield_to(&alice_start);
    assert_ne!(alice_yields, bob_yields, "exactly one side yields");
    let (initiator, initiator_id, responder_id, start, init_tag, resp_tag) = if alice_yields {
        (bob_init, &p.bob, &p.alice, bob_start, BOB_TAG, ALICE_TAG)
    } else {
        (alice_init, &p.alice, &p.bob, alice_start, ALICE_TAG, BOB_TAG)
    };
    let _ = (initiator_id, init_tag);
    let (resp, reply) = Responder::respond(config(responder_id, resp_tag, PHI), &start, 0, &mut p.rng).unwrap();
    let (finish, a) = initiator.finish(&reply, &mut p.rng).unwrap();
    let b = resp.finish(&finish, &mut p.rng).unwrap();
    assert_eq!(a.ssid, b.ssid);
}

#[test]
fn parse_rejects_garbage_and_oversize() {
    assert!(AkeMessage::parse(&[]).is_none());
    assert!(AkeMessage::parse(&[0x4F, 0x01, 0x21]).is_none());
    assert!(AkeMessage::parse(&[0x4F, 0x01, 0x99, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    assert!(AkeMessage::parse(&vec![0x4F; 2000]).is_none());
    let ok = AkeMessage::parse(&[0x4F, 0x01, 0x21, 0, 0, 1, 0, 0, 0, 0, 0, 7]).unwrap();
    assert_eq!((ok.sender_tag, ok.receiver_tag, ok.noise.as_slice()), (0x100, 0, &[7u8][..]));
}

/// A Reply written by hand with the given payload (what a responder of an older draft, or a
/// forger holding Alice's identity, would send): the Noise bytes are genuine.
fn reply_with_payload(p: &mut Parties, start: &AkeMessage, payload: &[u8]) -> AkeMessage {
    use offrec::ake::handshake::PROLOGUE_LABEL;
    use offrec::ake::message::header_bytes;
    use offrec::ake::noise::HandshakeState;
    use offrec::ake::AkeKind;
    let mut prologue = PROLOGUE_LABEL.to_vec();
    prologue.extend_from_slice(&(PHI.len() as u32).to_be_bytes());
    prologue.extend_from_slice(PHI);
    let mut noise = HandshakeState::with_key_pair(false, &prologue, p.alice.key_pair());
    noise.mix_hash(&start.header());
    noise.read_message(&start.noise).unwrap();
    noise.mix_hash(&header_bytes(AkeKind::Reply, ALICE_TAG, start.sender_tag));
    let bytes = noise.write_message(payload, &mut p.rng).unwrap();
    AkeMessage { kind: AkeKind::Reply, sender_tag: ALICE_TAG, receiver_tag: start.sender_tag, noise: bytes }
}

#[test]
fn reply_carries_only_the_versions_and_finish_the_initiator_s_ratchet_key() {
    let mut p = parties("seeded ratchet");
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let (alice_resp, reply) = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap();
    // e_R (32) + sealed s_R (48) + sealed versions byte (1 + 16); framed: 11 more (PROTOCOL.md §4.4).
    assert_eq!((reply.noise.len(), reply.to_bytes().len()), (97, 108));
    let (finish, mut bob) = bob_init.finish(&reply, &mut p.rng).unwrap();
    assert_eq!(finish.to_bytes().len(), 107);
    let mut alice = alice_resp.finish(&finish, &mut p.rng).unwrap();
    // Bob's ratchet key (from Finish) is the key of his first chain, and no handshake
    // ephemeral is: the ephemerals' secrets do not outlive the handshake.
    let first = bob.ratchet.encrypt(BOB_TAG, ALICE_TAG, 0, b"first").unwrap();
    assert_eq!(&first.ratchet_key, bob.ratchet.our_ratchet_key());
    assert_ne!(first.ratchet_key[..], start.noise[..32], "not e_I");
    assert_ne!(alice.ratchet.our_ratchet_key()[..], reply.noise[..32], "not e_R");
    let got = alice.ratchet.decrypt(&DataMessage::parse(&first.bytes).unwrap(), 0, &mut p.rng).unwrap();
    assert_eq!(&got.body[..], b"first");

    // A Reply with anything after the versions byte (the earlier 33-byte P2 with a ratchet key)
    // is malformed, though its AEAD tags verify.
    let (bob_init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let mut old_p2 = vec![0x01];
    old_p2.extend_from_slice(p.alice.public());
    for payload in [&old_p2[..], &[0x01, 0x00][..], &[][..]] {
        let reply = reply_with_payload(&mut p, &start, payload);
        assert_eq!(bob_init.finish(&reply, &mut p.rng).unwrap_err(), AkeError::Malformed, "{payload:?}");
    }
    let reply = reply_with_payload(&mut p, &start, &[0x01]);
    assert!(bob_init.finish(&reply, &mut p.rng).is_ok(), "the hand-written Reply is otherwise genuine");
}

#[test]
fn the_first_message_keys_differ_per_direction_and_do_not_reflect() {
    let mut p = parties("directions");
    let (mut alice, mut bob) = handshake(&mut p);
    let from_bob = bob.ratchet.encrypt(BOB_TAG, ALICE_TAG, 0, b"same words").unwrap();
    let from_alice = alice.ratchet.encrypt(ALICE_TAG, BOB_TAG, 0, b"same words").unwrap();
    assert_eq!((from_bob.message_number, from_alice.message_number), (0, 0));
    assert_ne!(from_bob.extra_key_seed(), from_alice.extra_key_seed(), "the two first chains are different keys");
    assert_ne!(from_bob.ratchet_key, from_alice.ratchet_key);
    assert_ne!(from_bob.bytes[from_bob.bytes.len() - 26..], from_alice.bytes[from_alice.bytes.len() - 26..]);
    // A message reflected back to its sender is refused and changes nothing.
    for (ratchet, own) in [(&mut bob.ratchet, &from_bob), (&mut alice.ratchet, &from_alice)] {
        let before = ratchet.clone();
        assert!(ratchet.decrypt(&DataMessage::parse(&own.bytes).unwrap(), 0, &mut p.rng).is_err());
        assert_eq!(*ratchet, before);
    }
    // Each side reads the other's.
    assert!(alice.ratchet.decrypt(&DataMessage::parse(&from_bob.bytes).unwrap(), 0, &mut p.rng).is_ok());
    assert!(bob.ratchet.decrypt(&DataMessage::parse(&from_alice.bytes).unwrap(), 0, &mut p.rng).is_ok());
}

#[test]
fn a_finish_with_a_bad_ratchet_key_is_refused_at_once() {
    use offrec::ake::handshake::{phi_commitment, PROLOGUE_LABEL, SUITE_NOISE_XX};
    use offrec::ake::message::header_bytes;
    use offrec::ake::noise::HandshakeState;
    use offrec::ake::AkeKind;
    let mut p = parties("bad ratchet key");
    let mut prologue = PROLOGUE_LABEL.to_vec();
    prologue.extend_from_slice(&(PHI.len() as u32).to_be_bytes());
    prologue.extend_from_slice(PHI);
    let mut minus_one = [0xFF; 32];
    minus_one[0] = 0xEC;
    minus_one[31] = 0x7F;
    let mut one = [0; 32];
    one[0] = 1;
    let good = *IdentityKey::generate(&mut p.rng).unwrap().public();
    for (ratchet_key, refused) in [([0; 32], true), (one, true), (minus_one, true), (good, false)] {
        // Bob's side written by hand, so that Finish can carry any key.
        let mut bob = HandshakeState::with_key_pair(true, &prologue, p.bob.key_pair());
        bob.mix_hash(&header_bytes(AkeKind::Start, BOB_TAG, 0));
        let mut payload = vec![0b1, 0, SUITE_NOISE_XX];
        payload.extend_from_slice(&phi_commitment(PHI));
        let start = AkeMessage {
            kind: AkeKind::Start,
            sender_tag: BOB_TAG,
            receiver_tag: 0,
            noise: bob.write_message(&payload, &mut p.rng).unwrap(),
        };
        let (alice_resp, reply) =
            Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap();
        bob.mix_hash(&reply.header());
        bob.read_message(&reply.noise).unwrap();
        bob.mix_hash(&header_bytes(AkeKind::Finish, BOB_TAG, ALICE_TAG));
        let noise = bob.write_message(&ratchet_key, &mut p.rng).unwrap();
        let finish = AkeMessage { kind: AkeKind::Finish, sender_tag: BOB_TAG, receiver_tag: ALICE_TAG, noise };
        let result = alice_resp.finish(&finish, &mut p.rng);
        if refused {
            assert_eq!(result.unwrap_err(), AkeError::NonContributory, "{ratchet_key:?}");
        } else {
            assert!(result.is_ok());
        }
    }
}

/// A random source that fails at its first draw, as a broken `getrandom` would.
fn broken_random() -> common::Replay {
    common::Replay(Vec::new())
}

/// Every handshake step that draws randomness (the ephemeral keys inside Noise, the ratchet
/// keys after it) reports a broken random source as `Random`, not as a forged message; and the
/// steps that take `&self` can be retried once the source works again.
#[test]
fn a_failing_random_source_is_reported_as_such_at_every_step() {
    let mut p = parties("failing random");
    let (alice_cfg, bob_cfg) = (config(&p.alice, ALICE_TAG, PHI), config(&p.bob, BOB_TAG, PHI));

    // Start: Bob's ephemeral key (Noise).
    let err = Initiator::start(bob_cfg, 0, 0b1, &mut broken_random()).unwrap_err();
    assert_eq!(err, AkeError::Random);
    let (bob_init, start) = Initiator::start(bob_cfg, 0, 0b1, &mut p.rng).unwrap();

    // Reply: Alice's ephemeral key (Noise).
    let err = Responder::respond(alice_cfg, &start, 0b1, &mut broken_random()).unwrap_err();
    assert_eq!(err, AkeError::Random);
    let (alice_resp, reply) = Responder::respond(alice_cfg, &start, 0b1, &mut p.rng).unwrap();

    // Finish: Bob's first ratchet key, drawn before anything is written.
    let err = bob_init.finish(&reply, &mut broken_random()).unwrap_err();
    assert_eq!(err, AkeError::Random);
    let (finish, mut bob) = bob_init.finish(&reply, &mut p.rng).unwrap();

    // Alice's ratchet key for her first sending step, drawn when she takes Finish.
    let err = alice_resp.finish(&finish, &mut broken_random()).unwrap_err();
    assert_eq!(err, AkeError::Random);
    let mut alice = alice_resp.finish(&finish, &mut p.rng).unwrap();

    // The retried steps give a working session.
    assert_eq!(alice.ssid, bob.ssid);
    let m = bob.ratchet.encrypt(BOB_TAG, ALICE_TAG, 0, b"after the retry").unwrap();
    let got = alice.ratchet.decrypt(&DataMessage::parse(&m.bytes).unwrap(), 0, &mut p.rng).unwrap();
    assert_eq!(&got.body[..], b"after the retry");
    let n = alice.ratchet.encrypt(ALICE_TAG, BOB_TAG, 0, b"and back").unwrap();
    assert!(bob.ratchet.decrypt(&DataMessage::parse(&n.bytes).unwrap(), 0, &mut p.rng).is_ok());
}

/// The prefix a names-differ report quotes is the first 8 bytes of the Start's ephemeral key:
/// the initiator recognises its own Start by it, so it must not be a constant.
#[test]
fn the_ephemeral_prefix_is_the_start_s_own() {
    use offrec::ake::handshake::start_ephemeral_prefix;
    let mut p = parties("prefix");
    let (first, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let (second, again) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let expected: [u8; 8] = start.noise[..8].try_into().unwrap();
    assert_eq!(start_ephemeral_prefix(&start.noise), Some(expected));
    assert_eq!(first.ephemeral_prefix(), expected);
    assert_eq!(second.ephemeral_prefix(), <[u8; 8]>::try_from(&again.noise[..8]).unwrap());
    assert_ne!(first.ephemeral_prefix(), second.ephemeral_prefix());
    assert_eq!(start_ephemeral_prefix(&start.noise[..7]), None);
}

/// Crossed starts: the side whose ephemeral key hashes higher stays initiator, the other
/// yields; a Start reflected back to its sender is never yielded to.
#[test]
fn crossed_starts_yield_to_the_higher_ephemeral_hash() {
    use sha2::{Digest, Sha256};
    let mut p = parties("crossed hashes");
    let (alice_init, alice_start) = Initiator::start(config(&p.alice, ALICE_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let (bob_init, bob_start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0, &mut p.rng).unwrap();
    let hash = |m: &AkeMessage| -> [u8; 32] { Sha256::digest(&m.noise[..32]).into() };
    let alice_higher = hash(&alice_start) > hash(&bob_start);
    assert_eq!(alice_init.should_yield_to(&bob_start), !alice_higher);
    assert_eq!(bob_init.should_yield_to(&alice_start), alice_higher);
    assert!(!alice_init.should_yield_to(&alice_start));
    assert!(!bob_init.should_yield_to(&bob_start));
}

/// Instance tags from 0x100 up are valid (below are reserved, as in OTR): the lowest valid
/// tag completes a handshake on both sides; 0xFF is refused by both.
#[test]
fn the_lowest_valid_instance_tag_is_accepted_and_the_one_below_refused() {
    let mut p = parties("tag boundary");
    let (init, start) = Initiator::start(config(&p.bob, 0x100, PHI), 0, 0b1, &mut p.rng).unwrap();
    let (resp, reply) = Responder::respond(config(&p.alice, 0x100, PHI), &start, 0b1, &mut p.rng).unwrap();
    assert_eq!(resp.their_tag(), 0x100);
    let (finish, bob) = init.finish(&reply, &mut p.rng).unwrap();
    let alice = resp.finish(&finish, &mut p.rng).unwrap();
    assert_eq!((alice.their_tag, bob.their_tag), (0x100, 0x100));

    let (_, start) = Initiator::start(config(&p.bob, 0xFF, PHI), 0, 0b1, &mut p.rng).unwrap();
    let err = Responder::respond(config(&p.alice, ALICE_TAG, PHI), &start, 0b1, &mut p.rng).unwrap_err();
    assert_eq!(err, AkeError::Malformed);
    let (init, start) = Initiator::start(config(&p.bob, BOB_TAG, PHI), 0, 0b1, &mut p.rng).unwrap();
    let (_, reply) = Responder::respond(config(&p.alice, 0xFF, PHI), &start, 0b1, &mut p.rng).unwrap();
    assert_eq!(init.finish(&reply, &mut p.rng).unwrap_err(), AkeError::Malformed);
}

/// A framed handshake message of exactly the maximum length parses; one byte more does not.
#[test]
fn parse_accepts_exactly_the_maximum_length() {
    use offrec::ake::message::MAX_AKE_MESSAGE_LEN;
    let mut bytes = vec![0x4F, 0x01, 0x21, 0, 0, 1, 0, 0, 0, 0, 0];
    bytes.resize(MAX_AKE_MESSAGE_LEN, 7);
    assert_eq!(AkeMessage::parse(&bytes).unwrap().noise.len(), MAX_AKE_MESSAGE_LEN - 11);
    bytes.push(7);
    assert!(AkeMessage::parse(&bytes).is_none());
}
