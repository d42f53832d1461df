//! End-to-end SMP runs: results, questions, men in the middle, state errors, restarts.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use offrec::crypto::random::{DeterministicRandom, RandomSource};
use offrec::smp::messages::Smp1;
use offrec::smp::proofs::{LogProof, TAG_G2A, TAG_G3A};
use offrec::smp::{Smp, SmpContext, SmpError, SmpEvent, SmpTlv, TLV_SMP1, TLV_SMP2, TLV_SMP3, TLV_SMP4, TLV_SMP_ABORT};
use proptest::prelude::*;

const SSID: [u8; 32] = [1; 32];
const FP_A: [u8; 32] = [2; 32];
const FP_B: [u8; 32] = [3; 32];

fn pair(ssid: [u8; 32]) -> (Smp, Smp) {
    (
        Smp::new(SmpContext { ssid, our_fingerprint: FP_A, their_fingerprint: FP_B }),
        Smp::new(SmpContext { ssid, our_fingerprint: FP_B, their_fingerprint: FP_A }),
    )
}

fn rng(label: &str) -> DeterministicRandom {
    DeterministicRandom::from_label(label)
}

/// Runs a whole exchange and returns (Alice's final event, Bob's final event).
fn run(alice: &mut Smp, bob: &mut Smp, sa: &[u8], sb: &[u8], q: Option<&str>) -> (SmpEvent, SmpEvent) {
    let (mut ra, mut rb) = (rng("alice"), rng("bob"));
    let mut m1 = alice.start(sa, q, &mut ra).unwrap();
    assert_eq!(m1.len(), 1);
    let m1 = m1.remove(0);
    assert_eq!(m1.tlv_type, TLV_SMP1);
    let step = bob.receive(m1.tlv_type, &m1.payload, &mut rb);
    assert_eq!(step.event, Some(SmpEvent::AskedForSecret { question: q.map(str::to_owned) }));
    assert_eq!(step.reply, None);
    assert!(bob.is_awaiting_secret());
    let m2 = bob.respond(sb, &mut rb).unwrap();
    assert_eq!(m2.tlv_type, TLV_SMP2);
    let step = alice.receive(m2.tlv_type, &m2.payload, &mut ra);
    assert_eq!(step.event, Some(SmpEvent::InProgress));
    let m3 = step.reply.unwrap();
    assert_eq!(m3.tlv_type, TLV_SMP3);
    let step = bob.receive(m3.tlv_type, &m3.payload, &mut rb);
    let bob_event = step.event.unwrap();
    let m4 = step.reply.unwrap();
    assert_eq!(m4.tlv_type, TLV_SMP4);
    assert!(!bob.is_in_progress() && !bob.holds_secrets());
    let step = alice.receive(m4.tlv_type, &m4.payload, &mut ra);
    assert_eq!(step.reply, None);
    assert!(!alice.is_in_progress() && !alice.holds_secrets());
    (step.event.unwrap(), bob_event)
}

#[test]
fn equal_secrets_succeed_on_both_sides() {
    let (mut a, mut b) = pair(SSID);
    assert_eq!(
        run(&mut a, &mut b, b"correct horse", b"correct horse", None),
        (SmpEvent::Succeeded, SmpEvent::Succeeded)
    );
}

#[test]
fn unequal_secrets_fail_on_both_sides() {
    let (mut a, mut b) = pair(SSID);
    assert_eq!(run(&mut a, &mut b, b"correct horse", b"battery staple", None), (SmpEvent::Failed, SmpEvent::Failed));
}

#[test]
fn question_is_delivered_and_machine_is_reusable() {
    let (mut a, mut b) = pair(SSID);
    assert_eq!(run(&mut a, &mut b, b"x", b"x", Some("Where did we meet?")), (SmpEvent::Succeeded, SmpEvent::Succeeded));
    // Second run, roles reversed, on the same machines.
    assert_eq!(run(&mut b, &mut a, b"y", b"y", Some("é?")), (SmpEvent::Succeeded, SmpEvent::Succeeded));
    assert_eq!(run(&mut a, &mut b, b"y", b"z", None), (SmpEvent::Failed, SmpEvent::Failed));
}

