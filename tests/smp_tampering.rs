//! Every slot of every SMP message, replaced by the identity / zero encoding, a non-canonical
//! encoding or a valid but wrong value, and every truncation/extension, aborts the run, resets
//! the receiver and wipes its secrets.

use curve25519_dalek::ristretto::RistrettoPoint;
use offrec::crypto::random::{DeterministicRandom, RandomSource};
use offrec::smp::{Smp, SmpContext, SmpError, SmpEvent, SmpStep, SmpTlv};

const SSID: [u8; 32] = [1; 32];
const FP_A: [u8; 32] = [2; 32];
const FP_B: [u8; 32] = [3; 32];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Point,
    Scalar,
}
use Kind::{Point as P, Scalar as S};

/// Slot kinds per message, and the offset of the first slot (SMP1 without a question has a
/// 4-byte length prefix).
const LAYOUTS: [(usize, &[Kind]); 4] = [
    (4, &[P, S, S, P, S, S]),
    (0, &[P, S, S, P, S, S, P, P, S, S, S]),
    (0, &[P, P, S, S, S, P, S, S]),
    (0, &[P, S, S]),
];

fn alice() -> (Smp, DeterministicRandom) {
    let a = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: FP_B });
    (a, DeterministicRandom::from_label("tamper alice"))
}

fn bob() -> (Smp, DeterministicRandom) {
    let b = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_B, their_fingerprint: FP_A });
    (b, DeterministicRandom::from_label("tamper bob"))
}

/// The honest transcript SMP1..SMP4. The random sources are deterministic, so replaying the
/// same calls rebuilds exactly the states this transcript was produced against.
fn transcript() -> [SmpTlv; 4] {
    let ((mut a, mut ra), (mut b, mut rb)) = (alice(), bob());
    let m1 = a.start(b"secret", None, &mut ra).unwrap().remove(0);
    b.receive(m1.tlv_type, &m1.payload, &mut rb);
    let m2 = b.respond(b"secret", &mut rb).unwrap();
    let m3 = a.receive(m2.tlv_type, &m2.payload, &mut ra).reply.unwrap();
    let step = b.receive(m3.tlv_type, &m3.payload, &mut rb);
    assert_eq!(step.event, Some(SmpEvent::Succeeded));
    let m4 = step.reply.unwrap();
    assert_eq!(a.receive(m4.tlv_type, &m4.payload, &mut ra).event, Some(SmpEvent::Succeeded));
    [m1, m2, m3, m4]
}

/// Rebuilds the receiver of message `k` (1..=4) in the state just before it, lets `tamper`
/// edit message `k`, delivers it and returns the step and the receiver.
fn tampered(t: &[SmpTlv; 4], k: usize, tamper: impl FnOnce(&mut Vec<u8>)) -> (SmpStep, Smp) {
    let [m1, m2, m3, m4] = t;
    let (mut receiver, mut rng, msg) = match k {
        1 => {
            let (b, rb) = bob();
            (b, rb, m1)
        }
        2 => {
            let (mut a, mut ra) = alice();
            a.start(b"secret", None, &mut ra).unwrap();
            (a, ra, m2)
        }
        3 => {
            let (mut b, mut rb) = bob();
            b.receive(m1.tlv_type, &m1.payload, &mut rb);
            b.respond(b"secret", &mut rb).unwrap();
            (b, rb, m3)
        }
        _ => {
            let (mut a, mut ra) = alice();
            a.start(b"secret", None, &mut ra).unwrap();
            assert_eq!(a.receive(m2.tlv_type, &m2.payload, &mut ra).reply.as_ref(), Some(m3));
            (a, ra, m4)
        }
    };
    let mut payload = msg.payload.clone();
    tamper(&mut payload);
    (receiver.receive(msg.tlv_type, &payload, &mut rng), receiver)
}

fn assert_aborted(step: &SmpStep, receiver: &Smp, what: &str) {
    assert_eq!(step.reply, Some(SmpTlv::abort()), "{what}: no abort reply");
    assert!(matches!(step.event, Some(SmpEvent::Cheated) | Some(SmpEvent::Aborted)), "{what}: event {:?}", step.event);
    assert!(!receiver.is_in_progress(), "{what}: receiver not reset");
    assert!(!receiver.holds_secrets(), "{what}: receiver still holds secrets");
}

