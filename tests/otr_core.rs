//! offrec's OTR v3/v2 core checked against libotr 4.1.1, not only against itself.
//!
//! The vectors (tests/vectors/otr3_session.json, otr3_v2_session.json) are a real
//! libotr↔libotr session dumped by tests/otr_vectors/gen.c: keys, DH secrets, r, every wire
//! message, the session id, extra keys and plaintexts. Here offrec plays each side in turn,
//! drawing libotr's secrets from a scripted random source, and must:
//! - parse every libotr message and write it back byte for byte;
//! - produce libotr's D-H Commit and D-H Key byte for byte, and the deterministic prefix of its
//!   encrypted signature blocks (all but the DSA signature, which uses a random k in libgcrypt);
//! - accept libotr's Reveal Signature and Signature (so verify libotr's DSA signatures);
//! - derive libotr's session id and bold half;
//! - decrypt every libotr data message to the exact plaintext, with libotr's extra keys and
//!   keyids after each message;
//! - encrypt the same plaintexts into libotr's exact bytes (counters, next keys, revealed MAC
//!   keys and MACs included).

mod otr_support;

use offrec::otr::ake::{Ake, AkeOutcome, AkeState, SsidBoldHalf};
use offrec::otr::data::{DataSession, DhKeyPair};
use offrec::otr::group::{Element, Exponent};
use offrec::otr::identity::{human_fingerprint, DsaPublicKey};
use offrec::otr::message::{
    parse_header, DataMessage, DhCommit, DhKey, MessageType, OtrVersion, RevealSignature, Signature,
};
use offrec::otr::tlv::{decode_plaintext, OtrTlv, OtrTlvType};
use offrec::wire::InstanceTag;
use otr_support::{unhex, Script, Vector};
use serde_json::Value;

fn binary(message: &Value) -> Vec<u8> {
    unhex(message["binary"].as_str().unwrap())
}

fn version_of(vector: &Vector) -> OtrVersion {
    match vector.0["version"].as_u64().unwrap() {
        2 => OtrVersion::V2,
        _ => OtrVersion::V3,
    }
}

fn tag(vector: &Vector, name: &str) -> InstanceTag {
    match version_of(vector) {
        OtrVersion::V3 => InstanceTag(vector.instance_tag(name)),
        OtrVersion::V2 => InstanceTag::NONE,
    }
}

fn parses_and_rewrites(vector: &Vector) {
    let version = version_of(vector);
    let mut count = 0;
    for message in vector.messages() {
        if message.get("binary").is_none() {
            continue;
        }
        count += 1;
        let bytes = binary(message);
        let header = parse_header(&bytes).unwrap();
        assert_eq!(header.version, version);
        let from = message["from"].as_str().unwrap();
        let to = message["to"].as_str().unwrap();
        assert_eq!(header.sender_tag, tag(vector, from));
        let rewritten = match header.message_type {
            MessageType::DhCommit => {
                assert!(header.receiver_tag.is_none(), "libotr's commit from the master context is for anyone");
                DhCommit::parse(&bytes).unwrap().to_bytes()
            }
            MessageType::DhKey => DhKey::parse(&bytes).unwrap().to_bytes(),
            MessageType::RevealSignature => RevealSignature::parse(&bytes).unwrap().to_bytes(),
            MessageType::Signature => Signature::parse(&bytes).unwrap().to_bytes(),
            MessageType::Data => {
                let data = DataMessage::parse(&bytes).unwrap();
                assert_eq!(data.fields.flags, message["flags"].as_u64().unwrap() as u8);
                DataMessage::assemble(&data.fields.authenticated_bytes(), &data.mac, &data.old_mac_keys)
            }
        };
        if header.message_type != MessageType::DhCommit {
            assert_eq!(header.receiver_tag, tag(vector, to));
        }
        assert_eq!(rewritten, bytes, "message {} rewritten differently", message["index"]);
    }
    assert!(count >= 14, "the vector holds the AKE and at least ten data messages");
}

#[test]
fn parses_every_libotr_message_v3() {
    parses_and_rewrites(&Vector::v3());
}

#[test]
fn parses_every_libotr_message_v2() {
    parses_and_rewrites(&Vector::v2());
}

fn keys_and_fingerprints(vector: &Vector) {
    for name in ["alice", "bob"] {
        let party = vector.party(name);
        let identity = vector.identity(name);
        let fingerprint = identity.fingerprint();
        assert_eq!(hex::encode(fingerprint), party["fingerprint"].as_str().unwrap());
        assert_eq!(human_fingerprint(&fingerprint), party["fingerprint_human"].as_str().unwrap());
        // The PUBKEY we send reads back to the same key.
        let public = DsaPublicKey::from_bytes(identity.public_key().to_bytes()).unwrap();
        assert_eq!(public.fingerprint(), fingerprint);
        // libotr's DH secrets give the public values it used.
        for key in party["dh_keys"].as_array().unwrap() {
            let secret = Exponent::from_be_bytes(&unhex(key["secret"].as_str().unwrap())).unwrap();
            let pair = DhKeyPair::from_secret(secret);
            assert_eq!(pair.public(), &Element::from_be_bytes(&unhex(key["public"].as_str().unwrap())).unwrap());
        }
    }
}

