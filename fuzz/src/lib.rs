//! The bodies of offrec's fuzz targets, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets`,
//! one-liners calling these) and by `tests/fuzz_corpus.rs`, which includes this file with
//! `#[path]` and replays the committed corpus through [`TARGETS`] on stable Rust.
//!
//! Rules for this file, so it compiles in both places: depend only on `offrec`, `zeroize` and
//! `std`; keep every fixture deterministic (fixed identities, [`DeterministicRandom`]) so a
//! corpus file means the same thing on every run; build expensive fixtures once
//! ([`OnceLock`]) and clone or decode them per input.
//!
//! Adding a target (e.g. the C API driver, `ffi_calls`, once `src/ffi` exports its functions):
//! write `pub fn ffi_calls(data: &[u8])` here, decoding a call sequence with [`Input`] (one
//! opcode byte per call, arguments from [`Input::u32`] / [`Input::chunk`], handles kept in a
//! small table indexed by an input byte), add it to [`TARGETS`], add
//! `fuzz/fuzz_targets/ffi_calls.rs` and its `[[bin]]` in `fuzz/Cargo.toml`, and seed
//! `fuzz/corpus/ffi_calls/`. The replay test and `make fuzz` pick it up from [`TARGETS`] and
//! `FUZZ_TARGETS`.
#![allow(clippy::missing_panics_doc)]

use std::collections::{BTreeSet, VecDeque};
use std::sync::OnceLock;

use offrec::ake::{AkeConfig, AkeKind, AkeMessage, Initiator, Responder};
use offrec::conversation::{Action, Client, Policy, Security, Settings};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::ratchet::Ratchet;
use offrec::smp::{Smp, SmpContext, SmpEvent, SmpTlv, TLV_SMP1, TLV_SMP2, TLV_SMP3, TLV_SMP4, TLV_SMP_ABORT};
use offrec::store::{self, StoreKey};
use offrec::wire::data_message::DataMessage;
use offrec::wire::fragment::{MAX_ASSEMBLED_LEN, MAX_OPEN_TOTAL};
use offrec::wire::tlv::MAX_TLVS;
use offrec::wire::{
    armour, classify, decode_body, encode_body, error_message, parse_fragment, parse_query, split,
    whitespace, Incoming, InstanceTag, Reassembler, Tlv, Versions,
};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target: its name (the `fuzz/fuzz_targets/<name>.rs` binary and the
/// `fuzz/corpus/<name>/` directory) and its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("wire_text", wire_text),
    ("fragments", fragments),
    ("ake_messages", ake_messages),
    ("data_messages", data_messages),
    ("tlv_body", tlv_body),
    ("smp_messages", smp_messages),
    ("store_load", store_load),
    ("client_receive", client_receive),
];

// ---------------------------------------------------------------------------------------------
// Input decoding
// ---------------------------------------------------------------------------------------------

/// A cursor that turns fuzz bytes into choices. Never fails: past the end it yields zeros and
/// empty slices, so every input is a valid (if short) program.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// A big-endian u16 (zero-padded past the end).
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) << 8 | u16::from(self.u8())
    }

    /// A big-endian u32 (zero-padded past the end).
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) << 16 | u32::from(self.u16())
    }

    /// A u16-length-prefixed slice (shorter if the input ends first).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// Applies up to eight edits described by `input` to `base`: flip a byte, truncate, insert a