fn every_slot_replacement_aborts(k: usize) {
    let t = transcript();
    let mut rng = DeterministicRandom::from_label("replacements");
    if let Some((base, kinds)) = LAYOUTS.get(k - 1) {
        for (slot, kind) in kinds.iter().enumerate() {
            let at = base + 32 * slot;
            let mut wide = [0u8; 64];
            rng.fill(&mut wide).unwrap();
            let random_scalar = curve25519_dalek::scalar::Scalar::from_bytes_mod_order_wide(&wide);
            let valid = match kind {
                P => RistrettoPoint::mul_base(&random_scalar).compress().to_bytes(),
                S => random_scalar.to_bytes(),
            };
            let cases: [([u8; 32], SmpEvent, SmpError); 3] = match kind {
                P => [
                    ([0; 32], SmpEvent::Cheated, SmpError::IdentityPoint),
                    ([0xff; 32], SmpEvent::Aborted, SmpError::InvalidPoint),
                    (valid, SmpEvent::Cheated, SmpError::ProofFailed { tag: 0 }),
                ],
                S => [
                    ([0; 32], SmpEvent::Cheated, SmpError::ProofFailed { tag: 0 }),
                    ([0xff; 32], SmpEvent::Aborted, SmpError::NonCanonicalScalar),
                    (valid, SmpEvent::Cheated, SmpError::ProofFailed { tag: 0 }),
                ],
            };
            for (replacement, event, error) in cases {
                let what = format!("SMP{k} slot {slot} ({kind:?}) <- {}", hex::encode(&replacement[..4]));
                let (step, receiver) = tampered(&t, k, |p| {
                    assert_ne!(&p[at..at + 32], &replacement, "{k}/{slot}");
                    p[at..at + 32].copy_from_slice(&replacement);
                });
                assert_aborted(&step, &receiver, &what);
                assert_eq!(step.event, Some(event), "{what}");
                match (error, step.error) {
                    (SmpError::ProofFailed { .. }, Some(SmpError::ProofFailed { tag })) => {
                        assert!((1..=8).contains(&tag), "{what}")
                    }
                    (expected, got) => assert_eq!(Some(expected), got, "{what}"),
                }
            }
        }
    }
}

#[test]
fn smp1_slots() {
    every_slot_replacement_aborts(1);
}

#[test]
fn smp2_slots() {
    every_slot_replacement_aborts(2);
}

#[test]
fn smp3_slots() {
    every_slot_replacement_aborts(3);
}

#[test]
fn smp4_slots() {
    every_slot_replacement_aborts(4);
}

#[test]
fn truncated_and_extended_payloads_abort() {
    let t = transcript();
    for k in 1..=4 {
        // Cut 1, 31, 32 or 33 bytes, or everything.
        for cut in [1usize, 31, 32, 33, usize::MAX] {
            let (step, receiver) = tampered(&t, k, |p| p.truncate(p.len().saturating_sub(cut)));
            assert_aborted(&step, &receiver, &format!("SMP{k} cut {cut}"));
            assert_eq!(step.event, Some(SmpEvent::Aborted));
            assert!(matches!(step.error, Some(SmpError::Truncated)), "SMP{k} cut {cut}: {:?}", step.error);
        }
        for extra in [1usize, 32] {
            let (step, receiver) = tampered(&t, k, |p| p.extend(std::iter::repeat_n(0u8, extra)));
            assert_aborted(&step, &receiver, &format!("SMP{k} +{extra}"));
            assert_eq!(step.error, Some(SmpError::TrailingBytes), "SMP{k} +{extra}");
        }
    }
}

type Edit = (&'static str, fn(&mut Vec<u8>), SmpError);

#[test]
fn bad_question_fields_abort() {
    let t = transcript();
    // Question length pointing past the end, over the cap, and invalid UTF-8.
    let edits: [Edit; 3] = [
        ("length too big", |p| p[3] = 0xff, SmpError::Truncated),
        ("over cap", |p| p[..4].copy_from_slice(&1025u32.to_be_bytes()), SmpError::QuestionTooLong { max: 1024 }),
        (
            "not utf8",
            |p| {
                p[..4].copy_from_slice(&1u32.to_be_bytes());
                p.insert(4, 0xc3);
            },
            SmpError::QuestionNotUtf8,
        ),
    ];
    for (what, edit, error) in edits {
        let (step, receiver) = tampered(&t, 1, edit);
        assert_aborted(&step, &receiver, what);
        assert_eq!(step.error, Some(error), "{what}");
    }
}