#[test]
fn libotr_keys_fingerprints_and_dh_secrets_v3() {
    keys_and_fingerprints(&Vector::v3());
}

#[test]
fn libotr_keys_fingerprints_and_dh_secrets_v2() {
    keys_and_fingerprints(&Vector::v2());
}

/// The encrypted signature block without its last 40 bytes (the encrypted DSA signature): AES-CTR
/// makes the rest depend only on the keys and the PUBKEY ‖ keyid.
fn deterministic_prefix(block: &[u8]) -> &[u8] {
    &block[..block.len() - 40]
}

/// Plays `us` ("alice" or "bob") through the whole libotr session.
fn replay(vector: &Vector, us: &str) {
    let version = version_of(vector);
    let them = if us == "alice" { "bob" } else { "alice" };
    let identity = vector.identity(us);
    let secrets = vector.dh_secrets(us);
    let our_party = vector.party(us);
    let mut rng = Script::new(vec![secrets[0].clone()]);
    if us == "bob" {
        rng.push(unhex(our_party["r"].as_str().unwrap()));
    }
    for secret in &secrets[1..] {
        rng.push(secret.clone());
    }

    let mut ake = Ake::new(version, tag(vector, us), InstanceTag::NONE);
    let mut session: Option<DataSession> = None;
    let messages = vector.messages();
    let mut decrypted = 0;
    let mut encrypted = 0;
    for (position, message) in messages.iter().enumerate() {
        let kind = message["kind"].as_str().unwrap();
        let from_us = message["from"].as_str().unwrap() == us;
        if kind == "query" {
            if !from_us {
                // Bob answers the query with a commit: libotr's, byte for byte.
                let commit = ake.start(&mut rng).unwrap();
                assert_eq!(commit, binary(&messages[position + 1]), "D-H Commit");
            }
            continue;
        }
        let bytes = binary(message);
        match (kind, from_us) {
            ("dh_commit", true) => {}
            ("dh_key", true) | ("reveal_signature", true) | ("signature", true) => {}
            ("dh_commit", false) => {
                let AkeOutcome::Reply(reply) = ake.receive(&bytes, &identity, &mut rng).unwrap() else {
                    panic!("a commit is answered")
                };
                assert_eq!(reply, binary(&messages[position + 1]), "D-H Key");
            }
            ("dh_key", false) => {
                let AkeOutcome::Reply(reply) = ake.receive(&bytes, &identity, &mut rng).unwrap() else {
                    panic!("a D-H Key is answered")
                };
                let ours = RevealSignature::parse(&reply).unwrap();
                let libotr = RevealSignature::parse(&binary(&messages[position + 1])).unwrap();
                assert_eq!(ours.header, libotr.header);
                assert_eq!(ours.r, libotr.r);
                assert_eq!(
                    deterministic_prefix(&ours.encrypted_signature),
                    deterministic_prefix(&libotr.encrypted_signature)
                );
                assert_eq!(ake.state(), AkeState::AwaitingSignature);
            }
            ("reveal_signature", false) | ("signature", false) => {
                let AkeOutcome::Established { reply, session: established } =
                    ake.receive(&bytes, &identity, &mut rng).unwrap()
                else {
                    panic!("libotr's {kind} must verify")
                };
                if kind == "reveal_signature" {
                    let ours = Signature::parse(&reply.unwrap()).unwrap();
                    let libotr = Signature::parse(&binary(&messages[position + 1])).unwrap();
                    assert_eq!(ours.header, libotr.header);
                    assert_eq!(
                        deterministic_prefix(&ours.encrypted_signature),
                        deterministic_prefix(&libotr.encrypted_signature)
                    );
                    assert_eq!(established.bold_half, SsidBoldHalf::Second);
                } else {
                    assert!(reply.is_none());
                    assert_eq!(established.bold_half, SsidBoldHalf::First);
                }
                assert_eq!(hex::encode(established.ssid), our_party["ssid"].as_str().unwrap());
                let expected_half = if established.bold_half == SsidBoldHalf::First { "first" } else { "second" };
                assert_eq!(our_party["ssid_half_bold"].as_str().unwrap(), expected_half);
                assert_eq!(
                    hex::encode(established.their_fingerprint),
                    vector.party(them)["fingerprint"].as_str().unwrap()
                );
                assert_eq!(established.their_tag, tag(vector, them));
                assert_eq!((established.our_keyid, established.their_keyid), (1, 1));
                session = Some(DataSession::new(*established, &mut rng).unwrap());
            }
            ("data", true) => {
                let session = session.as_mut().expect("data after the AKE");
                let flags = message["flags"].as_u64().unwrap() as u8;
                let plaintext = unhex(message["plaintext"].as_str().unwrap());
                let ours = session.encrypt(flags, &plaintext).unwrap();
                assert_eq!(ours, bytes, "data message {} differs from libotr's", message["index"]);
                encrypted += 1;
            }
            ("data", false) => {
                let session = session.as_mut().expect("data after the AKE");
                let out = session.decrypt(&bytes, &mut rng).unwrap();
                assert_eq!(hex::encode(&*out.plaintext), message["plaintext"].as_str().unwrap());
                assert_eq!(hex::encode(*out.extra_key), message["extra_key"].as_str().unwrap());
                assert_eq!(u64::from(out.flags), message["flags"].as_u64().unwrap());
                let after = message["receiver_keyids_after"].as_array().unwrap();
                let after = (after[0].as_u64().unwrap() as u32, after[1].as_u64().unwrap() as u32);
                // libotr wipes its keyids when TLV 1 arrives; up to then they must agree.
                let plain = decode_plaintext(&out.plaintext).unwrap();
                if plain.find(OtrTlvType::DISCONNECTED).is_none() {
                    assert_eq!(session.keyids(), after, "keyids after message {}", message["index"]);
                }
                assert_eq!(plain.text, message["delivered"].as_str().unwrap().as_bytes());
                decrypted += 1;
            }
            other => panic!("unexpected message {other:?}"),
        }
    }
    assert!(decrypted >= 4 && encrypted >= 4, "{us} decrypted {decrypted}, encrypted {encrypted}");
    assert_eq!(rng.remaining(), 0, "offrec generated exactly the keys libotr generated");
}

