//! The hostile-input catalogue for a client that speaks OTR (policy MANUAL, which allows OTR v3
//! and v2): Alice and Bob, two real clients, with an OTR v3 session (Bob's query reached Alice
//! with its modern offer stripped, so Alice answered in OTR, as in tests/otr_conversation.rs).
//! Each case injects texts into Alice as if from "bob" — Bob's genuine OTR messages, mutated,
//! replayed or out of place, and hand-built ones — and states exactly what each must produce.
//! For every case the runner checks (inside `catch_unwind`, so a panic names its case):
//!
//! 1. no panic;
//! 2. exactly the expected events per injected text, no state-change action, and no `Deliver`
//!    except the deliveries the case lists (so no plaintext ever comes out of a forged,
//!    replayed or misrouted message);
//! 3. exactly what Alice sends ([`Sends`]): by default one `?OTR Error:` if some text was
//!    unreadable or not in private (rate-limited: one per 10 s however many), else nothing —
//!    never an error in answer to an error, never a loop;
//! 4. `Client::sessions("bob")` is unchanged (same instance, state, keys' ssid and fingerprint);
//! 5. afterwards the existing session still carries text both ways, each message exactly once,
//!    and a message Bob sent before the case is not delivered again.
//!
//! The modern protocol's catalogue is tests/hostile_inputs.rs; this one is its OTR counterpart
//! (issue #15).

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use offrec::conversation::{
    Action, Client, Event, Policy, Protocol, Security, SessionInfo, SessionState, DEFAULT_UNAUTHENTICATED_BUDGET,
    MAX_PENDING_RESPONDERS,
};
use offrec::otr::message::{parse_header, DhCommit, Header, MessageType, OtrVersion, RevealSignature, Signature};
use offrec::otr::text::error::{ERROR_MALFORMED, ERROR_UNREADABLE};
use offrec::otr::text::reassembler::OTR_BUFFER_OVERHEAD;
use offrec::otr::text::whitespace::{OTR_TAG_BASE, OTR_TAG_V3};
use offrec::otr::text::{armour, error as otr_error, split};
use offrec::wire::{InstanceTag, MAX_ENCODED_LEN};
use support::{settings, Net};

/// `Event::HandshakeFailed` reason of a failed OTR AKE (peer/otr.rs `HANDSHAKE_OTR_FAILED`).
const OTR_AKE_FAILED: u32 = 9;

// ---------------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------------

/// What one call to `Client::receive` produced, split by kind.
#[derive(Debug, Default)]
struct Outcome {
    sends: Vec<String>,
    delivered: Vec<(Security, Vec<u8>)>,
    states: Vec<(u32, SessionState)>,
    events: Vec<Event>,
}

fn split_actions(actions: Vec<Action>) -> Outcome {
    let mut out = Outcome::default();
    for action in actions {
        match action {
            Action::Send { peer, text } => {
                assert_eq!(&*peer, "bob", "Alice sent to someone else");
                out.sends.push(text);
            }
            Action::Deliver { peer, text, security, .. } => {
                assert_eq!(&*peer, "bob");
                out.delivered.push((security, text.to_vec()));
            }
            Action::StateChanged { instance, state, .. } => out.states.push((instance, state)),
            Action::Event { event, .. } => out.events.push(event),
        }
    }
    out
}

/// What a text Alice sent is, for comparing sends: `error:unreadable`, `error:malformed`,
/// `error:<text>`, `commit`, `dhkey`, `revealsig`, `signature`, `data`, `query`, `other`.
fn describe_send(text: &str) -> String {
    if let Some(rest) = otr_error::parse(text) {
        return match rest.trim() {
            ERROR_UNREADABLE => "error:unreadable".into(),
            ERROR_MALFORMED => "error:malformed".into(),
            other => format!("error:{other}"),
        };
    }
    if text.starts_with("?OTR:") {
        let kind = armour::decode(text).ok().and_then(|b| parse_header(&b).ok()).map(|h| h.message_type);
        return match kind {
            Some(MessageType::DhCommit) => "commit",
            Some(MessageType::DhKey) => "dhkey",
            Some(MessageType::RevealSignature) => "revealsig",
            Some(MessageType::Signature) => "signature",
            Some(MessageType::Data) => "data",
            None => "other",
        }
        .into();
    }
    if text.contains("?OTRv") {
        return "query".into();
    }
    "other".into()
}

/// Alice (policy MANUAL unless a case says otherwise) and Bob with an OTR v3 session that has
/// carried one message each way.
struct Fixture {
    net: Net,
    alice_tag: u32,
    bob_tag: u32,
    /// A message Bob sent and Alice read during setup: it must never be delivered again.
    old_wire: String,
}

/// MANUAL without the downgrade guard: these sessions must stay OTR (two offrec clients with the
/// guard upgrade to the modern protocol, tests/otr_conversation.rs).
const OTR_ONLY: Policy = Policy::ALLOW.union(Policy::ALLOW_OTR_V3).union(Policy::ALLOW_OTR_V2);

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_policy(OTR_ONLY)
    }

    fn with_policy(policy: Policy) -> Fixture {
        let mut net = Net::new();
        net.add("alice", "alice", settings(policy));
        net.add("bob", "bob", settings(OTR_ONLY));
        let now = net.now;
        let actions = net.client("alice").receive("bob", "?OTRv3?", now);
        net.apply("alice", actions);
        net.run();
        let alice_tag = net.party("alice").client.instance_tag();
        let bob_tag = net.party("bob").client.instance_tag();
        for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
            let sessions = net.party(id).client.sessions(peer);
            assert_eq!(sessions.len(), 1, "{id}");
            assert_eq!(sessions[0].protocol, Protocol::OtrV3, "{id}");
            assert_eq!(net.state(id, peer), SessionState::EncryptedUnverified, "{id}");
        }
        // One message each way, so keys have rotated once before any case.
        net.send("alice", "bob", "setup: alice to bob");
        net.run();
        let mut fx = Fixture { net, alice_tag, bob_tag, old_wire: String::new() };
        fx.old_wire = fx.bob_msg("setup: bob to alice");
        let out = fx.inject(&fx.old_wire.clone());
        assert_eq!(out.delivered, [(Security::EncryptedUnverified, b"setup: bob to alice".to_vec())]);
        fx
    }

    fn now(&self) -> u64 {
        self.net.now
    }

    fn alice(&mut self) -> &mut Client {
        self.net.client("alice")
    }

    fn sessions(&self) -> Vec<SessionInfo> {
        self.net.party("alice").client.sessions("bob")
    }

    /// Injects one text from "bob" into Alice without touching the network.
    fn inject(&mut self, text: &str) -> Outcome {
        let now = self.now();
        split_actions(self.alice().receive("bob", text, now))
    }

    /// Bob's genuine OTR data message carrying `text`, taken off the network before delivery.
    fn bob_msg(&mut self, text: &str) -> String {
        assert!(self.net.queue.is_empty());
        self.net.send("bob", "alice", text);
        let (from, to, wire) = self.net.queue.pop_back().unwrap();
        assert!(self.net.queue.is_empty());
        assert_eq!((from.as_str(), to.as_str()), ("bob", "alice"));
        assert!(wire.starts_with("?OTR:AAMD"), "{wire}");
        wire
    }

    /// The binary form of [`Self::bob_msg`].
    fn bob_bytes(&mut self, text: &str) -> Vec<u8> {
        armour::decode(&self.bob_msg(text)).unwrap()
    }

    /// Every OTR message of `kind` that `from` put on the wire so far.
    fn logged(&self, from: &str, kind: &str) -> Vec<String> {
        self.net
            .wire_log
            .iter()
            .filter(|(f, _, t)| f == from && t.starts_with("?OTR:") && describe_send(t) == kind)
            .map(|(_, _, t)| t.clone())
            .collect()
    }

    /// `id` receives `text` from its peer; returns what it sent (not delivered).
    fn feed(&mut self, id: &str, text: &str) -> Vec<String> {
        let (peer, now) = (if id == "alice" { "bob" } else { "alice" }, self.now());
        let actions = self.net.client(id).receive(peer, text, now);
        let out = split_actions_any(actions);
        self.net.wire_log.extend(out.iter().map(|t| (id.to_owned(), peer.to_owned(), t.clone())));
        out
    }

    /// After a case: the session still carries text both ways (each message exactly once), and
    /// Bob's old message is still refused.
    fn assert_still_works(&mut self) {
        self.net.run();

        let before = self.net.party("alice").delivered.len();
        self.net.send("bob", "alice", "genuine after the attack");
        self.net.run();
        let new: Vec<(String, u32, Security)> = self.net.party("alice").delivered[before..]
            .iter()
            .map(|d| (d.text.clone(), d.instance, d.security))
            .collect();
        assert_eq!(
            new,
            [("genuine after the attack".to_owned(), self.bob_tag, Security::EncryptedUnverified)],
            "Bob's next message"
        );

        let before = self.net.party("bob").delivered.len();
        self.net.send("alice", "bob", "alice to bob after the attack");
        self.net.run();
        let new: Vec<String> = self.net.party("bob").delivered[before..].iter().map(|d| d.text.clone()).collect();
        assert_eq!(new, ["alice to bob after the attack"], "Alice can still send to Bob");

        let old = self.old_wire.clone();
        let out = self.inject(&old);
        assert!(out.delivered.is_empty(), "an old message was delivered again: {out:?}");
        assert_eq!(self.sessions().len(), 1);
        assert_eq!(self.sessions()[0].protocol, Protocol::OtrV3);
    }
}

