//! The bodies of offrec's fuzz targets, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets`,
//! one-liners calling these) and by `tests/fuzz_corpus.rs`, which includes this file with
//! `#[path]` and replays the committed corpus through [`TARGETS`] on stable Rust.
//!
//! Rules for this file, so it compiles in both places: depend only on `offrec`, `zeroize` and
//! `std`; keep every fixture deterministic (fixed identities, [`DeterministicRandom`]) so a
//! corpus file means the same thing on every run; build expensive fixtures once
//! ([`OnceLock`]) and clone or decode them per input.
//!
//! Adding a target (as the C API driver, `ffi_calls`, was added):
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
    armour, classify, decode_body, encode_body, error_message, parse_fragment, parse_query, split, whitespace,
    Incoming, InstanceTag, Reassembler, Tlv, Versions,
};

pub mod migrate;
pub mod otr_client_receive;
pub mod otr_messages;
pub mod otr_text;

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
    ("ffi_calls", ffi_calls),
    ("otr_text", otr_text::otr_text),
    ("otr_messages", otr_messages::otr_messages),
    ("otr_client_receive", otr_client_receive::otr_client_receive),
    ("migrate_sexp", migrate::migrate_sexp),
    ("migrate_fingerprints", migrate::migrate_fingerprints),
    ("migrate_potr", migrate::migrate_potr),
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
        let to_alice = bodies.iter().map(|b| bob.encrypt(BOB_TAG, ALICE_TAG, 0, b).expect("encrypt").bytes).collect();
        let to_bob = bodies.iter().map(|b| alice.encrypt(ALICE_TAG, BOB_TAG, 0, b).expect("encrypt").bytes).collect();
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
    // MANUAL without the downgrade guard: the OTR fixtures' sessions must stay OTR (with the
    // guard two offrec clients upgrade to the modern protocol).
    let policy = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
    Settings { policy, padding_block: 16, ..Settings::default() }
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
    store::decode_client(state, client_settings(), Box::new(DeterministicRandom::from_label(label)))
        .expect("fixture state")
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
                let again =
                    store::decode_client(&once, Settings::default(), rng()).expect("re-encoded state does not decode");
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
                        let idx = f.sent.iter().position(|s| **s == *text).expect("delivered text that was never sent");
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
    let armoured: Vec<String> =
        [&ake.start, &ake.reply, &ake.finish].iter().map(|m| armour::encode(&m.to_bytes())).collect();

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

    // ffi_calls
    out.extend(ffi_seeds().into_iter().map(|p| ("ffi_calls", p)));

    // OTR
    out.extend(otr_messages::seeds().into_iter().map(|s| ("otr_messages", s)));
    out.extend(otr_client_receive::seeds().into_iter().map(|s| ("otr_client_receive", s)));
    out.extend(migrate::seeds());
    out
}

// ---------------------------------------------------------------------------------------------
// The C API driver
// ---------------------------------------------------------------------------------------------

pub use ffi_driver::{ffi_calls, ffi_seeds};

/// `ffi_calls`: random call sequences through every exported `offrec_*` function.
///
/// A small table of client handles (slots), each created through the C API with callbacks that
/// record into a thread-local [`World`](ffi_driver): `send` pushes wire texts into the slot's
/// outbox, `deliver` checks that encrypted text was really sent by some handle, `now` is a
/// clock the program advances. Each step decodes one opcode and its arguments from the input:
/// NULL pointers with and without lengths, empty and over-limit lengths, invalid UTF-8, NULL
/// handles, unknown enum numbers. Never a dangling non-NULL pointer (UB by contract) and never
/// a valid passphrase (Argon2 would make every execution take most of a second).
///
/// Invariants: no call returns `OFFREC_RESULT_PANIC` (in the cargo-fuzz build the panic hook
/// aborts even on a caught panic), every result is a known code, outputs are untouched on
/// error (sentinels), NULL handles give `NULL_ARGUMENT`, documented range checks give their
/// documented codes, a receive of well-formed arguments never fails, a tampered sealed store
/// never loads and a genuine one always does, no encrypted delivery of text no handle sent.
/// Everything (handles, buffers, the store directory) is released at the end of the run.
///
/// Clients from `offrec_client_new` use the OS random generator (the C API offers no other),
/// so runs are not bit-for-bit reproducible; the program structure (and every invariant) is.
mod ffi_driver {
    use std::cell::RefCell;
    use std::collections::{BTreeSet, VecDeque};
    use std::ffi::{c_char, c_void, CStr};
    use std::path::PathBuf;
    use std::ptr::{null, null_mut};

    use offrec::ffi::bytes::{offrec_buffer, offrec_buffer_free};
    use offrec::ffi::callbacks::OffrecCallbacks;
    use offrec::ffi::client::{self as fc, offrec_client};
    use offrec::ffi::event::OffrecEvent;
    use offrec::ffi::forge::offrec_forge;
    use offrec::ffi::result::{offrec_result_message, OffrecResult};
    use offrec::ffi::smp as fsmp;
    use offrec::ffi::store as fstore;
    use offrec::ffi::trust as ftrust;
    use offrec::ffi::types::{OffrecSecurity, OffrecSessionInfo, OffrecSessionState, OffrecTrust};
    use offrec::ffi::version::offrec_version;

    use super::{mutate, Input};

    const SLOTS: usize = 4;
    const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
    const PROTOCOL: &str = "fuzznet";
    const KEYS: [[u8; 32]; 2] = [[0x5A; 32], [0xA5; 32]];
    const MAX_NAME: usize = 1024;
    const MAX_TEXT: usize = 131_072;
    const MAX_SECRET: usize = 4096;
    const MAX_QUESTION: usize = 1024;
    const MAX_CONTEXT: usize = 4096;
    const MAX_PASSPHRASE: usize = 4096;
    const MAX_PATH: usize = 4096;
    const MAX_STORE: usize = 256 * 1024 * 1024;
    const MAX_FORGE_LATER: usize = 1024;
    const FP_TEXT: usize = 72;
    const SSID_TEXT: usize = 18;
    /// Texts the dictionary mode of [`text_arg`] offers (SMP secrets, questions, messages).
    pub const DICT: [&str; 8] = [
        "hello",
        "the name of our first cat",
        "our first cat?",
        "wrong secret",
        "ünïcödé ✓",
        "?OFRv1?",
        "",
        "a longer message that will need more than one fragment once the size limit is small",
    ];
    const SENTINEL: u8 = 0xA5;
    const SENTINEL_U32: u32 = 0xA5A5_A5A5;
    const SENTINEL_U64: u64 = 0xA5A5_A5A5_A5A5_A5A5;
    const SENTINEL_USIZE: usize = 0xA5A5_A5A5;
    /// Never dereferenced: only compared, to see whether an out-pointer was written.
    const SENTINEL_PTR: usize = 0x5EED_0000;

    /// Opcodes (one input byte each, taken modulo [`OPS`]).
    pub mod op {
        pub const NEW: u8 = 0;
        pub const NEW_WITH_IDENTITY: u8 = 1;
        pub const FREE: u8 = 2;
        pub const SEND: u8 = 3;
        pub const SEND_TO_INSTANCE: u8 = 4;
        pub const DELIVER: u8 = 5;
        pub const RECEIVE_RAW: u8 = 6;
        pub const PUMP: u8 = 7;
        pub const START_SESSION: u8 = 8;
        pub const END_SESSION: u8 = 9;
        pub const TICK: u8 = 10;
        pub const SET_POLICY: u8 = 11;
        pub const SET_OPTION: u8 = 12;
        pub const SET_MAX_MESSAGE_SIZE: u8 = 13;
        pub const SESSION_STATE: u8 = 14;
        pub const SESSION_COUNT: u8 = 15;
        pub const SESSION_INFO: u8 = 16;
        pub const FINGERPRINT: u8 = 17;
        pub const INSTANCE_TAG: u8 = 18;
        pub const IDENTITY_SECRET: u8 = 19;
        pub const SET_TRUST: u8 = 20;
        pub const TRUST: u8 = 21;
        pub const KNOWN_KEY_COUNT: u8 = 22;
        pub const KNOWN_KEY: u8 = 23;
        pub const SMP_START: u8 = 24;
        pub const SMP_RESPOND: u8 = 25;
        pub const SMP_ABORT: u8 = 26;
        pub const EXTRA_KEY: u8 = 27;
        pub const FINGERPRINT_FORMAT: u8 = 28;
        pub const SSID_FORMAT: u8 = 29;
        pub const FORGE: u8 = 30;
        pub const SAVE: u8 = 31;
        pub const LOAD: u8 = 32;
        pub const DIR: u8 = 33;
        pub const RESULT_MESSAGE: u8 = 34;
        pub const BUFFER_FREE: u8 = 35;
        pub const VERSION: u8 = 36;
        pub const CLOCK: u8 = 37;
        pub const OPS: u8 = 38;
    }

    // -----------------------------------------------------------------------------------------
    // What the callbacks record
    // -----------------------------------------------------------------------------------------

    #[derive(Default)]
    struct World {
        /// Per slot: (peer, wire text) the slot's client asked to send.
        outbox: [VecDeque<(String, String)>; SLOTS],
        /// The first wire texts any client sent (captured traffic, for forging).
        history: Vec<String>,
        /// Every plaintext a successful send call was given.
        sent: BTreeSet<Vec<u8>>,
        /// The clock every `now` callback reads.
        now: u64,
        /// What each slot's `max_message_size` callback answers.
        max_size: [usize; SLOTS],
        /// Live handles by slot (for re-entrant calls from callbacks).
        handles: [usize; SLOTS],
        /// Whether callbacks call back into the library.
        reentrant: bool,
        depth: u32,
        deliveries: u64,
    }

    thread_local! {
        static WORLD: RefCell<World> = RefCell::new(World::default());
    }