#[test]
fn offrec_as_bob_matches_libotr_v3() {
    replay(&Vector::v3(), "bob");
}

#[test]
fn offrec_as_alice_matches_libotr_v3() {
    replay(&Vector::v3(), "alice");
}

#[test]
fn offrec_as_bob_matches_libotr_v2() {
    replay(&Vector::v2(), "bob");
}

#[test]
fn offrec_as_alice_matches_libotr_v2() {
    replay(&Vector::v2(), "alice");
}

#[test]
fn extra_symmetric_key_matches_libotr() {
    let vector = Vector::v3();
    let sent = &vector.0["symkey_sent"];
    let received = &vector.party("bob")["symkey_received"];
    assert_eq!(sent["key"], received["key"]);
    let message = vector
        .messages()
        .iter()
        .find(|m| m["extra_key"] == sent["key"] && m["flags"] == 1 && m["delivered"] == "")
        .expect("the TLV 8 message");
    let plain = decode_plaintext(&unhex(message["plaintext"].as_str().unwrap())).unwrap();
    let tlv = plain.find(OtrTlvType::EXTRA_SYMMETRIC_KEY).unwrap();
    assert_eq!(
        OtrTlv::parse_extra_symmetric_key(&tlv.value),
        Some((sent["use"].as_u64().unwrap() as u32, &unhex(sent["usedata"].as_str().unwrap())[..]))
    );
}

/// offrec's signatures over a fixed key and fixed values (RFC 6979, so deterministic); the file
/// is what `make -f tests/otr_vectors/vectors.mk otr-signatures` hands to libotr's
/// `otrl_privkey_verify`. With OFFREC_WRITE_OTR_SIGNATURES=1 the file is rewritten.
#[test]
fn offrec_signatures_are_deterministic() {
    use sha2::{Digest, Sha256};
    let identity = Vector::v3().identity("alice");
    let c = identity.components();
    let mut lines =
        String::from("# p q g y m sig: offrec's DSA signatures, checked by libotr (tests/otr_vectors/vectors.mk)\n");
    let mut values: Vec<[u8; 32]> = (0u8..12).map(|i| Sha256::digest([i]).into()).collect();
    values.push([0xFF; 32]);
    values.push([0; 32]);
    let mut q = [0u8; 32];
    q[12..].copy_from_slice(&c.q);
    values.push(q);
    for m in &values {
        let signature = identity.sign(m).unwrap();
        identity.public_key().verify(m, &signature).unwrap();
        assert_eq!(identity.sign(m).unwrap(), signature, "deterministic");
        lines += &format!(
            "{} {} {} {} {} {}\n",
            hex::encode(&c.p),
            hex::encode(&c.q),
            hex::encode(&c.g),
            hex::encode(&c.y),
            hex::encode(m),
            hex::encode(signature)
        );
    }
    let path = format!("{}/tests/vectors/otr3_offrec_signatures.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("OFFREC_WRITE_OTR_SIGNATURES").is_some() {
        std::fs::write(&path, &lines).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines, "{path} is stale: regenerate it");
}
