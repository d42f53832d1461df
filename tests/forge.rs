//! Deniability: once the receiver has revealed a key's material, anyone holding the transcript
//! can forge a different message under that key, and the original receiver's engine would
//! accept it; yet nothing revealed decrypts anything.

use offrec::ake::{AkeConfig, Established, Initiator, Responder};
use offrec::crypto::aead::RevealedMaterial;
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::forge::{find_reveal, forge, forge_wire, parse_captured, revealed_in, ForgeError};
use offrec::wire::data_message::DataMessage;
use offrec::wire::{armour, decode_body, encode_body, Tlv, TlvType};

fn sessions(rng: &mut DeterministicRandom) -> (Established, Established) {
    let alice = IdentityKey::generate(rng).unwrap();
    let bob = IdentityKey::generate(rng).unwrap();
    let (init, start) = Initiator::start(AkeConfig { identity: &bob, our_tag: 0x200, phi: b"p" }, 0, 0, rng).unwrap();
    let (resp, reply) =
        Responder::respond(AkeConfig { identity: &alice, our_tag: 0x100, phi: b"p" }, &start, 0, rng).unwrap();
    let (finish, bob_session) = init.finish(&reply, rng).unwrap();
    (resp.finish(&finish, rng).unwrap(), bob_session)
}

fn send(session: &mut Established, ours: u32, theirs: u32, text: &[u8]) -> String {
    let body = encode_body(text, &[], 16).unwrap();
    armour::encode(&session.ratchet.encrypt(ours, theirs, 0, &body).unwrap().bytes)
}

#[test]
fn forged_message_is_accepted_by_the_original_receivers_engine() {
    let mut rng = DeterministicRandom::from_label("forge");
    let (mut alice, mut bob) = sessions(&mut rng);
    let captured = send(&mut alice, 0x100, 0x200, b"I will pay you 10 euros");
    let before_reading = bob.ratchet.clone();
    let snapshot = bob.ratchet.clone();

    // Bob reads it, then replies: the reply carries the reveal.
    let message = parse_captured(&captured).unwrap();
    bob.ratchet.decrypt(&message, 0, &mut rng).unwrap();
    let reply = send(&mut bob, 0x200, 0x100, b"ok");

    // Before the reveal, nobody can forge.
    assert_eq!(forge_wire(&captured, &[], b"I will pay you 10 euros", b"x").unwrap_err(), ForgeError::NoMatchingReveal);

    // A third party with only the transcript forges a different message.
    let forged = forge_wire(&captured, &[&reply], b"I will pay you 10 euros", b"I will pay you 99 euros").unwrap();
    assert_ne!(forged, captured);
    let mut receiver = before_reading; // Bob's engine as it was when the message arrived
    let decrypted = receiver.decrypt(&parse_captured(&forged).unwrap(), 0, &mut rng).unwrap();
    assert_eq!(decode_body(&decrypted.body).unwrap().text, b"I will pay you 99 euros");

    // A shorter text works too (the slack becomes padding).
    let forged = forge_wire(&captured, &[&reply], b"I will pay you 10 euros", b"hi").unwrap();
    let mut receiver = snapshot;
    let decrypted = receiver.decrypt(&parse_captured(&forged).unwrap(), 0, &mut rng).unwrap();
    assert_eq!(decode_body(&decrypted.body).unwrap().text, b"hi");
}

#[test]
fn revealed_in_lists_the_material_a_reply_carries_and_nothing_before_it() {
    let mut rng = DeterministicRandom::from_label("forge revealed_in");
    let (mut alice, mut bob) = sessions(&mut rng);
    let first = parse_captured(&send(&mut alice, 0x100, 0x200, b"one")).unwrap();
    let second = parse_captured(&send(&mut alice, 0x100, 0x200, b"two")).unwrap();
    // Nothing read yet: Alice's messages reveal nothing.
    assert!(revealed_in(&first).is_empty());
    bob.ratchet.decrypt(&first, 0, &mut rng).unwrap();
    bob.ratchet.decrypt(&second, 0, &mut rng).unwrap();
    let reply = parse_captured(&send(&mut bob, 0x200, 0x100, b"ok")).unwrap();

    // The reply reveals both keys Bob used: each piece the header carries, in order, and one
    // of them verifies each of Alice's messages.
    let listed = revealed_in(&reply);
    assert_eq!(listed.len(), reply.header.revealed.len());
    assert_eq!(listed.len(), 2);
    for (material, raw) in listed.iter().zip(reply.header.revealed.iter()) {
        assert_eq!(&material.to_bytes(), raw);
    }
    for message in [&first, &second] {
        assert_eq!(
            listed.iter().filter(|m| m.verifies(&message.header_bytes, &message.ciphertext, &message.tag)).count(),
            1
        );
    }
}

#[test]
fn wrong_known_text_or_oversize_new_text_is_refused() {
    let mut rng = DeterministicRandom::from_label("forge sizes");
    let (mut alice, mut bob) = sessions(&mut rng);
    let captured = send(&mut alice, 0x100, 0x200, b"short");
    let message = parse_captured(&captured).unwrap();
    bob.ratchet.decrypt(&message, 0, &mut rng).unwrap();
    let reply = parse_captured(&send(&mut bob, 0x200, 0x100, b"")).unwrap();
    let revealed = find_reveal(&message, reply.header.revealed.iter()).unwrap();
    let too_long = vec![b'x'; message.ciphertext.len()];
    assert_eq!(forge(&message, &revealed, b"short", &too_long).unwrap_err(), ForgeError::NewTextDoesNotFit);
    assert_eq!(forge(&message, &revealed, &too_long, b"x").unwrap_err(), ForgeError::KnownTextDoesNotFit);
}

