//! The handshake: agreement, crossed starts, downgrade and misbinding attempts, wrong
//! instances, messages in the wrong state, replays from another session.

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