    fn world<R>(f: impl FnOnce(&mut World) -> R) -> R {
        WORLD.with(|w| f(&mut w.borrow_mut()))
    }

    fn slot_of(userdata: *mut c_void) -> Option<usize> {
        let k = userdata as usize;
        (1..=SLOTS).contains(&k).then(|| k - 1)
    }

    fn userdata(slot: usize) -> *mut c_void {
        // An opaque key, never dereferenced by the library or by us.
        (slot + 1) as *mut c_void
    }

    /// A borrowed callback text: non-NULL and NUL-terminated at `len`.
    unsafe fn callback_text<'a>(ptr: *const u8, len: usize, what: &str) -> &'a [u8] {
        assert!(!ptr.is_null(), "{what}: NULL text in a callback");
        // SAFETY: the library promises `len` bytes plus a NUL, valid during the callback.
        let s = unsafe { std::slice::from_raw_parts(ptr, len + 1) };
        assert_eq!(s[len], 0, "{what}: callback text not NUL-terminated");
        &s[..len]
    }

    unsafe extern "C" fn cb_send(
        ud: *mut c_void,
        peer: *const c_char,
        peer_len: usize,
        text: *const c_char,
        text_len: usize,
    ) {
        // SAFETY: callback arguments, valid during the call.
        let (peer, text) = unsafe {
            (callback_text(peer.cast(), peer_len, "send peer"), callback_text(text.cast(), text_len, "send text"))
        };
        let peer = std::str::from_utf8(peer).expect("send: peer name is not UTF-8").to_owned();
        let text = std::str::from_utf8(text).expect("send: wire text is not UTF-8").to_owned();
        world(|w| {
            if w.history.len() < 64 {
                w.history.push(text.clone());
            }
            if let Some(slot) = slot_of(ud) {
                let q = &mut w.outbox[slot];
                if q.len() >= 256 {
                    q.pop_front();
                }
                q.push_back((peer, text));
            }
        });
    }

    unsafe extern "C" fn cb_deliver(
        ud: *mut c_void,
        peer: *const c_char,
        peer_len: usize,
        instance: u32,
        text: *const u8,
        text_len: usize,
        security: OffrecSecurity,
    ) {
        // SAFETY: callback arguments, valid during the call.
        let (peer, body) = unsafe {
            (callback_text(peer.cast(), peer_len, "deliver peer"), callback_text(text, text_len, "deliver text"))
        };
        let peer = std::str::from_utf8(peer).expect("deliver: peer name is not UTF-8").to_owned();
        let sec = security as u32;
        assert!(sec <= 2, "deliver: unknown security {sec}");
        if security == OffrecSecurity::Plaintext {
            assert_eq!(instance, 0, "deliver: plaintext with an instance tag");
        } else {
            assert!(instance >= 0x100, "deliver: encrypted text from instance {instance:#x}");
            world(|w| {
                assert!(
                    w.sent.contains(body),
                    "deliver: encrypted text that no handle sent: {:?}",
                    String::from_utf8_lossy(body)
                )
            });
        }
        if trace() {
            eprintln!("  deliver {sec} from {peer}: {:?}", String::from_utf8_lossy(body));
        }
        let reentry = world(|w| {
            w.deliveries += 1;
            let h = slot_of(ud).map_or(0, |s| w.handles[s]);
            if w.reentrant && w.depth == 0 && h != 0 {
                w.depth += 1;
                Some(h as *mut offrec_client)
            } else {
                None
            }
        });
        if let Some(h) = reentry {
            // Allowed by the callback rules: no lock is held; calls on the same client.
            let mut state = SENTINEL_U32;
            // SAFETY: a live handle (the slot table is updated before any free); valid buffers.
            let r = check("reentrant session_state", unsafe {
                fc::offrec_client_session_state(h, peer.as_ptr().cast(), peer.len(), (&raw mut state).cast())
            });
            assert_eq!(r, OffrecResult::Ok);
            // One reply per original message (no endless echo between two re-entrant clients).
            if security != OffrecSecurity::Plaintext && !body.starts_with(b"re: ") {
                let reply = format!("re: {}", String::from_utf8_lossy(body)).into_bytes();
                world(|w| w.sent.insert(reply.clone()));
                let mut id = SENTINEL_U64;
                // SAFETY: as above.
                let _ = check("reentrant send", unsafe {
                    fc::offrec_client_send(
                        h,
                        peer.as_ptr().cast(),
                        peer.len(),
                        reply.as_ptr().cast(),
                        reply.len(),
                        &mut id,
                    )
                });
            }
            world(|w| w.depth -= 1);
        }
    }

    unsafe extern "C" fn cb_state(
        _ud: *mut c_void,
        peer: *const c_char,
        peer_len: usize,
        _instance: u32,
        state: OffrecSessionState,
    ) {
        // SAFETY: callback arguments.
        let _ = unsafe { callback_text(peer.cast(), peer_len, "state peer") };
        assert!((state as u32) <= 3, "state_changed: unknown state");
    }

    unsafe extern "C" fn cb_event(_ud: *mut c_void, event: *const OffrecEvent) {
        assert!(!event.is_null(), "event: NULL event");
        // SAFETY: valid during the callback.
        let e = unsafe { &*event };
        assert!(matches!(e.code, 1..=28 | 30..=32), "event: unknown code {}", e.code);
        if trace() {
            eprintln!("  event {}", e.code);
        }
        // SAFETY: the library's pointers, valid during the callback.
        unsafe {
            let _ = callback_text(e.peer.cast(), e.peer_len, "event peer");
            if e.text.is_null() {
                assert_eq!(e.text_len, 0, "event: NULL text with a length");
            } else {
                let _ = callback_text(e.text.cast(), e.text_len, "event text");
            }
            if e.context.is_null() {
                assert_eq!(e.context_len, 0, "event: NULL context with a length");
            }
        }
        match e.code {
            21 => assert!(!e.fingerprint.is_null(), "NEW_FINGERPRINT without a fingerprint"),
            22 => assert!(!e.fingerprint.is_null() && !e.old_fingerprint.is_null(), "FINGERPRINT_CHANGED without both"),
            19 => assert!(!e.key.is_null(), "EXTRA_KEY_RECEIVED without a key"),
            32 => assert!(!e.fingerprint.is_null(), "KEY_CONSENT_REQUIRED without a fingerprint"),
            _ => {}
        }
    }

    unsafe extern "C" fn cb_max_size(ud: *mut c_void, peer: *const c_char, peer_len: usize) -> usize {
        // SAFETY: callback arguments.
        let _ = unsafe { callback_text(peer.cast(), peer_len, "max_message_size peer") };
        slot_of(ud).map_or(0, |s| world(|w| w.max_size[s]))
    }

    unsafe extern "C" fn cb_now(_ud: *mut c_void) -> u64 {
        world(|w| w.now)
    }