/// byte, overwrite a range. With no input left the result is `base` itself.
pub fn mutate(base: &[u8], input: &mut Input<'_>) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..8 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let at = usize::from(input.u16()) % (out.len() + 1);
        match op % 4 {
            0 => {
                let x = input.u8();
                if let Some(b) = out.get_mut(at) {
                    *b ^= x;
                }
            }
            1 => out.truncate(at),
            2 => out.insert(at, input.u8()),
            _ => {
                let patch = input.chunk();
                for (i, b) in patch.iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fixed parties
// ---------------------------------------------------------------------------------------------

/// The responder's (Alice's) instance tag in the AKE, ratchet and SMP fixtures.
pub const ALICE_TAG: u32 = 0x1111_1111;
/// The initiator's (Bob's) instance tag.
pub const BOB_TAG: u32 = 0x2222_2222;
/// The application state both sides bind into the handshake.
pub const PHI: &[u8] = b"alice@fuzz\0bob@fuzz\0fuzznet";
/// The version offer Alice advertised and Bob echoes.
pub const OFFER: u8 = Versions::SUPPORTED.bits();
/// The raw key of the store fixture.
pub const STORE_KEY: [u8; 32] = [0x5A; 32];

fn identity(label: &str) -> IdentityKey {
    let mut rng = DeterministicRandom::from_label(label);
    match IdentityKey::generate(&mut rng) {
        Ok(key) => key,
        Err(_) => unreachable!("deterministic random never fails"),
    }
}

fn store_key() -> StoreKey {
    StoreKey::Raw(zeroize::Zeroizing::new(STORE_KEY))
}

/// One genuine handshake: the states after each step and the three messages.
pub struct AkeFixture {
    pub alice: IdentityKey,
    pub bob: IdentityKey,
    /// Bob after sending `start`.
    pub initiator: Initiator,
    /// Alice after answering `start` with `reply`.
    pub responder: Responder,
    pub start: AkeMessage,
    pub reply: AkeMessage,
    pub finish: AkeMessage,
}

/// The handshake fixture (built once).
pub fn ake_fixture() -> &'static AkeFixture {
    static FIXTURE: OnceLock<AkeFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let alice = identity("fuzz identity alice");
        let bob = identity("fuzz identity bob");
        let mut bob_rng = DeterministicRandom::from_label("fuzz ake bob");
        let mut alice_rng = DeterministicRandom::from_label("fuzz ake alice");
        let (initiator, start) =
            Initiator::start(AkeConfig { identity: &bob, our_tag: BOB_TAG, phi: PHI }, 0, OFFER, &mut bob_rng)
                .expect("start");
        let (responder, reply) = Responder::respond(
            AkeConfig { identity: &alice, our_tag: ALICE_TAG, phi: PHI },
            &start,
            OFFER,
            &mut alice_rng,
        )
        .expect("respond");
        let (finish, _) = initiator.finish(&reply, &mut bob_rng).expect("finish");
        AkeFixture { alice, bob, initiator, responder, start, reply, finish }
    })
}

/// An established ratchet pair and genuine messages in both directions. Index 3 of each
/// direction is the *check* message: it is never exported to a corpus, so a fuzzer cannot
/// replay it, and it must still decrypt after whatever the fuzzer did.
pub struct RatchetFixture {
    /// Alice (responder) after encrypting `to_bob`.
    pub alice: Ratchet,
    /// Bob (initiator) after encrypting `to_alice`.
    pub bob: Ratchet,
    pub to_alice: Vec<Vec<u8>>,
    pub to_bob: Vec<Vec<u8>>,
    pub bodies: Vec<Vec<u8>>,
}

/// Genuine messages per direction; the last is the check message.
pub const GENUINE_MESSAGES: usize = 4;

/// The ratchet fixture (built once).
pub fn ratchet_fixture() -> &'static RatchetFixture {
    static FIXTURE: OnceLock<RatchetFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f = ake_fixture();
        let mut bob_rng = DeterministicRandom::from_label("fuzz ake bob");
        let mut alice_rng = DeterministicRandom::from_label("fuzz ake alice");
        // Re-run the handshake with the same random streams to get both sessions.
        let (init, start) =
            Initiator::start(AkeConfig { identity: &f.bob, our_tag: BOB_TAG, phi: PHI }, 0, OFFER, &mut bob_rng)
                .expect("start");
        let (resp, reply) = Responder::respond(
            AkeConfig { identity: &f.alice, our_tag: ALICE_TAG, phi: PHI },
            &start,
            OFFER,
            &mut alice_rng,
        )
        .expect("respond");
        let (finish, bob_session) = init.finish(&reply, &mut bob_rng).expect("finish");
        let alice_session = resp.finish(&finish, &mut alice_rng).expect("finish");
        assert_eq!(alice_session.ssid, bob_session.ssid);
        let (mut alice, mut bob) = (alice_session.ratchet, bob_session.ratchet);
        let bodies: Vec<Vec<u8>> = (0..GENUINE_MESSAGES).map(|i| format!("genuine message {i}").into_bytes()).collect();
        let to_alice = bodies
            .iter()
            .map(|b| bob.encrypt(BOB_TAG, ALICE_TAG, 0, b).expect("encrypt").bytes)
            .collect();
        let to_bob = bodies
            .iter()
            .map(|b| alice.encrypt(ALICE_TAG, BOB_TAG, 0, b).expect("encrypt").bytes)
            .collect();
        RatchetFixture { alice, bob, to_alice, to_bob, bodies }
    })
}

/// The SMP secret both sides use in the fixture (so the genuine run succeeds).
pub const SMP_SECRET: &[u8] = b"the name of our first cat";
/// The question Alice asks.
pub const SMP_QUESTION: &str = "our first cat?";

