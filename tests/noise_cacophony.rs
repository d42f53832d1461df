//! The public cacophony test vector for `Noise_XX_25519_AESGCM_SHA256`, byte for byte: every
//! handshake message, then the transport messages after `Split()`.

use offrec::ake::noise::{HandshakeState, NoiseError};
use offrec::crypto::random::{RandomError, RandomSource};
use serde_json::Value;

/// A RandomSource that hands out exactly the bytes it was given, then fails.
struct FixedRandom(Vec<u8>);

impl RandomSource for FixedRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        if out.len() > self.0.len() {
            return Err(RandomError);
        }
        let rest = self.0.split_off(out.len());
        out.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

fn field(v: &Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().unwrap_or_else(|| panic!("missing field {name}"))).unwrap()
}

fn key(v: &Value, name: &str) -> [u8; 32] {
    field(v, name).try_into().unwrap()
}

fn vector() -> Value {
    let text = include_str!("vectors/cacophony_xx_25519_aesgcm_sha256.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn cacophony_xx_25519_aesgcm_sha256() {
    let v = vector();
    assert_eq!(v["name"], "Noise_XX_25519_AESGCM_SHA256");
    let mut init = HandshakeState::new(true, &field(&v, "init_prologue"), key(&v, "init_static"));
    let mut resp = HandshakeState::new(false, &field(&v, "resp_prologue"), key(&v, "resp_static"));
    let mut init_rng = FixedRandom(field(&v, "init_ephemeral"));
    let mut resp_rng = FixedRandom(field(&v, "resp_ephemeral"));

    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6);

    // Handshake: initiator, responder, initiator.
    for (i, m) in messages.iter().take(3).enumerate() {
        let payload = field(m, "payload");
        let expected = field(m, "ciphertext");
        let (sender, receiver, rng) =
            if i % 2 == 0 { (&mut init, &mut resp, &mut init_rng) } else { (&mut resp, &mut init, &mut resp_rng) };
        let wire = sender.write_message(&payload, rng).unwrap();
        assert_eq!(hex::encode(&wire), hex::encode(&expected), "handshake message {i}");
        assert_eq!(receiver.read_message(&wire).unwrap(), payload, "handshake payload {i}");
        assert_eq!(sender.handshake_hash(), receiver.handshake_hash(), "h after message {i}");
    }
    assert!(init.is_finished() && resp.is_finished());
    assert_eq!(init.remote_static(), Some(resp.local_static_public()));
    assert_eq!(resp.remote_static(), Some(init.local_static_public()));
    // The vector carries no handshake_hash field, so h is checked for agreement only.
    assert_eq!(init.handshake_hash(), resp.handshake_hash());
    assert_eq!(init.chaining_key_split().unwrap().0.as_slice(), resp.chaining_key_split().unwrap().0.as_slice());

    // Transport: the exchange keeps alternating, so the responder sends message 4.
    let (init_c1, init_c2) = init.split().unwrap();
    let (resp_c1, resp_c2) = resp.split().unwrap();
    let (mut init_send, mut init_recv) = (init_c1, init_c2);
    let (mut resp_recv, mut resp_send) = (resp_c1, resp_c2);
    for (i, m) in messages.iter().enumerate().skip(3) {
        let payload = field(m, "payload");
        let expected = field(m, "ciphertext");
        let (send, recv) = if i % 2 == 0 { (&mut init_send, &mut resp_recv) } else { (&mut resp_send, &mut init_recv) };
        let wire = send.encrypt_with_ad(&[], &payload).unwrap();
        assert_eq!(hex::encode(&wire), hex::encode(&expected), "transport message {i}");
        assert_eq!(recv.decrypt_with_ad(&[], &wire).unwrap(), payload);
    }
    assert_eq!((init_send.nonce(), init_recv.nonce()), (1, 2));
    assert_eq!((resp_send.nonce(), resp_recv.nonce()), (2, 1));
}

#[test]
fn into_transport_orders_keys_by_role() {
    let v = vector();
    let mut init = HandshakeState::new(true, b"", key(&v, "init_static"));
    let mut resp = HandshakeState::new(false, b"", key(&v, "resp_static"));
    let mut rng = FixedRandom([field(&v, "init_ephemeral"), field(&v, "resp_ephemeral")].concat());
    let m1 = init.write_message(b"", &mut rng).unwrap();
    resp.read_message(&m1).unwrap();
    let m2 = resp.write_message(b"", &mut rng).unwrap();
    init.read_message(&m2).unwrap();
    let m3 = init.write_message(b"", &mut rng).unwrap();
    resp.read_message(&m3).unwrap();
    let (mut i_send, mut i_recv) = init.into_transport().unwrap();
    let (mut r_send, mut r_recv) = resp.into_transport().unwrap();
    let c = i_send.encrypt_with_ad(b"ad", b"to responder").unwrap();
    assert_eq!(r_recv.decrypt_with_ad(b"ad", &c).unwrap(), b"to responder");
    let c = r_send.encrypt_with_ad(b"ad", b"to initiator").unwrap();
    assert_eq!(i_recv.decrypt_with_ad(b"ad", &c).unwrap(), b"to initiator");
}

#[test]
fn rng_failure_is_reported_and_changes_nothing() {
    let v = vector();
    let mut init = HandshakeState::new(true, b"", key(&v, "init_static"));
    let before = init.handshake_hash();
    let err = init.write_message(b"", &mut FixedRandom(vec![0; 31])).unwrap_err();
    assert_eq!(err, NoiseError::Random);
    assert_eq!(init.handshake_hash(), before);
    assert!(init.is_my_turn());
}
