//! A frozen version-1 store: today's library must keep loading what an earlier one wrote.
//! Regenerate only on a deliberate format change:
//! `cargo test --test store_vector -- --ignored regenerate_store_vector`.

mod support;

use offrec::conversation::{Action, Policy};
use offrec::crypto::DeterministicRandom;
use offrec::store::{encode_client, load_from_bytes, seal, StoreKey};
use support::{settings, Net};
use zeroize::Zeroizing;

const PATH: &str = "tests/vectors/store_v1.json";

fn key() -> StoreKey {
    StoreKey::Raw(Zeroizing::new([0x42; 32]))
}

#[test]
#[ignore = "rewrites tests/vectors/store_v1.json"]
fn regenerate_store_vector() {
    if std::env::var_os("OFFREC_WRITE_VECTORS").is_none() {
        eprintln!("not rewriting frozen files: set OFFREC_WRITE_VECTORS=1 to regenerate (TESTING.md)");
        return;
    }
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    net.send("alice", "bob", "stored conversation");
    net.run();
    let mut rng = DeterministicRandom::from_label("store vector");
    let mut json = serde_json::Map::new();
    json.insert("key".into(), hex::encode([0x42; 32]).into());
    for id in ["alice", "bob"] {
        let sealed = seal(&encode_client(&net.party(id).client), &key(), &mut rng).unwrap();
        json.insert(id.into(), hex::encode(sealed).into());
        json.insert(format!("{id}_fingerprint"), hex::encode(net.party(id).client.fingerprint()).into());
    }
    json.insert("ssid".into(), hex::encode(net.party("alice").client.sessions("bob")[0].ssid).into());
    std::fs::write(PATH, serde_json::to_string_pretty(&json).unwrap() + "\n").unwrap();
}

#[test]
fn frozen_v1_store_loads_and_the_conversation_continues() {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let load = |id: &str| {
        let sealed = hex::decode(json[id].as_str().unwrap()).unwrap();
        load_from_bytes(&sealed, &key(), settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label(id)))
            .unwrap()
    };
    let mut alice = load("alice");
    let mut bob = load("bob");
    assert_eq!(hex::encode(alice.fingerprint()), json["alice_fingerprint"].as_str().unwrap());
    assert_eq!(hex::encode(alice.sessions("bob")[0].ssid), json["ssid"].as_str().unwrap());
    assert_eq!(bob.sessions("alice")[0].ssid, alice.sessions("bob")[0].ssid);
    // Stored sessions are restarted, not resumed: the message waits for a new handshake.
    let (_, actions) = bob.send("alice", b"still works", 5000).unwrap();
    let mut delivered = Vec::new();
    let mut in_flight: Vec<(bool, String)> = Vec::new(); // (to alice, text)
    let collect =
        |actions: Vec<Action>, to_alice: bool, in_flight: &mut Vec<(bool, String)>, delivered: &mut Vec<String>| {
            for action in actions {
                match action {
                    Action::Send { text, .. } => in_flight.push((to_alice, text)),
                    Action::Deliver { text, .. } => delivered.push(String::from_utf8(text.to_vec()).unwrap()),
                    _ => {}
                }
            }
        };
    collect(actions, true, &mut in_flight, &mut delivered);
    let mut steps = 0;
    while !in_flight.is_empty() {
        steps += 1;
        assert!(steps < 100, "did not settle");
        let (to_alice, text) = in_flight.remove(0);
        if to_alice {
            let actions = alice.receive("bob", &text, 5000);
            collect(actions, false, &mut in_flight, &mut delivered);
        } else {
            let actions = bob.receive("alice", &text, 5000);
            collect(actions, true, &mut in_flight, &mut delivered);
        }
    }
    assert_eq!(delivered, ["still works"]);
    assert_ne!(hex::encode(alice.sessions("bob")[0].ssid), json["ssid"].as_str().unwrap(), "a new session");
}

/// What a loaded v1 store writes back. Not the same bytes: loading retires every stored ratchet
/// (its root and chain keys are zeroed, STORAGE.md §5.1), so those fields differ and nothing
/// else; from then on decoding and re-encoding gives identical bytes.
#[test]
fn frozen_v1_store_re_encodes() {
    use offrec::store::{decode_client, open};
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    for id in ["alice", "bob"] {
        let sealed = hex::decode(json[id].as_str().unwrap()).unwrap();
        let plain = open(&sealed, &key()).unwrap();
        let rng = || Box::new(DeterministicRandom::from_label(id));
        let again = encode_client(&decode_client(&plain, settings(Policy::MANUAL), rng()).unwrap());
        assert_eq!(again.len(), plain.len(), "{id}");
        let differ = plain.iter().zip(again.iter()).filter(|(a, b)| a != b).count();
        assert!(differ > 0 && differ <= 3 * 32, "{id}: {differ} bytes differ, more than the zeroed keys");
        let third = encode_client(&decode_client(&again, settings(Policy::MANUAL), rng()).unwrap());
        assert_eq!(third[..], again[..], "{id}");
    }
}