fn smp_contexts() -> (SmpContext, SmpContext) {
    let f = ake_fixture();
    let ssid = [0x33; 32];
    let (a, b) = (f.alice.fingerprint(), f.bob.fingerprint());
    (
        SmpContext { ssid, our_fingerprint: a, their_fingerprint: b },
        SmpContext { ssid, our_fingerprint: b, their_fingerprint: a },
    )
}

/// The SMP states [`smp_in_state`] builds: Alice is the initiator of the run.
pub const SMP_STATES: [&str; 5] = ["Idle", "BobAwaitingSecret", "AliceExpect2", "BobExpect3", "AliceExpect4"];

/// An SMP machine in state `which` (index into [`SMP_STATES`]) and its random source, built
/// deterministically so the genuine messages of [`smp_transcript`] are the ones it expects.
pub fn smp_in_state(which: usize) -> (Smp, DeterministicRandom) {
    let (actx, bctx) = smp_contexts();
    let mut arng = DeterministicRandom::from_label("fuzz smp alice");
    let mut brng = DeterministicRandom::from_label("fuzz smp bob");
    match which % SMP_STATES.len() {
        0 => (Smp::new(bctx), brng),
        2 => {
            let mut alice = Smp::new(actx);
            alice.start(SMP_SECRET, Some(SMP_QUESTION), &mut arng).expect("smp start");
            (alice, arng)
        }
        4 => {
            let (mut alice, mut arng) = smp_in_state(2);
            let t = smp_transcript();
            let step = alice.receive(TLV_SMP2, &t[1], &mut arng);
            assert_eq!(step.event, Some(SmpEvent::InProgress));
            (alice, arng)
        }
        odd => {
            let mut bob = Smp::new(bctx);
            let t = smp_transcript();
            let step = bob.receive(TLV_SMP1, &t[0], &mut brng);
            assert!(matches!(step.event, Some(SmpEvent::AskedForSecret { .. })));
            if odd == 3 {
                bob.respond(SMP_SECRET, &mut brng).expect("smp respond");
            }
            (bob, brng)
        }
    }
}

/// The genuine SMP1..SMP4 payloads of one successful run.
pub fn smp_transcript() -> &'static [Vec<u8>; 4] {
    static T: OnceLock<[Vec<u8>; 4]> = OnceLock::new();
    T.get_or_init(|| {
        let (actx, bctx) = smp_contexts();
        let mut arng = DeterministicRandom::from_label("fuzz smp alice");
        let mut brng = DeterministicRandom::from_label("fuzz smp bob");
        let mut alice = Smp::new(actx);
        let mut bob = Smp::new(bctx);
        let smp1 = alice.start(SMP_SECRET, Some(SMP_QUESTION), &mut arng).expect("start").pop().expect("smp1");
        assert!(bob.receive(smp1.tlv_type, &smp1.payload, &mut brng).event.is_some());
        let smp2 = bob.respond(SMP_SECRET, &mut brng).expect("respond");
        let smp3 = alice.receive(smp2.tlv_type, &smp2.payload, &mut arng).reply.expect("smp3");
        let step = bob.receive(smp3.tlv_type, &smp3.payload, &mut brng);
        assert_eq!(step.event, Some(SmpEvent::Succeeded));
        let smp4: SmpTlv = step.reply.expect("smp4");
        assert_eq!(alice.receive(smp4.tlv_type, &smp4.payload, &mut arng).event, Some(SmpEvent::Succeeded));
        [smp1.payload, smp2.payload, smp3.payload, smp4.payload]
    })
}

/// Two clients with an encrypted session, stored as their encoded state so each input starts
/// from a fresh copy, plus what Alice sent Bob (not yet delivered).
pub struct ClientFixture {
    pub alice_state: Vec<u8>,
    pub bob_state: Vec<u8>,
    /// Alice's wire texts to Bob, one per message (the last is never exported).
    pub to_bob: Vec<String>,
    /// The plaintexts of `to_bob`.
    pub sent: Vec<Vec<u8>>,
}

fn client_settings() -> Settings {
    Settings { policy: Policy::MANUAL, padding_block: 16, ..Settings::default() }
}

fn new_client(account: &str, tag: u32, state_label: &str) -> Client {
    Client::with_parts(
        account,
        "fuzznet",
        identity(&format!("fuzz identity {account}")),
        tag,
        client_settings(),
        Box::new(DeterministicRandom::from_label(state_label)),
    )
    .expect("client")
}

fn load_client(state: &[u8], label: &str) -> Client {
    store::decode_client(state, client_settings(), Box::new(DeterministicRandom::from_label(label))).expect("fixture state")
}

