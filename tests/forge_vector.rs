//! A frozen forging vector: every binding (C, Python, Go) forges the same captured message from
//! the same public transcript and must produce exactly these bytes. Regenerate only on purpose:
//! `cargo test --test forge_vector -- --ignored regenerate_forge_vector`.

use offrec::ake::{AkeConfig, Initiator, Responder};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::forge::{forge_wire, parse_captured};
use offrec::wire::{armour, encode_body};

const PATH: &str = "tests/vectors/forge.json";

fn transcript() -> (String, String) {
    let mut rng = DeterministicRandom::from_label("forge vector");
    let alice = IdentityKey::generate(&mut rng).unwrap();
    let bob = IdentityKey::generate(&mut rng).unwrap();
    let (init, start) =
        Initiator::start(AkeConfig { identity: &bob, our_tag: 0x200, phi: b"v" }, 0, 1, &mut rng).unwrap();
    let (resp, reply) =
        Responder::respond(AkeConfig { identity: &alice, our_tag: 0x100, phi: b"v" }, &start, 1, &mut rng).unwrap();
    let (finish, mut bob_session) = init.finish(&reply, &mut rng).unwrap();
    let mut alice_session = resp.finish(&finish, &mut rng).unwrap();
    let body = encode_body(b"I will pay you 10 euros", &[], 16).unwrap();
    let captured = armour::encode(&alice_session.ratchet.encrypt(0x100, 0x200, 0, &body).unwrap().bytes);
    bob_session.ratchet.decrypt(&parse_captured(&captured).unwrap(), 0, &mut rng).unwrap();
    let reply_body = encode_body(b"ok", &[], 16).unwrap();
    let later = armour::encode(&bob_session.ratchet.encrypt(0x200, 0x100, 0, &reply_body).unwrap().bytes);
    (captured, later)
}

#[test]
#[ignore = "rewrites tests/vectors/forge.json"]
fn regenerate_forge_vector() {
    if std::env::var_os("OFFREC_WRITE_VECTORS").is_none() {
        eprintln!("not rewriting frozen files: set OFFREC_WRITE_VECTORS=1 to regenerate (TESTING.md)");
        return;
    }
    let (captured, later) = transcript();
    let forged = forge_wire(&captured, &[&later], b"I will pay you 10 euros", b"I will pay you 99 euros").unwrap();
    let json = serde_json::json!({
        "captured": captured,
        "later": [later],
        "known": "I will pay you 10 euros",
        "new": "I will pay you 99 euros",
        "forged": forged,
    });
    std::fs::write(PATH, serde_json::to_string_pretty(&json).unwrap() + "\n").unwrap();
}

#[test]
fn forging_the_frozen_transcript_gives_the_frozen_bytes() {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let later: Vec<&str> = json["later"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let forged = forge_wire(
        json["captured"].as_str().unwrap(),
        &later,
        json["known"].as_str().unwrap().as_bytes(),
        json["new"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(forged, json["forged"].as_str().unwrap());
    // And the transcript itself is still what this library produces.
    let (captured, later_now) = transcript();
    assert_eq!(captured, json["captured"].as_str().unwrap());
    assert_eq!(later_now, later[0]);
}
