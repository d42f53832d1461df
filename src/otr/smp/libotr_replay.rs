//! Replays libotr 4.1.1's own SMP runs (tests/vectors/otr3_smp.json, made by
//! tests/otr_smp_vectors/gen.c) through our state machine. The vector holds libotr's internal
//! values after each message it sent, so each of our states can be rebuilt exactly where libotr
//! was, and libotr's next message fed to it: our verification must accept every libotr proof,
//! reach libotr's outcome, and refuse every tampered value.

use serde_json::Value;

use super::*;
use crate::crypto::random::DeterministicRandom;
use crate::otr::smp::messages::{SMP2_COUNT, SMP3_COUNT, SMP4_COUNT};

const VECTORS: &str = include_str!("../../../tests/vectors/otr3_smp.json");

struct Run {
    name: String,
    question: bool,
    same: bool,
    messages: Vec<(u16, Vec<u8>)>,
    json: Value,
}

fn runs() -> Vec<Run> {
    let root: Value = serde_json::from_str(VECTORS).unwrap();
    root["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| Run {
            name: run["name"].as_str().unwrap().to_owned(),
            question: !run["question"].is_null(),
            same: run["alice_secret"] == run["bob_secret"],
            messages: run["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["tlv_type"].as_u64().unwrap() as u16, hex::decode(m["value"].as_str().unwrap()).unwrap()))
                .collect(),
            json: run.clone(),
        })
        .collect()
}

impl Run {
    fn bytes(&self, group: &str, name: &str) -> Vec<u8> {
        hex::decode(self.json[group][name].as_str().unwrap()).unwrap()
    }
    fn exponent(&self, group: &str, name: &str) -> Exponent {
        Exponent::from_be_bytes(&self.bytes(group, name)).unwrap()
    }
    fn element(&self, group: &str, name: &str) -> Element {
        Element::from_be_bytes(&self.bytes(group, name)).unwrap()
    }
    fn message(&self, tlv_type: u16) -> &[u8] {
        &self.messages.iter().find(|(t, _)| *t == tlv_type).unwrap().1
    }

    /// Alice as libotr was right after sending SMP1.
    fn alice_expecting_smp2(&self) -> OtrSmp {
        let g = "alice_after_smp1";
        OtrSmp {
            state: State::Expect2 {
                x: self.exponent(g, "secret"),
                a2: self.exponent(g, "x2"),
                a3: self.exponent(g, "x3"),
                question: self.question,
            },
        }
    }

    /// Bob as libotr was right after sending SMP2.
    fn bob_expecting_smp3(&self) -> OtrSmp {
        let g = "bob_after_smp2";
        OtrSmp {
            state: State::Expect3 {
                b3: self.exponent(g, "x3"),
                g3a: self.element(g, "g3o"),
                g2: self.element(g, "g2"),
                g3: self.element(g, "g3"),
                pb: self.element(g, "p"),
                qb: self.element(g, "q"),
                question: self.question,
            },
        }
    }

    /// Alice as libotr was right after sending SMP3.
    fn alice_expecting_smp4(&self) -> OtrSmp {
        let g = "alice_after_smp3";
        OtrSmp {
            state: State::Expect4 {
                a3: self.exponent(g, "x3"),
                g3b: self.element(g, "g3o"),
                pab: self.element(g, "pab"),
                qab: self.element(g, "qab"),
                question: self.question,
            },
        }
    }
}

fn rng() -> DeterministicRandom {
    DeterministicRandom::from_label("otr smp libotr replay")
}

