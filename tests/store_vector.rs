//! Frozen stores: today's library must keep loading what earlier ones wrote. `store_v1.json`
//! (format version 1) is frozen for good: nothing writes version 1 any more. `store_v2.json` is
//! what this library writes; regenerate it only on a deliberate format change (STORAGE.md §6):
//! `OFFREC_WRITE_VECTORS=1 cargo test --test store_vector -- --ignored regenerate_store_vector`.

mod support;

use offrec::conversation::{Action, Client, Policy};
use offrec::crypto::DeterministicRandom;
use offrec::store::{
    decode_client, encode_client, load_from_bytes, open, save_to_bytes, seal, StoreKey, SEAL_VERSION, STATE_VERSION,
};
use offrec::trust::Trust;
use support::{settings, Net};
use zeroize::Zeroizing;

const V1: &str = "tests/vectors/store_v1.json";
const V2: &str = "tests/vectors/store_v2.json";

fn key() -> StoreKey {
    StoreKey::Raw(Zeroizing::new([0x42; 32]))
}

fn vector(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sealed(json: &serde_json::Value, id: &str) -> Vec<u8> {
    hex::decode(json[id].as_str().unwrap()).unwrap()
}

fn decode(plain: &[u8], label: &str) -> Client {
    decode_client(plain, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label(label))).unwrap()
}

#[test]
#[ignore = "rewrites tests/vectors/store_v2.json"]
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
    // A trust decision, so the trust section holds more than first sightings.
    let bob = net.party("bob").client.fingerprint();
    let actions = net.client("alice").set_trust("bob", bob, Trust::VerifiedManual);
    net.apply("alice", actions);
    let mut rng = DeterministicRandom::from_label("store vector v2");
    let mut json = serde_json::Map::new();
    json.insert("key".into(), hex::encode([0x42; 32]).into());
    for id in ["alice", "bob"] {
        let sealed = seal(&encode_client(&net.party(id).client), &key(), &mut rng).unwrap();
        json.insert(id.into(), hex::encode(sealed).into());
        json.insert(format!("{id}_fingerprint"), hex::encode(net.party(id).client.fingerprint()).into());
    }
    json.insert("ssid".into(), hex::encode(net.party("alice").client.sessions("bob")[0].ssid).into());
    std::fs::write(V2, serde_json::to_string_pretty(&json).unwrap() + "\n").unwrap();
}

/// Loads both stores of a vector and continues the conversation on a new session.
fn loads_and_the_conversation_continues(path: &str) {
    let json = vector(path);
    let load = |id: &str| {
        load_from_bytes(
            &sealed(&json, id),
            &key(),
            settings(Policy::MANUAL),
            Box::new(DeterministicRandom::from_label(id)),
        )
        .unwrap()
    };
    let mut alice = load("alice");
    let mut bob = load("bob");
    assert_eq!(hex::encode(alice.fingerprint()), json["alice_fingerprint"].as_str().unwrap());
    assert_eq!(hex::encode(bob.fingerprint()), json["bob_fingerprint"].as_str().unwrap());
    assert_eq!(hex::encode(alice.sessions("bob")[0].ssid), json["ssid"].as_str().unwrap());
    assert_eq!(bob.sessions("alice")[0].ssid, alice.sessions("bob")[0].ssid);
    // Written before protocol pins existed (no section 5): they load with none.
    assert!(alice.protocol_pins().is_empty() && bob.protocol_pins().is_empty());
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
    // The new modern session is pinned, and the next save adds the optional pins section last.
    assert_eq!(alice.protocol_pins().last_modern_session("bob"), Some(5000));
    let tags: Vec<(u16, u8)> = sections(&encode_client(&alice)).iter().map(|(tag, flags, _)| (*tag, *flags)).collect();
    assert_eq!(tags, [(1, 1), (2, 1), (3, 1), (5, 0)], "client, trust, peers (critical), pins (optional)");
}

#[test]
fn frozen_v1_store_loads_and_the_conversation_continues() {
    loads_and_the_conversation_continues(V1);
}

#[test]
fn frozen_v2_store_loads_and_the_conversation_continues() {
    loads_and_the_conversation_continues(V2);
}

#[test]
fn the_frozen_files_are_of_the_versions_they_are_named_after() {
    for (path, version) in [(V1, 1u16), (V2, 2)] {
        let json = vector(path);
        for id in ["alice", "bob"] {
            let sealed = sealed(&json, id);
            assert_eq!(u16::from_be_bytes([sealed[8], sealed[9]]), version, "{path} {id}: seal version");
            let plain = open(&sealed, &key()).unwrap();
            assert_eq!(u16::from_be_bytes([plain[8], plain[9]]), version, "{path} {id}: state version");
        }
    }
    assert_eq!((SEAL_VERSION, STATE_VERSION), (2, 2), "what this library writes");
}

