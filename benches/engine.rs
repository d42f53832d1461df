//! The engine's hot paths, each next to the primitive cost it cannot go below
//! (`cargo bench --bench engine`). BENCHMARKS.md explains how to read the pairs.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use offrec::ake::{AkeConfig, Established, Initiator, Responder};
use offrec::crypto::aead::seal;
use offrec::crypto::{DeterministicRandom, DhKeyPair, IdentityKey, SecretKey};
use offrec::smp::{Smp, SmpContext};
use offrec::wire::data_message::DataMessage;
use offrec::wire::{armour, encode_body, fragment, InstanceTag, Reassembler};

fn handshake(rng: &mut DeterministicRandom, alice: &IdentityKey, bob: &IdentityKey) -> (Established, Established) {
    let (init, start) =
        Initiator::start(AkeConfig { identity: bob, our_tag: 0x200, phi: b"bench" }, 0, 1, rng).unwrap();
    let (resp, reply) =
        Responder::respond(AkeConfig { identity: alice, our_tag: 0x100, phi: b"bench" }, &start, 1, rng).unwrap();
    let (finish, b) = init.finish(&reply, rng).unwrap();
    (resp.finish(&finish, rng).unwrap(), b)
}

fn primitives(c: &mut Criterion) {
    let mut rng = DeterministicRandom::from_label("bench primitives");
    let a = DhKeyPair::generate(&mut rng).unwrap();
    let b = DhKeyPair::generate(&mut rng).unwrap();
    c.bench_function("primitive/x25519", |bench| bench.iter(|| black_box(a.diffie_hellman(b.public()).unwrap())));
    let key = SecretKey::from_bytes([7; 32]);
    let mut buffer = vec![0u8; 128];
    c.bench_function("primitive/aes256gcm_seal_128B", |bench| {
        bench.iter(|| black_box(seal(&key, b"header", &mut buffer).unwrap()))
    });
    c.bench_function("primitive/hmac_sha256", |bench| {
        bench.iter(|| black_box(offrec::crypto::kdf::hmac_sha256(&[1; 32], &[&[1]])))
    });
}

fn ake(c: &mut Criterion) {
    let mut rng = DeterministicRandom::from_label("bench ake");
    let alice = IdentityKey::generate(&mut rng).unwrap();
    let bob = IdentityKey::generate(&mut rng).unwrap();
    c.bench_function("ake/full_handshake", |bench| bench.iter(|| black_box(handshake(&mut rng, &alice, &bob))));
}

fn ratchet(c: &mut Criterion) {
    let mut rng = DeterministicRandom::from_label("bench ratchet");
    let alice_id = IdentityKey::generate(&mut rng).unwrap();
    let bob_id = IdentityKey::generate(&mut rng).unwrap();
    let (_, mut bob) = handshake(&mut rng, &alice_id, &bob_id);
    let body = encode_body(&[b'x'; 100], &[], 16).unwrap();
    c.bench_function("ratchet/encrypt_100B", |bench| {
        bench.iter(|| black_box(bob.ratchet.encrypt(0x200, 0x100, 0, &body).unwrap()))
    });
    // Fresh sessions: the encrypt-only bench above ran Bob's chain far past MAX_SKIP.
    let (mut alice, mut bob) = handshake(&mut rng, &alice_id, &bob_id);
    c.bench_function("ratchet/encrypt_decrypt_same_chain_100B", |bench| {
        bench.iter(|| {
            let m = bob.ratchet.encrypt(0x200, 0x100, 0, &body).unwrap();
            let parsed = DataMessage::parse(&m.bytes).unwrap();
            black_box(alice.ratchet.decrypt(&parsed, 0, &mut rng).unwrap())
        })
    });
    c.bench_function("ratchet/alternating_turn_with_dh_step_100B", |bench| {
        bench.iter(|| {
            let m = bob.ratchet.encrypt(0x200, 0x100, 0, &body).unwrap();
            alice.ratchet.decrypt(&DataMessage::parse(&m.bytes).unwrap(), 0, &mut rng).unwrap();
            let r = alice.ratchet.encrypt(0x100, 0x200, 0, &body).unwrap();
            black_box(bob.ratchet.decrypt(&DataMessage::parse(&r.bytes).unwrap(), 0, &mut rng).unwrap())
        })
    });
}

fn smp(c: &mut Criterion) {
    let mut rng = DeterministicRandom::from_label("bench smp");
    c.bench_function("smp/full_run_matching", |bench| {
        bench.iter(|| {
            let mut a = Smp::new(SmpContext { ssid: [1; 32], our_fingerprint: [2; 32], their_fingerprint: [3; 32] });
            let mut b = Smp::new(SmpContext { ssid: [1; 32], our_fingerprint: [3; 32], their_fingerprint: [2; 32] });
            let m1 = a.start(b"secret", None, &mut rng).unwrap().pop().unwrap();
            b.receive(m1.tlv_type, &m1.payload, &mut rng);
            let m2 = b.respond(b"secret", &mut rng).unwrap();
            let m3 = a.receive(m2.tlv_type, &m2.payload, &mut rng).reply.unwrap();
            let m4 = b.receive(m3.tlv_type, &m3.payload, &mut rng).reply.unwrap();
            black_box(a.receive(m4.tlv_type, &m4.payload, &mut rng))
        })
    });
}

fn encoding(c: &mut Criterion) {
    let bytes = vec![0xA5u8; 4096];
    let armoured = armour::encode(&bytes);
    c.bench_function("wire/armour_encode_4KiB", |bench| bench.iter(|| black_box(armour::encode(&bytes))));
    c.bench_function("wire/armour_decode_4KiB", |bench| bench.iter(|| black_box(armour::decode(&armoured).unwrap())));
    let pieces = fragment::split(&armoured, 400, 7, InstanceTag(0x100), InstanceTag(0x200)).unwrap();
    c.bench_function("wire/reassemble_4KiB_at_400B", |bench| {
        bench.iter_batched(
            Reassembler::new,
            |mut reassembler| {
                let mut whole = None;
                for piece in &pieces {
                    whole = reassembler.accept(piece, 0).unwrap();
                }
                black_box(whole.unwrap())
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, primitives, ake, ratchet, smp, encoding);
criterion_main!(benches);