/// The MPIs of an SMP value, as (offset of the length field, magnitude).
fn mpis(value: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 4;
    while at < value.len() {
        let len = u32::from_be_bytes(value[at..at + 4].try_into().unwrap()) as usize;
        out.push((at, value[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    out
}

/// `value` with MPI number `index` replaced by `magnitude`.
fn replace_mpi(value: &[u8], index: usize, magnitude: &[u8]) -> Vec<u8> {
    let (at, old) = mpis(value)[index].clone();
    let mut out = value[..at].to_vec();
    out.extend_from_slice(&(magnitude.len() as u32).to_be_bytes());
    out.extend_from_slice(magnitude);
    out.extend_from_slice(&value[at + 4 + old.len()..]);
    out
}

/// The integer one more than `magnitude` (big-endian, grows if needed).
fn plus_one(magnitude: &[u8]) -> Vec<u8> {
    let mut out = magnitude.to_vec();
    for byte in out.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            return out;
        }
    }
    out.insert(0, 1);
    out
}

#[test]
fn vectors_say_what_libotr_did() {
    let runs = runs();
    assert_eq!(runs.len(), 4);
    for run in &runs {
        let types: Vec<u16> = run.messages.iter().map(|(t, _)| *t).collect();
        let first = if run.question { TLV_SMP1Q } else { TLV_SMP1 };
        assert_eq!(types, [first, TLV_SMP2, TLV_SMP3, TLV_SMP4], "{}", run.name);
        let outcome = if run.same { "SUCCESS" } else { "FAILURE" };
        assert_eq!(run.json["alice_events"][1], outcome, "{}", run.name);
        assert_eq!(run.json["bob_events"][1], outcome, "{}", run.name);
        // P16: libotr gives "smp" trust only to the asker when a question was used.
        let bob_trust = if run.same && !run.question { "smp" } else { "-" };
        assert_eq!(run.json["bob_trust"], bob_trust, "{}", run.name);
        assert_eq!(run.json["alice_trust"], if run.same { "smp" } else { "-" }, "{}", run.name);
    }
}

#[test]
fn our_initiator_accepts_libotr_smp2_and_reaches_libotr_outcome_on_smp4() {
    for run in runs() {
        let mut alice = run.alice_expecting_smp2();
        let step = alice.receive(TLV_SMP2, run.message(TLV_SMP2), &mut rng());
        assert_eq!(step.event, Some(OtrSmpEvent::InProgress), "{}: {:?}", run.name, step.error);
        assert_eq!(step.reply.map(|r| r.tlv_type), Some(TLV_SMP3));

        let mut alice = run.alice_expecting_smp4();
        let step = alice.receive(TLV_SMP4, run.message(TLV_SMP4), &mut rng());
        let expected = if run.same {
            OtrSmpEvent::Succeeded { role: SmpRole::Initiator, question: run.question }
        } else {
            OtrSmpEvent::Failed { role: SmpRole::Initiator, question: run.question }
        };
        assert_eq!(step.event, Some(expected), "{}", run.name);
        assert_eq!(step.trust, Some(if run.same { SmpTrust::Verified } else { SmpTrust::Cleared }));
        assert_eq!(step.reply, None);
        assert!(!alice.is_in_progress());
    }
}

#[test]
fn our_responder_accepts_libotr_smp3_reaches_libotr_outcome_and_computes_libotr_rb() {
    for run in runs() {
        let mut bob = run.bob_expecting_smp3();
        let step = bob.receive(TLV_SMP3, run.message(TLV_SMP3), &mut rng());
        let expected = if run.same {
            OtrSmpEvent::Succeeded { role: SmpRole::Responder, question: run.question }
        } else {
            OtrSmpEvent::Failed { role: SmpRole::Responder, question: run.question }
        };
        assert_eq!(step.event, Some(expected), "{}: {:?}", run.name, step.error);
        // The answerer of a question leaves trust alone, as libotr does.
        let trust = (!run.question).then_some(if run.same { SmpTrust::Verified } else { SmpTrust::Cleared });
        assert_eq!(step.trust, trust, "{}", run.name);
        let reply = step.reply.unwrap();
        assert_eq!(reply.tlv_type, TLV_SMP4);
        // Rb = (Qa/Qb)^b3 is deterministic: ours equals libotr's (only the proof's nonce differs).
        assert_eq!(mpis(&reply.payload)[0].1, mpis(run.message(TLV_SMP4))[0].1, "{}", run.name);
        assert!(!bob.is_in_progress());
    }
}

/// Every single-MPI change and every count change of libotr's SMP2, SMP3 and SMP4 is refused as
/// cheating, with an abort, from the state libotr's peer was in.
#[test]
fn tampered_libotr_messages_are_cheating() {
    let run = &runs()[0];
    type FromLibotr = fn(&Run) -> OtrSmp;
    let cases: [(u16, u32, FromLibotr); 3] = [
        (TLV_SMP2, SMP2_COUNT, Run::alice_expecting_smp2),
        (TLV_SMP3, SMP3_COUNT, Run::bob_expecting_smp3),
        (TLV_SMP4, SMP4_COUNT, Run::alice_expecting_smp4),
    ];
    for (tlv_type, count, fresh) in cases {
        let value = run.message(tlv_type);
        let n = mpis(value).len();
        assert_eq!(n as u32, count);
        let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
        for index in 0..n {
            let old = &mpis(value)[index].1;
            variants.push((format!("MPI {index} + 1"), replace_mpi(value, index, &plus_one(old))));
        }
        for bad_count in [count - 1, count + 1, 0] {
            let mut v = value.to_vec();
            v[..4].copy_from_slice(&bad_count.to_be_bytes());
            variants.push((format!("count {bad_count}"), v));
        }
        variants.push(("truncated".into(), value[..value.len() - 1].to_vec()));
        let mut trailing = value.to_vec();
        trailing.push(0);
        variants.push(("trailing byte".into(), trailing));

        for (what, tampered) in variants {
            let mut smp = fresh(run);
            let step = smp.receive(tlv_type, &tampered, &mut rng());
            assert_eq!(step.event, Some(OtrSmpEvent::Cheated), "TLV {tlv_type} {what}: {:?}", step.error);
            assert_eq!(step.reply, Some(OtrSmpTlv::abort()), "TLV {tlv_type} {what}");
            assert!(!smp.is_in_progress() && !smp.holds_secrets());
            // libotr clears trust when the last message of a run is refused.
            let clears = tlv_type == TLV_SMP3 || tlv_type == TLV_SMP4;
            assert_eq!(step.trust, clears.then_some(SmpTrust::Cleared), "TLV {tlv_type} {what}");
        }
        // The untouched message still goes through from the same state.
        let step = fresh(run).receive(tlv_type, value, &mut rng());
        assert!(!matches!(step.event, Some(OtrSmpEvent::Cheated)), "TLV {tlv_type}: {:?}", step.error);
    }
}

#[test]
fn quotient_of_equal_elements_is_degenerate() {
    let g = Element::generator();
    assert_eq!(divide(&g, &g).unwrap_err(), OtrSmpError::Degenerate);
    assert!(divide(&g.mul(&g), &g).is_ok());
    assert!(same_element(&g, &Element::from_be_bytes(&[0, 0, 2]).unwrap()));
    assert!(!same_element(&g, &g.mul(&g)));
}