/// Sends in both directions until quiet; returns every Send text per direction.
fn route(alice: &mut Client, bob: &mut Client, mut queue: VecDeque<(bool, String)>, now: u64) {
    let mut steps = 0;
    while let Some((to_bob, text)) = queue.pop_front() {
        steps += 1;
        assert!(steps < 1000, "fixture network did not quiesce");
        let actions = if to_bob { bob.receive("alice", &text, now) } else { alice.receive("bob", &text, now) };
        for action in actions {
            if let Action::Send { text, .. } = action {
                queue.push_back((!to_bob, text));
            }
        }
    }
}

fn sends(actions: Vec<Action>) -> Vec<String> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

/// The client fixture (built once).
pub fn client_fixture() -> &'static ClientFixture {
    static FIXTURE: OnceLock<ClientFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut alice = new_client("alice", ALICE_TAG, "fuzz client alice");
        let mut bob = new_client("bob", BOB_TAG, "fuzz client bob");
        let now = 1_000;
        let query = sends(alice.start_session("bob", now).expect("start session"));
        route(&mut alice, &mut bob, query.into_iter().map(|t| (true, t)).collect(), now);
        assert!(alice.session_state("bob").is_encrypted() && bob.session_state("alice").is_encrypted());
        let sent: Vec<Vec<u8>> = (0..GENUINE_MESSAGES).map(|i| format!("private note {i}").into_bytes()).collect();
        let mut to_bob = Vec::new();
        for text in &sent {
            let (_, actions) = alice.send("bob", text, now).expect("send");
            let mut wire = sends(actions);
            assert_eq!(wire.len(), 1, "one unfragmented message");
            to_bob.push(wire.remove(0));
        }
        ClientFixture {
            alice_state: store::encode_client(&alice).to_vec(),
            bob_state: store::encode_client(&bob).to_vec(),
            to_bob,
            sent,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// Binary parsers on decoded bytes: whatever parses re-encodes to exactly the same bytes.
fn binary_messages(bin: &[u8]) {
    if let Some(m) = AkeMessage::parse(bin) {
        assert_eq!(m.to_bytes(), bin, "AKE message does not round-trip");
    }
    if let Ok(m) = DataMessage::parse(bin) {
        assert_eq!(m.to_bytes(), bin, "data message does not round-trip");
        assert_eq!(m.header.encode(), m.header_bytes, "data header does not round-trip");
    }
    let _ = decode_body(bin);
}

/// Text from the transport: classification and every text parser, with round-trip checks.
pub fn wire_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    match classify(text) {
        Incoming::Encoded(s) => {
            assert!(s.starts_with(armour::ARMOUR_PREFIX));
            if let Ok(bin) = armour::decode(s) {
                assert!(!bin.is_empty());
                assert_eq!(armour::encode(&bin), s, "armour is not canonical");
                binary_messages(&bin);
            }
        }
        Incoming::Fragment(s) => {
            if let Ok(f) = parse_fragment(s) {
                assert!(1 <= f.k && f.k <= f.n && !f.piece.is_empty());
                assert_eq!(f.encode(), s, "fragment does not round-trip");
            }
        }
        Incoming::Error(rest) => assert!(text.ends_with(rest)),
        Incoming::Query(_) => assert!(parse_query(text).is_some()),
        Incoming::Plaintext { text: shown, tag } => {
            if tag.is_some() {
                assert!(shown.len() < text.len(), "tag stripped");
            } else {
                assert_eq!(shown, text);
            }
        }
        Incoming::ForeignOtr(_) => {}
        _ => {}
    }
    // Every parser on every input, whatever the classification said.
    let _ = armour::decode(text);
    let _ = parse_fragment(text);
    let _ = parse_query(text);
    let _ = error_message::parse(text);
    let _ = whitespace::find_tag(text);
    let _ = whitespace::is_otr_tag(text);
    binary_messages(data);
}

