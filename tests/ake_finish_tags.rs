//! The responder's Finish check: the Finish must come from the instance that sent the Start.
//! A Finish from another instance is refused as `WrongInstance` before any crypto, and the
//! genuine Finish still completes the handshake afterwards.

use offrec::ake::{AkeConfig, AkeError, Initiator, Responder};
use offrec::crypto::{DeterministicRandom, IdentityKey};

const ALICE_TAG: u32 = 0x1111_1111;
const BOB_TAG: u32 = 0x2222_2222;
const BOB_OTHER_TAG: u32 = 0x3333_3333;
const PHI: &[u8] = b"alice@example.org\0bob@example.org\0xmpp";

#[test]
fn finish_from_another_instance_is_refused_before_crypto() {
    let mut rng = DeterministicRandom::from_label("finish tags");
    let alice = IdentityKey::generate(&mut rng).unwrap();
    let bob = IdentityKey::generate(&mut rng).unwrap();
    let cfg = |identity, tag| AkeConfig { identity, our_tag: tag, phi: PHI };

    let (bob_init, start) = Initiator::start(cfg(&bob, BOB_TAG), 0, 0b1, &mut rng).unwrap();
    let (alice_resp, reply) = Responder::respond(cfg(&alice, ALICE_TAG), &start, 0b1, &mut rng).unwrap();
    let (finish, _bob_session) = bob_init.finish(&reply, &mut rng).unwrap();

    // The same Finish relabelled as coming from Bob's other instance.
    let mut relabelled = finish.clone();
    relabelled.sender_tag = BOB_OTHER_TAG;
    assert_eq!(alice_resp.finish(&relabelled, &mut rng).unwrap_err(), AkeError::WrongInstance);

    // A genuine Finish of Bob's other instance, from its own handshake with Alice.
    let (other_init, other_start) = Initiator::start(cfg(&bob, BOB_OTHER_TAG), 0, 0b1, &mut rng).unwrap();
    let (_other_resp, other_reply) = Responder::respond(cfg(&alice, ALICE_TAG), &other_start, 0b1, &mut rng).unwrap();
    let (other_finish, _) = other_init.finish(&other_reply, &mut rng).unwrap();
    assert_eq!(alice_resp.finish(&other_finish, &mut rng).unwrap_err(), AkeError::WrongInstance);

    // Neither attempt disturbed the handshake in progress.
    let session = alice_resp.finish(&finish, &mut rng).unwrap();
    assert_eq!(session.their_tag, BOB_TAG);
}