fn split_actions_any(actions: Vec<Action>) -> Vec<String> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The catalogue's types and runner
// ---------------------------------------------------------------------------------------------

/// One text from "bob" and exactly what it must produce.
struct Inj {
    text: String,
    events: Vec<Event>,
    delivered: Vec<(Security, Vec<u8>)>,
    /// Seconds the clock moves forward before this text arrives.
    advance: u64,
}

fn inj(text: impl Into<String>, events: &[Event]) -> Inj {
    Inj { text: text.into(), events: events.to_vec(), delivered: Vec::new(), advance: 0 }
}

fn inj_plain(text: impl Into<String>, events: &[Event], shown: &str) -> Inj {
    Inj { delivered: vec![(Security::Plaintext, shown.as_bytes().to_vec())], ..inj(text, events) }
}

fn later(seconds: u64, injection: Inj) -> Inj {
    Inj { advance: seconds, ..injection }
}

/// What Alice may send while the case's texts are injected.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sends {
    /// One `?OTR Error:` (unreadable) if any text was Unreadable or NotInPrivate, else nothing.
    Auto,
    /// Exactly these, in order (see [`describe_send`]).
    Exactly(&'static [&'static str]),
    /// Exactly `n` copies of one kind.
    Repeated(&'static str, usize),
}

struct Case {
    name: &'static str,
    build: fn(&mut Fixture) -> Vec<Inj>,
    sends: Sends,
    /// Alice's policy, if not MANUAL.
    policy: Option<fn() -> Policy>,
    /// `Some(explanation)` if the case exposes a bug in src/: it is skipped by the catalogue
    /// run and kept as an ignored test of its own.
    bug: Option<&'static str>,
}

const fn case(name: &'static str, build: fn(&mut Fixture) -> Vec<Inj>) -> Case {
    Case { name, build, sends: Sends::Auto, policy: None, bug: None }
}

const fn case_with(name: &'static str, build: fn(&mut Fixture) -> Vec<Inj>, sends: Sends) -> Case {
    Case { name, build, sends, policy: None, bug: None }
}

fn run_case(case: &Case) {
    let mut fx = match case.policy {
        Some(policy) => Fixture::with_policy(policy()),
        None => Fixture::new(),
    };
    let injections = (case.build)(&mut fx);
    let before = fx.sessions();
    let mut sends = Vec::new();
    let mut complained = false;
    for (i, injection) in injections.iter().enumerate() {
        fx.net.now += injection.advance;
        let Outcome { sends: sent, delivered, states, events } = fx.inject(&injection.text);
        let shown: String = injection.text.chars().take(120).collect();
        assert_eq!(events, injection.events, "events of text #{i}: {shown:?}");
        assert_eq!(delivered, injection.delivered, "deliveries of text #{i}: {shown:?}");
        assert!(states.is_empty(), "state changed by text #{i}: {states:?}");
        complained |= events.iter().any(|e| matches!(e, Event::Unreadable | Event::NotInPrivate));
        sends.extend(sent.iter().map(|t| describe_send(t)));
    }
    let expected: Vec<String> = match case.sends {
        Sends::Auto => {
            if complained {
                vec!["error:unreadable".to_owned()]
            } else {
                vec![]
            }
        }
        Sends::Exactly(kinds) => kinds.iter().map(|k| k.to_string()).collect(),
        Sends::Repeated(kind, n) => vec![kind.to_owned(); n],
    };
    assert_eq!(sends, expected, "what Alice sent");
    assert_eq!(fx.sessions(), before, "sessions changed");
    fx.assert_still_works();
}

/// Runs the (non-bug) cases whose names start with `prefix`; fails naming every failed case.
fn run_group(prefix: &str) {
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in CATALOGUE.iter().filter(|c| c.name.starts_with(prefix) && c.bug.is_none()) {
        ran += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run_case(case))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {}", case.name, message));
        }
    }
    assert!(ran > 0, "no case in group {prefix}");
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn run_named(name: &str) {
    let case = CATALOGUE.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no case {name}"));
    run_case(case);
}

// ---------------------------------------------------------------------------------------------
// Helpers to build hostile texts
// ---------------------------------------------------------------------------------------------

/// Offsets in a v3 data message.
const SENDER: usize = 3;
const RECEIVER: usize = 7;
const FLAGS: usize = 11;
const SENDER_KEYID: usize = 12;
const RECIPIENT_KEYID: usize = 16;
const NEXT_DH: usize = 20;
const MAC_LEN: usize = 20;

/// A genuine data message from Bob, with some length to mutate.
const GENUINE: &str = "a genuine message from bob, long enough for every mutation of its ciphertext";

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn get_u32(bytes: &[u8], at: usize) -> usize {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

/// Where the fields after next_dh start: (counter, ciphertext length, MAC, reveal length).
fn data_offsets(bytes: &[u8]) -> (usize, usize, usize, usize) {
    let counter = NEXT_DH + 4 + get_u32(bytes, NEXT_DH);
    let ct_len = counter + 8;
    let mac = ct_len + 4 + get_u32(bytes, ct_len);
    (counter, ct_len, mac, mac + MAC_LEN)
}

/// Bob's genuine message, edited by `edit`, re-armoured.
fn mutated(fx: &mut Fixture, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut bytes = fx.bob_bytes(GENUINE);
    edit(&mut bytes);
    armour::encode(&bytes)
}

fn unreadable(text: String) -> Vec<Inj> {
    vec![inj(text, &[Event::Unreadable])]
}

fn malformed(text: impl Into<String>) -> Vec<Inj> {
    vec![inj(text, &[Event::Malformed])]
}

fn failed() -> Event {
    Event::HandshakeFailed { reason: OTR_AKE_FAILED }
}

fn v3_header(kind: MessageType, sender: u32, receiver: u32) -> Header {
    Header::new(OtrVersion::V3, kind, InstanceTag(sender), InstanceTag(receiver))
}

fn header_bytes(kind: MessageType, sender: u32, receiver: u32) -> Vec<u8> {
    let mut out = vec![0, 3, kind.wire()];
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&receiver.to_be_bytes());
    out
}