/// Fragment reassembly. Mode 0: the rest is lines fed to one [`Reassembler`] (`@N` advances
/// the clock N seconds). Mode 1: a payload is armoured, split and delivered in an
/// input-chosen order with input-chosen noise, and must come back exactly.
pub fn fragments(data: &[u8]) {
    let mut input = Input::new(data);
    if input.u8() % 2 == 0 {
        let mut r = Reassembler::new();
        let text = String::from_utf8_lossy(input.rest());
        let mut now = 0u64;
        for line in text.split('\n') {
            if let Some(dt) = line.strip_prefix('@') {
                now = now.saturating_add(dt.parse::<u64>().unwrap_or(0));
                continue;
            }
            if let Ok(Some(whole)) = r.accept(line, now) {
                assert!(whole.len() <= MAX_ASSEMBLED_LEN);
                let _ = armour::decode(&whole);
            }
            assert!(r.open_buffers() <= MAX_OPEN_TOTAL);
        }
        return;
    }
    let max_len = usize::from(input.u16());
    let id = input.u32();
    let sender = InstanceTag(input.u32().max(InstanceTag::MIN_VALID));
    let receiver = match input.u32() {
        r if r < InstanceTag::MIN_VALID => InstanceTag::NONE,
        r => InstanceTag(r),
    };
    let payload = input.chunk();
    if payload.is_empty() {
        return;
    }
    let encoded = armour::encode(payload);
    let Ok(pieces) = split(&encoded, max_len, id, sender, receiver) else { return };
    if pieces.len() == 1 {
        assert_eq!(pieces[0], encoded);
        return;
    }
    for p in &pieces {
        assert!(p.len() <= max_len, "fragment longer than max_len");
        assert!(parse_fragment(p).is_ok(), "split made an unparsable fragment");
    }
    // Fisher-Yates with input bytes.
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    for i in (1..order.len()).rev() {
        let j = usize::from(input.u16()) % (i + 1);
        order.swap(i, j);
    }
    let noise = String::from_utf8_lossy(input.rest()).into_owned();
    let mut noise_lines = noise.split('\n');
    let mut r = Reassembler::new();
    let mut whole = None;
    for (i, &idx) in order.iter().enumerate() {
        // Noise from other senders must not disturb this message (the sender's own buffer
        // could be evicted by four other ids of the same sender, so skip that sender).
        if let Some(line) = noise_lines.next() {
            if parse_fragment(line).map(|f| f.sender != sender).unwrap_or(true) {
                let _ = r.accept(line, 0);
            }
        }
        let got = r.accept(&pieces[idx], 0).expect("genuine fragment rejected");
        if i + 1 < order.len() {
            assert_eq!(got, None, "reassembled early");
        } else {
            whole = got;
        }
    }
    assert_eq!(whole.as_deref(), Some(encoded.as_str()), "reassembly changed the message");
}

/// AKE messages against a real Responder (fed as `Start`) and real Initiator and Responder
/// mid-handshake (fed as `Reply` / `Finish`). Mode 0: arbitrary bytes; modes 1..3: a
/// mutation of the genuine Start / Reply / Finish. A Reply or Finish that differs from the
/// genuine one must be rejected, and a Reply to a tampered Start must not complete the
/// handshake (downgrade and misbinding protection).
pub fn ake_messages(data: &[u8]) {
    let f = ake_fixture();
    let mut input = Input::new(data);
    let bytes = match input.u8() % 4 {
        0 => input.rest().to_vec(),
        1 => mutate(&f.start.to_bytes(), &mut input),
        2 => mutate(&f.reply.to_bytes(), &mut input),
        _ => mutate(&f.finish.to_bytes(), &mut input),
    };
    let Some(msg) = AkeMessage::parse(&bytes) else { return };
    let mut rng = DeterministicRandom::from_label("fuzz ake run");
    let alice = AkeConfig { identity: &f.alice, our_tag: ALICE_TAG, phi: PHI };
    if let Ok((_, reply)) = Responder::respond(alice, &msg, OFFER, &mut rng) {
        assert_eq!(reply.kind, AkeKind::Reply);
        assert_eq!(AkeMessage::parse(&reply.to_bytes()).as_ref(), Some(&reply));
        let completed = f.initiator.finish(&reply, &mut rng).is_ok();
        if msg != f.start {
            assert!(!completed, "a reply to a tampered Start completed the handshake");
        }
    }
    let _ = f.initiator.should_yield_to(&msg);
    if f.initiator.finish(&msg, &mut rng).is_ok() {
        assert_eq!(msg, f.reply, "forged Reply accepted");
    }
    if f.responder.finish(&msg, &mut rng).is_ok() {
        assert_eq!(msg, f.finish, "forged Finish accepted");
    }
}