#[test]
fn too_long_question_is_refused_without_state_change() {
    let (mut a, _) = pair(SSID);
    let q = "q".repeat(offrec::smp::MAX_QUESTION_LEN + 1);
    assert!(matches!(a.start(b"s", Some(&q), &mut rng("a")), Err(SmpError::QuestionTooLong { .. })));
    assert!(!a.is_in_progress());
}

#[test]
fn respond_without_smp1_is_an_error() {
    let (_, mut b) = pair(SSID);
    assert_eq!(b.respond(b"s", &mut rng("b")), Err(SmpError::NotAwaitingSecret));
}

#[test]
fn relay_between_sessions_with_different_ssid_is_caught() {
    // Mallory forwards Alice's messages (session ssid1) verbatim into his session with Bob
    // (ssid2). The proofs are bound to the ssid, so Bob sees cheating at SMP1.
    let (mut alice, _) = pair([10; 32]);
    let (_, mut bob) = pair([11; 32]);
    let m1 = alice.start(b"s", None, &mut rng("a")).unwrap().remove(0);
    let step = bob.receive(m1.tlv_type, &m1.payload, &mut rng("b"));
    assert_eq!(step.event, Some(SmpEvent::Cheated));
    assert_eq!(step.reply, Some(SmpTlv::abort()));
    assert!(matches!(step.error, Some(SmpError::ProofFailed { tag: TAG_G2A })));
}

#[test]
fn relay_with_mismatched_fingerprints_fails() {
    // Even with the same ssid, each victim binds the fingerprint it actually authenticated
    // (Mallory's), so forwarding every message verbatim gives Failed on both sides.
    let fp_m = [7; 32];
    let mut alice = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: fp_m });
    let mut bob = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_B, their_fingerprint: fp_m });
    assert_eq!(run(&mut alice, &mut bob, b"same", b"same", None), (SmpEvent::Failed, SmpEvent::Failed));
    // Swapped fingerprints (each side thinks it is the other) also fail.
    let mut alice = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: FP_B });
    let mut bob = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: FP_B });
    assert_eq!(run(&mut alice, &mut bob, b"same", b"same", None), (SmpEvent::Failed, SmpEvent::Failed));
}

#[test]
fn mallory_running_two_sessions_without_the_secret_fails_both() {
    // Mallory runs his own SMP with each victim and can only guess.
    let fp_m = [7; 32];
    let mut alice = Smp::new(SmpContext { ssid: [20; 32], our_fingerprint: FP_A, their_fingerprint: fp_m });
    let mut m_to_a = Smp::new(SmpContext { ssid: [20; 32], our_fingerprint: fp_m, their_fingerprint: FP_A });
    let mut m_to_b = Smp::new(SmpContext { ssid: [21; 32], our_fingerprint: fp_m, their_fingerprint: FP_B });
    let mut bob = Smp::new(SmpContext { ssid: [21; 32], our_fingerprint: FP_B, their_fingerprint: fp_m });
    assert_eq!(run(&mut alice, &mut m_to_a, b"secret", b"guess", None).0, SmpEvent::Failed);
    assert_eq!(run(&mut m_to_b, &mut bob, b"guess", b"secret", None).1, SmpEvent::Failed);
}

#[test]
fn out_of_state_messages_abort() {
    let (mut a, mut b) = pair(SSID);
    let (mut ra, mut rb) = (rng("a"), rng("b"));
    // SMP2..SMP4 while idle.
    for t in [TLV_SMP2, TLV_SMP3, TLV_SMP4] {
        let step = b.receive(t, &[0u8; 352], &mut rb);
        assert_eq!(step.reply, Some(SmpTlv::abort()));
        assert_eq!(step.event, Some(SmpEvent::Aborted));
        assert_eq!(step.error, Some(SmpError::UnexpectedMessage { tlv_type: t }));
    }
    // A second SMP1 while Alice waits for SMP2 aborts her run.
    let m1 = a.start(b"s", None, &mut ra).unwrap().remove(0);
    let step = a.receive(TLV_SMP1, &m1.payload, &mut ra);
    assert_eq!(step.event, Some(SmpEvent::Aborted));
    assert!(!a.is_in_progress() && !a.holds_secrets());
    // Bob waiting for his secret gets an SMP3 instead.
    let m1 = a.start(b"s", None, &mut ra).unwrap().remove(0);
    b.receive(TLV_SMP1, &m1.payload, &mut rb);
    let step = b.receive(TLV_SMP3, &[0u8; 256], &mut rb);
    assert_eq!(step.event, Some(SmpEvent::Aborted));
    assert!(!b.is_in_progress());
}

