//! Frozen SMP vector: a full run with deterministic randomness must reproduce
//! `tests/vectors/smp.json` byte for byte. Regenerate (only on a deliberate format change) with
//! `cargo test --test smp_vectors -- --ignored write_smp_vector`.

use offrec::crypto::random::DeterministicRandom;
use offrec::smp::{Smp, SmpContext, SmpEvent};
use serde_json::{json, Value};

const ALICE_RNG: &str = "offrec smp vector";
const BOB_RNG: &str = "offrec smp vector bob";
const SSID: [u8; 32] = [1; 32];
const FP_ALICE: [u8; 32] = [2; 32];
const FP_BOB: [u8; 32] = [3; 32];
const SECRET: &str = "correct horse";
const QUESTION: &str = "What is stapled to the battery?";

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/smp.json")
}

fn generate() -> Value {
    let mut alice = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_ALICE, their_fingerprint: FP_BOB });
    let mut bob = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_BOB, their_fingerprint: FP_ALICE });
    let mut ra = DeterministicRandom::from_label(ALICE_RNG);
    let mut rb = DeterministicRandom::from_label(BOB_RNG);
    let m1 = alice.start(SECRET.as_bytes(), Some(QUESTION), &mut ra).unwrap().remove(0);
    let asked = bob.receive(m1.tlv_type, &m1.payload, &mut rb).event;
    assert_eq!(asked, Some(SmpEvent::AskedForSecret { question: Some(QUESTION.into()) }));
    let m2 = bob.respond(SECRET.as_bytes(), &mut rb).unwrap();
    let m3 = alice.receive(m2.tlv_type, &m2.payload, &mut ra).reply.unwrap();
    let step = bob.receive(m3.tlv_type, &m3.payload, &mut rb);
    let m4 = step.reply.unwrap();
    let alice_event = alice.receive(m4.tlv_type, &m4.payload, &mut ra).event;
    let name = |e: Option<SmpEvent>| format!("{:?}", e.unwrap());
    json!({
        "description": "offrec SMP on ristretto255; DeterministicRandom::from_label streams, Alice starts",
        "alice_rng_label": ALICE_RNG,
        "bob_rng_label": BOB_RNG,
        "ssid": hex::encode(SSID),
        "alice_fingerprint": hex::encode(FP_ALICE),
        "bob_fingerprint": hex::encode(FP_BOB),
        "secret": SECRET,
        "question": QUESTION,
        "smp1": { "tlv_type": m1.tlv_type, "payload": hex::encode(&m1.payload) },
        "smp2": { "tlv_type": m2.tlv_type, "payload": hex::encode(&m2.payload) },
        "smp3": { "tlv_type": m3.tlv_type, "payload": hex::encode(&m3.payload) },
        "smp4": { "tlv_type": m4.tlv_type, "payload": hex::encode(&m4.payload) },
        "bob_result": name(step.event),
        "alice_result": name(alice_event),
    })
}

#[test]
fn frozen_vector_reproduces() {
    let text = std::fs::read_to_string(path()).unwrap();
    let frozen: Value = serde_json::from_str(&text).unwrap();
    let fresh = generate();
    for key in ["smp1", "smp2", "smp3", "smp4", "alice_result", "bob_result"] {
        assert_eq!(fresh[key], frozen[key], "{key} differs from the frozen vector");
    }
    assert_eq!(fresh, frozen);
    assert_eq!(frozen["alice_result"], "Succeeded");
    assert_eq!(frozen["bob_result"], "Succeeded");
}

#[test]
#[ignore = "writes tests/vectors/smp.json"]
fn write_smp_vector() {
    if std::env::var_os("OFFREC_WRITE_VECTORS").is_none() {
        eprintln!("not rewriting frozen files: set OFFREC_WRITE_VECTORS=1 to regenerate (TESTING.md)");
        return;
    }
    let text = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    std::fs::write(path(), text).unwrap();
}