/// Data messages against a real established ratchet. Direction bit, then up to six
/// operations: arbitrary bytes, a mutation of a genuine message, or a genuine message. Only
/// genuine messages may decrypt, each at most once, failures must leave the state unchanged,
/// and the never-exported check message must still decrypt afterwards.
pub fn data_messages(data: &[u8]) {
    let f = ratchet_fixture();
    let mut input = Input::new(data);
    let to_alice = input.u8() & 1 == 0;
    let (mut rx, genuine) = if to_alice { (f.alice.clone(), &f.to_alice) } else { (f.bob.clone(), &f.to_bob) };
    let exported = GENUINE_MESSAGES - 1;
    let mut rng = DeterministicRandom::from_label("fuzz ratchet run");
    let mut seen = BTreeSet::new();
    let mut now = 1_000u64;
    for _ in 0..6 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let pick = usize::from(op >> 2) % exported;
        let bytes = match op % 3 {
            0 => input.chunk().to_vec(),
            1 => mutate(&genuine[pick], &mut input),
            _ => genuine[pick].clone(),
        };
        now = now.saturating_add(u64::from(input.u16()));
        let Ok(msg) = DataMessage::parse(&bytes) else { continue };
        let before = rx.clone();
        match rx.decrypt(&msg, now, &mut rng) {
            Ok(d) => {
                let idx = genuine.iter().position(|g| *g == bytes).expect("forged data message decrypted");
                assert_eq!(*d.body, f.bodies[idx]);
                assert!(seen.insert(idx), "replayed data message decrypted twice");
            }
            Err(_) => assert!(rx == before, "a failed decryption changed the ratchet"),
        }
    }
    let check = DataMessage::parse(&genuine[exported]).expect("check parses");
    let d = rx.decrypt(&check, now, &mut rng).expect("genuine message no longer decrypts");
    assert_eq!(*d.body, f.bodies[exported]);
}

/// Data-message bodies: whatever decodes re-encodes to the same bytes; whatever encodes
/// decodes back (with padding to the requested multiple).
pub fn tlv_body(data: &[u8]) {
    if let Ok(body) = decode_body(data) {
        assert!(body.tlvs.len() <= MAX_TLVS);
        assert_eq!(encode_body(&body.text, &body.tlvs, 0).expect("re-encode"), data);
    }
    let mut input = Input::new(data);
    let pad = usize::from(input.u8());
    let text = input.chunk().to_vec();
    let mut tlvs = Vec::new();
    while !input.is_empty() && tlvs.len() < MAX_TLVS + 2 {
        tlvs.push(Tlv { kind: input.u16(), value: input.chunk().to_vec() });
    }
    if let Ok(encoded) = encode_body(&text, &tlvs, pad) {
        let back = decode_body(&encoded).expect("encoded body does not decode");
        assert_eq!(back.text, text);
        assert_eq!(back.tlvs[..tlvs.len()], tlvs[..]);
        if pad > 0 {
            assert_eq!(encoded.len() % pad, 0);
            assert_eq!(back.tlvs.len(), tlvs.len() + 1);
        } else {
            assert_eq!(back.tlvs.len(), tlvs.len());
        }
    }
}

/// SMP messages against an [`Smp`] in each state. First byte: the state; then up to four
/// operations (a TLV of any type with arbitrary payload, a mutation of the genuine message of
/// that type, or respond/start calls). `Succeeded` only ever follows the genuine SMP3/SMP4,
/// and an error always leaves the machine idle with its secrets wiped.
pub fn smp_messages(data: &[u8]) {
    let mut input = Input::new(data);
    let (mut smp, mut rng) = smp_in_state(usize::from(input.u8()));
    let t = smp_transcript();
    for _ in 0..4 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        if op == 0xFF {
            let _ = smp.respond(input.chunk(), &mut rng);
            continue;
        }
        if op == 0xFE {
            let _ = smp.start(SMP_SECRET, None, &mut rng);
            continue;
        }
        let tlv_type = if op & 0x80 != 0 { input.u16() } else { TLV_SMP1 + u16::from(op % 5) };
        let payload = match (op & 0x40 != 0, usize::from(tlv_type.wrapping_sub(TLV_SMP1))) {
            (true, i) if i < 4 => mutate(&t[i], &mut input),
            _ => input.chunk().to_vec(),
        };
        let step = smp.receive(tlv_type, &payload, &mut rng);
        if step.event == Some(SmpEvent::Succeeded) {
            let genuine = match tlv_type {
                TLV_SMP3 => &t[2],
                TLV_SMP4 => &t[3],
                _ => panic!("Succeeded on TLV type {tlv_type}"),
            };
            assert_eq!(&payload, genuine, "SMP succeeded on a forged message");
        }
        if step.error.is_some() {
            assert!(!smp.is_in_progress() && !smp.holds_secrets(), "an SMP error left state behind");
        }
        if let Some(reply) = &step.reply {
            assert!((TLV_SMP1..=TLV_SMP_ABORT).contains(&reply.tlv_type));
        }
    }
}