/// A well-formed D-H Commit of garbage (its g^x never opens). Its hash is all ones, higher than
/// any real one, so an exchange that sent its own commit yields to it (crossed commits).
fn commit_bytes(sender: u32, receiver: u32, fill: u8) -> Vec<u8> {
    DhCommit {
        header: v3_header(MessageType::DhCommit, sender, receiver),
        encrypted_gx: vec![fill; 196],
        hashed_gx: [0xFF; 32],
    }
    .to_bytes()
}

/// A well-formed Reveal Signature of garbage.
fn reveal_bytes(sender: u32, receiver: u32, fill: u8) -> Vec<u8> {
    RevealSignature {
        header: v3_header(MessageType::RevealSignature, sender, receiver),
        r: [fill; 16],
        encrypted_signature: vec![fill; 466],
        mac: [fill; 20],
    }
    .to_bytes()
}

/// A well-formed Signature of garbage.
fn signature_bytes(sender: u32, receiver: u32, fill: u8) -> Vec<u8> {
    Signature {
        header: v3_header(MessageType::Signature, sender, receiver),
        encrypted_signature: vec![fill; 466],
        mac: [fill; 20],
    }
    .to_bytes()
}

/// A D-H Key carrying the MPI `mpi` (length field included) as g^y.
fn dh_key_with_mpi(sender: u32, receiver: u32, mpi: &[u8]) -> Vec<u8> {
    let mut out = header_bytes(MessageType::DhKey, sender, receiver);
    out.extend_from_slice(mpi);
    out
}