    /// The callback table for variant `v`, and whether creating a client with it must fail.
    fn callbacks(v: u8) -> (Option<OffrecCallbacks>, bool) {
        let full = OffrecCallbacks {
            send: Some(cb_send),
            deliver: Some(cb_deliver),
            state_changed: Some(cb_state),
            event: Some(cb_event),
            max_message_size: Some(cb_max_size),
            now: Some(cb_now),
            is_logged_in: None,
        };
        match v % 20 {
            15 => (Some(OffrecCallbacks { state_changed: None, event: None, max_message_size: None, ..full }), true),
            16 => (Some(OffrecCallbacks { now: None, ..full }), true),
            17 => (Some(OffrecCallbacks { send: None, ..full }), false),
            18 => (Some(OffrecCallbacks { deliver: None, ..full }), false),
            19 => (None, false),
            _ => (Some(full), true),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Arguments
    // -----------------------------------------------------------------------------------------

    /// A `(pointer, length)` argument: `buf` None is NULL. `len` never exceeds the buffer
    /// unless the pointer is NULL.
    struct Arg {
        buf: Option<Vec<u8>>,
        len: usize,
    }

    impl Arg {
        fn null(len: usize) -> Self {
            Arg { buf: None, len }
        }
        fn bytes(v: Vec<u8>) -> Self {
            let len = v.len();
            Arg { buf: Some(v), len }
        }
        /// A valid non-NULL pointer with length 0.
        fn empty() -> Self {
            Arg { buf: Some(vec![0]), len: 0 }
        }
        fn ptr(&self) -> *const u8 {
            self.buf.as_ref().map_or(null(), |b| b.as_ptr())
        }
        fn cptr(&self) -> *const c_char {
            self.ptr().cast()
        }
        fn slice(&self) -> Option<&[u8]> {
            self.buf.as_ref().map(|b| &b[..self.len])
        }
        /// Readable as a `(ptr, len)` text of at most `max` bytes: NULL only with length 0.
        fn valid_text(&self, max: usize) -> bool {
            self.len <= max
                && (self.buf.is_some() || self.len == 0)
                && self.slice().is_none_or(|s| std::str::from_utf8(s).is_ok())
        }
        fn valid_bytes(&self, max: usize) -> bool {
            self.len <= max && (self.buf.is_some() || self.len == 0)
        }
        fn valid_name(&self) -> bool {
            (1..=MAX_NAME).contains(&self.len) && self.valid_text(MAX_NAME)
        }
        fn text(&self) -> Option<String> {
            self.slice().and_then(|s| String::from_utf8(s.to_vec()).ok())
        }
    }

    fn name_arg(input: &mut Input<'_>) -> Arg {
        let b = input.u8();
        match b % 16 {
            0..=11 => Arg::bytes(NAMES[usize::from(b >> 4) % NAMES.len()].as_bytes().to_vec()),
            12 => Arg::null(1 + usize::from(input.u8())),
            13 => Arg::empty(),
            14 => Arg::bytes(vec![b'n'; MAX_NAME + usize::from((b >> 4) & 1)]),
            _ => Arg::bytes(input.chunk().to_vec()),
        }
    }

    fn protocol_arg(input: &mut Input<'_>) -> Arg {
        let b = input.u8();
        match b % 8 {
            0..=5 => Arg::bytes(PROTOCOL.as_bytes().to_vec()),
            6 => Arg::bytes(b"othernet".to_vec()),
            _ => name_arg(input),
        }
    }

    fn text_arg(input: &mut Input<'_>, limit: usize) -> Arg {
        let b = input.u8();
        match b % 16 {
            0 => Arg::null(0),
            1 => Arg::null(1 + usize::from(input.u16())),
            2 => Arg::empty(),
            3 => Arg::bytes(vec![b'x'; limit + 1 + usize::from(b >> 4)]),
            4 => Arg::bytes(vec![b'y'; limit]),
            5 => {
                let mut v = input.chunk().to_vec();
                v.push(0xFF);
                Arg::bytes(v)
            }
            6 => Arg::bytes(DICT[usize::from(b >> 4) % DICT.len()].as_bytes().to_vec()),
            _ => Arg::bytes(input.chunk().to_vec()),
        }
    }

    /// Passphrase/key pair for save and load; never a valid passphrase (Argon2 is slow).
    /// Returns (key, passphrase, which raw key or None when the pair must be refused).
    fn key_arg(input: &mut Input<'_>) -> (Option<[u8; 32]>, Arg, Option<usize>) {
        let b = input.u8();
        match b % 12 {
            0..=5 => (Some(KEYS[0]), Arg::null(0), Some(0)),
            6 | 7 => (Some(KEYS[1]), Arg::null(0), Some(1)),
            // A raw key with a passphrase length but NULL passphrase: the key wins.
            8 => (Some(KEYS[0]), Arg::null(1 + usize::from(input.u8())), Some(0)),
            9 => (None, Arg::null(usize::from(input.u8())), None),
            10 => (Some(KEYS[0]), Arg::bytes(b"both".to_vec()), None),
            _ => {
                let p = match input.u8() % 4 {
                    0 => Arg::empty(),
                    1 => Arg::bytes(vec![0xFF, 0xFE]),
                    2 => Arg::bytes(vec![b'p'; MAX_PASSPHRASE + 1]),
                    _ => Arg::bytes(vec![0xC3]),
                };
                (None, p, None)
            }
        }
    }

    fn policy_arg(input: &mut Input<'_>) -> u32 {
        let b = input.u8();
        match b % 10 {
            0..=1 => 1, // MANUAL
            2 => 0,     // NEVER
            3 => 1 | 4 | 8,
            4 => 1 | 2 | 8, // ALWAYS
            5 => 0x1ff,
            6 => 1 | 16,
            7 => 1 << (b >> 3),
            8 => 2,
            _ => input.u32(),
        }
    }

    fn out_null(input: &mut Input<'_>) -> bool {
        input.u8() % 16 == 15
    }

    /// Checks a result: a known code, never a caught panic.
    fn check(what: &str, r: OffrecResult) -> OffrecResult {
        let code = r.code();
        assert!(OffrecResult::from_code(code).is_some(), "{what}: unknown result code {code}");
        assert_ne!(r, OffrecResult::Panic, "{what}: the library caught a panic");
        if trace() {
            eprintln!("  {what}: {r:?}");
        }
        r
    }

    /// `OFFREC_FUZZ_TRACE=1` prints every call's result and every delivery (for writing seeds).
    fn trace() -> bool {
        static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *TRACE.get_or_init(|| std::env::var_os("OFFREC_FUZZ_TRACE").is_some())
    }

    fn expect(what: &str, r: OffrecResult, want: OffrecResult) {
        assert_eq!(r, want, "{what}: expected {want:?}, got {r:?}");
    }

    // -----------------------------------------------------------------------------------------
    // The driver
    // -----------------------------------------------------------------------------------------

    struct Slot {
        handle: *mut offrec_client,
        account: String,
        tag: u32,
    }

    struct Sealed {
        buf: offrec_buffer,
        /// For stores: the account and the raw key index; None for forged texts.
        origin: Option<(String, usize)>,
    }

    struct Driver {
        slots: [Option<Slot>; SLOTS],
        buffers: Vec<Sealed>,
        forged: Vec<String>,
        dir: Option<PathBuf>,
    }

    impl Driver {
        fn handle(&self, b: u8) -> (*mut offrec_client, Option<usize>) {
            let i = usize::from(b) % (SLOTS + 1);
            match self.slots.get(i).and_then(Option::as_ref) {
                Some(s) => (s.handle, Some(i)),
                None => (null_mut(), None),
            }
        }

        fn pick(&self, input: &mut Input<'_>) -> (*mut offrec_client, Option<usize>) {
            let b = input.u8();
            self.handle(b)
        }

        fn instance_arg(&self, input: &mut Input<'_>) -> u32 {
            let b = input.u8();
            match b % 4 {
                0 => 0,
                1 => self.slots[usize::from(b >> 2) % SLOTS].as_ref().map_or(0x100, |s| s.tag),
                2 => 0x100 + u32::from(input.u8()),
                _ => input.u32(),
            }
        }

        fn fingerprint_of(&self, slot: usize) -> Option<[u8; 32]> {
            let s = self.slots[slot].as_ref()?;
            let mut fp = [SENTINEL; 32];
            // SAFETY: live handle, 32 writable bytes.
            let r = check("fingerprint", unsafe { fc::offrec_client_fingerprint(s.handle, fp.as_mut_ptr()) });
            expect("fingerprint", r, OffrecResult::Ok);
            Some(fp)
        }

        /// A 32-byte input: a slot's fingerprint, fixed bytes, or NULL (None).
        fn fp_arg(&self, input: &mut Input<'_>) -> Option<[u8; 32]> {
            let b = input.u8();
            match b % 8 {
                0..=4 => self.fingerprint_of(usize::from(b >> 3) % SLOTS).or(Some([0x42; 32])),
                5 => {
                    let mut fp = [0u8; 32];
                    let src = input.bytes(32);
                    fp[..src.len()].copy_from_slice(src);
                    Some(fp)
                }
                6 => Some([0; 32]),
                _ => None,
            }
        }

        fn free_slot(&mut self, i: usize) {
            if let Some(s) = self.slots[i].take() {
                world(|w| {
                    w.handles[i] = 0;
                    w.outbox[i].clear();
                });
                // SAFETY: a live handle, freed once, not used again.
                unsafe { fc::offrec_client_free(s.handle) };
            }
        }

        fn install(&mut self, i: usize, handle: *mut offrec_client, account: Option<String>) {
            assert!(!handle.is_null() && handle as usize != SENTINEL_PTR, "client created but *out not written");
            let mut tag = SENTINEL_U32;
            // SAFETY: a live handle; writable out.
            let r = check("instance_tag", unsafe { fc::offrec_client_instance_tag(handle, &mut tag) });
            expect("instance_tag", r, OffrecResult::Ok);
            assert!(tag >= 0x100, "instance tag {tag:#x} below 0x100");
            world(|w| w.handles[i] = handle as usize);
            let account = account.unwrap_or_else(|| "?".to_owned());
            self.slots[i] = Some(Slot { handle, account, tag });
        }

        fn step(&mut self, input: &mut Input<'_>) {
            let code = input.u8() % op::OPS;
            if trace() {
                eprintln!("op {code}");
            }
            // SAFETY (for every call below): pointers are NULL or point into live buffers of
            // at least their length; handles are NULL or live; out-pointers are NULL or
            // writable storage of the right type.
            unsafe {
                match code {
                    op::NEW | op::NEW_WITH_IDENTITY => self.op_new(input, code == op::NEW_WITH_IDENTITY),
                    op::FREE => {
                        let i = usize::from(input.u8()) % (SLOTS + 1);
                        if i == SLOTS {
                            fc::offrec_client_free(null_mut());
                        } else {
                            self.free_slot(i);
                        }
                    }
                    op::SEND | op::SEND_TO_INSTANCE => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let text = text_arg(input, MAX_TEXT);
                        let to_instance = code == op::SEND_TO_INSTANCE;
                        let instance = if to_instance { self.instance_arg(input) } else { 0 };
                        let nul = out_null(input);
                        let mut id = SENTINEL_U64;
                        let out = if nul { null_mut() } else { &raw mut id };
                        let r = if to_instance {
                            fc::offrec_client_send_to_instance(
                                h,
                                peer.cptr(),
                                peer.len,
                                instance,
                                text.cptr(),
                                text.len,
                                out,
                            )
                        } else {
                            fc::offrec_client_send(h, peer.cptr(), peer.len, text.cptr(), text.len, out)
                        };
                        let r = check("send", r);
                        if to_instance && instance == 0 {
                            expect("send_to_instance(0)", r, OffrecResult::InvalidArgument);
                        } else if h.is_null() {
                            expect("send(NULL)", r, OffrecResult::NullArgument);
                        }
                        if r == OffrecResult::Ok {
                            assert!(
                                !nul && peer.valid_name() && text.valid_bytes(MAX_TEXT),
                                "send succeeded with bad arguments"
                            );
                            world(|w| w.sent.insert(text.slice().unwrap_or(&[]).to_vec()));
                        } else {
                            assert_eq!(id, SENTINEL_U64, "send wrote the message id on error");
                        }
                    }
                    op::DELIVER => self.op_deliver(input),
                    op::RECEIVE_RAW => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let b = input.u8();
                        let text = match b % 4 {
                            0 => Arg::bytes(
                                world(|w| w.history.get(usize::from(b >> 2) % w.history.len().max(1)).cloned())
                                    .unwrap_or_default()
                                    .into_bytes(),
                            ),
                            1 => Arg::bytes(
                                self.forged
                                    .get(usize::from(b >> 2) % self.forged.len().max(1))
                                    .cloned()
                                    .unwrap_or_default()
                                    .into_bytes(),
                            ),
                            _ => text_arg(input, MAX_TEXT + MAX_NAME),
                        };
                        let r = check(
                            "receive",
                            fc::offrec_client_receive(h, peer.cptr(), peer.len, text.cptr(), text.len),
                        );
                        if h.is_null() {
                            expect("receive(NULL)", r, OffrecResult::NullArgument);
                        } else if peer.valid_name() && text.valid_text(MAX_TEXT + MAX_NAME) {
                            expect("receive of well-formed arguments", r, OffrecResult::Ok);
                        }
                    }
                    op::PUMP => {
                        let n = 1 + usize::from(input.u8() % 64);
                        self.pump(n);
                    }
                    op::START_SESSION => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let r = check("start_session", fc::offrec_client_start_session(h, peer.cptr(), peer.len));
                        if h.is_null() {
                            expect("start_session(NULL)", r, OffrecResult::NullArgument);
                        }
                    }
                    op::END_SESSION => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let instance = self.instance_arg(input);
                        let r = check("end_session", fc::offrec_client_end_session(h, peer.cptr(), peer.len, instance));
                        if h.is_null() {
                            expect("end_session(NULL)", r, OffrecResult::NullArgument);
                        } else if peer.valid_name() {
                            expect("end_session", r, OffrecResult::Ok);
                        }
                    }
                    op::TICK => {
                        let (h, _) = self.pick(input);
                        let dt = u64::from(input.u16());
                        world(|w| w.now = w.now.saturating_add(dt));
                        let r = check("tick", fc::offrec_client_tick(h));
                        if h.is_null() {
                            expect("tick(NULL)", r, OffrecResult::NullArgument);
                        }
                    }
                    op::SET_POLICY => {
                        let (h, _) = self.pick(input);
                        let policy = policy_arg(input);
                        let r = check("set_policy", fc::offrec_client_set_policy(h, policy));
                        let want = if h.is_null() {
                            OffrecResult::NullArgument
                        } else if policy & !0x1ff != 0 {
                            OffrecResult::InvalidPolicy
                        } else {
                            OffrecResult::Ok
                        };
                        expect("set_policy", r, want);
                    }
                    op::SET_OPTION => {
                        let (h, _) = self.pick(input);
                        let b = input.u8();
                        let option = if b % 8 < 6 { u32::from(b % 8) } else { input.u32() };
                        let value = match input.u8() % 8 {
                            0 => 0,
                            1 => u64::from(input.u8()),
                            2 => 1 + u64::from(input.u8() % 63),
                            3 => 4096 + u64::from(input.u8() % 2),
                            4 => u64::from(input.u16()),
                            5 => u64::MAX,
                            _ => u64::from(input.u32()),
                        };
                        let r = check("set_option", fc::offrec_client_set_option(h, option, value));
                        let want = if h.is_null() {
                            OffrecResult::NullArgument
                        } else if option > 5 {
                            OffrecResult::UnknownEnumValue
                        } else if (option == 4 && value > 4096) || (option == 5 && (1..64).contains(&value)) {
                            OffrecResult::InvalidArgument
                        } else {
                            OffrecResult::Ok
                        };
                        expect("set_option", r, want);
                    }
                    op::SET_MAX_MESSAGE_SIZE => {
                        let (h, slot) = self.pick(input);
                        let peer = name_arg(input);
                        let size = match input.u8() % 6 {
                            0 => 0,
                            1 => 1 + usize::from(input.u8() % 63),
                            2 => 64 + usize::from(input.u8()),
                            3 => usize::MAX,
                            _ => usize::from(input.u16()),
                        };
                        // What the slot's max_message_size callback answers from now on
                        // (tiny values included: the callback path has no documented minimum).
                        let cb = match input.u8() % 6 {
                            0 => None,
                            1 => Some(0),
                            2 => Some(1 + usize::from(input.u8() % 63)),
                            _ => Some(64 + usize::from(input.u16() % 2048)),
                        };
                        if let (Some(s), Some(cb)) = (slot, cb) {
                            world(|w| w.max_size[s] = cb);
                        }
                        let r = check(
                            "set_max_message_size",
                            fc::offrec_client_set_max_message_size(h, peer.cptr(), peer.len, size),
                        );
                        if h.is_null() {
                            expect("set_max_message_size(NULL)", r, OffrecResult::NullArgument);
                        } else if peer.valid_name() {
                            let want =
                                if size != 0 && size < 64 { OffrecResult::InvalidArgument } else { OffrecResult::Ok };
                            expect("set_max_message_size", r, want);
                        }
                    }
                    op::SESSION_STATE => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let nul = out_null(input);
                        let mut raw = SENTINEL_U32;
                        let out = if nul { null_mut() } else { (&raw mut raw).cast::<OffrecSessionState>() };
                        let r = check("session_state", fc::offrec_client_session_state(h, peer.cptr(), peer.len, out));
                        self.query_result("session_state", r, h, &peer, nul);
                        if r == OffrecResult::Ok {
                            assert!(raw <= 3, "session_state wrote {raw}");
                        } else {
                            assert_eq!(raw, SENTINEL_U32, "session_state wrote on error");
                        }
                    }
                    op::SESSION_COUNT => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let nul = out_null(input);
                        let mut n = SENTINEL_USIZE;
                        let out = if nul { null_mut() } else { &raw mut n };
                        let r = check("session_count", fc::offrec_client_session_count(h, peer.cptr(), peer.len, out));
                        self.query_result("session_count", r, h, &peer, nul);
                        if r == OffrecResult::Ok {
                            assert!(n <= 1024, "session_count {n}");
                        } else {
                            assert_eq!(n, SENTINEL_USIZE, "session_count wrote on error");
                        }
                    }
                    op::SESSION_INFO => self.op_session_info(input),
                    op::FINGERPRINT | op::IDENTITY_SECRET => {
                        let (h, _) = self.pick(input);
                        let nul = out_null(input);
                        let mut fp = [SENTINEL; 32];
                        let out = if nul { null_mut() } else { fp.as_mut_ptr() };
                        let r = if code == op::FINGERPRINT {
                            check("fingerprint", fc::offrec_client_fingerprint(h, out))
                        } else {
                            check("identity_secret", fc::offrec_client_identity_secret(h, out))
                        };
                        let want = if h.is_null() || nul { OffrecResult::NullArgument } else { OffrecResult::Ok };
                        expect("fingerprint/identity_secret", r, want);
                        if r != OffrecResult::Ok {
                            assert_eq!(fp, [SENTINEL; 32], "fingerprint/identity_secret wrote on error");
                        }
                    }
                    op::INSTANCE_TAG => {
                        let (h, slot) = self.pick(input);
                        let nul = out_null(input);
                        let mut tag = SENTINEL_U32;
                        let out = if nul { null_mut() } else { &raw mut tag };
                        let r = check("instance_tag", fc::offrec_client_instance_tag(h, out));
                        let want = if h.is_null() || nul { OffrecResult::NullArgument } else { OffrecResult::Ok };
                        expect("instance_tag", r, want);
                        match slot {
                            Some(s) if r == OffrecResult::Ok => {
                                assert_eq!(Some(tag), self.slots[s].as_ref().map(|s| s.tag), "instance tag changed")
                            }
                            _ => assert_eq!(tag, SENTINEL_U32, "instance_tag wrote on error"),
                        }
                    }
                    op::SET_TRUST => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let fp = self.fp_arg(input);
                        let b = input.u8();
                        let trust = if b % 8 < 3 {
                            u32::from(b % 8)
                        } else if b % 8 == 3 {
                            3
                        } else {
                            input.u32()
                        };
                        let fptr = fp.as_ref().map_or(null(), |f| f.as_ptr());
                        let r =
                            check("set_trust", ftrust::offrec_client_set_trust(h, peer.cptr(), peer.len, fptr, trust));
                        if h.is_null() {
                            expect("set_trust(NULL)", r, OffrecResult::NullArgument);
                        } else if peer.valid_name() && fp.is_some() {
                            let want = if trust > 2 { OffrecResult::UnknownEnumValue } else { OffrecResult::Ok };
                            expect("set_trust", r, want);
                            if r == OffrecResult::Ok {
                                // Read it back.
                                let mut raw = SENTINEL_U32;
                                let r = check(
                                    "trust",
                                    ftrust::offrec_client_trust(
                                        h,
                                        peer.cptr(),
                                        peer.len,
                                        fptr,
                                        (&raw mut raw).cast::<OffrecTrust>(),
                                    ),
                                );
                                expect("trust after set_trust", r, OffrecResult::Ok);
                                assert_eq!(raw, trust, "trust read back differs from what was set");
                            }
                        }
                    }
                    op::TRUST => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let fp = self.fp_arg(input);
                        let nul = out_null(input);
                        let mut raw = SENTINEL_U32;
                        let out = if nul { null_mut() } else { (&raw mut raw).cast::<OffrecTrust>() };
                        let fptr = fp.as_ref().map_or(null(), |f| f.as_ptr());
                        let r = check("trust", ftrust::offrec_client_trust(h, peer.cptr(), peer.len, fptr, out));
                        if h.is_null() {
                            expect("trust(NULL)", r, OffrecResult::NullArgument);
                        } else if peer.valid_name() && fp.is_some() && !nul {
                            expect("trust", r, OffrecResult::Ok);
                        }
                        if r == OffrecResult::Ok {
                            assert!(raw <= 2, "trust wrote {raw}");
                        } else {
                            assert_eq!(raw, SENTINEL_U32, "trust wrote on error");
                        }
                    }
                    op::KNOWN_KEY_COUNT | op::KNOWN_KEY => self.op_known_key(input, code == op::KNOWN_KEY),
                    op::SMP_START | op::SMP_RESPOND | op::SMP_ABORT => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let instance = self.instance_arg(input);
                        let r = match code {
                            op::SMP_START => {
                                let secret = text_arg(input, MAX_SECRET);
                                let question = text_arg(input, MAX_QUESTION);
                                fsmp::offrec_client_smp_start(
                                    h,
                                    peer.cptr(),
                                    peer.len,
                                    instance,
                                    secret.ptr(),
                                    secret.len,
                                    question.cptr(),
                                    question.len,
                                )
                            }
                            op::SMP_RESPOND => {
                                let secret = text_arg(input, MAX_SECRET);
                                fsmp::offrec_client_smp_respond(
                                    h,
                                    peer.cptr(),
                                    peer.len,
                                    instance,
                                    secret.ptr(),
                                    secret.len,
                                )
                            }
                            _ => fsmp::offrec_client_smp_abort(h, peer.cptr(), peer.len, instance),
                        };
                        let r = check("smp", r);
                        if h.is_null() {
                            expect("smp(NULL)", r, OffrecResult::NullArgument);
                        }
                    }
                    op::EXTRA_KEY => {
                        let (h, _) = self.pick(input);
                        let peer = name_arg(input);
                        let instance = self.instance_arg(input);
                        let usage = input.u32();
                        let context = text_arg(input, MAX_CONTEXT);
                        let nul = out_null(input);
                        let mut key = [SENTINEL; 32];
                        let out = if nul { null_mut() } else { key.as_mut_ptr() };
                        let r = check(
                            "extra_symmetric_key",
                            fc::offrec_client_extra_symmetric_key(
                                h,
                                peer.cptr(),
                                peer.len,
                                instance,
                                usage,
                                context.ptr(),
                                context.len,
                                out,
                            ),
                        );
                        if h.is_null() {
                            expect("extra_symmetric_key(NULL)", r, OffrecResult::NullArgument);
                        }
                        if r == OffrecResult::Ok {
                            assert!(!nul && peer.valid_name() && context.valid_bytes(MAX_CONTEXT));
                        } else {
                            assert_eq!(key, [SENTINEL; 32], "extra_symmetric_key wrote on error");
                        }
                    }
                    op::FINGERPRINT_FORMAT | op::SSID_FORMAT => self.op_format(input, code == op::SSID_FORMAT),
                    op::FORGE => self.op_forge(input),
                    op::SAVE => self.op_save(input),
                    op::LOAD => self.op_load(input),
                    op::DIR => self.op_dir(input),
                    op::RESULT_MESSAGE => {
                        let b = input.u8();
                        let code = match b % 4 {
                            0 => u32::from(b >> 2),
                            1 => 100 + u32::from(b >> 2),
                            _ => input.u32(),
                        };
                        let p = offrec_result_message(code);
                        assert!(!p.is_null(), "offrec_result_message returned NULL");
                        let msg = CStr::from_ptr(p);
                        match OffrecResult::from_code(code) {
                            Some(known) => assert_eq!(msg, known.message()),
                            None => assert_eq!(msg, c"unknown result code"),
                        }
                    }
                    op::BUFFER_FREE => {
                        let b = input.u8();
                        match b % 4 {
                            0 => offrec_buffer_free(null_mut()),
                            1 => {
                                let mut e = offrec_buffer::EMPTY;
                                offrec_buffer_free(&mut e);
                                assert!(e.data.is_null() && e.len == 0);
                            }
                            _ => {
                                let n = self.buffers.len();
                                if let Some(s) = self.buffers.get_mut(usize::from(b >> 2) % n.max(1)) {
                                    offrec_buffer_free(&mut s.buf);
                                    assert!(
                                        s.buf.data.is_null() && s.buf.len == 0,
                                        "offrec_buffer_free did not reset the buffer"
                                    );
                                }
                            }
                        }
                    }
                    op::VERSION => {
                        let p = offrec_version();
                        assert!(!p.is_null(), "offrec_version returned NULL");
                        let v = CStr::from_ptr(p).to_str().expect("version is UTF-8");
                        assert!(!v.is_empty() && v.split('.').count() >= 3, "odd version {v:?}");
                    }
                    _ => {
                        let dt = u64::from(input.u32());
                        world(|w| w.now = w.now.saturating_add(dt));
                    }
                }
            }
        }

        /// Common expectations of the read-only `(handle, peer, out)` queries.
        fn query_result(&self, what: &str, r: OffrecResult, h: *mut offrec_client, peer: &Arg, nul: bool) {
            if h.is_null() {
                expect(what, r, OffrecResult::NullArgument);
            } else if peer.valid_name() && !nul {
                expect(what, r, OffrecResult::Ok);
            } else {
                assert_ne!(r, OffrecResult::Ok, "{what}: succeeded with bad arguments");
            }
        }

        unsafe fn op_new(&mut self, input: &mut Input<'_>, with_identity: bool) {
            let slot = usize::from(input.u8()) % SLOTS;
            let account = name_arg(input);
            let protocol = protocol_arg(input);
            let policy = policy_arg(input);
            let (cbs, cbs_ok) = callbacks(input.u8());
            let ud = if input.u8() % 32 == 31 { null_mut() } else { userdata(slot) };
            let nul = out_null(input);
            let identity = if with_identity {
                let b = input.u8();
                let (secret, same_as) = match b % 4 {
                    0 => {
                        let src = usize::from(b >> 2) % SLOTS;
                        match self.slots[src].as_ref() {
                            Some(s) => {
                                let mut secret = [SENTINEL; 32];
                                // SAFETY: live handle, 32 writable bytes.
                                let r = check("identity_secret", unsafe {
                                    fc::offrec_client_identity_secret(s.handle, secret.as_mut_ptr())
                                });
                                expect("identity_secret", r, OffrecResult::Ok);
                                (Some(secret), Some(src))
                            }
                            None => (Some([7; 32]), None),
                        }
                    }
                    1 => (Some([7; 32]), None),
                    2 => (None, None),
                    _ => {
                        let mut s = [0u8; 32];
                        let src = input.bytes(32);
                        s[..src.len()].copy_from_slice(src);
                        (Some(s), None)
                    }
                };
                let t = input.u8();
                let tag = match t % 4 {
                    0 => same_as.and_then(|i| self.slots[i].as_ref()).map_or(0x1234_5678, |s| s.tag),
                    1 => 0x100,
                    2 => u32::from(t >> 2),
                    _ => input.u32(),
                };
                Some((secret, same_as, tag))
            } else {
                None
            };
            // The slot's previous client goes first (its outbox is the new one's).
            self.free_slot(slot);
            let mut out = SENTINEL_PTR as *mut offrec_client;
            let outp = if nul { null_mut() } else { &raw mut out };
            let cbp = cbs.as_ref().map_or(null(), |c| c as *const OffrecCallbacks);
            // SAFETY: see `step`.
            let r = unsafe {
                match identity {
                    None => fc::offrec_client_new(
                        account.cptr(),
                        account.len,
                        protocol.cptr(),
                        protocol.len,
                        policy,
                        cbp,
                        ud,
                        outp,
                    ),
                    Some((secret, _, tag)) => fc::offrec_client_new_with_identity(
                        account.cptr(),
                        account.len,
                        protocol.cptr(),
                        protocol.len,
                        policy,
                        secret.as_ref().map_or(null(), |s| s.as_ptr()),
                        tag,
                        cbp,
                        ud,
                        outp,
                    ),
                }
            };
            let r = check("client_new", r);
            if r != OffrecResult::Ok {
                assert_eq!(out as usize, SENTINEL_PTR, "client_new wrote *out on error");
                return;
            }
            let args_ok = !nul && account.valid_name() && protocol.valid_name() && policy & !0x1ff == 0 && cbs_ok;
            assert!(args_ok, "client_new succeeded with bad arguments");
            if let Some((secret, _, tag)) = identity {
                assert!(secret.is_some() && tag >= 0x100, "new_with_identity succeeded with bad identity");
            }
            self.install(slot, out, account.text());
            if let Some((_, Some(src), tag)) = identity {
                let fresh = self.fingerprint_of(slot);
                assert_eq!(fresh, self.fingerprint_of(src), "same identity secret, different fingerprint");
                assert_eq!(self.slots[slot].as_ref().map(|s| s.tag), Some(tag), "instance tag not kept");
            }
        }

        /// Delivers up to `n` queued wire texts, round robin over the slots, each to every live
        /// client of the addressed account.
        fn pump(&mut self, n: usize) {
            let mut s = 0;
            let mut idle = 0;
            let mut done = 0;
            while done < n && idle < SLOTS {
                let next = world(|w| w.outbox[s].pop_front());
                match next {
                    Some((to, text)) => {
                        idle = 0;
                        done += 1;
                        self.route(s, &to, text.as_bytes(), false);
                    }
                    None => idle += 1,
                }
                s = (s + 1) % SLOTS;
            }
        }

        fn route(&mut self, from: usize, to: &str, text: &[u8], just_one: bool) {
            let Some(sender) = self.slots[from].as_ref().map(|s| s.account.clone()) else { return };
            let targets: Vec<*mut offrec_client> =
                self.slots.iter().flatten().filter(|s| s.account == to).map(|s| s.handle).collect();
            for h in targets.into_iter().take(if just_one { 1 } else { SLOTS }) {
                // SAFETY: live handle; valid buffers.
                let r = check("receive", unsafe {
                    fc::offrec_client_receive(h, sender.as_ptr().cast(), sender.len(), text.as_ptr().cast(), text.len())
                });
                if std::str::from_utf8(text).is_ok() && text.len() <= MAX_TEXT + MAX_NAME {
                    expect("receive of a routed text", r, OffrecResult::Ok);
                } else {
                    assert_ne!(r, OffrecResult::Ok, "receive accepted invalid text");
                }
            }
        }

        fn op_deliver(&mut self, input: &mut Input<'_>) {
            let s = usize::from(input.u8()) % SLOTS;
            let idx = usize::from(input.u8());
            let mode = input.u8();
            let picked = world(|w| {
                let q = &mut w.outbox[s];
                if q.is_empty() {
                    return None;
                }
                let i = idx % q.len();
                if mode & 0x80 != 0 {
                    q.get(i).cloned()
                } else {
                    q.remove(i)
                }
            });
            let Some((to, text)) = picked else { return };
            let text = match mode % 4 {
                2 => mutate(text.as_bytes(), input),
                3 => {
                    let at = usize::from(input.u16()) % (text.len() + 1);
                    text.as_bytes()[..at].to_vec()
                }
                _ => text.into_bytes(),
            };
            self.route(s, &to, &text, mode & 0x40 != 0);
        }

        unsafe fn op_session_info(&mut self, input: &mut Input<'_>) {
            let (h, _) = self.pick(input);
            let peer = name_arg(input);
            let mut count = SENTINEL_USIZE;
            // SAFETY: see `step`.
            let rc = check("session_count", unsafe {
                fc::offrec_client_session_count(h, peer.cptr(), peer.len, &mut count)
            });
            let b = input.u8();
            let index = match b % 4 {
                0 => usize::from(b >> 2),
                1 => count,
                2 => usize::MAX,
                _ => input.u32() as usize,
            };
            let nul = out_null(input);
            let mut raw = std::mem::MaybeUninit::<OffrecSessionInfo>::uninit();
            let size = std::mem::size_of::<OffrecSessionInfo>();
            // SAFETY: writing `size` bytes into storage of that size.
            unsafe { std::ptr::write_bytes(raw.as_mut_ptr().cast::<u8>(), SENTINEL, size) };
            let out = if nul { null_mut() } else { raw.as_mut_ptr() };
            // SAFETY: see `step`.
            let r =
                check("session_info", unsafe { fc::offrec_client_session_info(h, peer.cptr(), peer.len, index, out) });
            if h.is_null() {
                expect("session_info(NULL)", r, OffrecResult::NullArgument);
            } else if rc == OffrecResult::Ok && !nul {
                let want = if index < count { OffrecResult::Ok } else { OffrecResult::InvalidArgument };
                expect("session_info", r, want);
            }
            if r == OffrecResult::Ok {
                // SAFETY: the library wrote a whole OffrecSessionInfo.
                let info = unsafe { raw.assume_init() };
                assert!(info.instance >= 0x100, "session_info: instance {:#x}", info.instance);
                assert!((info.state as u32) <= 3);
            } else {
                // SAFETY: every byte was initialised by write_bytes and not written since.
                let bytes = unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<u8>(), size) };
                assert!(bytes.iter().all(|&b| b == SENTINEL), "session_info wrote on error");
            }
        }

        unsafe fn op_known_key(&mut self, input: &mut Input<'_>, one: bool) {
            let (h, _) = self.pick(input);
            let peer = name_arg(input);
            let mut count = SENTINEL_USIZE;
            // SAFETY: see `step`.
            let rc = check("known_key_count", unsafe {
                ftrust::offrec_client_known_key_count(h, peer.cptr(), peer.len, &mut count)
            });
            if h.is_null() {
                expect("known_key_count(NULL)", rc, OffrecResult::NullArgument);
            } else if peer.valid_name() {
                expect("known_key_count", rc, OffrecResult::Ok);
            }
            if rc != OffrecResult::Ok {
                assert_eq!(count, SENTINEL_USIZE, "known_key_count wrote on error");
            }
            if !one {
                let nul = out_null(input);
                if nul {
                    // SAFETY: see `step`.
                    let r = check("known_key_count", unsafe {
                        ftrust::offrec_client_known_key_count(h, peer.cptr(), peer.len, null_mut())
                    });
                    assert_ne!(r, OffrecResult::Ok);
                }
                return;
            }
            let b = input.u8();
            let index = match b % 4 {
                0 => usize::from(b >> 2),
                1 => count,
                2 => usize::MAX,
                _ => input.u32() as usize,
            };
            let (nfp, ntrust) = (out_null(input), out_null(input));
            let mut fp = [SENTINEL; 32];
            let mut trust = SENTINEL_U32;
            let fpo = if nfp { null_mut() } else { fp.as_mut_ptr() };
            let to = if ntrust { null_mut() } else { (&raw mut trust).cast::<OffrecTrust>() };
            // SAFETY: see `step`.
            let r = check("known_key", unsafe {
                ftrust::offrec_client_known_key(h, peer.cptr(), peer.len, index, fpo, to)
            });
            if h.is_null() || (peer.valid_name() && (nfp || ntrust)) {
                expect("known_key(NULL)", r, OffrecResult::NullArgument);
            } else if rc == OffrecResult::Ok {
                let want = if index < count { OffrecResult::Ok } else { OffrecResult::InvalidArgument };
                expect("known_key", r, want);
            }
            if r == OffrecResult::Ok {
                assert!(trust <= 2, "known_key trust {trust}");
            } else {
                assert_eq!((fp, trust), ([SENTINEL; 32], SENTINEL_U32), "known_key wrote on error");
            }
        }

        unsafe fn op_format(&mut self, input: &mut Input<'_>, ssid: bool) {
            let b = input.u8();
            let src: Option<[u8; 32]> = match b % 8 {
                0..=3 => {
                    // A real session id / fingerprint when there is one.
                    let (h, _) = self.handle(b >> 3);
                    let mut info = std::mem::MaybeUninit::<OffrecSessionInfo>::uninit();
                    let peer = NAMES[usize::from(b >> 5) % NAMES.len()];
                    // SAFETY: see `step`.
                    let r = unsafe {
                        fc::offrec_client_session_info(h, peer.as_ptr().cast(), peer.len(), 0, info.as_mut_ptr())
                    };
                    if check("session_info", r) == OffrecResult::Ok {
                        // SAFETY: written on success.
                        let info = unsafe { info.assume_init() };
                        Some(if ssid { info.ssid } else { info.their_fingerprint })
                    } else {
                        Some([0x3C; 32])
                    }
                }
                4 | 5 => {
                    let mut v = [0u8; 32];
                    let s = input.bytes(32);
                    v[..s.len()].copy_from_slice(s);
                    Some(v)
                }
                6 => Some([0xFF; 32]),
                _ => None,
            };
            let cap = usize::from(input.u8() % 81);
            let flags = input.u8();
            let buf_null = flags & 1 != 0;
            let len_null = flags & 2 != 0 && flags & 4 != 0;
            let mut buf = vec![SENTINEL; cap.max(1)];
            let mut out_len = SENTINEL_USIZE;
            let bp = if buf_null { null_mut() } else { buf.as_mut_ptr().cast::<c_char>() };
            let lp = if len_null { null_mut() } else { &raw mut out_len };
            let sp = src.as_ref().map_or(null(), |s| s.as_ptr());
            // SAFETY: see `step` (buf has at least `cap` bytes).
            let r = check("format", unsafe {
                if ssid {
                    ftrust::offrec_ssid_format(sp, bp, cap, lp)
                } else {
                    ftrust::offrec_fingerprint_format(sp, bp, cap, lp)
                }
            });
            let need = if ssid { SSID_TEXT } else { FP_TEXT };
            let want = if src.is_none() || len_null || (buf_null && cap > 0) {
                OffrecResult::NullArgument
            } else if cap < need {
                OffrecResult::BufferTooSmall
            } else {
                OffrecResult::Ok
            };
            expect("format", r, want);
            match r {
                OffrecResult::Ok => {
                    assert_eq!(out_len, need, "format length");
                    assert_eq!(buf[need - 1], 0, "format: no NUL");
                    let text = std::str::from_utf8(&buf[..need - 1]).expect("format: not UTF-8");
                    assert!(text.bytes().all(|c| c == b' ' || c.is_ascii_hexdigit()), "format: {text:?}");
                    assert!(buf[need..].iter().all(|&b| b == SENTINEL), "format wrote past its output");
                }
                OffrecResult::BufferTooSmall => {
                    assert_eq!(out_len, need, "BUFFER_TOO_SMALL must report the size needed");
                    assert!(buf.iter().all(|&b| b == SENTINEL), "format wrote into a too-small buffer");
                }
                _ => {
                    assert_eq!(out_len, SENTINEL_USIZE, "format wrote out_len on error");
                    assert!(buf.iter().all(|&b| b == SENTINEL), "format wrote on error");
                }
            }
        }

        fn history_text(&self, b: u8) -> String {
            world(|w| w.history.get(usize::from(b) % w.history.len().max(1)).cloned()).unwrap_or_default()
        }

        unsafe fn op_forge(&mut self, input: &mut Input<'_>) {
            let b = input.u8();
            let captured = match b % 4 {
                0 | 1 => Arg::bytes(self.history_text(b >> 2).into_bytes()),
                2 => Arg::bytes(
                    self.forged
                        .get(usize::from(b >> 2) % self.forged.len().max(1))
                        .cloned()
                        .unwrap_or_default()
                        .into_bytes(),
                ),
                _ => text_arg(input, MAX_TEXT),
            };
            let k = input.u8();
            let later: Vec<Arg> = (0..usize::from(k % 5))
                .map(|i| match input.u8() {
                    0xFF => Arg::null(1),
                    0xFE => Arg::null(0),
                    0xFD => text_arg(input, MAX_TEXT),
                    x => Arg::bytes(self.history_text(x.wrapping_add(i as u8)).into_bytes()),
                })
                .collect();
            let ptrs: Vec<*const c_char> = later.iter().map(Arg::cptr).collect();
            let lens: Vec<usize> = later.iter().map(|a| a.len).collect();
            let (pp, lp, count) = match k >> 5 {
                0..=4 => (ptrs.as_ptr(), lens.as_ptr(), later.len()),
                5 => (null(), null(), 1 + usize::from(input.u8())),
                6 => (null(), null(), MAX_FORGE_LATER + 1 + usize::from(input.u8())),
                _ => (null(), null(), 0),
            };
            let kb = input.u8();
            let known = match kb % 4 {
                0 | 1 => Arg::bytes(
                    world(|w| w.sent.iter().nth(usize::from(kb >> 2) % w.sent.len().max(1)).cloned())
                        .unwrap_or_default(),
                ),
                _ => text_arg(input, MAX_TEXT),
            };
            let new = text_arg(input, MAX_TEXT);
            let nul = out_null(input);
            let mut out = offrec_buffer { data: SENTINEL_PTR as *mut u8, len: SENTINEL_USIZE };
            let outp = if nul { null_mut() } else { &raw mut out };
            // SAFETY: see `step` (`ptrs` and `lens` have `later.len()` elements).
            let r = check("forge", unsafe {
                offrec_forge(
                    captured.cptr(),
                    captured.len,
                    pp,
                    lp,
                    count,
                    known.ptr(),
                    known.len,
                    new.ptr(),
                    new.len,
                    outp,
                )
            });
            if nul {
                expect("forge(out NULL)", r, OffrecResult::NullArgument);
            }
            if count > MAX_FORGE_LATER && !nul && captured.valid_text(MAX_TEXT) {
                expect("forge(too many later)", r, OffrecResult::InvalidArgument);
            }
            if r == OffrecResult::Ok {
                assert!(!out.data.is_null() || out.len == 0);
                let bytes = if out.data.is_null() {
                    Vec::new()
                } else {
                    // SAFETY: a library buffer of `len` bytes.
                    unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec()
                };
                let text = String::from_utf8(bytes).expect("forged wire text is not UTF-8");
                if self.forged.len() < 16 {
                    self.forged.push(text);
                }
                self.buffers.push(Sealed { buf: out, origin: None });
            } else {
                assert_eq!((out.data as usize, out.len), (SENTINEL_PTR, SENTINEL_USIZE), "forge wrote *out on error");
            }
        }

        unsafe fn op_save(&mut self, input: &mut Input<'_>) {
            let (h, slot) = self.pick(input);
            let (key, pass, which) = key_arg(input);
            let nul = out_null(input);
            let mut out = offrec_buffer { data: SENTINEL_PTR as *mut u8, len: SENTINEL_USIZE };
            let outp = if nul { null_mut() } else { &raw mut out };
            let kp = key.as_ref().map_or(null(), |k| k.as_ptr());
            // SAFETY: see `step`.
            let r = check("save", unsafe { fstore::offrec_client_save(h, kp, pass.cptr(), pass.len, outp) });
            let want = if h.is_null() || nul {
                OffrecResult::NullArgument
            } else if which.is_some() {
                OffrecResult::Ok
            } else {
                r
            };
            expect("save", r, want);
            if r == OffrecResult::Ok {
                assert!(which.is_some(), "save succeeded with a bad key");
                assert!(!out.data.is_null() && out.len > 0, "save produced an empty store");
                let origin = slot.and_then(|s| self.slots[s].as_ref()).map(|s| s.account.clone());
                self.buffers.push(Sealed { buf: out, origin: Some((origin.unwrap_or_default(), which.unwrap_or(0))) });
            } else {
                assert_ne!(r, OffrecResult::Ok);
                assert_eq!((out.data as usize, out.len), (SENTINEL_PTR, SENTINEL_USIZE), "save wrote *out on error");
            }
        }

        unsafe fn op_load(&mut self, input: &mut Input<'_>) {
            let slot = usize::from(input.u8()) % SLOTS;
            let b = input.u8();
            let stores: Vec<usize> = (0..self.buffers.len())
                .filter(|&i| self.buffers[i].origin.is_some() && !self.buffers[i].buf.data.is_null())
                .collect();
            let chosen = (!stores.is_empty()).then(|| stores[usize::from(b >> 3) % stores.len()]);
            let genuine: Option<(Vec<u8>, String, usize)> = chosen.map(|i| {
                let s = &self.buffers[i];
                // SAFETY: a live library buffer.
                let bytes = unsafe { std::slice::from_raw_parts(s.buf.data, s.buf.len) }.to_vec();
                let (account, key) = s.origin.clone().unwrap_or_default();
                (bytes, account, key)
            });
            let sealed = match (b % 8, &genuine) {
                (0..=3, Some((g, _, _))) => Arg::bytes(g.clone()),
                (4 | 5, Some((g, _, _))) => Arg::bytes(mutate(g, input)),
                (6, _) => Arg::null(if b & 0x80 != 0 { MAX_STORE + 1 } else { usize::from(b >> 3) }),
                _ => Arg::bytes(input.chunk().to_vec()),
            };
            let (key, pass, which) = key_arg(input);
            let policy = policy_arg(input);
            // Usually the store's own account; sometimes another one, which must be refused.
            let intruder = input.u8() % 8 == 0;
            let account = match (&genuine, intruder) {
                (Some((_, a, _)), false) if !a.is_empty() => a.clone(),
                _ => "intruder".to_owned(),
            };
            let (cbs, cbs_ok) = callbacks(input.u8());
            let nul = out_null(input);
            self.free_slot(slot);
            let mut out = SENTINEL_PTR as *mut offrec_client;
            let outp = if nul { null_mut() } else { &raw mut out };
            let cbp = cbs.as_ref().map_or(null(), |c| c as *const OffrecCallbacks);
            let kp = key.as_ref().map_or(null(), |k| k.as_ptr());
            // SAFETY: see `step`.
            let r = check("load", unsafe {
                fstore::offrec_client_load(
                    sealed.ptr(),
                    sealed.len,
                    account.as_ptr().cast(),
                    account.len(),
                    kp,
                    pass.cptr(),
                    pass.len,
                    policy,
                    cbp,
                    userdata(slot),
                    outp,
                )
            });
            let foreign = genuine.as_ref().is_none_or(|(_, a, _)| *a != account);
            let untouched = genuine.as_ref().is_some_and(|(g, _, _)| sealed.slice() == Some(&g[..]));
            let right_key = genuine.as_ref().is_some_and(|(_, _, k)| which == Some(*k));
            let args_ok = !nul && policy & !0x1ff == 0 && cbs_ok;
            if untouched && right_key && args_ok {
                let want = if foreign { OffrecResult::StoreWrongAccount } else { OffrecResult::Ok };
                expect("load of a genuine store", r, want);
            }
            if r != OffrecResult::Ok {
                assert_eq!(out as usize, SENTINEL_PTR, "load wrote *out on error");
                return;
            }
            assert!(args_ok, "load succeeded with bad arguments");
            assert!(untouched, "a tampered or foreign store loaded");
            assert!(right_key, "a store loaded with the wrong key");
            assert!(!foreign, "another account's store loaded");
            self.install(slot, out, genuine.map(|(_, a, _)| a));
        }

        unsafe fn op_dir(&mut self, input: &mut Input<'_>) {
            let b = input.u8();
            let dir = match b % 8 {
                0..=4 => {
                    let d = self.dir.get_or_insert_with(run_dir).clone();
                    Arg::bytes(d.into_os_string().into_encoded_bytes())
                }
                5 => Arg::null(1 + usize::from(input.u8())),
                6 => Arg::empty(),
                _ => match input.u8() % 2 {
                    0 => Arg::bytes(vec![0xFF, b'/']),
                    _ => Arg::bytes(vec![b'd'; MAX_PATH + 1]),
                },
            };
            let (key, pass, _) = key_arg(input);
            let kp = key.as_ref().map_or(null(), |k| k.as_ptr());
            let dir_ok = (0..=4).contains(&(b % 8));
            if b & 0x80 == 0 {
                let (h, _) = self.pick(input);
                // SAFETY: see `step`.
                let r = check("save_to_dir", unsafe {
                    fstore::offrec_client_save_to_dir(h, dir.cptr(), dir.len, kp, pass.cptr(), pass.len)
                });
                if h.is_null() {
                    expect("save_to_dir(NULL)", r, OffrecResult::NullArgument);
                } else if !dir_ok {
                    assert_ne!(r, OffrecResult::Ok, "save_to_dir succeeded with a bad directory");
                }
            } else {
                let slot = usize::from(input.u8()) % SLOTS;
                let policy = policy_arg(input);
                let (cbs, _) = callbacks(input.u8());
                let nul = out_null(input);
                // The account of whichever client was saved there last is not tracked: try the
                // live slots' accounts, or one nobody has.
                let names: Vec<String> = self.slots.iter().flatten().map(|s| s.account.clone()).collect();
                let pick = usize::from(input.u8());
                let account = if names.is_empty() { "nobody".to_owned() } else { names[pick % names.len()].clone() };
                self.free_slot(slot);
                let mut out = SENTINEL_PTR as *mut offrec_client;
                let outp = if nul { null_mut() } else { &raw mut out };
                let cbp = cbs.as_ref().map_or(null(), |c| c as *const OffrecCallbacks);
                // SAFETY: see `step`.
                let r = check("load_from_dir", unsafe {
                    fstore::offrec_client_load_from_dir(
                        dir.cptr(),
                        dir.len,
                        account.as_ptr().cast(),
                        account.len(),
                        kp,
                        pass.cptr(),
                        pass.len,
                        policy,
                        cbp,
                        userdata(slot),
                        outp,
                    )
                });
                if r == OffrecResult::Ok {
                    assert!(dir_ok && !nul, "load_from_dir succeeded with bad arguments");
                    self.install(slot, out, Some(account));
                } else {
                    assert_eq!(out as usize, SENTINEL_PTR, "load_from_dir wrote *out on error");
                }
            }
        }

        fn finish(&mut self) {
            for i in 0..SLOTS {
                self.free_slot(i);
            }
            for s in &mut self.buffers {
                // SAFETY: library buffers (or already-emptied ones).
                unsafe { offrec_buffer_free(&mut s.buf) };
            }
            self.buffers.clear();
            if let Some(dir) = self.dir.take() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    impl Drop for Driver {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                self.finish();
            } else if let Some(dir) = self.dir.take() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    /// A fresh directory name for this run's `save_to_dir` (created by the library).
    fn run_dir() -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("offrec-fuzz-ffi-{}-{n}", std::process::id()))
    }

    /// Drives the C API with the call sequence `data` encodes (see the module docs).
    pub fn ffi_calls(data: &[u8]) {
        let mut input = Input::new(data);
        let flags = input.u8();
        world(|w| {
            *w = World { now: 1_000, reentrant: flags & 1 != 0, ..World::default() };
        });
        let mut d = Driver { slots: Default::default(), buffers: Vec::new(), forged: Vec::new(), dir: None };
        let mut steps = 0;
        while !input.is_empty() && steps < 200 {
            steps += 1;
            d.step(&mut input);
        }
        d.finish();
        world(|w| *w = World::default());
    }

    // -----------------------------------------------------------------------------------------
    // Handwritten seeds
    // -----------------------------------------------------------------------------------------

    /// Builds `ffi_calls` programs byte by byte, mirroring the decoders above.
    struct Prog(Vec<u8>);

    impl Prog {
        fn new(reentrant: bool) -> Self {
            Prog(vec![u8::from(reentrant)])
        }
        fn b(&mut self, bytes: &[u8]) -> &mut Self {
            self.0.extend_from_slice(bytes);
            self
        }
        /// A known peer/account name (`name_arg` mode 0..=11).
        fn name(&mut self, i: u8) -> &mut Self {
            self.b(&[i << 4])
        }
        /// A text from a chunk (`text_arg` mode 7).
        fn text(&mut self, t: &[u8]) -> &mut Self {
            self.b(&[7]).b(&(t.len() as u16).to_be_bytes()).b(t)
        }
        /// A dictionary text (`text_arg` mode 6).
        fn dict(&mut self, i: u8) -> &mut Self {
            self.b(&[6 | (i << 4)])
        }
        /// new: slot, account, protocol fuzznet, policy (mode byte), full callbacks,
        /// userdata, out.
        fn new_client(&mut self, slot: u8, account: u8, policy_mode: u8) -> &mut Self {
            self.b(&[op::NEW, slot]).name(account).b(&[0, policy_mode, 0, 0, 0])
        }
        fn pump(&mut self) -> &mut Self {
            self.b(&[op::PUMP, 63])
        }
        fn send(&mut self, slot: u8, peer: u8, t: &[u8]) -> &mut Self {
            self.b(&[op::SEND, slot]).name(peer).text(t).b(&[0])
        }
        fn start(&mut self, slot: u8, peer: u8) -> &mut Self {
            self.b(&[op::START_SESSION, slot]).name(peer)
        }
        fn simple(&mut self, code: u8, slot: u8, peer: u8) -> &mut Self {
            self.b(&[code, slot]).name(peer)
        }
    }

    /// Handwritten programs: a full conversation with SMP, extra key, save/load, forging and
    /// ending; a held message under ALWAYS; fragmentation; identities and trust; bad arguments.
    pub fn ffi_seeds() -> Vec<Vec<u8>> {
        let mut out = Vec::new();

        // 1. Conversation + SMP + extra key + save/load + forge + end.
        let mut p = Prog::new(false);
        p.new_client(0, 0, 0).new_client(1, 1, 0);
        p.start(0, 1).pump();
        p.simple(op::SESSION_STATE, 0, 1).b(&[0]);
        p.send(0, 1, b"hello bob").pump().send(1, 0, b"hi alice").pump();
        // smp_start(slot 0, bob, instance 0, secret dict 1, question dict 2)
        p.simple(op::SMP_START, 0, 1).b(&[0]).dict(1).dict(2).pump();
        p.simple(op::SMP_RESPOND, 1, 0).b(&[0]).dict(1).pump();
        p.simple(op::SESSION_INFO, 0, 1).b(&[0, 0]);
        p.simple(op::KNOWN_KEY, 1, 0).b(&[0, 0, 0]);
        p.simple(op::EXTRA_KEY, 0, 1).b(&[0, 0, 0, 0, 7]).text(b"file.txt").b(&[0]).pump();
        p.b(&[op::SAVE, 1, 0, 0]);
        p.b(&[op::LOAD, 3, 0, 0, 0, 0, 0]);
        p.send(0, 1, b"to both bobs").pump();
        p.send(1, 0, b"later one").pump().send(0, 1, b"and another").pump();
        // forge: captured history[2], two later texts, known from the sent set, new text.
        for c in 4u8..8 {
            p.b(&[op::FORGE, c << 2, 4, c + 1, c + 1, c + 1, c + 1, 4]).text(b"HELLO BOB").b(&[0]);
        }
        p.b(&[op::RECEIVE_RAW, 1]).name(0).b(&[1]);
        p.b(&[op::END_SESSION, 0]).name(1).b(&[0]).pump();
        p.send(1, 0, b"after the end").pump();
        p.b(&[op::FINGERPRINT_FORMAT, 0, 72, 0, op::SSID_FORMAT, 0, 18, 0]);
        p.b(&[op::TICK, 0, 0, 100, op::CLOCK, 0, 1, 0, 0, op::TICK, 1, 0, 0]).pump();
        out.push(p.0.clone());

        // 2. ALWAYS policy: a held message, sent once the session is up; re-entrant callbacks.
        let mut p = Prog::new(true);
        p.new_client(0, 0, 4).new_client(1, 1, 4);
        p.send(0, 1, b"held until encrypted").pump().pump();
        p.send(1, 0, b"reply").pump();
        p.simple(op::SESSION_COUNT, 1, 0).b(&[0]);
        out.push(p.0.clone());

        // 3. Fragmentation: per-peer limit 64 and a callback limit of 80, then a long message.
        let mut p = Prog::new(false);
        p.new_client(0, 0, 0).new_client(1, 1, 0);
        p.simple(op::SET_MAX_MESSAGE_SIZE, 0, 1).b(&[2, 0, 3, 16]);
        p.simple(op::SET_MAX_MESSAGE_SIZE, 1, 0).b(&[2, 0, 0]);
        p.start(0, 1).pump();
        p.b(&[op::SEND, 0]).name(1).dict(7).b(&[0]).pump();
        p.b(&[op::DELIVER, 1, 0, 0x80]);
        out.push(p.0.clone());

        // 4. Identities and trust: same identity restored, set/read trust, formats.
        let mut p = Prog::new(false);
        p.new_client(0, 0, 0);
        p.b(&[op::NEW_WITH_IDENTITY, 2]).name(0).b(&[0, 0, 0, 0, 0, 0, 0]);
        p.b(&[op::NEW_WITH_IDENTITY, 3]).name(1).b(&[0, 0, 0, 0, 0, 1, 2]);
        p.simple(op::SET_TRUST, 0, 1).b(&[0, 2]);
        p.simple(op::TRUST, 0, 1).b(&[0, 0]);
        p.simple(op::KNOWN_KEY_COUNT, 0, 1).b(&[0]);
        p.simple(op::SET_TRUST, 0, 1).b(&[0, 3]);
        p.b(&[op::FINGERPRINT, 0, 0, op::IDENTITY_SECRET, 2, 0, op::INSTANCE_TAG, 2, 0]);
        p.b(&[op::FINGERPRINT_FORMAT, 4]).b(&[9; 32]).b(&[10, 0]);
        p.b(&[op::SSID_FORMAT, 7, 0, 6]);
        p.b(&[op::VERSION, op::RESULT_MESSAGE, 0, op::RESULT_MESSAGE, 3, 0, 0, 0, 8]);
        out.push(p.0.clone());

        // 5. Bad arguments: NULL handles, NULL with lengths, unknown enums, bad keys.
        let mut p = Prog::new(false);
        p.new_client(0, 0, 0);
        p.b(&[op::SEND, 4]).name(1).text(b"x").b(&[0]);
        p.b(&[op::SEND, 0, 12, 5]).b(&[1, 0, 9]).b(&[0]);
        p.b(&[op::SEND_TO_INSTANCE, 0]).name(1).text(b"x").b(&[0, 0]);
        p.b(&[op::RECEIVE_RAW, 0]).name(1).b(&[3, 5, 0, 1, b'a']);
        p.b(&[op::SET_POLICY, 0, 7 | (6 << 3), op::SET_OPTION, 0, 6, 0, op::SET_OPTION, 0, 4, 3, 1]);
        p.b(&[op::SET_OPTION, 0, 5, 2, 5, op::SET_MAX_MESSAGE_SIZE, 0, 0, 1, 3]);
        p.b(&[op::SAVE, 0, 9, 4, op::SAVE, 0, 10, op::SAVE, 0, 11, 1, op::SAVE, 0, 0, 15]);
        p.b(&[op::LOAD, 1, 6 | 0x80, 0, 0, 0, 0]);
        p.b(&[op::NEW, 1, 13, 0, 0, 17, 0, 0, op::NEW, 1]).name(1).b(&[0, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0]);
        p.b(&[op::SESSION_INFO, 0]).name(1).b(&[2, 0]);
        p.b(&[op::KNOWN_KEY, 0]).name(1).b(&[2, 0, 15]);
        p.b(&[op::SMP_RESPOND, 0]).name(1).b(&[0, 1, 0, 5]);
        p.b(&[op::FORGE, 3, 0, 0, 0xC0, 0, 0, 0, 0, op::FORGE, 3, 7, 0, 0, 0, 0]);
        p.b(&[op::BUFFER_FREE, 0, op::BUFFER_FREE, 1, op::FREE, 4, op::FREE, 0, op::TICK, 0, 0, 0]);
        p.b(&[op::DIR, 5, 3, 0, op::DIR, 0x80 | 6, 0, 0, 0, 0, 0]);
        out.push(p.0.clone());
        out
    }
}