#[test]
fn forged_bodies_are_laid_out_as_the_engine_lays_out_its_own() {
    let mut rng = DeterministicRandom::from_label("forge layout");
    let (mut alice, mut bob) = sessions(&mut rng);
    // 23 bytes of text: a 32-byte body (4 + 23 + a padding TLV of 1 byte).
    let known = b"I will pay you 10 euros";
    let message = parse_captured(&send(&mut alice, 0x100, 0x200, known)).unwrap();
    assert_eq!(message.ciphertext.len(), 32);
    let receiver = bob.ratchet.clone();
    bob.ratchet.decrypt(&message, 0, &mut rng).unwrap();
    let reply = parse_captured(&send(&mut bob, 0x200, 0x100, b"ok")).unwrap();
    let revealed = find_reveal(&message, reply.header.revealed.iter()).unwrap();
    let mut opened = |forged: DataMessage| {
        let mut receiver = receiver.clone();
        decode_body(&receiver.decrypt(&forged, 0, &mut rng).unwrap().body).unwrap()
    };

    // A text filling the body exactly: no padding TLV at all.
    let exact = [b'e'; 28];
    let body = opened(forge(&message, &revealed, known, &exact).unwrap());
    assert_eq!((body.text.as_slice(), body.tlvs.as_slice()), (&exact[..], &[][..]));
    // Four bytes of slack: one padding TLV with an empty value.
    let body = opened(forge(&message, &revealed, known, &[b'f'; 24]).unwrap());
    assert_eq!(body.tlvs, vec![Tlv { kind: TlvType::PADDING, value: vec![] }]);
    // One to three bytes of slack cannot hold a TLV header: refused, for either text.
    for len in 25..=27 {
        assert_eq!(forge(&message, &revealed, known, &vec![b'g'; len]).unwrap_err(), ForgeError::NewTextDoesNotFit);
        assert_eq!(forge(&message, &revealed, &vec![b'g'; len], b"x").unwrap_err(), ForgeError::KnownTextDoesNotFit);
    }
    // A short text: one padding TLV covering the rest, its length field exact, its value zero
    // (zero bytes would also parse as empty padding TLVs, so the list is compared whole).
    let body = opened(forge(&message, &revealed, known, b"hi").unwrap());
    assert_eq!(body.text, b"hi");
    assert_eq!(body.tlvs, vec![Tlv { kind: TlvType::PADDING, value: vec![0; 22] }]);
}

#[test]
fn revealed_material_does_not_decrypt_anything() {
    let mut rng = DeterministicRandom::from_label("forge secrecy");
    let (mut alice, mut bob) = sessions(&mut rng);
    let secret = b"the meeting is at noon, bring the documents";
    let captured = send(&mut alice, 0x100, 0x200, secret);
    let message = parse_captured(&captured).unwrap();
    bob.ratchet.decrypt(&message, 0, &mut rng).unwrap();
    let reply = parse_captured(&send(&mut bob, 0x200, 0x100, b"")).unwrap();
    let revealed = reply.header.revealed[0];
    // Everything public: the captured ciphertext and the 32 revealed bytes. Neither block of
    // the reveal is keystream, and used as a key it decrypts nothing.
    for block in [&revealed[..16], &revealed[16..]] {
        for window in message.ciphertext.chunks(16) {
            let xored: Vec<u8> = window.iter().zip(block.iter().cycle()).map(|(c, k)| c ^ k).collect();
            assert!(!secret.windows(4).any(|w| xored.windows(4).any(|x| x == w)));
        }
    }
    let as_key = offrec::crypto::SecretKey::from_bytes(revealed);
    let mut buffer = message.ciphertext.clone();
    assert!(offrec::crypto::aead::open(&as_key, &message.header_bytes, &mut buffer, &message.tag).is_err());
    // And a message whose key was not yet revealed cannot be forged with another's reveal.
    let later = parse_captured(&send(&mut alice, 0x100, 0x200, b"second")).unwrap();
    let material = RevealedMaterial::from_bytes(&revealed);
    assert_eq!(forge(&later, &material, b"second", b"forged").unwrap_err(), ForgeError::NoMatchingReveal);
}

#[test]
fn engine_rejects_a_message_whose_key_was_already_revealed() {
    let mut rng = DeterministicRandom::from_label("forge replay");
    let (mut alice, mut bob) = sessions(&mut rng);
    let captured = send(&mut alice, 0x100, 0x200, b"original");
    let message = parse_captured(&captured).unwrap();
    bob.ratchet.decrypt(&message, 0, &mut rng).unwrap();
    let reply = send(&mut bob, 0x200, 0x100, b"ack");
    let forged = forge_wire(&captured, &[&reply], b"original", b"forgery!").unwrap();
    // The live receiver has deleted the key: a forgery injected now is rejected.
    let before = bob.ratchet.clone();
    assert!(bob.ratchet.decrypt(&parse_captured(&forged).unwrap(), 0, &mut rng).is_err());
    assert_eq!(bob.ratchet, before);
    let _ = DataMessage::parse(&[]);
}