fn mpi(magnitude: &[u8]) -> Vec<u8> {
    let mut out = (magnitude.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(magnitude);
    out
}

/// The group's prime p (RFC 3526 group 5), big-endian.
fn prime() -> Vec<u8> {
    hex::decode(concat!(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF"
    ))
    .unwrap()
}

/// A v3 fragment as libotr writes it.
fn frag(sender: u32, receiver: u32, k: &str, n: &str, piece: &str) -> String {
    format!("?OTR|{sender:08x}|{receiver:08x},{k},{n},{piece},")
}

/// Alice starts a new AKE (a query from "bob", the commit rate limit passed); returns her
/// D-H Commit, not delivered.
fn alice_commits(fx: &mut Fixture) -> String {
    fx.net.now += 3;
    let sent = fx.feed("alice", "?OTRv3?");
    assert_eq!(sent.iter().map(|s| describe_send(s)).collect::<Vec<_>>(), ["commit"]);
    sent[0].clone()
}

/// Bob starts a new AKE; returns his D-H Commit, not delivered.
fn bob_commits(fx: &mut Fixture) -> String {
    fx.net.now += 3;
    let sent = fx.feed("bob", "?OTRv3?");
    assert_eq!(sent.iter().map(|s| describe_send(s)).collect::<Vec<_>>(), ["commit"]);
    sent[0].clone()
}

/// Lets Alice's commit to every instance (kept for instances that answer late) time out.
fn expire_alice_commit(fx: &mut Fixture) {
    fx.net.now += 121;
    fx.net.tick("alice");
    fx.net.run();
}

/// Puts Alice's exchange with Bob's instance in AWAITING_REVEALSIG: Bob's fresh commit is
/// answered with Alice's D-H Key (held, never delivered). Returns (Bob's commit, Alice's key).
fn alice_awaits_reveal(fx: &mut Fixture) -> (String, String) {
    expire_alice_commit(fx);
    let commit = bob_commits(fx);
    let sent = fx.feed("alice", &commit);
    assert_eq!(sent.iter().map(|s| describe_send(s)).collect::<Vec<_>>(), ["dhkey"]);
    (commit, sent[0].clone())
}

/// Puts Alice's exchange with Bob's instance in AWAITING_SIG: her fresh commit answered by
/// Bob's D-H Key, answered by her Reveal Signature (held, never delivered). Returns
/// (Bob's D-H Key, Alice's Reveal Signature).
fn alice_awaits_signature(fx: &mut Fixture) -> (String, String) {
    let commit = alice_commits(fx);
    let sent = fx.feed("bob", &commit);
    assert_eq!(sent.iter().map(|s| describe_send(s)).collect::<Vec<_>>(), ["dhkey"]);
    let key = sent[0].clone();
    let sent = fx.feed("alice", &key);
    assert_eq!(sent.iter().map(|s| describe_send(s)).collect::<Vec<_>>(), ["revealsig"]);
    (key, sent[0].clone())
}

/// Garbage of every AKE type from Bob's instance to Alice, well-formed and not: the events a
/// message of each kind must produce in the state the case set up.
fn ake_garbage(fx: &Fixture, reveal: &[Event], signature: &[Event]) -> Vec<Inj> {
    let (b, a) = (fx.bob_tag, fx.alice_tag);
    let mut truncated_commit = commit_bytes(b, a, 0x11);
    truncated_commit.truncate(100);
    let mut trailing_reveal = reveal_bytes(b, a, 0x22);
    trailing_reveal.push(0);
    vec![
        inj(armour::encode(&truncated_commit), &[Event::Malformed]),
        inj(armour::encode(&dh_key_with_mpi(b, a, &mpi(&[1]))), &[Event::Malformed]),
        inj(armour::encode(&dh_key_with_mpi(b, a, &mpi(&prime()))), &[Event::Malformed]),
        inj(armour::encode(&trailing_reveal), &[Event::Malformed]),
        inj(armour::encode(&reveal_bytes(b, a, 0x33)), reveal),
        inj(armour::encode(&signature_bytes(b, a, 0x44)), signature),
        inj(armour::encode(&header_bytes(MessageType::Signature, b, a)), &[Event::Malformed]),
    ]
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

static CATALOGUE: &[Case] = &[
    // ----- data messages: corrupted, lengthened, truncated -----
    case_with(
        "data_truncated_every_offset",
        |fx| {
            // Too short for a v3 header: malformed, not answered. From the header on the
            // message is routed to the session, whose parser refuses it: malformed, answered
            // with one "malformed" error (rate-limited). A one-byte message's armour does not
            // announce v3 at all: not OTR we speak.
            let bytes = fx.bob_bytes(GENUINE);
            (1..bytes.len())
                .map(|cut| {
                    let event = if cut == 1 { Event::ForeignProtocol } else { Event::Malformed };
                    inj(armour::encode(&bytes[..cut]), &[event])
                })
                .collect()
        },
        Sends::Exactly(&["error:malformed"]),
    ),
    case_with(
        "data_extended_by_one_byte",
        |fx| malformed(mutated(fx, |b| b.push(0))),
        Sends::Exactly(&["error:malformed"]),
    ),
    case("data_ciphertext_lengthened_under_the_mac", |fx| {
        // One more ciphertext byte, its length field matching: well-formed, MAC fails.
        unreadable(mutated(fx, |b| {
            let (_, ct_len, mac, _) = data_offsets(b);
            let len = get_u32(b, ct_len) as u32;
            put_u32(b, ct_len, len + 1);
            b.insert(mac, 0x5A);
        }))
    }),
    case("data_ciphertext_shortened_under_the_mac", |fx| {
        unreadable(mutated(fx, |b| {
            let (_, ct_len, mac, _) = data_offsets(b);
            let len = get_u32(b, ct_len) as u32;
            put_u32(b, ct_len, len - 1);
            b.remove(mac - 1);
        }))
    }),
    case("data_mac_bit_flips", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let (_, _, mac, _) = data_offsets(&bytes);
        (mac..mac + MAC_LEN)
            .map(|at| {
                let mut b = bytes.clone();
                b[at] ^= 0x10;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_ciphertext_bit_flips", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let (_, ct_len, mac, _) = data_offsets(&bytes);
        [ct_len + 4, ct_len + 5, (ct_len + mac) / 2, mac - 1]
            .iter()
            .flat_map(|&at| [0x01u8, 0x80].map(|bit| (at, bit)))
            .map(|(at, bit)| {
                let mut b = bytes.clone();
                b[at] ^= bit;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_authenticated_header_fields_flipped", |fx| {
        // Keyids, next DH key, counter: all under the MAC.
        let bytes = fx.bob_bytes(GENUINE);
        let (counter, _, _, _) = data_offsets(&bytes);
        [SENDER_KEYID + 3, RECIPIENT_KEYID + 3, NEXT_DH + 10, counter, counter + 7]
            .iter()
            .map(|&at| {
                let mut b = bytes.clone();
                b[at] ^= 0x01;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_keyids_zero_and_huge", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        [(SENDER_KEYID, 0u32), (RECIPIENT_KEYID, 0), (SENDER_KEYID, u32::MAX), (RECIPIENT_KEYID, u32::MAX)]
            .iter()
            .map(|&(at, value)| {
                let mut b = bytes.clone();
                put_u32(&mut b, at, value);
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_counter_zero_and_rewound", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let (counter, _, _, _) = data_offsets(&bytes);
        [[0u8; 8], [0xFF; 8]]
            .iter()
            .map(|value| {
                let mut b = bytes.clone();
                b[counter..counter + 8].copy_from_slice(value);
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_forged_ignore_unreadable_flag_is_silent", |fx| {
        // Setting the flag breaks the MAC; the failure is then silent by design (libotr).
        vec![inj(mutated(fx, |b| b[FLAGS] |= 0x01), &[])]
    }),
    case("data_ignore_unreadable_flag_with_bad_mac_is_silent", |fx| {
        let text = mutated(fx, |b| {
            b[FLAGS] |= 0x01;
            let last = b.len() - 5;
            b[last] ^= 0xFF;
        });
        vec![inj(text.clone(), &[]), inj(text, &[])]
    }),
    case("data_unknown_flag_bits", |fx| unreadable(mutated(fx, |b| b[FLAGS] |= 0xF0))),
    case_with(
        "data_next_dh_mpi_length_huge",
        |fx| {
            let bytes = fx.bob_bytes(GENUINE);
            [u32::MAX, 513, 0x8000_0000]
                .iter()
                .map(|&len| {
                    let mut b = bytes.clone();
                    put_u32(&mut b, NEXT_DH, len);
                    inj(armour::encode(&b), &[Event::Malformed])
                })
                .collect()
        },
        Sends::Exactly(&["error:malformed"]),
    ),
    case_with(
        "data_ciphertext_length_huge",
        |fx| {
            let bytes = fx.bob_bytes(GENUINE);
            let (_, ct_len, _, _) = data_offsets(&bytes);
            [u32::MAX, MAX_ENCODED_LEN as u32 + 1, 0x7FFF_FFFF]
                .iter()
                .map(|&len| {
                    let mut b = bytes.clone();
                    put_u32(&mut b, ct_len, len);
                    inj(armour::encode(&b), &[Event::Malformed])
                })
                .collect()
        },
        Sends::Exactly(&["error:malformed"]),
    ),
    case_with(
        "data_revealed_mac_keys_bad_lengths",
        |fx| {
            let bytes = fx.bob_bytes(GENUINE);
            let (_, _, _, reveal) = data_offsets(&bytes);
            let mut odd = bytes[..reveal].to_vec();
            odd.extend_from_slice(&19u32.to_be_bytes());
            odd.extend_from_slice(&[0; 19]);
            let mut many = bytes[..reveal].to_vec();
            many.extend_from_slice(&(129 * 20u32).to_be_bytes());
            many.extend_from_slice(&[0; 129 * 20]);
            let mut huge = bytes[..reveal].to_vec();
            huge.extend_from_slice(&u32::MAX.to_be_bytes());
            vec![
                inj(armour::encode(&odd), &[Event::Malformed]),
                inj(armour::encode(&many), &[Event::Malformed]),
                inj(armour::encode(&huge), &[Event::Malformed]),
            ]
        },
        Sends::Exactly(&["error:malformed"]),
    ),
    case("data_revealed_mac_keys_added_are_not_authenticated", |fx| {
        // The reveal field is outside the MAC: Bob's genuine message with forged reveals is
        // still his genuine message (delivered once), and the forged keys change nothing.
        let bytes = fx.bob_bytes(GENUINE);
        let (_, _, _, reveal) = data_offsets(&bytes);
        let mut forged = bytes[..reveal].to_vec();
        forged.extend_from_slice(&(3 * 20u32).to_be_bytes());
        forged.extend_from_slice(&[0xAB; 60]);
        vec![Inj {
            delivered: vec![(Security::EncryptedUnverified, GENUINE.as_bytes().to_vec())],
            ..inj(armour::encode(&forged), &[])
        }]
    }),
    case_with(
        "data_header_only_and_empty_body",
        |fx| {
            let (b, a) = (fx.bob_tag, fx.alice_tag);
            vec![
                inj(armour::encode(&header_bytes(MessageType::Data, b, a)), &[Event::Malformed]),
                inj(armour::encode(&[header_bytes(MessageType::Data, b, a), vec![0]].concat()), &[Event::Malformed]),
            ]
        },
        Sends::Exactly(&["error:malformed"]),
    ),
    case_with(
        "data_replayed_after_delivery",
        |fx| {
            let genuine = fx.bob_msg(GENUINE);
            assert_eq!(fx.inject(&genuine).delivered.len(), 1);
            (0..20).map(|_| inj(genuine.clone(), &[Event::Unreadable])).collect()
        },
        Sends::Exactly(&["error:unreadable"]),
    ),
    case_with(
        "data_old_message_replayed_after_key_rotation",
        |fx| {
            // The message Bob sent during setup, after both sides rotated keys again.
            let old = fx.old_wire.clone();
            for round in 0..2 {
                fx.net.send("alice", "bob", &format!("rotate {round}"));
                fx.net.run();
                fx.net.send("bob", "alice", &format!("rotate back {round}"));
                fx.net.run();
            }
            unreadable(old)
        },
        Sends::Exactly(&["error:unreadable"]),
    ),
    case("data_unreadable_flood_one_error_per_interval", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let mut out: Vec<Inj> = (0..200)
            .map(|i| {
                let mut b = bytes.clone();
                let (_, _, mac, _) = data_offsets(&b);
                b[mac + i % MAC_LEN] ^= (i % 255 + 1) as u8;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect();
        // 9 s later: still within the interval.
        out.push(later(9, inj(out[0].text.clone(), &[Event::Unreadable])));
        out
    }),
    case_with(
        "data_unreadable_again_after_the_interval",
        |fx| {
            let bytes = fx.bob_bytes(GENUINE);
            let mut b = bytes.clone();
            b[30] ^= 1;
            let text = armour::encode(&b);
            vec![
                inj(text.clone(), &[Event::Unreadable]),
                later(5, inj(text.clone(), &[Event::Unreadable])),
                later(5, inj(text.clone(), &[Event::Unreadable])),
                later(1, inj(text, &[Event::Unreadable])),
            ]
        },
        Sends::Exactly(&["error:unreadable", "error:unreadable"]),
    ),
    case("data_all_zero_and_all_ff", |fx| {
        let len = fx.bob_bytes(GENUINE).len();
        let mut zeros = vec![0u8; len];
        zeros[1] = 3;
        // Real tags, then all ones: the flags say "ignore if unreadable", so no error goes out.
        let mut ffs = vec![0xFFu8; len];
        ffs[..11].copy_from_slice(&header_bytes(MessageType::Data, fx.bob_tag, fx.alice_tag));
        vec![inj(armour::encode(&zeros), &[Event::Malformed]), inj(armour::encode(&ffs), &[Event::Malformed])]
    }),
    case("data_html_and_utf8_delivered_exactly", |fx| {
        // Not hostile to the engine, hostile to a UI: delivered byte for byte, never altered.
        let texts = [
            "<b>bold</b> &amp; <a href=\"javascript:alert(1)\">x</a>",
            "h\u{e9}llo \u{2603} \u{1F600} \u{202E}evil\u{202C} \u{200B}",
            "?OTRv3? inside an encrypted message",
            "?OTR Error: not an error, a message",
        ];
        texts
            .iter()
            .map(|t| {
                let wire = fx.bob_msg(t);
                Inj { delivered: vec![(Security::EncryptedUnverified, t.as_bytes().to_vec())], ..inj(wire, &[]) }
            })
            .collect()
    }),
    // ----- instance tags and headers -----
    case("tag_receiver_other_instance", |fx| {
        [0x9999_9999u32, 0xFFFF_FFFF, 0x100, 0]
            .iter()
            .map(|&r| inj(mutated(fx, |b| put_u32(b, RECEIVER, r)), &[Event::ForOtherInstance]))
            .collect()
    }),
    case("tag_receiver_reserved", |fx| {
        [1u32, 0x42, 0xFF].iter().map(|&r| inj(mutated(fx, |b| put_u32(b, RECEIVER, r)), &[Event::Malformed])).collect()
    }),
    case("tag_sender_below_0x100", |fx| {
        [0u32, 1, 0x42, 0xFF]
            .iter()
            .map(|&s| inj(mutated(fx, |b| put_u32(b, SENDER, s)), &[Event::Malformed]))
            .collect()
    }),
    case("tag_sender_is_ours", |fx| {
        let ours = fx.alice_tag;
        vec![inj(mutated(fx, |b| put_u32(b, SENDER, ours)), &[Event::Reflected])]
    }),
    case("tag_reflected_own_message", |fx| {
        // Alice's own message to Bob, bounced back to her unchanged (Bob still gets it).
        fx.net.send("alice", "bob", "bounce me");
        let (_, _, wire) = fx.net.queue.back().unwrap().clone();
        fx.net.run();
        vec![inj(wire.clone(), &[Event::Reflected]), inj(wire, &[Event::Reflected])]
    }),
    case("tag_sender_unknown_instance", |fx| {
        [0x5555_5555u32, 0x100, 0xFFFF_FFFF]
            .iter()
            .map(|&s| inj(mutated(fx, |b| put_u32(b, SENDER, s)), &[Event::NotInPrivate]))
            .collect()
    }),
    case("tag_sender_unknown_instance_quiet_flag", |fx| {
        vec![inj(
            mutated(fx, |b| {
                put_u32(b, SENDER, 0x5555_5555);
                b[FLAGS] |= 0x01;
            }),
            &[],
        )]
    }),
    case("tag_v2_header_in_a_v3_session", |fx| {
        // Bob's message re-headed as v2 (`?OTR:AAI`, no tags): there is no v2 session.
        let bytes = fx.bob_bytes(GENUINE);
        let v2 = [&[0u8, 2, 3][..], &bytes[11..]].concat();
        let text = armour::encode(&v2);
        assert!(text.starts_with("?OTR:AAID"));
        not_in_private(text)
    }),
    case("tag_v2_message_inside_v3_fragments", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let v2 = armour::encode(&[&[0u8, 2, 3][..], &bytes[11..]].concat());
        let pieces = split(&v2, 120, OtrVersion::V3, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| inj(p, if i + 1 == n { &[Event::NotInPrivate] } else { &[] }))
            .collect()
    }),
    case("tag_v3_message_inside_v2_fragments_is_still_bobs", |fx| {
        // The fragment form is transport; the v3 message inside is authenticated: delivered once.
        let genuine = fx.bob_msg(GENUINE);
        let pieces = split(&genuine, 120, OtrVersion::V2, InstanceTag::NONE, InstanceTag::NONE).unwrap();
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                if i + 1 == n {
                    Inj { delivered: vec![(Security::EncryptedUnverified, GENUINE.as_bytes().to_vec())], ..inj(p, &[]) }
                } else {
                    inj(p, &[])
                }
            })
            .collect()
    }),
    case("tag_unknown_message_type", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        // From 0x40 on the type changes the armour's third character ("?OTR:AAP"): the text no
        // longer announces v3 and is foreign.
        [(0x00u8, Event::Malformed), (0x01, Event::Malformed), (0x04, Event::Malformed), (0x13, Event::Malformed)]
            .into_iter()
            .chain([(0x35, Event::Malformed), (0x40, Event::ForeignProtocol), (0xFF, Event::ForeignProtocol)])
            .map(|(t, event)| {
                let mut b = bytes.clone();
                b[2] = t;
                inj(armour::encode(&b), &[event])
            })
            .collect()
    }),
    case("tag_data_retyped_as_ake_messages", |fx| {
        // A data message's body parsed as each AKE message: malformed, nothing else happens.
        let bytes = fx.bob_bytes(GENUINE);
        [MessageType::DhCommit, MessageType::DhKey, MessageType::RevealSignature, MessageType::Signature]
            .iter()
            .map(|t| {
                let mut b = bytes.clone();
                b[2] = t.wire();
                inj(armour::encode(&b), &[Event::Malformed])
            })
            .collect()
    }),
    // ----- AKE: garbage, replays, every state -----
    case("ake_garbage_awaiting_dh_key", |fx| {
        // Alice sends a new commit to every instance; Bob's instance meets a copy of it: a
        // Reveal Signature or a Signature is out of place there and ignored.
        alice_commits(fx);
        ake_garbage(fx, &[], &[])
    }),
    case("ake_garbage_when_idle", |fx| {
        // Once that commit timed out, nothing but a commit starts an exchange: every other AKE
        // message from Bob's instance is dropped unread.
        expire_alice_commit(fx);
        let mut out = ake_garbage(fx, &[], &[]);
        out.retain(|i| !describe_send(&i.text).starts_with("commit"));
        for i in &mut out {
            i.events.clear();
        }
        out
    }),
    case_with(
        "ake_garbage_awaiting_reveal_signature",
        |fx| {
            alice_awaits_reveal(fx);
            // The commit does not open with a garbage r: refused, and the exchange goes on.
            ake_garbage(fx, &[failed()], &[])
        },
        Sends::Exactly(&[]),
    ),
    case_with(
        "ake_garbage_awaiting_signature",
        |fx| {
            let (key, _) = alice_awaits_signature(fx);
            let mut out = ake_garbage(fx, &[], &[failed()]);
            // Bob's D-H Key again: the same Reveal Signature goes out again (libotr's rule).
            out.push(inj(key, &[]));
            out
        },
        Sends::Exactly(&["revealsig"]),
    ),
    case_with(
        "ake_old_signature_replayed_awaiting_signature",
        |fx| {
            let old = fx.logged("bob", "signature").remove(0);
            alice_awaits_signature(fx);
            vec![inj(old.clone(), &[failed()]), inj(old, &[failed()])]
        },
        Sends::Exactly(&[]),
    ),
    case_with(
        "ake_old_messages_replayed_awaiting_reveal_signature",
        |fx| {
            let old_key = fx.logged("bob", "dhkey").remove(0);
            let old_signature = fx.logged("bob", "signature").remove(0);
            alice_awaits_reveal(fx);
            vec![inj(old_key, &[]), inj(old_signature, &[])]
        },
        Sends::Exactly(&[]),
    ),
    case_with(
        "ake_replayed_commit_and_reveal_signature",
        |fx| {
            // Bob re-keys once (a genuine exchange, Bob initiating), then the attacker replays
            // that exchange's commit and Reveal Signature: Alice answers the commit with a fresh
            // D-H Key, so the old Reveal Signature cannot authenticate.
            expire_alice_commit(fx);
            let commit = bob_commits(fx);
            fx.net.queue.push_back(("bob".into(), "alice".into(), commit.clone()));
            fx.net.run();
            let reveal = fx.logged("bob", "revealsig").pop().unwrap();
            assert!(fx.net.party("alice").saw(&Event::LegacySessionStarted { protocol: Protocol::OtrV3 }));
            fx.old_wire = fx.bob_msg("after the re-key");
            assert_eq!(fx.inject(&fx.old_wire.clone()).delivered.len(), 1);
            vec![inj(commit.clone(), &[]), inj(reveal.clone(), &[failed()]), inj(reveal, &[failed()])]
        },
        Sends::Exactly(&["dhkey"]),
    ),
    Case {
        name: "ake_replayed_dh_key_and_signature_do_not_reset_the_session",
        build: |fx| {
            // The attacker replays the D-H Key and the Signature Bob sent during setup. Alice
            // still keeps her commit to every instance (for other instances to answer), but
            // Bob's instance already completed with it: the replayed key meets nothing and is
            // ignored, and so is the Signature. Nothing is installed anew (which would reset
            // the counters and let every old message be replayed); if it ever were, the
            // refresh check (same ssid as the running session) stops it too.
            let key = fx.logged("bob", "dhkey").remove(0);
            let signature = fx.logged("bob", "signature").remove(0);
            let old = fx.old_wire.clone();
            vec![inj(key, &[]), inj(signature, &[]), inj(old, &[Event::Unreadable])]
        },
        sends: Sends::Exactly(&["error:unreadable"]),
        policy: None,
        bug: None,
    },
    case_with(
        "ake_commit_flood_from_bobs_instance",
        |fx| {
            // Every commit is answered with the same D-H Key (libotr's AWAITING_REVEALSIG rule):
            // one small message per commit, no computation, nothing stored beyond one exchange.
            let (b, a) = (fx.bob_tag, fx.alice_tag);
            (0..50u8).map(|i| inj(armour::encode(&commit_bytes(b, a, i)), &[])).collect()
        },
        Sends::Repeated("dhkey", 50),
    ),
    case_with(
        "ake_commits_from_many_instances_are_capped",
        |fx| {
            // Each new instance's commit costs an exchange; past the cap they are dropped.
            let a = fx.alice_tag;
            (0..(MAX_PENDING_RESPONDERS as u32 + 4))
                .map(|i| {
                    let text = armour::encode(&commit_bytes(0x7000_0000 + i, a, 0x55));
                    if (i as usize) < MAX_PENDING_RESPONDERS {
                        inj(text, &[])
                    } else {
                        inj(text, &[Event::InputDropped])
                    }
                })
                .collect()
        },
        Sends::Repeated("dhkey", MAX_PENDING_RESPONDERS),
    ),
    case_with(
        "ake_v2_commit_in_a_v3_session_is_answered_never_installed",
        |_| {
            // Anyone may start an AKE, v2 included (the policy allows it): Alice answers with a
            // v2 D-H Key, and garbage can never complete it.
            let mut commit = vec![0u8, 2, MessageType::DhCommit.wire()];
            commit.extend_from_slice(&mpi(&[0x42; 196]));
            commit.extend_from_slice(&mpi(&[0xFF; 32]));
            let mut reveal = vec![0u8, 2, MessageType::RevealSignature.wire()];
            reveal.extend_from_slice(&mpi(&[0x11; 16]));
            reveal.extend_from_slice(&mpi(&[0x22; 466]));
            reveal.extend_from_slice(&[0x33; 20]);
            vec![inj(armour::encode(&commit), &[]), inj(armour::encode(&reveal), &[failed()])]
        },
        Sends::Exactly(&["dhkey"]),
    ),
    case("ake_commit_to_other_instance", |fx| {
        let b = fx.bob_tag;
        vec![inj(armour::encode(&commit_bytes(b, 0x9999_9999, 1)), &[Event::ForOtherInstance])]
    }),
    case("ake_messages_with_receiver_zero", |fx| {
        // Only a D-H Commit may go to "any instance".
        let b = fx.bob_tag;
        vec![
            inj(armour::encode(&reveal_bytes(b, 0, 1)), &[Event::ForOtherInstance]),
            inj(armour::encode(&signature_bytes(b, 0, 1)), &[Event::ForOtherInstance]),
            inj(armour::encode(&dh_key_with_mpi(b, 0, &mpi(&[4]))), &[Event::ForOtherInstance]),
        ]
    }),
    case("ake_reflected_own_commit", |fx| {
        let commit = alice_commits(fx);
        vec![inj(commit.clone(), &[Event::Reflected]), inj(commit, &[Event::Reflected])]
    }),
    case("ake_reflected_own_reveal_signature", |fx| {
        let (_, reveal) = alice_awaits_signature(fx);
        vec![inj(reveal, &[Event::Reflected])]
    }),
    case("ake_dh_key_huge_mpi_lengths", |fx| {
        alice_commits(fx);
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let mut lengths: Vec<Vec<u8>> =
            [u32::MAX, 0x8000_0000, 513, 193].iter().map(|l| l.to_be_bytes().to_vec()).collect();
        lengths[3].extend_from_slice(&[0x11; 193]);
        lengths.push(mpi(&[]));
        lengths.push(mpi(&[0; 192]));
        lengths.iter().map(|m| inj(armour::encode(&dh_key_with_mpi(b, a, m)), &[Event::Malformed])).collect()
    }),
    case("ake_dh_key_out_of_range_values", |fx| {
        alice_commits(fx);
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let p = prime();
        let mut p_minus_1 = p.clone();
        *p_minus_1.last_mut().unwrap() -= 1;
        let mut two_to_1536 = vec![1u8];
        two_to_1536.extend_from_slice(&[0; 192]);
        [vec![0u8], vec![1], p_minus_1, p, two_to_1536, vec![0xFF; 192]]
            .iter()
            .map(|v| inj(armour::encode(&dh_key_with_mpi(b, a, &mpi(v))), &[Event::Malformed]))
            .collect()
    }),
    case("ake_huge_data_lengths", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let mut commit = header_bytes(MessageType::DhCommit, b, a);
        commit.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut commit_long = header_bytes(MessageType::DhCommit, b, a);
        commit_long.extend_from_slice(&mpi(&[7; 517]));
        commit_long.extend_from_slice(&mpi(&[7; 32]));
        let mut reveal = header_bytes(MessageType::RevealSignature, b, a);
        reveal.extend_from_slice(&mpi(&[1; 16]));
        reveal.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut reveal_long = header_bytes(MessageType::RevealSignature, b, a);
        reveal_long.extend_from_slice(&mpi(&[1; 16]));
        reveal_long.extend_from_slice(&mpi(&[2; 1025]));
        reveal_long.extend_from_slice(&[3; 20]);
        let mut signature = header_bytes(MessageType::Signature, b, a);
        signature.extend_from_slice(&0x8000_0000u32.to_be_bytes());
        [commit, commit_long, reveal, reveal_long, signature]
            .iter()
            .map(|m| inj(armour::encode(m), &[Event::Malformed]))
            .collect()
    }),
    // ----- fragments -----
    case("frag_k_zero_n_zero_k_above_n", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(b, a, "0", "2", "?OTR:AA"), &[Event::Malformed]),
            inj(frag(b, a, "1", "0", "?OTR:AA"), &[Event::Malformed]),
            inj(frag(b, a, "3", "2", "AAAA"), &[Event::Malformed]),
        ]
    }),
    case("frag_n_65536_and_beyond", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(b, a, "1", "65536", "?OTR:AA"), &[Event::Malformed]),
            inj(frag(b, a, "65536", "65536", "AA."), &[Event::Malformed]),
            inj(frag(b, a, "1", "99999999999", "?OTR:AA"), &[Event::Malformed]),
        ]
    }),
    case("frag_n_65535_accepted_and_bounded", |fx| {
        // A legal but absurd count: held like any piece, never completed.
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![inj(frag(b, a, "1", "65535", "?OTR:AA"), &[]), inj(frag(b, a, "2", "65535", "AA"), &[])]
    }),
    case("frag_sender_below_0x100", |fx| {
        let a = fx.alice_tag;
        vec![
            inj(frag(0x42, a, "1", "2", "?OTR:AA"), &[Event::Malformed]),
            inj(frag(0, a, "1", "2", "?OTR:AA"), &[Event::Malformed]),
        ]
    }),
    case("frag_for_other_instance_is_dropped_silently", |fx| {
        let b = fx.bob_tag;
        vec![inj(frag(b, 0x9999_9999, "1", "2", "?OTR:AA"), &[]), inj(frag(b, 0x100, "1", "1", "?OTR:AAMD."), &[])]
    }),
    case("frag_out_of_order_dropped_silently", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        let pieces = split(&genuine, 100, OtrVersion::V3, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        assert!(pieces.len() >= 3);
        // Piece 2 first, then 1, 3 (skipping 2), then the rest: never reassembled.
        let mut out = vec![inj(pieces[1].clone(), &[]), inj(pieces[0].clone(), &[])];
        out.extend(pieces[2..].iter().map(|p| inj(p.clone(), &[])));
        out
    }),
    case("frag_interleaved_instances", |fx| {
        // Bob's genuine message and a stranger's garbage, piece by piece: Bob's is delivered
        // once, the stranger's completes and is not in private.
        let genuine = fx.bob_msg(GENUINE);
        let bob = split(&genuine, 100, OtrVersion::V3, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        let stranger_message = mutated(fx, |b| put_u32(b, SENDER, 0x6666_6666));
        let stranger =
            split(&stranger_message, 100, OtrVersion::V3, InstanceTag(0x6666_6666), InstanceTag(fx.alice_tag)).unwrap();
        assert_eq!(bob.len(), stranger.len());
        let n = bob.len();
        let mut out = Vec::new();
        for i in 0..n {
            if i + 1 == n {
                out.push(Inj {
                    delivered: vec![(Security::EncryptedUnverified, GENUINE.as_bytes().to_vec())],
                    ..inj(bob[i].clone(), &[])
                });
                out.push(inj(stranger[i].clone(), &[Event::NotInPrivate]));
            } else {
                out.push(inj(bob[i].clone(), &[]));
                out.push(inj(stranger[i].clone(), &[]));
            }
        }
        out
    }),
    case("frag_two_messages_interleaved_from_one_instance_loses_the_first", |fx| {
        // libotr's single buffer per instance (P9): piece 1 of the second restarts it.
        let first = fx.bob_msg("first of two");
        let second = fx.bob_msg("second of two");
        let (b, a) = (InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag));
        let x = split(&first, 100, OtrVersion::V3, b, a).unwrap();
        let y = split(&second, 100, OtrVersion::V3, b, a).unwrap();
        let n = y.len();
        let mut out = vec![inj(x[0].clone(), &[]), inj(x[1].clone(), &[])];
        out.extend(y.iter().enumerate().map(|(i, p)| {
            if i + 1 == n {
                Inj {
                    delivered: vec![(Security::EncryptedUnverified, b"second of two".to_vec())],
                    ..inj(p.clone(), &[])
                }
            } else {
                inj(p.clone(), &[])
            }
        }));
        // The rest of the first: out of order now, dropped silently.
        out.extend(x[2..].iter().map(|p| inj(p.clone(), &[])));
        out
    }),
    case("frag_of_tampered_message", |fx| {
        let text = mutated(fx, |b| {
            let at = b.len() - 30;
            b[at] ^= 1;
        });
        let pieces = split(&text, 90, OtrVersion::V3, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| inj(p, if i + 1 == n { &[Event::Unreadable] } else { &[] }))
            .collect()
    }),
    case("frag_reassembling_to_a_query_or_text_starts_nothing", |fx| {
        // Only an encoded message is acted on after reassembly: no AKE, nothing shown.
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(b, a, "1", "2", "?OTRv"), &[]),
            inj(frag(b, a, "2", "2", "3?"), &[Event::Malformed]),
            inj(frag(b, a, "1", "1", "hello"), &[Event::Malformed]),
            inj(frag(b, a, "1", "1", "?OTR:AAE."), &[Event::Malformed]),
        ]
    }),
    case("frag_nested_fragment", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let inner = frag(b, a, "1", "1", "?OTR:AAMD.");
        vec![inj(frag(b, a, "1", "1", &inner), &[Event::Malformed])]
    }),
    case("frag_otrv4_form_is_foreign", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![inj(format!("?OTR|00000001|{b:08x}|{a:08x},1,2,?OTR:AAQD,"), &[Event::ForeignProtocol])]
    }),
    case("frag_flood_tiny_from_one_instance", |fx| {
        // Each piece 1 restarts the instance's one buffer: bounded and silent.
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        (0..20_000).map(|_| inj(frag(b, a, "1", "2", "?OTR:A"), &[])).collect()
    }),
    case("frag_flood_many_senders", |fx| {
        let a = fx.alice_tag;
        (0..3000u32).map(|i| inj(frag(0x1000_0000 + i, a, "1", "512", "?OTR:A"), &[])).collect()
    }),
    case("frag_flood_past_the_budget_is_dropped", |fx| {
        // Large first pieces from 64 instances: the unauthenticated budget (4 MiB) holds some,
        // then every further piece is refused with InputDropped.
        let a = fx.alice_tag;
        let piece = format!("?OTR:{}", "A".repeat(100_000));
        let cost = OTR_BUFFER_OVERHEAD + piece.len();
        let fits = DEFAULT_UNAUTHENTICATED_BUDGET / cost;
        assert!(fits < 64);
        (0..64u32)
            .map(|i| {
                let text = frag(0x2000_0000 + i, a, "1", "2", &piece);
                if (i as usize) < fits {
                    inj(text, &[])
                } else {
                    inj(text, &[Event::InputDropped])
                }
            })
            .collect()
    }),
    case("frag_reassembles_past_the_size_cap", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let half = "A".repeat(MAX_ENCODED_LEN / 2 + 10);
        vec![
            inj(frag(b, a, "1", "2", &format!("?OTR:{half}")), &[]),
            inj(frag(b, a, "2", "2", &format!("{half}.")), &[Event::Malformed]),
        ]
    }),
    // ----- text layer: errors, queries, foreign versions, plaintext -----
    case("text_otr_error_flood_never_answered", |_| {
        (0..1000).map(|_| inj("?OTR Error: boom", &[Event::PeerError { text: "boom".into() }])).collect()
    }),
    case("text_otr_error_long_is_bounded", |_| {
        let text = format!("?OTR Error: {}", "x".repeat(10_000));
        vec![inj(text, &[Event::PeerError { text: "x".repeat(256) }])]
    }),
    case("text_otr_error_odd_contents", |_| {
        vec![
            inj("?OTR Error:", &[Event::PeerError { text: String::new() }]),
            inj("?OTR Error: ?OTRv3?", &[Event::PeerError { text: "?OTRv3?".into() }]),
            inj(
                format!("?OTR Error: {}", otr_error::ERROR_UNREADABLE),
                &[Event::PeerError { text: ERROR_UNREADABLE.into() }],
            ),
        ]
    }),
    Case {
        name: "text_otr_error_flood_with_error_start_ake_one_query_per_interval",
        build: |_| {
            let mut out: Vec<Inj> =
                (0..100).map(|_| inj("?OTR Error: boom", &[Event::PeerError { text: "boom".into() }])).collect();
            out.push(later(10, inj("?OTR Error: boom", &[Event::PeerError { text: "boom".into() }])));
            out.extend((0..100).map(|_| inj("?OTR Error: boom", &[Event::PeerError { text: "boom".into() }])));
            out
        },
        sends: Sends::Exactly(&["query", "query"]),
        policy: Some(|| OTR_ONLY | Policy::ERROR_START_AKE),
        bug: None,
    },
    case_with(
        "text_query_flood_one_commit_per_two_seconds",
        |fx| {
            fx.net.now += 3;
            let mut out: Vec<Inj> = (0..300).map(|_| inj("?OTRv3?", &[])).collect();
            out.push(later(1, inj("?OTRv23?", &[])));
            out.push(later(1, inj("?OTRv3?", &[])));
            out.extend((0..300).map(|_| inj("?OTRv3? again", &[])));
            out
        },
        Sends::Repeated("commit", 2),
    ),
    case("text_foreign_otr_versions", |_| {
        vec![
            inj("?OTR?", &[Event::ForeignProtocol]),
            inj("?OTRv4?", &[Event::ForeignProtocol]),
            inj("?OTR:AAEDAAAAAQAAAAEAAAA.", &[Event::ForeignProtocol]),
            inj("?OTR:AAQDAAAAAQAAAAEAAAA.", &[Event::ForeignProtocol]),
            inj("?OTR:AAXDAAAAAQ.", &[Event::ForeignProtocol]),
        ]
    }),
    case("text_plaintext_while_encrypted", |_| {
        let html = "<b>hi</b> &lt;script&gt; \u{2603}";
        vec![
            inj_plain(html, &[Event::UnencryptedWhileEncrypted], html),
            inj_plain(format!("tagged{OTR_TAG_BASE}{OTR_TAG_V3}"), &[Event::UnencryptedWhileEncrypted], "tagged"),
            inj_plain("mentions ?OTR in passing", &[Event::UnencryptedWhileEncrypted], "mentions ?OTR in passing"),
        ]
    }),
    case("text_armour_broken", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        let mid = genuine.len() / 2;
        vec![
            inj(genuine.strip_suffix('.').unwrap(), &[Event::Malformed]),
            inj(format!("{}*{}", &genuine[..mid], &genuine[mid..]), &[Event::Malformed]),
            inj("?OTR:AAM.", &[Event::Malformed]),
            inj(format!("?OTR:AAM{}.", "A".repeat(MAX_ENCODED_LEN)), &[Event::Malformed]),
        ]
    }),
];

