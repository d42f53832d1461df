//! The modern one-way data path taken apart (`cargo bench --bench datapath`): each primitive a
//! message pays for, then the ratchet alone, then the whole client path (send, then receive,
//! of a 100 B and a 4 KiB message), in thread CPU time, with heap allocations counted.
//! bench/notes/datapath.md reads the figures against libotr's cost per message.
//!
//! An argument runs one part alone, for `perf record`: `client`, `client100`, `client4k`,
//! `chain` (the chain step), `seal100` (AES-GCM seal of 100 B under a fresh key), `gcm4k` (a
//! 4 KiB seal taken apart: aes-gcm's two in-place entry points, AES-CTR alone, GHASH alone; then
//! the move and the wipe a received 4 KiB text still costs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use offrec::conversation::{Action, Client, Policy, Settings};
use offrec::crypto::aead::{open, seal, RevealedMaterial};
use offrec::crypto::kdf::chain_step;
use offrec::crypto::{DeterministicRandom, IdentityKey, SecretKey};
use offrec::wire::base64;
use sha2::{Digest, Sha256};

/// Counts allocations, to report how many one message costs.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer for clock_gettime.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Runs `f` `n` times, best of 5 rounds: (ns per call, allocations per call).
/// Whether this is a real run: `cargo bench` passes `--bench`; `cargo test --all-targets`
/// (part of `make test`) runs this binary without it, unoptimised, where one pass of each part
/// is enough to prove the bench still builds and runs.
fn full_run() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn measure(n: u64, mut f: impl FnMut()) -> (f64, f64) {
    let (n, rounds) = if full_run() { (n, 5) } else { (1, 1) };
    let mut best = f64::MAX;
    let mut allocs = 0.0;
    for _ in 0..rounds {
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        let t0 = cpu_ns();
        for _ in 0..n {
            f();
        }
        let ns = (cpu_ns() - t0) as f64 / n as f64;
        allocs = (ALLOCATIONS.load(Ordering::Relaxed) - a0) as f64 / n as f64;
        best = best.min(ns);
    }
    (best, allocs)
}

fn report(name: &str, (ns, allocs): (f64, f64)) {
    println!("{name:<52} {ns:>9.1} ns {allocs:>6.1} allocs");
}

fn primitives() {
    let block = [0x5Au8; 55]; // one SHA-256 block with its padding
    report(
        "sha256, one block (55 B)",
        measure(200_000, || {
            black_box(Sha256::digest(black_box(block)));
        }),
    );
    let mut key = [1u8; 32];
    report(
        "hmac-sha256, fresh 32 B key, 1 B message (4 blocks)",
        measure(200_000, || {
            key[0] = key[0].wrapping_add(1);
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(black_box(&key)).unwrap();
            mac.update(&[1]);
            black_box(mac.finalize().into_bytes());
        }),
    );
    let mut ck = SecretKey::from_bytes([2; 32]);
    report(
        "chain step (message key + next chain key, 6 blocks)",
        measure(200_000, || {
            let step = chain_step(black_box(&ck));
            ck = step.next_chain_key.clone();
            black_box(step.message_key);
        }),
    );
    for len in [100usize, 4096] {
        let mut buffer = vec![0x41u8; len];
        let header = [0x33u8; 56];
        let mut k = [3u8; 32];
        report(
            &format!("aes-256-gcm seal {len} B, fresh key"),
            measure(100_000, || {
                k[0] = k[0].wrapping_add(1);
                black_box(seal(&SecretKey::from_bytes(k), &header, &mut buffer).unwrap());
            }),
        );
        let key = SecretKey::from_bytes([4; 32]);
        let sealed = {
            let mut b = vec![0x41u8; len];
            let tag = seal(&key, &header, &mut b).unwrap();
            (b, tag)
        };
        let mut work = sealed.0.clone();
        // Each open needs the ciphertext back, so the copy is timed alone and subtracted: on an
        // AMD Zen 3 glibc's `rep movsb` copy of 4 KiB between two neighbouring heap buffers
        // (destination 16 bytes past a 4 KiB multiple from the source) takes 1.5-1.9 us, which
        // had been counted as AES-GCM.
        let copy = measure(100_000, || {
            work.copy_from_slice(black_box(&sealed.0));
            black_box(&mut work);
        });
        let (with_copy, allocs) = measure(100_000, || {
            work.copy_from_slice(&sealed.0);
            open(&key, &header, &mut work, &sealed.1).unwrap();
        });
        report(&format!("aes-256-gcm open {len} B (key schedule incl.)"), ((with_copy - copy.0).max(0.0), allocs));
        report(&format!("  (the ciphertext copy subtracted above, {len} B)"), copy);
        let wire_len = 56 + len + 16 + 32; // header, one reveal, body, tag
        let binary = vec![0xA5u8; wire_len];
        let mut text = String::with_capacity(wire_len * 2);
        report(
            &format!("base64 encode {wire_len} B"),
            measure(200_000, || {
                text.clear();
                base64::encode_append(black_box(&binary), &mut text);
            }),
        );
        report(
            &format!("base64 decode {wire_len} B"),
            measure(200_000, || drop(black_box(base64::decode(text.as_bytes())))),
        );
    }
    let key = SecretKey::from_bytes([5; 32]);
    report(
        "revealed material (AES key schedule + 2 blocks)",
        measure(200_000, || drop(black_box(RevealedMaterial::of_key(&key)))),
    );
}