#[test]
fn unrelated_tlvs_are_ignored() {
    let (mut a, _) = pair(SSID);
    let mut ra = rng("a");
    a.start(b"s", None, &mut ra).unwrap();
    let step = a.receive(1, b"padding", &mut ra);
    assert_eq!(step, Default::default());
    assert!(a.holds_secrets());
}

#[test]
fn peer_abort_resets_and_restart_works() {
    let (mut a, mut b) = pair(SSID);
    let (mut ra, mut rb) = (rng("a"), rng("b"));
    let m1 = a.start(b"s", None, &mut ra).unwrap().remove(0);
    b.receive(TLV_SMP1, &m1.payload, &mut rb);
    let abort = b.abort();
    assert_eq!(abort, SmpTlv { tlv_type: TLV_SMP_ABORT, payload: vec![] });
    assert!(!b.is_in_progress());
    let step = a.receive(abort.tlv_type, &abort.payload, &mut ra);
    assert_eq!(step.event, Some(SmpEvent::Aborted));
    assert_eq!(step.reply, None);
    assert!(!a.is_in_progress() && !a.holds_secrets());
    // An abort while idle is a no-op.
    assert_eq!(a.receive(TLV_SMP_ABORT, &[], &mut ra), Default::default());
    // And a fresh run works.
    assert_eq!(run(&mut a, &mut b, b"s", b"s", None), (SmpEvent::Succeeded, SmpEvent::Succeeded));
}

#[test]
fn restarting_mid_run_sends_abort_first_and_peer_follows() {
    let (mut a, mut b) = pair(SSID);
    let (mut ra, mut rb) = (rng("a"), rng("b"));
    let m1 = a.start(b"old", None, &mut ra).unwrap().remove(0);
    b.receive(TLV_SMP1, &m1.payload, &mut rb);
    let tlvs = a.start(b"new", Some("again"), &mut ra).unwrap();
    assert_eq!(tlvs.len(), 2);
    assert_eq!(tlvs[0], SmpTlv::abort());
    assert_eq!(b.receive(tlvs[0].tlv_type, &tlvs[0].payload, &mut rb).event, Some(SmpEvent::Aborted));
    let step = b.receive(tlvs[1].tlv_type, &tlvs[1].payload, &mut rb);
    assert_eq!(step.event, Some(SmpEvent::AskedForSecret { question: Some("again".into()) }));
    let m2 = b.respond(b"new", &mut rb).unwrap();
    let m3 = a.receive(m2.tlv_type, &m2.payload, &mut ra).reply.unwrap();
    let step = b.receive(m3.tlv_type, &m3.payload, &mut rb);
    assert_eq!(step.event, Some(SmpEvent::Succeeded));
    let m4 = step.reply.unwrap();
    assert_eq!(a.receive(m4.tlv_type, &m4.payload, &mut ra).event, Some(SmpEvent::Succeeded));
}

/// An SMP1 whose generator(s) are the identity, with *valid* proofs of knowledge of the
/// exponent 0. Without the identity check, G2 = G3 = identity would make every comparison
/// succeed whatever the secrets.
fn identity_smp1(g2_identity: bool, g3_identity: bool, rng: &mut dyn RandomSource) -> Vec<u8> {
    let zero = Scalar::ZERO;
    let honest = Scalar::from(5u64);
    let (a2, a3) = (if g2_identity { zero } else { honest }, if g3_identity { zero } else { honest });
    let (g2a, g3a) = (RistrettoPoint::mul_base(&a2), RistrettoPoint::mul_base(&a3));
    assert_eq!(g2a == RistrettoPoint::identity(), g2_identity);
    let proof2 = LogProof::prove(&SSID, TAG_G2A, &a2, &g2a, rng).unwrap();
    let proof3 = LogProof::prove(&SSID, TAG_G3A, &a3, &g3a, rng).unwrap();
    // The proofs themselves verify: only the identity check stops this.
    assert!(proof2.verify(&SSID, TAG_G2A, &g2a).is_ok());
    let mut out = Vec::new();
    out.extend_from_slice(&0u32.to_be_bytes());
    for (p, proof) in [(g2a, proof2), (g3a, proof3)] {
        out.extend_from_slice(p.compress().as_bytes());
        out.extend_from_slice(proof.c.as_bytes());
        out.extend_from_slice(proof.d.as_bytes());
    }
    out
}