/// Store loading. Mode 0: `store::open` with the fixture key, then decoding what it opened.
/// Mode 1: `decode_client` on raw bytes; a decoded client re-encodes stably. Mode 2: seal the
/// rest, tamper with it, and open: only the untampered store opens, to the same bytes.
pub fn store_load(data: &[u8]) {
    let mut input = Input::new(data);
    let key = store_key();
    let rng = || Box::new(DeterministicRandom::from_label("fuzz store")) as Box<dyn offrec::crypto::RandomSource>;
    match input.u8() % 3 {
        0 => {
            if let Ok(plain) = store::open(input.rest(), &key) {
                let _ = store::decode_client(&plain, Settings::default(), rng());
            }
        }
        1 => {
            if let Ok(client) = store::decode_client(input.rest(), Settings::default(), rng()) {
                let once = store::encode_client(&client);
                let again = store::decode_client(&once, Settings::default(), rng()).expect("re-encoded state does not decode");
                assert_eq!(*store::encode_client(&again), *once, "state encoding is not stable");
            }
        }
        _ => {
            let plain = input.chunk().to_vec();
            let mut seal_rng = DeterministicRandom::from_label("fuzz seal");
            let sealed = store::seal(&plain, &key, &mut seal_rng).expect("seal");
            let tampered = mutate(&sealed, &mut input);
            match store::open(&tampered, &key) {
                Ok(opened) => {
                    assert_eq!(tampered, sealed, "a tampered store opened");
                    assert_eq!(*opened, plain);
                }
                Err(_) => assert_ne!(tampered, sealed, "an untampered store did not open"),
            }
        }
    }
}