/// A version-2 state's sections: (tag, flags, body).
fn sections(plain: &[u8]) -> Vec<(u16, u8, Vec<u8>)> {
    assert_eq!(&plain[..10], b"OFRSTATE\x00\x02");
    let mut at = 10;
    let mut out = Vec::new();
    while at < plain.len() {
        let tag = u16::from_be_bytes([plain[at], plain[at + 1]]);
        let len = u32::from_be_bytes(plain[at + 3..at + 7].try_into().unwrap()) as usize;
        out.push((tag, plain[at + 2], plain[at + 7..at + 7 + len].to_vec()));
        at += 7 + len;
    }
    assert_eq!(at, plain.len());
    out
}

/// A version-1 trust list rewritten as version 2 writes it: a kind byte (0, Modern) before
/// every key. Returns it and how many bytes of `v1` it took.
fn trust_v1_as_v2(v1: &[u8]) -> (Vec<u8>, usize) {
    let u32_at = |at: usize| u32::from_be_bytes(v1[at..at + 4].try_into().unwrap()) as usize;
    let mut out = v1[..4].to_vec();
    let mut at = 4;
    for _ in 0..u32_at(0) {
        let name_end = at + 4 + u32_at(at);
        let keys = u32_at(name_end);
        out.extend_from_slice(&v1[at..name_end + 4]);
        at = name_end + 4;
        for _ in 0..keys {
            out.push(0);
            out.extend_from_slice(&v1[at..at + 33]);
            at += 33;
        }
    }
    (out, at)
}

/// Migration: a version-1 store loads, and saves as version 2 with the same content. The
/// client fields are the same bytes, the trust list gains only the kind bytes, and the peers
/// differ only in the retired ratchet keys (a load wipes them, STORAGE.md §5.1).
#[test]
fn frozen_v1_store_re_saves_as_v2_with_the_same_content() {
    let json = vector(V1);
    for id in ["alice", "bob"] {
        let v1 = open(&sealed(&json, id), &key()).unwrap();
        assert_eq!(&v1[..10], b"OFRSTATE\x00\x01");
        let client = decode(&v1, id);
        let v2 = encode_client(&client);
        let found = sections(&v2);
        let tags: Vec<(u16, u8)> = found.iter().map(|(tag, flags, _)| (*tag, *flags)).collect();
        assert_eq!(tags, [(1, 1), (2, 1), (3, 1)], "{id}: client, trust and peers, all critical");
        let (own, trust, peers) = (&found[0].2, &found[1].2, &found[2].2);
        let rest = &v1[10..];
        assert_eq!(&rest[..own.len()], &own[..], "{id}: client section");
        let (trust_as_v2, trust_len) = trust_v1_as_v2(&rest[own.len()..]);
        assert_eq!(&trust_as_v2, trust, "{id}: trust section");
        let peers_v1 = &rest[own.len() + trust_len..];
        assert_eq!(peers_v1.len(), peers.len(), "{id}: peers section");
        let differ = peers_v1.iter().zip(peers.iter()).filter(|(a, b)| a != b).count();
        assert!(differ > 0 && differ <= 3 * 32, "{id}: {differ} bytes differ, more than the zeroed keys");

        // And through the whole seal: a v1 store saved again is a v2 store of the same client.
        let resealed = save_to_bytes(&client, &key()).unwrap();
        assert_eq!(u16::from_be_bytes([resealed[8], resealed[9]]), 2);
        let again = decode(&open(&resealed, &key()).unwrap(), id);
        assert_eq!(encode_client(&again)[..], v2[..], "{id}");
        assert_eq!(again.fingerprint(), client.fingerprint());
        assert_eq!(again.trust_store(), client.trust_store());
    }
}

/// A version-2 store decodes and encodes to the same bytes: it was written retired.
#[test]
fn frozen_v2_store_re_encodes_to_itself() {
    let json = vector(V2);
    for id in ["alice", "bob"] {
        let plain = open(&sealed(&json, id), &key()).unwrap();
        assert_eq!(encode_client(&decode(&plain, id))[..], plain[..], "{id}");
    }
    let alice = decode(&open(&sealed(&json, "alice"), &key()).unwrap(), "alice");
    let bob: [u8; 32] = hex::decode(json["bob_fingerprint"].as_str().unwrap()).unwrap().try_into().unwrap();
    assert_eq!(alice.trust_store().trust("bob", &bob), Trust::VerifiedManual);
}