/// A 4 KiB AES-256-GCM seal taken apart, to find its ceiling: the detached in-place call
/// offrec uses (`encrypt_inout_detached`) against aes-gcm's other in-place entry point, then its
/// two halves alone: the AES-256-CTR keystream (fresh key, as every message key is) and GHASH
/// over the header and body (RustCrypto's `ghash`, a byte-reversing wrapper over `polyval`).
fn gcm_parts() {
    use aes_gcm::aead::{AeadInOut, KeyInit as _};
    use aes_gcm::{Aes256Gcm, Nonce};
    use ctr::cipher::{KeyIvInit, StreamCipher};
    use ghash::universal_hash::UniversalHash;
    let mut buffer = vec![0x41u8; 4096];
    let mut attached = Vec::with_capacity(4096 + 16);
    attached.extend_from_slice(&buffer);
    let header = [0x33u8; 57];
    let mut k = [3u8; 32];
    report(
        "gcm 4096 B: seal (encrypt_inout_detached), fresh key",
        measure(100_000, || {
            k[0] = k[0].wrapping_add(1);
            black_box(seal(&SecretKey::from_bytes(k), &header, &mut buffer).unwrap());
        }),
    );
    report(
        "gcm 4096 B: encrypt_in_place (tag appended), fresh key",
        measure(100_000, || {
            k[0] = k[0].wrapping_add(1);
            let cipher = Aes256Gcm::new(&k.into());
            attached.truncate(4096);
            cipher.encrypt_in_place(&Nonce::default(), &header, &mut attached).unwrap();
            black_box(&attached);
        }),
    );
    report(
        "gcm 4096 B: AES-256-CTR keystream alone, fresh key",
        measure(100_000, || {
            k[0] = k[0].wrapping_add(1);
            let mut ctr = ctr::Ctr32BE::<aes::Aes256>::new(&k.into(), &[0u8; 16].into());
            ctr.apply_keystream(&mut buffer);
            black_box(&buffer);
        }),
    );
    let h = [7u8; 16];
    report(
        "gcm 4096 B: GHASH alone (header + body + lengths)",
        measure(100_000, || {
            let mut ghash = ghash::GHash::new(&h.into());
            ghash.update_padded(&header);
            ghash.update_padded(black_box(&buffer));
            ghash.update(&[[0u8; 16].into()]);
            black_box(ghash.finalize());
        }),
    );
}

/// The non-cryptographic passes a received 4 KiB message still makes over its text: the one move
/// from behind the header to the buffer's start (the delivered text must start its own buffer),
/// and the bulk wipe once it was delivered.
fn passes_4k() {
    let mut buffer = vec![0x61u8; 57 + 4 + 4096 + 16];
    report(
        "4 KiB text moved 61 B to the buffer's start",
        measure(200_000, || {
            buffer.copy_within(61..61 + 4096, 0);
            black_box(&mut buffer);
        }),
    );
    let mut text = Vec::with_capacity(buffer.len());
    report(
        "4 KiB copied into a buffer, then wiped in bulk",
        measure(200_000, || {
            text.extend_from_slice(&buffer[..4096]);
            offrec::crypto::wipe::wipe(black_box(&mut text));
        }),
    );
}

struct Pair {
    alice: Client,
    bob: Client,
    now: u64,
}