/// Lines from "alice" fed to Bob's client in an encrypted session; Bob's replies go to Alice
/// and hers back. `#k` stands for Alice's genuine message k (k < 3), `@N` advances the clock
/// and ticks both clients. No encrypted Deliver may carry text that was not sent, none twice.
pub fn client_receive(data: &[u8]) {
    let f = client_fixture();
    let mut alice = load_client(&f.alice_state, "fuzz client alice run");
    let mut bob = load_client(&f.bob_state, "fuzz client bob run");
    let text = String::from_utf8_lossy(data);
    let mut now = 1_000u64;
    let mut delivered = BTreeSet::new();
    for line in text.split('\n').take(64) {
        let mut queue: VecDeque<(bool, String)> = VecDeque::new();
        let mut actions = Vec::new();
        if let Some(dt) = line.strip_prefix('@') {
            now = now.saturating_add(dt.parse::<u64>().unwrap_or(0) % 100_000);
            actions.extend(bob.tick(now).into_iter().map(|a| (true, a)));
            actions.extend(alice.tick(now).into_iter().map(|a| (false, a)));
        } else {
            let line = match line.strip_prefix('#').and_then(|k| k.parse::<usize>().ok()) {
                Some(k) if k < GENUINE_MESSAGES - 1 => f.to_bob[k].as_str(),
                _ => line,
            };
            actions.extend(bob.receive("alice", line, now).into_iter().map(|a| (true, a)));
        }
        let mut steps = 0;
        loop {
            for (at_bob, action) in actions.drain(..) {
                match action {
                    Action::Send { text, .. } => queue.push_back((!at_bob, text)),
                    Action::Deliver { text, security, .. } if security != Security::Plaintext => {
                        assert!(at_bob, "Alice delivered encrypted text Bob never sent");
                        let idx = f.sent.iter().position(|s| **s == **text).expect("delivered text that was never sent");
                        assert!(delivered.insert(idx), "message delivered twice");
                    }
                    _ => {}
                }
            }
            let Some((to_bob, text)) = queue.pop_front() else { break };
            steps += 1;
            if steps > 64 {
                break;
            }
            if to_bob {
                actions.extend(bob.receive("alice", &text, now).into_iter().map(|a| (true, a)));
            } else {
                actions.extend(alice.receive("bob", &text, now).into_iter().map(|a| (false, a)));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Seed corpus
// ---------------------------------------------------------------------------------------------

/// Seed inputs per target, from real runs of the fixtures. Written to `fuzz/corpus/` by the
/// ignored `generate_seed_corpus` test; check messages are never included.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let ake = ake_fixture();
    let rat = ratchet_fixture();
    let cl = client_fixture();
    let smp = smp_transcript();
    let armoured: Vec<String> = [&ake.start, &ake.reply, &ake.finish].iter().map(|m| armour::encode(&m.to_bytes())).collect();

    // wire_text
    let mut texts: Vec<String> = armoured.clone();
    texts.extend(cl.to_bob[..GENUINE_MESSAGES - 1].iter().cloned());
    texts.push(armour::encode(&rat.to_alice[0]));
    let frags = split(&cl.to_bob[0], 60, 0xabcd, InstanceTag(ALICE_TAG), InstanceTag(BOB_TAG)).expect("split");
    texts.extend(frags.iter().take(2).cloned());
    texts.push(offrec::wire::encode_query(Versions::SUPPORTED, offrec::wire::DEFAULT_QUERY_TEXT));
    texts.push(whitespace::append_tag("hello there", Versions::SUPPORTED));
    texts.push(error_message::encode("ERROR_1: unreadable message"));
    texts.extend(["?OTRv23? hi", "?OTR:AAAA.", "plain text", "?OFR:."].map(String::from));
    out.extend(texts.into_iter().map(|t| ("wire_text", t.into_bytes())));

    // fragments
    let mut lines = vec![0u8];
    lines.extend(frags.join("\n").into_bytes());
    out.push(("fragments", lines));
    let mut lines = vec![0u8];
    lines.extend(format!("{}\n@200\n{}", frags[0], frags[1..].join("\n")).into_bytes());
    out.push(("fragments", lines));
    let mut structured = vec![1u8, 0, 80, 0, 0, 0, 7, 0x11, 0x11, 0x11, 0x11, 0, 0, 0, 0];
    structured.extend((rat.to_alice[0].len() as u16).to_be_bytes());
    structured.extend(&rat.to_alice[0]);
    out.push(("fragments", structured));

    // ake_messages
    for (mode, m) in [(1u8, &ake.start), (2, &ake.reply), (3, &ake.finish)] {
        let mut raw = vec![0u8];
        raw.extend(m.to_bytes());
        out.push(("ake_messages", raw));
        out.push(("ake_messages", vec![mode]));
        out.push(("ake_messages", vec![mode, 0, 0, 20, 0x80]));
    }

    // data_messages: genuine in order, out of order, a flip, arbitrary bytes.
    for dir in [0u8, 1] {
        out.push(("data_messages", vec![dir, 2, 0, 0, 6, 0, 0, 10, 0, 0]));
        out.push(("data_messages", vec![dir, 6, 0, 1, 2, 0, 1]));
        out.push(("data_messages", vec![dir, 1, 0, 0, 60, 0x01]));
        let genuine = if dir == 0 { &rat.to_alice[0] } else { &rat.to_bob[0] };
        let mut raw = vec![dir, 0];
        raw.extend((genuine.len() as u16).to_be_bytes());
        raw.extend(genuine);
        raw.extend([0, 0]);
        out.push(("data_messages", raw));
    }

    // tlv_body
    let smp_tlv = Tlv { kind: TLV_SMP1, value: smp[0].clone() };
    for (text, tlvs, pad) in [
        (&b"hello"[..], vec![], 16usize),
        (&b""[..], vec![smp_tlv], 0),
        (&b"bye"[..], vec![Tlv { kind: 1, value: vec![] }], 0),
    ] {
        out.push(("tlv_body", encode_body(text, &tlvs, pad).expect("body")));
    }

    // smp_messages: each state fed its expected genuine message (op bit 0x40 + no edits).
    for (state, next) in [(0u8, 0u8), (2, 1), (3, 2), (4, 3)] {
        out.push(("smp_messages", vec![state, 0x40 | next]));
        let mut raw = vec![state, next];
        raw.extend((smp[usize::from(next)].len() as u16).to_be_bytes());
        raw.extend(&smp[usize::from(next)]);
        out.push(("smp_messages", raw));
    }
    out.push(("smp_messages", vec![1, 0xFF, 0, 3, b'a', b'b', b'c']));
    out.push(("smp_messages", vec![2, 4]));

    // store_load
    let key = store_key();
    let sealed = store::seal(&cl.bob_state, &key, &mut DeterministicRandom::from_label("seed seal")).expect("seal");
    let mut raw = vec![0u8];
    raw.extend(&sealed);
    out.push(("store_load", raw));
    let mut raw = vec![1u8];
    raw.extend(&cl.bob_state);
    out.push(("store_load", raw));
    let mut raw = vec![1u8];
    raw.extend(&cl.alice_state);
    out.push(("store_load", raw));
    out.push(("store_load", vec![2, 0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 40, 1]));

    // client_receive
    for text in [
        "#0\n#1\n#2".to_owned(),
        "#2\n#0\n#0\n@70\n#1".to_owned(),
        cl.to_bob[..GENUINE_MESSAGES - 1].join("\n"),
        format!("{}\n{}", frags.join("\n"), "#1"),
        "?OFRv1? let's talk\n#0".to_owned(),
        format!("{}\n#0", armoured[0]),
        "hello in the clear\n?OFR Error: ERROR_1: unreadable message\n@8000".to_owned(),
    ] {
        out.push(("client_receive", text.into_bytes()));
    }
    out
}