#[test]
fn identity_generators_with_valid_zero_proofs_are_rejected() {
    let mut rm = rng("mallory");
    for (g2, g3) in [(true, false), (false, true), (true, true)] {
        let (_, mut bob) = pair(SSID);
        let payload = identity_smp1(g2, g3, &mut rm);
        assert!(Smp1::parse(&payload).is_err());
        let step = bob.receive(TLV_SMP1, &payload, &mut rng("b"));
        assert_eq!(step.event, Some(SmpEvent::Cheated));
        assert_eq!(step.error, Some(SmpError::IdentityPoint));
        assert_eq!(step.reply, Some(SmpTlv::abort()));
        assert!(!bob.is_in_progress());
    }
}

#[test]
fn debug_does_not_print_secrets() {
    let (mut a, _) = pair(SSID);
    a.start(b"hunter2", Some("q"), &mut rng("a")).unwrap();
    let text = format!("{a:?}");
    assert_eq!(text, "Smp { state: \"Expect2\", .. }");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_secrets_give_the_right_result(
        sa in proptest::collection::vec(any::<u8>(), 0..40),
        sb in proptest::collection::vec(any::<u8>(), 0..40),
        same in any::<bool>(),
    ) {
        let sb = if same { sa.clone() } else { sb };
        let expected = if sa == sb { SmpEvent::Succeeded } else { SmpEvent::Failed };
        let (mut a, mut b) = pair(SSID);
        let (ea, eb) = run(&mut a, &mut b, &sa, &sb, None);
        prop_assert_eq!(ea, expected.clone());
        prop_assert_eq!(eb, expected);
    }
}

#[test]
fn who_answers_a_question_and_who_waits_for_a_secret() {
    for question in [Some("where did we meet?"), None] {
        let (mut alice, mut bob) = pair(SSID);
        let (mut ra, mut rb) = (rng("alice q"), rng("bob q"));
        assert!(!alice.is_awaiting_secret() && !bob.is_awaiting_secret(), "nothing received yet");
        let m1 = alice.start(b"s", question, &mut ra).unwrap().remove(0);
        assert!(!alice.is_awaiting_secret(), "the asker waits for SMP2, not for a secret");
        bob.receive(m1.tlv_type, &m1.payload, &mut rb);
        assert!(bob.is_awaiting_secret());
        // Only the side a question was put to is its answerer.
        assert_eq!(bob.answering_question(), question.is_some());
        assert!(!alice.answering_question());
        let m2 = bob.respond(b"s", &mut rb).unwrap();
        assert!(!bob.is_awaiting_secret(), "answered");
        assert_eq!(bob.answering_question(), question.is_some(), "kept for the run's outcome");
        alice.receive(m2.tlv_type, &m2.payload, &mut ra);
    }
}

#[test]
fn a_question_of_exactly_the_limit_goes_through_and_one_byte_more_does_not() {
    use offrec::smp::messages::{check_question, MAX_QUESTION_LEN};
    let longest = "q".repeat(MAX_QUESTION_LEN);
    assert_eq!(check_question(&longest), Ok(()));
    let too_long = "q".repeat(MAX_QUESTION_LEN + 1);
    assert_eq!(check_question(&too_long), Err(SmpError::QuestionTooLong { max: MAX_QUESTION_LEN }));
    // The receiver's parser draws the line at the same place.
    let (mut alice, mut bob) = pair(SSID);
    let (mut ra, mut rb) = (rng("alice long"), rng("bob long"));
    let m1 = alice.start(b"s", Some(&longest), &mut ra).unwrap().remove(0);
    assert_eq!(Smp1::parse(&m1.payload).unwrap().question.as_deref(), Some(longest.as_str()));
    let step = bob.receive(m1.tlv_type, &m1.payload, &mut rb);
    assert_eq!(step.event, Some(SmpEvent::AskedForSecret { question: Some(longest.clone()) }));
    assert!(matches!(alice.start(b"s", Some(&too_long), &mut ra), Err(SmpError::QuestionTooLong { .. })));
}