/// Carries the actions' wire texts to `to`; returns how many messages were delivered.
fn deliver(to: &mut Client, from_name: &str, actions: Vec<Action>, now: u64, expect: Option<&[u8]>) -> usize {
    let mut delivered = 0;
    for action in actions {
        match action {
            Action::Send { text, .. } => {
                for reaction in to.receive(from_name, &text, now) {
                    if let Action::Deliver { text, .. } = reaction {
                        if let Some(expected) = expect {
                            assert_eq!(&text[..], expected);
                        }
                        // As the C API does after its callback: one bulk wipe of the buffer,
                        // so the drop does not wipe the allocation a second time.
                        text.wipe();
                        delivered += 1;
                    }
                }
            }
            Action::Deliver { .. } | Action::StateChanged { .. } | Action::Event { .. } => {}
        }
    }
    delivered
}

impl Pair {
    fn new() -> Self {
        let mut rng = DeterministicRandom::from_label("datapath identities");
        let settings = Settings { policy: Policy::MANUAL, ..Settings::default() };
        let make = |name: &str, tag: u32, rng: &mut DeterministicRandom| {
            let identity = IdentityKey::generate(rng).unwrap();
            let own = DeterministicRandom::from_label(&format!("datapath {name}"));
            Client::with_parts(name, "bench", identity, tag, settings.clone(), Box::new(own)).unwrap()
        };
        let mut pair =
            Pair { alice: make("alice", 0x1111_1111, &mut rng), bob: make("bob", 0x2222_2222, &mut rng), now: 1_000 };
        // Handshake: pump until quiet.
        let mut to_bob = pair.alice.start_session("bob", pair.now).unwrap();
        let mut to_alice = Vec::new();
        while !to_bob.is_empty() || !to_alice.is_empty() {
            let mut next_to_alice = Vec::new();
            for action in to_bob.drain(..) {
                if let Action::Send { text, .. } = action {
                    next_to_alice.extend(pair.bob.receive("alice", &text, pair.now));
                }
            }
            let mut next_to_bob = Vec::new();
            for action in to_alice.drain(..).chain(next_to_alice) {
                if let Action::Send { text, .. } = action {
                    next_to_bob.extend(pair.alice.receive("bob", &text, pair.now));
                }
            }
            to_bob = next_to_bob;
        }
        // One reply, so the burst starts in the steady state.
        let (_, actions) = pair.bob.send("alice", b"ready", pair.now).unwrap();
        assert_eq!(deliver(&mut pair.alice, "bob", actions, pair.now, None), 1);
        pair
    }
}

fn client_path(sizes: &[usize]) {
    for &len in sizes {
        let mut pair = Pair::new();
        let body = vec![b'm'; len];
        let now = pair.now;
        let (ns, allocs) = measure(20_000, || {
            let (_, actions) = pair.alice.send("bob", &body, now).unwrap();
            assert_eq!(deliver(&mut pair.bob, "alice", actions, now, Some(&body)), 1);
        });
        report(&format!("client one-way {len} B, send + receive"), (ns, allocs));
        let (ns, allocs) = measure(20_000, || {
            black_box(pair.alice.send("bob", &body, now).unwrap());
        });
        report(&format!("  of which send (and armour) {len} B"), (ns, allocs));
    }
}

fn main() {
    let only = std::env::args().nth(1);
    if only.as_deref() == Some("chain") {
        let mut ck = SecretKey::from_bytes([2; 32]);
        report(
            "chain",
            measure(2_000_000, || {
                let step = chain_step(black_box(&ck));
                ck = step.next_chain_key.clone();
                black_box(step.message_key);
            }),
        );
        return;
    }
    if only.as_deref() == Some("seal100") {
        let mut buffer = vec![0x41u8; 100];
        let mut k = [3u8; 32];
        report(
            "seal100",
            measure(2_000_000, || {
                k[0] = k[0].wrapping_add(1);
                black_box(seal(&SecretKey::from_bytes(k), &[0x33u8; 56], &mut buffer).unwrap());
            }),
        );
        return;
    }
    match only.as_deref() {
        Some("gcm4k") => {
            gcm_parts();
            passes_4k();
        }
        Some("client") => client_path(&[100, 4096]),
        Some("client100") => client_path(&[100]),
        Some("client4k") => client_path(&[4096]),
        _ => {
            primitives();
            gcm_parts();
            passes_4k();
            client_path(&[100, 4096]);
        }
    }
}
