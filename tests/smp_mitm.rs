//! A relaying man in the middle: Mallory completes one real handshake with Alice (posing as
//! Bob) and another with Bob (posing as Alice), and forwards every SMP message verbatim. Both
//! victims use the right shared secret, and SMP still fails on both ends: the secret is bound
//! to the session id and to the fingerprints each victim actually sees.

use offrec::ake::{AkeConfig, Established, Initiator, Responder};
use offrec::crypto::keys::fingerprint;
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::smp::{Smp, SmpContext, SmpEvent, SmpTlv};

fn handshake(a: &IdentityKey, b: &IdentityKey, rng: &mut DeterministicRandom) -> (Established, Established) {
    let (init, start) =
        Initiator::start(AkeConfig { identity: a, our_tag: 0x100, phi: b"alice bob" }, 0, 0, rng).unwrap();
    let (resp, reply) =
        Responder::respond(AkeConfig { identity: b, our_tag: 0x200, phi: b"alice bob" }, &start, 0, rng).unwrap();
    let (finish, a_side) = init.finish(&reply, rng).unwrap();
    (a_side, resp.finish(&finish, rng).unwrap())
}

fn context(session: &Established, ours: &IdentityKey) -> SmpContext {
    SmpContext {
        ssid: session.ssid,
        our_fingerprint: ours.fingerprint(),
        their_fingerprint: fingerprint(&session.their_identity),
    }
}

#[test]
fn relayed_smp_fails_on_both_ends_with_the_right_secret() {
    let mut rng = DeterministicRandom::from_label("mitm");
    let alice = IdentityKey::generate(&mut rng).unwrap();
    let bob = IdentityKey::generate(&mut rng).unwrap();
    let mallory = IdentityKey::generate(&mut rng).unwrap();
    let (alice_side, _mallory_to_alice) = handshake(&alice, &mallory, &mut rng);
    let (_mallory_to_bob, bob_side) = handshake(&mallory, &bob, &mut rng);
    assert_ne!(alice_side.ssid, bob_side.ssid);

    let mut alice_smp = Smp::new(context(&alice_side, &alice));
    let mut bob_smp = Smp::new(context(&bob_side, &bob));
    let secret = b"our shared secret";
    let mut to_bob: Vec<SmpTlv> = alice_smp.start(secret, Some("where did we meet?"), &mut rng).unwrap();
    let mut events = (Vec::new(), Vec::new());
    for _round in 0..4 {
        let mut to_alice = Vec::new();
        for tlv in to_bob.drain(..) {
            let step = bob_smp.receive(tlv.tlv_type, &tlv.payload, &mut rng);
            if let Some(SmpEvent::AskedForSecret { .. }) = step.event {
                to_alice.push(bob_smp.respond(secret, &mut rng).unwrap());
            }
            events.1.extend(step.event);
            to_alice.extend(step.reply);
        }
        for tlv in to_alice {
            let step = alice_smp.receive(tlv.tlv_type, &tlv.payload, &mut rng);
            events.0.extend(step.event);
            to_bob.extend(step.reply);
        }
    }
    assert!(!events.0.contains(&SmpEvent::Succeeded), "alice: {:?}", events.0);
    assert!(!events.1.contains(&SmpEvent::Succeeded), "bob: {:?}", events.1);
    assert!(events
        .0
        .iter()
        .chain(events.1.iter())
        .any(|e| matches!(e, SmpEvent::Cheated | SmpEvent::Failed | SmpEvent::Aborted)));
}

#[test]
fn direct_smp_over_real_sessions_succeeds() {
    let mut rng = DeterministicRandom::from_label("direct");
    let alice = IdentityKey::generate(&mut rng).unwrap();
    let bob = IdentityKey::generate(&mut rng).unwrap();
    let (a, b) = handshake(&alice, &bob, &mut rng);
    let mut alice_smp = Smp::new(context(&a, &alice));
    let mut bob_smp = Smp::new(context(&b, &bob));
    let secret = b"our shared secret";
    let smp1 = alice_smp.start(secret, None, &mut rng).unwrap().pop().unwrap();
    bob_smp.receive(smp1.tlv_type, &smp1.payload, &mut rng);
    let smp2 = bob_smp.respond(secret, &mut rng).unwrap();
    let smp3 = alice_smp.receive(smp2.tlv_type, &smp2.payload, &mut rng).reply.unwrap();
    let step = bob_smp.receive(smp3.tlv_type, &smp3.payload, &mut rng);
    assert_eq!(step.event, Some(SmpEvent::Succeeded));
    let smp4 = step.reply.unwrap();
    assert_eq!(alice_smp.receive(smp4.tlv_type, &smp4.payload, &mut rng).event, Some(SmpEvent::Succeeded));
}