/// Bob's message under a header the session does not have: not in private.
fn not_in_private(text: String) -> Vec<Inj> {
    vec![inj(text, &[Event::NotInPrivate])]
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const GROUPS: [&str; 5] = ["data_", "tag_", "ake_", "frag_", "text_"];

#[test]
fn catalogue_has_uniquely_named_cases_in_known_groups() {
    assert!(CATALOGUE.len() >= 60, "only {} cases", CATALOGUE.len());
    let mut names: Vec<&str> = CATALOGUE.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "duplicate case names");
    for case in CATALOGUE {
        assert!(GROUPS.iter().any(|g| case.name.starts_with(g)), "{} is in no group", case.name);
    }
}

#[test]
fn hostile_otr_data_messages() {
    run_group("data_");
}

#[test]
fn hostile_otr_instance_tags_and_headers() {
    run_group("tag_");
}

#[test]
fn hostile_otr_ake() {
    run_group("ake_");
}

#[test]
fn hostile_otr_fragments() {
    run_group("frag_");
}

#[test]
fn hostile_otr_text_layer() {
    run_group("text_");
}

/// An unreadable report goes to Bob, who must not answer it (an error is never answered with
/// an error): corrupted traffic can never make the two clients ping-pong.
#[test]
fn unreadable_reports_never_loop_between_two_clients() {
    let mut fx = Fixture::new();
    let before = fx.net.wire_log.len();
    for i in 0..20u8 {
        let text = mutated(&mut fx, |b| {
            let (_, _, mac, _) = data_offsets(b);
            b[mac] ^= i + 1;
        });
        fx.net.queue.push_back(("bob".into(), "alice".into(), text));
        fx.net.now += 3;
        fx.net.run();
    }
    let traffic: Vec<String> =
        fx.net.wire_log[before..].iter().map(|(from, _, t)| format!("{from}: {}", describe_send(t))).collect();
    // 20 corrupted messages 3 s apart (at 3, 6 ... 60 s): one report per 10 s from Alice (at 3,
    // 15, 27, 39 and 51 s), nothing back from Bob.
    let reports = traffic.iter().filter(|t| *t == "alice: error:unreadable").count();
    assert_eq!(reports, 5, "{traffic:?}");
    assert_eq!(traffic.len(), 20 + reports, "Bob answered a report: {traffic:?}");
    assert_eq!(fx.net.party("bob").count(|e| matches!(e, Event::PeerError { .. })), reports);
    fx.assert_still_works();
}

/// Regression (fixed; was a bug in src/conversation/peer/otr.rs, `receive_otr_ake`, which
/// installed a new session whenever an AKE completed, even when the exchange was a replay that
/// derived the running session's keys: the counters and key ids started over and Bob's old
/// data messages were delivered again; libotr treats such an exchange as a refresh).
#[test]
fn bug_ake_replayed_dh_key_and_signature_do_not_reset_the_session() {
    run_named("ake_replayed_dh_key_and_signature_do_not_reset_the_session");
}
