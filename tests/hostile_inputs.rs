//! The hostile-input catalogue: named cases, each a list of texts injected into Alice as if
//! from "bob", with the exact events each text must produce. For every case the runner checks
//! (inside `catch_unwind`, so a panic names its case):
//!
//! 1. no panic;
//! 2. exactly the expected events per injected text, no state-change action, and no `Deliver`
//!    except the exact deliveries the case lists (plaintext the peer really sent in the clear,
//!    or a genuine encrypted body);
//! 3. Alice sends nothing, except exactly one `?OFR Error: unreadable encrypted message` when
//!    a text was unreadable/not in private (rate-limited: one per case however many), or what
//!    the case explicitly allows (an SMP abort, a handshake Reply);
//! 4. `Client::sessions("bob")` is unchanged;
//! 5. afterwards genuine messages still flow both ways with both of Bob's instances.
//!
//! See `hostile/fixture.rs` for the fixture (a real Bob and a puppet Bob whose ratchet the
//! tests hold, to encrypt bodies no `Client` would produce).

#[path = "hostile/fixture.rs"]
mod fixture;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use fixture::{ake_of, Fixture, Outcome, PUPPET_TAG};
use offrec::ake::message::header_bytes;
use offrec::ake::AkeKind;
use offrec::conversation::{ClientError, Event, Policy, Security, SessionInfo, UNREADABLE_ERROR_TEXT};
use offrec::crypto::{DeterministicRandom, DhKeyPair};
use offrec::ratchet::MAX_SKIP;
use offrec::smp::{Smp, SmpContext};
use offrec::wire::data_message::{FIXED_HEADER_LEN, FLAG_IGNORE_UNREADABLE};
use offrec::wire::whitespace::{OTR_TAG_BASE, TAG_BASE};
use offrec::wire::{armour, error_message, fragment, InstanceTag, MAX_ENCODED_LEN};

// ---------------------------------------------------------------------------------------------
// The catalogue's types
// ---------------------------------------------------------------------------------------------

/// One text from "bob" and exactly what it must produce.
struct Inj {
    text: String,
    events: Vec<Event>,
    delivered: Vec<(Security, Vec<u8>)>,
}

fn inj(text: impl Into<String>, events: &[Event]) -> Inj {
    Inj { text: text.into(), events: events.to_vec(), delivered: Vec::new() }
}

fn inj_plain(text: impl Into<String>, events: &[Event], shown: &str) -> Inj {
    Inj {
        text: text.into(),
        events: events.to_vec(),
        delivered: vec![(Security::Plaintext, shown.as_bytes().to_vec())],
    }
}

/// What Alice may send while the case's texts are injected.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sends {
    /// Exactly one error message if any text was Unreadable/NotInPrivate, else nothing.
    Auto,
    /// One encrypted SMP abort (a data message to the puppet) per text.
    SmpAbortEach,
    /// One handshake Reply (a Start is unauthenticated: anyone may begin a handshake).
    OneAkeReply,
    /// One handshake Start however many queries arrive (a query asks us to start one).
    OneAkeStart,
    /// At most one query however many error messages arrive (policy ERROR_START_AKE).
    OneQuery,
    /// Nothing at all: copies of a message already read lose nothing, so no report.
    Nothing,
}

/// How the sessions may differ afterwards.
#[derive(Clone, Copy, Debug, PartialEq)]
enum After {
    Unchanged,
    /// The SMP run that was in progress with the puppet was reset (and nothing else).
    PuppetSmpReset,
}

struct Case {
    name: &'static str,
    build: fn(&mut Fixture) -> Vec<Inj>,
    sends: Sends,
    after: After,
    /// `Some(explanation)` if the case exposes a bug in src/: it is skipped by the catalogue
    /// run and kept as an ignored test of its own.
    bug: Option<&'static str>,
}

const fn case(name: &'static str, build: fn(&mut Fixture) -> Vec<Inj>) -> Case {
    Case { name, build, sends: Sends::Auto, after: After::Unchanged, bug: None }
}

const fn case_with(name: &'static str, build: fn(&mut Fixture) -> Vec<Inj>, sends: Sends, after: After) -> Case {
    Case { name, build, sends, after, bug: None }
}

const fn bug(name: &'static str, build: fn(&mut Fixture) -> Vec<Inj>, why: &'static str) -> Case {
    Case { name, build, sends: Sends::Auto, after: After::Unchanged, bug: Some(why) }
}

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

fn run_case(case: &Case) {
    let mut fx = Fixture::new();
    let injections = (case.build)(&mut fx);
    let before = fx.sessions();
    let mut sends = Vec::new();
    let mut complained = false;
    for (i, injection) in injections.iter().enumerate() {
        let Outcome { sends: sent, delivered, states, events } = fx.inject(&injection.text);
        let shown = if injection.text.len() > 120 { &injection.text[..120] } else { &injection.text };
        assert_eq!(events, injection.events, "events of text #{i}: {shown:?}");
        assert_eq!(delivered, injection.delivered, "deliveries of text #{i}: {shown:?}");
        assert!(states.is_empty(), "state changed by text #{i}: {states:?}");
        complained |= events.iter().any(|e| matches!(e, Event::Unreadable | Event::NotInPrivate));
        if case.sends == Sends::SmpAbortEach {
            assert_eq!(sent.len(), 1, "text #{i} must be answered by one SMP abort");
            let text = fx.puppet_read(&sent[0]);
            assert!(text.is_empty());
        } else {
            sends.extend(sent);
        }
    }
    match case.sends {
        Sends::Auto => {
            // One unreadable report (naming the message) if anything was unreadable, else nothing.
            assert_eq!(sends.len(), usize::from(complained), "what Alice sent: {sends:?}");
            for text in &sends {
                assert!(text.starts_with(&error_message::encode(UNREADABLE_ERROR_TEXT)), "{text}");
            }
        }
        Sends::SmpAbortEach => {}
        Sends::OneAkeReply | Sends::OneAkeStart => {
            let kind = if case.sends == Sends::OneAkeReply { AkeKind::Reply } else { AkeKind::Start };
            assert_eq!(sends.len(), 1, "{sends:?}");
            assert_eq!(ake_of(&sends[0]).map(|m| m.kind), Some(kind));
        }
        Sends::Nothing => assert!(sends.is_empty(), "a duplicate was answered: {sends:?}"),
        Sends::OneQuery => {
            assert_eq!(sends.len(), 1, "one query for {} error messages", injections.len());
            assert!(sends[0].contains("?OFRv1?"), "{}", sends[0]);
        }
    }
    let mut expected: Vec<SessionInfo> = before;
    if case.after == After::PuppetSmpReset {
        for info in &mut expected {
            if info.instance == PUPPET_TAG {
                assert!(info.smp_in_progress, "the case should have started SMP");
                info.smp_in_progress = false;
            }
        }
    }
    assert_eq!(fx.sessions(), expected, "sessions changed");
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

const SENDER: usize = 3;
const RECEIVER: usize = 7;
const FLAGS: usize = 11;
const RATCHET_KEY: usize = 12;
const PN: usize = 44;
const N: usize = 48;
const REVEAL_COUNT: usize = FIXED_HEADER_LEN - 1;
const TAG_LEN: usize = 16;

/// A genuine data message from Bob, long enough that its ciphertext exceeds 32 bytes.
const GENUINE: &str = "a genuine message from bob, padded to be long enough for every mutation";

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn header_len(bytes: &[u8]) -> usize {
    FIXED_HEADER_LEN + 32 * usize::from(bytes[REVEAL_COUNT])
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

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// X25519 u-coordinates of small order (and non-canonical encodings of them).
fn low_order_points() -> Vec<[u8; 32]> {
    let mut one = [0u8; 32];
    one[0] = 1;
    vec![
        [0u8; 32],
        one,
        hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ]
}

/// A `Start` from Bob's real instance tag with a chosen ephemeral and a plaintext payload
/// (message 1 of Noise XX carries its payload unencrypted). A 3-byte payload (versions, offer
/// echo, suite) gets the genuine phi commitment for alice and bob appended, so only the chosen
/// bytes are wrong; any other length is sent as given.
fn start_with(sender: u32, receiver: u32, e: &[u8; 32], payload: &[u8]) -> String {
    let mut bytes = header_bytes(AkeKind::Start, sender, receiver).to_vec();
    bytes.extend_from_slice(e);
    bytes.extend_from_slice(payload);
    if payload.len() == 3 {
        let phi =
            offrec::conversation::phi("alice", "bob", support::PROTOCOL, offrec::conversation::NameBinding::Normalised);
        bytes.extend_from_slice(&offrec::ake::phi_commitment(&phi));
    }
    armour::encode(&bytes)
}

fn fresh_public(label: &str) -> [u8; 32] {
    *DhKeyPair::generate(&mut DeterministicRandom::from_label(label)).unwrap().public()
}

fn handshake_failed(reason: u32) -> Event {
    Event::HandshakeFailed { reason }
}

/// Every proper prefix (1..len) of a handshake message, with its exact event: too short for
/// the framing is Malformed; a Noise part too short for its tokens is a malformed handshake
/// (reason 1), and a cut inside an encrypted payload fails authentication (reason 4).
fn ake_truncations(text: &str, classify: impl Fn(usize) -> Event) -> Vec<Inj> {
    let bytes = armour::decode(text).unwrap();
    (1..bytes.len()).map(|cut| inj(armour::encode(&bytes[..cut]), &[classify(cut)])).collect()
}

fn frag(id: u32, sender: u32, receiver: u32, k: &str, n: &str, piece: &str) -> String {
    format!("?OFR|{id:08x}|{sender:08x}|{receiver:08x},{k},{n},{piece},")
}

/// A TLV record.
fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut out = kind.to_be_bytes().to_vec();
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// A body with empty text and these records.
fn body_with(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0];
    for r in records {
        out.extend_from_slice(r);
    }
    out
}

/// A genuine SMP1 payload for the puppet's session (so only the mutation makes it bad).
fn genuine_smp1(fx: &Fixture) -> Vec<u8> {
    let alice_fp = fx.net.party("alice").client.fingerprint();
    let bob_fp = fx.bob_identity.fingerprint();
    let mut smp = Smp::new(SmpContext { ssid: fx.puppet.ssid, our_fingerprint: bob_fp, their_fingerprint: alice_fp });
    let mut rng = DeterministicRandom::from_label("puppet smp");
    smp.start(b"secret", None, &mut rng).unwrap().remove(0).payload
}

/// Alice starts SMP with the puppet (setup for cases that answer a run in progress).
fn alice_starts_smp(fx: &mut Fixture) {
    let now = fx.now();
    let actions = fx.alice().smp_start("bob", Some(PUPPET_TAG), b"secret", None, now).unwrap();
    let out = fixture::split_actions(actions);
    assert_eq!(out.events, [Event::SmpInProgress]);
    assert_eq!(out.sends.len(), 1);
    let _ = fx.puppet_read(&out.sends[0]);
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

static CATALOGUE: &[Case] = &[
    // ----- armour -----
    case("armour_empty_payload", |_| malformed("?OFR:.")),
    case("armour_only_padding", |_| malformed("?OFR:===.")),
    case("armour_single_pad_char", |_| malformed("?OFR:=.")),
    case("armour_bare_prefix", |_| malformed("?OFR:")),
    case("armour_no_terminator", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        malformed(genuine.strip_suffix('.').unwrap())
    }),
    case("armour_double_terminator", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        malformed(format!("{genuine}."))
    }),
    case("armour_trailing_space_and_newline", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        vec![inj(format!("{genuine} "), &[Event::Malformed]), inj(format!("{genuine}\n"), &[Event::Malformed])]
    }),
    case("armour_whitespace_inside", |fx| {
        let genuine = fx.bob_msg(GENUINE);
        let mid = genuine.len() / 2;
        ["  ", "\n", "\t", "\r\n"]
            .iter()
            .map(|ws| inj(format!("{}{ws}{}", &genuine[..mid], &genuine[mid..]), &[Event::Malformed]))
            .collect()
    }),
    case("armour_bad_chars", |_| {
        ["?OFR:aGk*.", "?OFR:aG-_.", "?OFR:aGk\u{e9}.", "?OFR:aG\u{0}k=.", "?OFR:aG.k=."]
            .iter()
            .map(|t| inj(*t, &[Event::Malformed]))
            .collect()
    }),
    case("armour_bad_padding", |_| {
        ["?OFR:aGk.", "?OFR:aGk==.", "?OFR:aGl=.", "?OFR:a===.", "?OFR:aG=k.", "?OFR:====."]
            .iter()
            .map(|t| inj(*t, &[Event::Malformed]))
            .collect()
    }),
    case("armour_oversize_128k_plus_1", |_| {
        let body = "A".repeat(MAX_ENCODED_LEN + 1 - 6);
        let text = format!("?OFR:{body}.");
        assert_eq!(text.len(), MAX_ENCODED_LEN + 1);
        malformed(text)
    }),
    case("armour_oversize_valid_base64", |fx| {
        // A genuine message padded with zero bytes past the limit: rejected before decoding.
        let mut bytes = fx.bob_bytes(GENUINE);
        bytes.resize(MAX_ENCODED_LEN, 0);
        malformed(armour::encode(&bytes))
    }),
    case("armour_decodes_to_two_bytes", |_| malformed("?OFR:aGk=.")),
    case("armour_decodes_to_one_zero_byte", |_| malformed("?OFR:AA==.")),
    case("armour_lowercase_marker_is_plaintext", |fx| {
        let genuine = fx.bob_msg(GENUINE).replacen("?OFR:", "?ofr:", 1);
        vec![inj_plain(genuine.clone(), &[Event::UnencryptedWhileEncrypted], &genuine)]
    }),
    case("armour_marker_mid_message_is_plaintext", |fx| {
        let text = format!("look: {}", fx.bob_msg(GENUINE));
        vec![inj_plain(text.clone(), &[Event::UnencryptedWhileEncrypted], &text)]
    }),
    // ----- data messages -----
    case("data_truncated_in_header_every_offset", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let end = header_len(&bytes) + TAG_LEN;
        (1..end).map(|cut| inj(armour::encode(&bytes[..cut]), &[Event::Malformed])).collect()
    }),
    case("data_truncated_in_body_every_offset", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let start = header_len(&bytes) + TAG_LEN;
        (start..bytes.len()).map(|cut| inj(armour::encode(&bytes[..cut]), &[Event::Unreadable])).collect()
    }),
    case("data_extended_by_one_byte", |fx| unreadable(mutated(fx, |b| b.push(0)))),
    case("data_header_only", |fx| malformed(mutated(fx, |b| b.truncate(FIXED_HEADER_LEN)))),
    case("data_empty_ciphertext", |fx| {
        unreadable(mutated(fx, |b| {
            let h = header_len(b);
            b.drain(h..b.len() - TAG_LEN);
        }))
    }),
    case("data_reveal_count_255_past_end", |fx| malformed(mutated(fx, |b| b[REVEAL_COUNT] = 255))),
    case("data_reveal_count_plus_one", |fx| unreadable(mutated(fx, |b| b[REVEAL_COUNT] += 1))),
    case("data_ciphertext_bit_flips", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        let (start, end) = (header_len(&bytes), bytes.len() - TAG_LEN);
        [start, start + 1, (start + end) / 2, end - 1]
            .iter()
            .flat_map(|&at| [0x01u8, 0x80].map(|bit| (at, bit)))
            .map(|(at, bit)| {
                let mut b = bytes.clone();
                b[at] ^= bit;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_tag_bit_flips", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        (bytes.len() - TAG_LEN..bytes.len())
            .map(|at| {
                let mut b = bytes.clone();
                b[at] ^= 0x04;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_header_field_bit_flips", |fx| {
        // Every authenticated header field except the tags (which route) and the flags (which
        // make a failure quiet): the ratchet key, PN and N.
        let bytes = fx.bob_bytes(GENUINE);
        [RATCHET_KEY, RATCHET_KEY + 31, PN + 3, N + 3]
            .iter()
            .map(|&at| {
                let mut b = bytes.clone();
                b[at] ^= 0x02;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_forged_quiet_flag_is_silent", |fx| {
        // Setting "ignore unreadable" breaks the tag; the failure is then silent by design.
        vec![inj(mutated(fx, |b| b[FLAGS] |= FLAG_IGNORE_UNREADABLE), &[])]
    }),
    case("data_unknown_flag_bits", |fx| unreadable(mutated(fx, |b| b[FLAGS] |= 0xF0))),
    case("data_wrong_version_bytes", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        [(0usize, 0x00u8), (0, 0x4E), (1, 0x00), (1, 0x02), (1, 0xFF)]
            .iter()
            .map(|&(at, v)| {
                let mut b = bytes.clone();
                b[at] = v;
                inj(armour::encode(&b), &[Event::Malformed])
            })
            .collect()
    }),
    case("data_wrong_type_bytes", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        [0x00u8, 0x01, 0x02, 0x04, 0x20, 0x24, 0xFF]
            .iter()
            .map(|&v| {
                let mut b = bytes.clone();
                b[2] = v;
                inj(armour::encode(&b), &[Event::Malformed])
            })
            .collect()
    }),
    case("data_type_byte_of_ake_start", |fx| {
        // Re-typed as a Start, the data message is parsed as one: 32 bytes of "ephemeral" and
        // a payload of the wrong length.
        let text = mutated(fx, |b| b[2] = 0x21);
        vec![inj(text, &[handshake_failed(1)])]
    }),
    case("data_type_byte_of_ake_reply_and_finish", |fx| {
        // No handshake is in progress: a Reply or Finish is ignored without a word.
        let a = mutated(fx, |b| b[2] = 0x22);
        let b2 = mutated(fx, |b| b[2] = 0x23);
        vec![inj(a, &[]), inj(b2, &[])]
    }),
    case("data_receiver_tag_zero", |fx| {
        vec![inj(mutated(fx, |b| put_u32(b, RECEIVER, 0)), &[Event::ForOtherInstance])]
    }),
    case("data_receiver_tag_other_instance", |fx| {
        vec![
            inj(mutated(fx, |b| put_u32(b, RECEIVER, 0x9999_9999)), &[Event::ForOtherInstance]),
            inj(mutated(fx, |b| put_u32(b, RECEIVER, 0xFFFF_FFFF)), &[Event::ForOtherInstance]),
            inj(mutated(fx, |b| put_u32(b, RECEIVER, 0x42)), &[Event::ForOtherInstance]),
        ]
    }),
    case("data_sender_and_receiver_both_ours", |fx| {
        let ours = fx.alice_tag;
        vec![inj(mutated(fx, |b| put_u32(b, SENDER, ours)), &[Event::Reflected])]
    }),
    bug(
        "data_reflected_own_message",
        |fx| {
            // Alice's own message to Bob, bounced back to her unchanged.
            let (now, bob_tag) = (fx.now(), fx.bob_tag);
            let (_, actions) = fx.alice().send_to_instance("bob", bob_tag, b"bounce me", now).unwrap();
            let out = fixture::split_actions(actions);
            // Bob must still get it so that the ratchets stay in step.
            fx.net.queue.push_back(("alice".into(), "bob".into(), out.sends[0].clone()));
            fx.net.run();
            vec![inj(out.sends[0].clone(), &[Event::Reflected])]
        },
        "receive_data checks receiver_tag != our_tag before sender_tag == our_tag, so a really \
         reflected message (sender = us, receiver = the peer) is reported as ForOtherInstance \
         and Event::Reflected is unreachable for it",
    ),
    case("data_sender_tag_unknown_instance", |fx| {
        vec![
            inj(mutated(fx, |b| put_u32(b, SENDER, 0x5555_5555)), &[Event::NotInPrivate]),
            inj(mutated(fx, |b| put_u32(b, SENDER, 0x42)), &[Event::NotInPrivate]),
            inj(mutated(fx, |b| put_u32(b, SENDER, 0)), &[Event::NotInPrivate]),
        ]
    }),
    case("data_sender_tag_swapped_to_puppet", |fx| {
        // Bob's message claiming to come from the puppet's session: wrong keys.
        unreadable(mutated(fx, |b| put_u32(b, SENDER, PUPPET_TAG)))
    }),
    case("data_unknown_instance_quiet_flag", |fx| {
        vec![inj(
            mutated(fx, |b| {
                put_u32(b, SENDER, 0x5555_5555);
                b[FLAGS] |= FLAG_IGNORE_UNREADABLE
            }),
            &[],
        )]
    }),
    case_with(
        "data_replay_after_delivery",
        |fx| {
            let genuine = fx.bob_msg(GENUINE);
            let out = fx.inject(&genuine);
            assert_eq!(out.delivered.len(), 1);
            unreadable(genuine)
        },
        Sends::Nothing,
        After::Unchanged,
    ),
    case_with(
        "data_replayed_many_times_no_error_message",
        |fx| {
            let genuine = fx.bob_msg(GENUINE);
            assert_eq!(fx.inject(&genuine).delivered.len(), 1);
            (0..20).map(|_| inj(genuine.clone(), &[Event::Unreadable])).collect()
        },
        Sends::Nothing,
        After::Unchanged,
    ),
    case_with(
        "data_replay_of_out_of_order_message",
        |fx| {
            let first = fx.bob_msg("first");
            let second = fx.bob_msg("second");
            assert_eq!(fx.inject(&second).delivered.len(), 1);
            assert_eq!(fx.inject(&first).delivered.len(), 1);
            vec![inj(first, &[Event::Unreadable]), inj(second, &[Event::Unreadable])]
        },
        Sends::Nothing,
        After::Unchanged,
    ),
    case("data_replay_of_previous_chain_after_dh_step", |fx| {
        let old = fx.bob_msg("old chain");
        assert_eq!(fx.inject(&old).delivered.len(), 1);
        // Alice answers, Bob ratchets, Bob's next message is on a new chain.
        let (now, bob_tag) = (fx.now(), fx.bob_tag);
        let (_, actions) = fx.alice().send_to_instance("bob", bob_tag, b"reply", now).unwrap();
        fx.net.apply("alice", actions);
        fx.net.run();
        let new = fx.bob_msg("new chain");
        assert_eq!(fx.inject(&new).delivered.len(), 1);
        unreadable(old)
    }),
    case("data_low_order_ratchet_keys", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        low_order_points()
            .iter()
            .map(|p| {
                let mut b = bytes.clone();
                b[RATCHET_KEY..RATCHET_KEY + 32].copy_from_slice(p);
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case("data_foreign_ratchet_key", |fx| {
        let key = fresh_public("foreign ratchet");
        unreadable(mutated(fx, |b| b[RATCHET_KEY..RATCHET_KEY + 32].copy_from_slice(&key)))
    }),
    // The N/PN cases below edit a genuine message, so its tag no longer verifies: they show that
    // a hostile header is refused cheaply and changes nothing, not that the skip caps hold. The
    // caps are tested at their exact boundaries with genuine messages in ratchet_boundaries.rs.
    case("data_message_number_ffffffff", |fx| unreadable(mutated(fx, |b| put_u32(b, N, u32::MAX)))),
    case("data_message_number_past_max_skip", |fx| {
        vec![
            inj(mutated(fx, |b| put_u32(b, N, MAX_SKIP + 1)), &[Event::Unreadable]),
            inj(mutated(fx, |b| put_u32(b, N, MAX_SKIP + 2)), &[Event::Unreadable]),
        ]
    }),
    case("data_message_number_exactly_max_skip", |fx| unreadable(mutated(fx, |b| put_u32(b, N, MAX_SKIP)))),
    case("data_previous_chain_length_ffffffff", |fx| {
        let key = fresh_public("pn attack");
        vec![
            inj(mutated(fx, |b| put_u32(b, PN, u32::MAX)), &[Event::Unreadable]),
            // With a new ratchet key the PN is used: it must not make Alice derive 4 billion keys.
            inj(
                mutated(fx, |b| {
                    put_u32(b, PN, u32::MAX);
                    b[RATCHET_KEY..RATCHET_KEY + 32].copy_from_slice(&key);
                }),
                &[Event::Unreadable],
            ),
            inj(
                mutated(fx, |b| {
                    put_u32(b, PN, MAX_SKIP + 1);
                    put_u32(b, N, u32::MAX);
                    b[RATCHET_KEY..RATCHET_KEY + 32].copy_from_slice(&key);
                }),
                &[Event::Unreadable],
            ),
        ]
    }),
    case("data_all_zero_bytes", |fx| {
        let len = fx.bob_bytes(GENUINE).len();
        malformed(armour::encode(&vec![0u8; len]))
    }),
    case("data_all_ff_bytes", |fx| {
        let len = fx.bob_bytes(GENUINE).len();
        malformed(armour::encode(&vec![0xFFu8; len]))
    }),
    case("data_unreadable_flood_one_error_message", |fx| {
        let bytes = fx.bob_bytes(GENUINE);
        (0..200)
            .map(|i| {
                let mut b = bytes.clone();
                let last = b.len() - 1;
                b[last] ^= (i % 255 + 1) as u8;
                inj(armour::encode(&b), &[Event::Unreadable])
            })
            .collect()
    }),
    case_with(
        "data_puppet_message_replayed",
        |fx| {
            let genuine = fx.puppet_text(b"puppet says hi");
            let out = fx.inject(&genuine);
            assert_eq!(out.delivered.len(), 1);
            unreadable(genuine)
        },
        Sends::Nothing,
        After::Unchanged,
    ),
    // ----- handshake -----
    case("ake_start_truncated_every_offset", |fx| {
        let start = fx.logged_ake("bob", AkeKind::Start).remove(0);
        ake_truncations(&start, |cut| match cut {
            ..=10 => Event::Malformed,
            _ => handshake_failed(1),
        })
    }),
    case("ake_reply_truncated_every_offset", |fx| {
        // Alice starts a handshake (Bob's query), Bob replies; Alice gets every prefix of it.
        fx.inject_and_apply("?OFRv1?");
        assert!(fx.net.step());
        let (from, _, reply) = fx.net.queue.pop_back().unwrap();
        assert_eq!((from.as_str(), ake_of(&reply).map(|m| m.kind)), ("bob", Some(AkeKind::Reply)));
        fx.release.push(reply.clone());
        // Shorter than e ‖ enc(s) ‖ tag is malformed; a cut in the encrypted payload fails auth.
        ake_truncations(&reply, |cut| match cut {
            ..=10 => Event::Malformed,
            11..=106 => handshake_failed(1),
            _ => handshake_failed(4),
        })
    }),
    case("ake_finish_truncated_every_offset", |fx| {
        fx.net.start("alice", "bob");
        for _ in 0..3 {
            assert!(fx.net.step());
        }
        let (from, _, finish) = fx.net.queue.pop_back().unwrap();
        assert_eq!((from.as_str(), ake_of(&finish).map(|m| m.kind)), ("bob", Some(AkeKind::Finish)));
        fx.release.push(finish.clone());
        ake_truncations(&finish, |cut| match cut {
            ..=10 => Event::Malformed,
            11..=74 => handshake_failed(1),
            _ => handshake_failed(4),
        })
    }),
    case("ake_reply_bit_flips_while_initiating", |fx| {
        fx.inject_and_apply("?OFRv1?");
        assert!(fx.net.step());
        let (_, _, reply) = fx.net.queue.pop_back().unwrap();
        fx.release.push(reply.clone());
        let bytes = armour::decode(&reply).unwrap();
        [11usize, 42, 43, 90, bytes.len() - 1]
            .iter()
            .map(|&at| {
                let mut b = bytes.clone();
                b[at] ^= 1;
                inj(armour::encode(&b), &[handshake_failed(4)])
            })
            .collect()
    }),
    case("ake_reply_with_no_handshake_in_progress", |fx| {
        let mut bytes = header_bytes(AkeKind::Reply, fx.bob_tag, fx.alice_tag).to_vec();
        bytes.extend_from_slice(&[0x5A; 129]);
        vec![inj(armour::encode(&bytes), &[])]
    }),
    case("ake_finish_with_no_handshake_in_progress", |fx| {
        let mut bytes = header_bytes(AkeKind::Finish, fx.bob_tag, fx.alice_tag).to_vec();
        bytes.extend_from_slice(&[0x5A; 96]);
        vec![inj(armour::encode(&bytes), &[])]
    }),
    case("ake_replayed_reply_after_completion", |fx| {
        fx.net.start("bob", "alice");
        fx.net.run();
        let reply = fx.logged_ake("bob", AkeKind::Reply).pop().unwrap();
        vec![inj(reply.clone(), &[]), inj(reply, &[])]
    }),
    case("ake_replayed_finish_after_completion", |fx| {
        let finish = fx.logged_ake("bob", AkeKind::Finish).pop().unwrap();
        vec![inj(finish.clone(), &[]), inj(finish, &[])]
    }),
    case("ake_finish_from_another_session", |fx| {
        // Alice is waiting for the Finish of a new handshake; the old handshake's Finish is
        // injected instead.
        let old_finish = fx.logged_ake("bob", AkeKind::Finish).pop().unwrap();
        fx.net.start("alice", "bob");
        assert!(fx.net.step() && fx.net.step());
        let (_, _, reply) = fx.net.queue.back().unwrap().clone();
        assert_eq!(ake_of(&reply).map(|m| m.kind), Some(AkeKind::Reply));
        vec![inj(old_finish, &[handshake_failed(4)])]
    }),
    case_with(
        "ake_replayed_start_answered_not_installed",
        |fx| {
            let start = fx.logged_ake("bob", AkeKind::Start).remove(0);
            vec![inj(start, &[])]
        },
        Sends::OneAkeReply,
        After::Unchanged,
    ),
    case("ake_start_low_order_ephemerals", |fx| {
        let bob = fx.bob_tag;
        low_order_points().iter().map(|e| inj(start_with(bob, 0, e, &[1, 0, 0]), &[handshake_failed(5)])).collect()
    }),
    case("ake_start_unknown_suite", |fx| {
        let (bob, e) = (fx.bob_tag, fresh_public("start e"));
        [1u8, 2, 0xFF].iter().map(|&s| inj(start_with(bob, 0, &e, &[1, 0, s]), &[handshake_failed(1)])).collect()
    }),
    case("ake_start_version_bits_zero_or_unknown", |fx| {
        let (bob, e) = (fx.bob_tag, fresh_public("start e"));
        [0u8, 2, 0x80, 0xFE].iter().map(|&v| inj(start_with(bob, 0, &e, &[v, 0, 0]), &[handshake_failed(3)])).collect()
    }),
    case("ake_start_offer_downgrade", |fx| {
        // Alice advertised v1 in her query; a Start claiming she offered something else.
        let (bob, e) = (fx.bob_tag, fresh_public("start e"));
        vec![inj(start_with(bob, 0, &e, &[1, 2, 0]), &[handshake_failed(3)])]
    }),
    case("ake_start_payload_wrong_length", |fx| {
        let (bob, e) = (fx.bob_tag, fresh_public("start e"));
        vec![
            inj(start_with(bob, 0, &e, &[1, 0, 0, 0]), &[handshake_failed(1)]),
            inj(start_with(bob, 0, &e, &[1, 0]), &[handshake_failed(1)]),
            inj(start_with(bob, 0, &e, &[0xAA; 500]), &[handshake_failed(1)]),
        ]
    }),
    case("ake_start_for_other_instance", |fx| {
        let (bob, e) = (fx.bob_tag, fresh_public("start e"));
        vec![inj(start_with(bob, 0x9999_9999, &e, &[1, 0, 0]), &[])]
    }),
    case("ake_start_sender_tag_invalid", |_| {
        let e = fresh_public("start e");
        vec![
            inj(start_with(0x42, 0, &e, &[1, 0, 0]), &[handshake_failed(1)]),
            inj(start_with(0, 0, &e, &[1, 0, 0]), &[handshake_failed(1)]),
        ]
    }),
    case("ake_start_reflected", |fx| {
        let (alice, e) = (fx.alice_tag, fresh_public("start e"));
        vec![inj(start_with(alice, 0, &e, &[1, 0, 0]), &[Event::Reflected])]
    }),
    case("ake_message_oversize", |fx| {
        let bob = fx.bob_tag;
        let mut bytes = header_bytes(AkeKind::Start, bob, 0).to_vec();
        bytes.resize(1025, 0x11);
        malformed(armour::encode(&bytes))
    }),
    case("ake_header_only", |fx| {
        let (bob, alice) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(armour::encode(&header_bytes(AkeKind::Start, bob, 0)), &[handshake_failed(1)]),
            inj(armour::encode(&header_bytes(AkeKind::Reply, bob, alice)), &[]),
            inj(armour::encode(&header_bytes(AkeKind::Finish, bob, alice)), &[]),
        ]
    }),
    // ----- fragments -----
    case("frag_k_zero", |fx| malformed(frag(1, fx.bob_tag, fx.alice_tag, "0", "2", "?OFR:AA"))),
    case("frag_n_zero", |fx| malformed(frag(1, fx.bob_tag, fx.alice_tag, "1", "0", "?OFR:AA"))),
    case("frag_k_greater_than_n", |fx| malformed(frag(1, fx.bob_tag, fx.alice_tag, "3", "2", "AAAA"))),
    case("frag_n_65535", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(1, b, a, "1", "65535", "?OFR:AA"), &[Event::Malformed]),
            inj(frag(1, b, a, "65535", "65535", "AA."), &[Event::Malformed]),
            inj(frag(1, b, a, "1", "513", "?OFR:AA"), &[Event::Malformed]),
            inj(frag(1, b, a, "1", "99999", "?OFR:AA"), &[Event::Malformed]),
            inj(frag(1, b, a, "1", "100000", "?OFR:AA"), &[Event::Malformed]),
        ]
    }),
    case("frag_number_syntax", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        ["01", "-1", "+1", " 1", "1 ", "", "1e1", "0x1"]
            .iter()
            .map(|k| inj(frag(1, b, a, k, "2", "AAAA"), &[Event::Malformed]))
            .collect()
    }),
    case("frag_header_syntax", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let upper = format!("?OFR|0000000A|{b:08x}|{a:08x},1,2,AAAA,");
        let short_id = format!("?OFR|1|{b:08x}|{a:08x},1,2,AAAA,");
        let no_comma = format!("?OFR|00000001|{b:08x}|{a:08x},1,2,AAAA");
        let bad_sender = frag(1, 0xFF, a, "1", "2", "AAAA");
        let bad_receiver = frag(1, b, 0x42, "1", "2", "AAAA");
        let extra_field = format!("?OFR|00000001|{b:08x}|{a:08x},1,2,AA,AA,");
        [upper, short_id, no_comma, bad_sender, bad_receiver, extra_field, "?OFR|".to_string()]
            .into_iter()
            .map(|t| inj(t, &[Event::Malformed]))
            .collect()
    }),
    case("frag_empty_piece", |fx| malformed(frag(1, fx.bob_tag, fx.alice_tag, "1", "2", ""))),
    case("frag_bad_piece_chars", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        ["AA AA", "AA|AA", "AA\u{e9}", "AA-A", "AA\nA"]
            .iter()
            .map(|p| inj(frag(1, b, a, "1", "2", p), &[Event::Malformed]))
            .collect()
    }),
    case("frag_dot_before_last_piece", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(1, b, a, "1", "2", "?OFR:AA."), &[Event::Malformed]),
            inj(frag(2, b, a, "2", "2", "AA.AA."), &[Event::Malformed]),
        ]
    }),
    case("frag_n_mismatch", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![inj(frag(7, b, a, "1", "3", "?OFR:AA"), &[]), inj(frag(7, b, a, "2", "4", "AA"), &[Event::Malformed])]
    }),
    case("frag_duplicate_k", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(7, b, a, "1", "2", "?OFR:AA"), &[]),
            inj(frag(7, b, a, "1", "2", "?OFR:AA"), &[Event::Malformed]),
            inj(frag(7, b, a, "1", "2", "?OFR:BB"), &[Event::Malformed]),
        ]
    }),
    case("frag_genuine_pieces_duplicated", |fx| {
        // Every piece of a genuine message but the last, each sent twice: the duplicates are
        // refused and the message never completes (its last piece is released afterwards).
        let genuine = fx.bob_msg(GENUINE);
        let pieces = fragment::split(&genuine, 60, 0xF00D, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        let (last, rest) = pieces.split_last().unwrap();
        fx.release.push(last.clone());
        rest.iter().flat_map(|p| [inj(p.clone(), &[]), inj(p.clone(), &[Event::Malformed])]).collect()
    }),
    case("frag_overlapping_splits", |fx| {
        // Two splits of the same message at different sizes, same id and n: the reassembled
        // text has overlaps and gaps.
        let genuine = fx.bob_msg(GENUINE);
        let (b, a) = (InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag));
        let x = fragment::split(&genuine, 70, 9, b, a).unwrap();
        let n = x.len();
        let y = (71..200).map(|size| fragment::split(&genuine, size, 9, b, a).unwrap()).find(|y| y.len() == n).unwrap();
        let mut texts = vec![x[0].clone()];
        texts.extend(y[1..].iter().cloned());
        let mut whole = String::new();
        for t in &texts {
            whole.push_str(fragment::parse_fragment(t).unwrap().piece);
        }
        assert_ne!(whole, genuine);
        let last = if armour::decode(&whole).is_err() { Event::Malformed } else { Event::Unreadable };
        let count = texts.len();
        texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| inj(t, if i + 1 == count { std::slice::from_ref(&last) } else { &[] }))
            .collect()
    }),
    case("frag_of_tampered_message", |fx| {
        let text = mutated(fx, |b| {
            let at = b.len() - 20;
            b[at] ^= 1;
        });
        let pieces = fragment::split(&text, 80, 3, InstanceTag(fx.bob_tag), InstanceTag(fx.alice_tag)).unwrap();
        let count = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| inj(p, if i + 1 == count { &[Event::Unreadable] } else { &[] }))
            .collect()
    }),
    case("frag_of_non_armoured_text", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        vec![
            inj(frag(5, b, a, "1", "2", "hello"), &[]),
            inj(frag(5, b, a, "2", "2", "world."), &[Event::Malformed]),
            inj(frag(6, b, a, "1", "1", "hi"), &[Event::Malformed]),
            inj(frag(6, b, a, "1", "1", "?OFR:."), &[Event::Malformed]),
            inj(frag(6, b, a, "1", "1", "?OFRv1?"), &[Event::Malformed]),
        ]
    }),
    case("frag_reassembles_to_oversize", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        let half = "A".repeat(MAX_ENCODED_LEN / 2 + 10);
        vec![
            inj(frag(8, b, a, "1", "2", &format!("?OFR:{half}")), &[]),
            inj(frag(8, b, a, "2", "2", &format!("{half}.")), &[Event::Malformed]),
        ]
    }),
    case("frag_single_oversize_fragment", |fx| {
        let piece = format!("?OFR:{}", "A".repeat(MAX_ENCODED_LEN));
        malformed(frag(8, fx.bob_tag, fx.alice_tag, "1", "2", &piece))
    }),
    case("frag_flood_65535_tiny_fragments", |fx| {
        // Each opens a new message that never completes; the reassembler must stay bounded
        // (and fast) and every one is accepted silently.
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        (0..65535u32).map(|id| inj(frag(id, b, a, "1", "2", "?OFR:A"), &[])).collect()
    }),
    case("frag_flood_many_senders", |fx| {
        let a = fx.alice_tag;
        (0..5000u32).map(|i| inj(frag(i, 0x1000_0000 + i, a, "1", "512", "?OFR:A"), &[])).collect()
    }),
    case("frag_511_of_512_pieces", |fx| {
        let (b, a) = (fx.bob_tag, fx.alice_tag);
        (1..512u32)
            .map(|k| inj(frag(77, b, a, &k.to_string(), "512", if k == 1 { "?OFR:AAAA" } else { "AAAA" }), &[]))
            .collect()
    }),
    case("frag_for_other_instance", |fx| {
        let b = fx.bob_tag;
        vec![
            inj(frag(1, b, 0x9999_9999, "1", "2", "?OFR:AA"), &[Event::ForOtherInstance]),
            inj(frag(1, b, PUPPET_TAG, "1", "2", "?OFR:AA"), &[Event::ForOtherInstance]),
        ]
    }),
    case("frag_sender_and_receiver_ours", |fx| {
        let a = fx.alice_tag;
        vec![inj(frag(1, a, a, "1", "2", "?OFR:AA"), &[Event::Reflected])]
    }),
    bug(
        "frag_reflected_own_fragments",
        |fx| {
            let (now, bob_tag) = (fx.now(), fx.bob_tag);
            fx.alice().set_max_message_size("bob", 80).unwrap();
            let (_, actions) = fx.alice().send_to_instance("bob", bob_tag, b"bounce these pieces back", now).unwrap();
            fx.alice().set_max_message_size("bob", 0).unwrap();
            let out = fixture::split_actions(actions);
            for piece in &out.sends {
                fx.net.queue.push_back(("alice".into(), "bob".into(), piece.clone()));
            }
            fx.net.run();
            out.sends.into_iter().map(|p| inj(p, &[Event::Reflected])).collect()
        },
        "receive_fragment checks the receiver tag before the sender tag, so Alice's own \
         fragments (sender = Alice, receiver = Bob) bounced back are reported as \
         ForOtherInstance, never Reflected",
    ),
    case("frag_marker_mid_message_is_plaintext", |fx| {
        let text = format!("quoting {}", frag(1, fx.bob_tag, fx.alice_tag, "1", "2", "?OFR:AA"));
        vec![inj_plain(text.clone(), &[Event::UnencryptedWhileEncrypted], &text)]
    }),
    case("frag_nested_fragment_marker", |fx| {
        // A fragment whose piece would start another fragment: '|' is not a piece character.
        let inner = frag(2, fx.bob_tag, fx.alice_tag, "1", "1", "?OFR:AA==.");
        malformed(frag(1, fx.bob_tag, fx.alice_tag, "1", "1", &inner))
    }),
    // ----- text layer -----
    case("text_query_no_versions", |_| vec![inj("?OFRv?", &[]), inj("?OFRv? please", &[])]),
    case("text_query_garbage_versions", |_| vec![inj("?OFRvxyz9?", &[]), inj("?OFRv23456789ABCDEF?", &[])]),
    case("text_query_1mb_version_field", |_| {
        let text = format!("?OFRv{}?", "9".repeat(1 << 20));
        vec![inj_plain(text.clone(), &[Event::UnencryptedWhileEncrypted], &text)]
    }),
    case("text_query_non_alphanumeric_versions", |_| {
        let text = "?OFRv1 ?".to_string();
        vec![inj_plain(text.clone(), &[Event::UnencryptedWhileEncrypted], &text)]
    }),
    case("text_whitespace_tag_unknown_versions", |_| {
        // '7' = 0x37 = 00110111, space = 0, tab = 1.
        let group = "  \t\t \t\t\t";
        vec![inj_plain(format!("hi{TAG_BASE}{group}"), &[Event::UnencryptedWhileEncrypted], "hi")]
    }),
    case("text_whitespace_tag_v1_under_manual_policy", |_| {
        let group = "  \t\t   \t"; // '1'
        vec![inj_plain(format!("hey{TAG_BASE}{group}"), &[Event::UnencryptedWhileEncrypted], "hey")]
    }),
    case("text_otr_queries_reported_never_answered", |_| {
        ["?OTRv23?", "?OTR?v2?", "?OTRv4? hello", "?OTR?", "please ?OTRv3? thanks"]
            .iter()
            .map(|t| inj_plain(*t, &[Event::ForeignProtocol], t))
            .collect()
    }),
    case("text_otr_binary_reported_not_shown", |_| {
        ["?OTR:AAMDAAAAAQAAAAEAAAA.", "?OTR|5a73a599|27e31597,00001,00003,?OTR:AAMDJ+MVmSf,", "?OTR Error: you are bad"]
            .iter()
            .map(|t| inj(*t, &[Event::ForeignProtocol]))
            .collect()
    }),
    case("text_otr_whitespace_tag", |_| {
        let text = format!("hi{OTR_TAG_BASE}  \t\t  \t\t");
        vec![inj_plain(text.clone(), &[Event::ForeignProtocol], &text)]
    }),
    case("text_error_message_flood", |_| {
        (0..1000).map(|_| inj("?OFR Error: boom", &[Event::PeerError { text: "boom".into() }])).collect()
    }),
    case_with(
        "text_query_flood_starts_one_handshake",
        |_| (0..500).map(|_| inj("?OFRv1?", &[])).collect(),
        Sends::OneAkeStart,
        After::Unchanged,
    ),
    Case {
        name: "text_error_flood_with_error_start_ake_sends_one_query",
        build: |fx| {
            let mut settings = fx.net.party("alice").client.settings().clone();
            settings.policy = Policy::MANUAL | Policy::ERROR_START_AKE;
            fx.alice().set_settings(settings);
            (0..100).map(|_| inj("?OFR Error: boom", &[Event::PeerError { text: "boom".into() }])).collect()
        },
        sends: Sends::OneQuery,
        after: After::Unchanged,
        bug: Some(
            "Peer::receive_error calls send_query for every error message when the policy has \
             ERROR_START_AKE; last_query_sent is recorded but never checked, so N injected error \
             messages make Alice send N queries (and start N handshakes at the peer)",
        ),
    },
    case("text_error_message_long_is_bounded", |_| {
        let text = format!("?OFR Error: {}", "x".repeat(10_000));
        vec![inj(text, &[Event::PeerError { text: "x".repeat(256) }])]
    }),
    case("text_error_message_empty_and_odd", |_| {
        vec![
            inj("?OFR Error:", &[Event::PeerError { text: String::new() }]),
            inj("?OFR Error: \u{202e}evil\u{0}", &[Event::PeerError { text: "\u{202e}evil\u{0}".into() }]),
            inj("?OFR Error: ?OFRv1?", &[Event::PeerError { text: "?OFRv1?".into() }]),
        ]
    }),
    case("text_empty_message", |_| vec![inj("", &[Event::UnencryptedWhileEncrypted])]),
    // ----- encrypted bodies (from the puppet, whose ratchet the test holds) -----
    case("body_empty", |fx| vec![inj(fx.puppet_body(&[], 0), &[Event::Malformed])]),
    case("body_text_length_ffffffff", |fx| {
        vec![inj(fx.puppet_body(&[0xFF, 0xFF, 0xFF, 0xFF, b'a'], 0), &[Event::Malformed])]
    }),
    case("body_text_length_past_end", |fx| vec![inj(fx.puppet_body(&[0, 0, 0, 9, b'a'], 0), &[Event::Malformed])]),
    case("body_tlv_length_past_end", |fx| {
        vec![
            inj(fx.puppet_body(&[0, 0, 0, 0, 0, 2, 0, 5, 1, 2], 0), &[Event::Malformed]),
            inj(fx.puppet_body(&[0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3], 0), &[Event::Malformed]),
        ]
    }),
    case("body_partial_tlv_header", |fx| {
        vec![
            inj(fx.puppet_body(&[0, 0, 0, 0, 0], 0), &[Event::Malformed]),
            inj(fx.puppet_body(&[0, 0, 0, 1, b'x', 0, 1, 0], 0), &[Event::Malformed]),
        ]
    }),
    case("body_65_tlvs", |fx| {
        let records: Vec<Vec<u8>> = (0..65).map(|_| tlv(0x00BE, &[])).collect();
        vec![inj(fx.puppet_body(&body_with(&records), 0), &[Event::Malformed])]
    }),
    case("body_64_padding_tlvs_is_a_heartbeat", |fx| {
        let records: Vec<Vec<u8>> = (0..64).map(|_| tlv(0, &[])).collect();
        vec![inj(fx.puppet_body(&body_with(&records), 0), &[Event::HeartbeatReceived])]
    }),
    case("body_unknown_tlvs_ignored", |fx| {
        let body = body_with(&[tlv(0x00BE, &[1, 2, 3]), tlv(0x7FFF, &[0; 300])]);
        vec![inj(fx.puppet_body(&body, 0), &[])]
    }),
    // The application range (0x8000 and up) is reported to the app, never interpreted.
    case("body_application_tlvs_reported", |fx| {
        let body = body_with(&[tlv(0xFFFF, &[0; 300]), tlv(0x00BE, &[1])]);
        let value = zeroize::Zeroizing::new(vec![0; 300]);
        vec![inj(fx.puppet_body(&body, 0), &[Event::TlvReceived { kind: 0xFFFF, value }])]
    }),
    case("body_extra_key_tlv_too_short", |fx| {
        vec![
            inj(fx.puppet_body(&body_with(&[tlv(7, &[1, 2, 3])]), 0), &[Event::Malformed]),
            inj(fx.puppet_body(&body_with(&[tlv(7, &[])]), 0), &[Event::Malformed]),
        ]
    }),
    // Key links (modern TLV 8, PROTOCOL.md B.12): exactly a 20-byte DSA fingerprint, and only
    // the first claim of a session counts (more could only churn the peer's links).
    case("body_linked_otr_key_of_the_wrong_length", |fx| {
        vec![
            inj(fx.puppet_body(&body_with(&[tlv(8, &[1; 19])]), 0), &[Event::Malformed]),
            inj(fx.puppet_body(&body_with(&[tlv(8, &[1; 21])]), 0), &[Event::Malformed]),
            inj(fx.puppet_body(&body_with(&[tlv(8, &[])]), 0), &[Event::Malformed]),
        ]
    }),
    case("body_linked_otr_key_only_the_first_claim_of_a_session_counts", |fx| {
        let linked = Event::OtrKeyLinked { fingerprint: offrec::trust::otr_key_id(&[1; 20]) };
        // Saved after the handshake (PersistNeeded is reported once until saved), so the link's
        // trust change asks for a save of its own.
        offrec::store::encode_client(&fx.net.party("alice").client);
        let saved = Event::PersistNeeded { what: offrec::conversation::PERSIST_TRUST };
        vec![
            inj(fx.puppet_body(&body_with(&[tlv(8, &[1; 20]), tlv(8, &[2; 20])]), 0), &[linked, saved]),
            inj(fx.puppet_body(&body_with(&[tlv(8, &[3; 20])]), 0), &[]),
        ]
    }),
    case("body_invalid_utf8_text_delivered_as_bytes", |fx| {
        let text = [0xFF, 0xFE, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0x00, b'a'];
        let wire = fx.puppet_text(&text);
        vec![Inj { text: wire, events: vec![], delivered: vec![(Security::EncryptedUnverified, text.to_vec())] }]
    }),
    case_with(
        "body_smp1_identity_points",
        |fx| {
            let mut payload = vec![0, 0, 0, 0];
            payload.extend_from_slice(&[0u8; 6 * 32]);
            vec![inj(fx.puppet_body(&body_with(&[tlv(2, &payload)]), 0), &[Event::SmpCheated])]
        },
        Sends::SmpAbortEach,
        After::Unchanged,
    ),
    case_with(
        "body_smp1_identity_second_generator",
        |fx| {
            let mut payload = genuine_smp1(fx);
            payload[4 + 96..4 + 128].fill(0); // g3a
            vec![inj(fx.puppet_body(&body_with(&[tlv(2, &payload)]), 0), &[Event::SmpCheated])]
        },
        Sends::SmpAbortEach,
        After::Unchanged,
    ),
    case_with(
        "body_smp1_bad_encodings",
        |fx| {
            let genuine = genuine_smp1(fx);
            let mut bad_point = genuine.clone();
            bad_point[4..36].fill(0xFF);
            let mut bad_scalar = genuine.clone();
            bad_scalar[36..68].fill(0xFF);
            let mut question_len = genuine.clone();
            question_len[..4].copy_from_slice(&u32::MAX.to_be_bytes());
            let mut question_utf8 = vec![0, 0, 0, 2, 0xFF, 0xFE];
            question_utf8.extend_from_slice(&genuine[4..]);
            let mut trailing = genuine.clone();
            trailing.push(0);
            let truncated = genuine[..genuine.len() - 1].to_vec();
            [bad_point, bad_scalar, question_len, question_utf8, trailing, truncated, vec![0, 0, 0, 0], vec![]]
                .iter()
                .map(|p| inj(fx.puppet_body(&body_with(&[tlv(2, p)]), 0), &[Event::SmpAborted]))
                .collect()
        },
        Sends::SmpAbortEach,
        After::Unchanged,
    ),
    case_with(
        "body_smp1_forged_proof",
        |fx| {
            let mut payload = genuine_smp1(fx);
            payload[4 + 32] ^= 1; // c2
            vec![inj(fx.puppet_body(&body_with(&[tlv(2, &payload)]), 0), &[Event::SmpCheated])]
        },
        Sends::SmpAbortEach,
        After::Unchanged,
    ),
    case_with(
        "body_smp_messages_out_of_order",
        |fx| {
            [(3u16, 352usize), (4, 256), (5, 96)]
                .iter()
                .map(|&(kind, len)| {
                    inj(fx.puppet_body(&body_with(&[tlv(kind, &vec![0u8; len])]), 0), &[Event::SmpAborted])
                })
                .collect()
        },
        Sends::SmpAbortEach,
        After::Unchanged,
    ),
    case("body_smp_abort_when_idle", |fx| vec![inj(fx.puppet_body(&body_with(&[tlv(6, &[])]), 0), &[])]),
    case_with(
        "body_smp2_identity_points_during_run",
        |fx| {
            alice_starts_smp(fx);
            vec![inj(fx.puppet_body(&body_with(&[tlv(3, &[0u8; 352])]), 0), &[Event::SmpCheated])]
        },
        Sends::SmpAbortEach,
        After::PuppetSmpReset,
    ),
    case_with(
        "body_smp2_truncated_during_run",
        |fx| {
            alice_starts_smp(fx);
            vec![inj(fx.puppet_body(&body_with(&[tlv(3, &[0x11u8; 351])]), 0), &[Event::SmpAborted])]
        },
        Sends::SmpAbortEach,
        After::PuppetSmpReset,
    ),
    case_with(
        "body_smp1_during_own_run",
        |fx| {
            alice_starts_smp(fx);
            let payload = genuine_smp1(fx);
            vec![inj(fx.puppet_body(&body_with(&[tlv(2, &payload)]), 0), &[Event::SmpAborted])]
        },
        Sends::SmpAbortEach,
        After::PuppetSmpReset,
    ),
    case("body_smp_tlv_with_unknown_neighbour_and_bad_extra_key", |fx| {
        // Several records in one body: each is handled, and no text means no delivery.
        let body = body_with(&[tlv(0x1234, &[9; 9]), tlv(7, &[1]), tlv(0, &[0; 7])]);
        vec![inj(fx.puppet_body(&body, 0), &[Event::Malformed])]
    }),
    // ----- API misuse (the build makes the calls and checks their results) -----
    case("api_empty_peer_name", |fx| {
        let now = fx.now();
        let genuine = fx.bob_msg(GENUINE);
        assert!(fx.alice().receive("", &genuine, now).is_empty());
        assert_eq!(fx.alice().send("", b"x", now).map(|_| ()), Err(ClientError::InvalidArgument("peer")));
        assert_eq!(fx.alice().start_session("", now).map(|_| ()), Err(ClientError::InvalidArgument("peer")));
        assert!(fx.alice().set_max_message_size("", 10).is_err());
        assert!(fx.alice().end_session("", None, now).is_empty());
        assert!(fx.alice().smp_start("", None, b"s", None, now).is_err());
        assert!(!fx.alice().peers().contains(&String::new()));
        fx.release.push(genuine);
        vec![]
    }),
    case("api_2kib_peer_name", |fx| {
        let now = fx.now();
        let name = "b".repeat(2048);
        assert!(fx.alice().receive(&name, "?OFRv1?", now).is_empty());
        assert_eq!(fx.alice().send(&name, b"x", now).map(|_| ()), Err(ClientError::InvalidArgument("peer")));
        assert_eq!(fx.alice().start_session(&name, now).map(|_| ()), Err(ClientError::InvalidArgument("peer")));
        assert!(fx.alice().set_max_message_size(&name, 10).is_err());
        assert!(!fx.alice().peers().contains(&name));
        // Exactly at the limit is accepted.
        let edge = "b".repeat(1024);
        assert!(fx.alice().send(&edge, b"x", now).is_ok());
        vec![]
    }),
    case("api_send_without_session_under_each_policy", |_| {
        let mut net = support::Net::new();
        for (id, policy) in [
            ("never", Policy::NEVER),
            ("manual", Policy::MANUAL),
            ("opportunistic", Policy::OPPORTUNISTIC),
            ("always", Policy::ALWAYS),
        ] {
            net.add(id, id, support::settings(policy));
        }
        let now = net.now;
        for id in ["never", "manual"] {
            let (_, actions) = net.client(id).send("carol", b"hi carol", now).unwrap();
            let out = fixture::split_actions_any(actions);
            assert_eq!(out, vec!["hi carol".to_string()], "{id}");
            assert_eq!(net.client(id).send("carol", &[0xFF], now).map(|_| ()), Err(ClientError::InvalidUtf8), "{id}");
        }
        let (_, actions) = net.client("opportunistic").send("carol", b"hi carol", now).unwrap();
        let out = fixture::split_actions_any(actions);
        // The presets advertise OTR v2 and v3 too (libotr's presets), offrec's tag last.
        let otr = offrec::otr::text::OtrVersions::V2.union(offrec::otr::text::OtrVersions::V3);
        let combined = offrec::otr::text::append_combined_tag("hi carol", otr, offrec::wire::Versions::SUPPORTED);
        assert!(combined.contains(&format!("{TAG_BASE}  \t\t   \t")));
        assert_eq!(out, vec![combined]);
        assert_eq!(net.client("never").start_session("carol", now).map(|_| ()), Err(ClientError::PolicyForbids));
        // Require-encryption holds even non-UTF-8 text and only sends a query.
        let (id, actions) = net.client("always").send("carol", &[0xFF, 0x00], now).unwrap();
        let sent = fixture::split_actions_any(actions.clone());
        assert_eq!(sent.len(), 1);
        assert!(sent[0].starts_with("?OTRv23? ?OFRv1?"), "{}", sent[0]);
        assert!(actions.iter().any(|a| matches!(a, offrec::conversation::Action::Event { event: Event::EncryptionRequired { message }, .. } if *message == id)));
        for id in ["never", "manual", "opportunistic", "always"] {
            assert_eq!(
                net.client(id).send_to_instance("carol", 0x4444, b"x", now).map(|_| ()),
                Err(ClientError::NoSession),
                "{id}"
            );
            assert!(net.client(id).sessions("carol").is_empty());
        }
        vec![]
    }),
    case("api_send_to_unknown_instance", |fx| {
        let now = fx.now();
        assert_eq!(fx.alice().send_to_instance("bob", 0x4444_4444, b"x", now).map(|_| ()), Err(ClientError::NoSession));
        assert_eq!(fx.alice().send_to_instance("bob", 0, b"x", now).map(|_| ()), Err(ClientError::NoSession));
        vec![]
    }),
    case("api_smp_respond_without_question", |fx| {
        let now = fx.now();
        let result = fx.alice().smp_respond("bob", None, b"secret", now);
        assert!(matches!(result, Err(ClientError::Smp(_))), "{result:?}");
        let result = fx.alice().smp_respond("bob", Some(PUPPET_TAG), b"secret", now);
        assert!(matches!(result, Err(ClientError::Smp(_))), "{result:?}");
        assert!(matches!(fx.alice().smp_respond("carol", None, b"secret", now), Err(ClientError::NoSession)));
        vec![]
    }),
    case("api_smp_start_without_session", |fx| {
        let now = fx.now();
        assert_eq!(fx.alice().smp_start("carol", None, b"s", None, now).map(|_| ()), Err(ClientError::NoSession));
        assert_eq!(fx.alice().smp_start("bob", Some(0x4444), b"s", None, now).map(|_| ()), Err(ClientError::NoSession));
        assert!(matches!(fx.alice().smp_abort("carol", None, now), Err(ClientError::NoSession)));
        vec![]
    }),
    case("api_smp_question_too_long", |fx| {
        let now = fx.now();
        let question = "q".repeat(1025);
        let result = fx.alice().smp_start("bob", None, b"s", Some(&question), now);
        assert!(matches!(result, Err(ClientError::MessageTooLarge)), "{result:?}");
        vec![]
    }),
    case("api_extra_key_5kib_context", |fx| {
        let now = fx.now();
        let context = vec![7u8; 5 * 1024];
        let result = fx.alice().extra_symmetric_key("bob", None, 1, &context, now);
        assert!(matches!(result, Err(ClientError::InvalidArgument(_))));
        let result = fx.alice().extra_symmetric_key("carol", None, 1, b"ctx", now);
        assert!(matches!(result, Err(ClientError::NoSession)));
        vec![]
    }),
    case("api_end_session_unknown_peer_or_instance", |fx| {
        let now = fx.now();
        assert!(fx.alice().end_session("carol", None, now).is_empty());
        assert!(!fx.alice().peers().contains(&"carol".to_string()));
        // An unknown instance of a known peer: nothing is sent, nothing ends.
        let actions = fx.alice().end_session("bob", Some(0x4444_4444), now);
        assert!(actions.iter().all(|a| !matches!(a, offrec::conversation::Action::Send { .. })), "{actions:?}");
        vec![]
    }),
    case("api_transport_limit_too_small", |fx| {
        // Below 64 bytes a limit is refused outright (nothing could be carried).
        assert_eq!(
            fx.alice().set_max_message_size("bob", 20),
            Err(ClientError::InvalidArgument("transport limit below 64 bytes"))
        );
        let now = fx.now();
        // The smallest legal limit (64) and a message too long for 512 fragments of it.
        fx.alice().set_max_message_size("bob", 64).unwrap();
        let result = fx.alice().send("bob", &[b'x'; 20_000], now);
        assert_eq!(result.map(|_| ()), Err(ClientError::MessageTooLarge));
        fx.alice().set_max_message_size("bob", 0).unwrap();
        vec![]
    }),
    bug(
        "api_transport_limit_too_small_does_not_burn_a_message",
        |fx| {
            // A message refused because the transport limit is too small to fragment into must
            // leave the ratchet as it was (data_flow.rs: "Refuse before advancing the ratchet
            // if the result could not be carried"): the next message is numbered right after
            // the previous one.
            let now = fx.now();
            let number = |fx: &mut Fixture, text: &[u8]| {
                let (_, actions) = fx.alice().send_to_instance("bob", PUPPET_TAG, text, now).unwrap();
                let sent = fixture::split_actions(actions).sends;
                let bytes = armour::decode(&sent[0]).unwrap();
                assert_eq!(fx.puppet_read(&sent[0]), text);
                u32::from_be_bytes(bytes[N..N + 4].try_into().unwrap())
            };
            let first = number(fx, b"one");
            fx.alice().set_max_message_size("bob", 64).unwrap();
            let refused = fx.alice().send_to_instance("bob", PUPPET_TAG, &[b'x'; 20_000], now);
            assert_eq!(refused.map(|_| ()), Err(ClientError::MessageTooLarge));
            fx.alice().set_max_message_size("bob", 0).unwrap();
            let second = number(fx, b"two");
            assert_eq!(second, first + 1, "the refused message consumed a message key");
            vec![]
        },
        "Peer::encrypt_with_seed runs ratchet.encrypt (advancing the chain and consuming the \
         pending reveals) before send_binary fails with MaxLenTooSmall, so a refused send burns \
         a message number and loses the revealed MAC material it carried",
    ),
    case("api_oversize_plaintext_refused_before_encrypting", |fx| {
        let now = fx.now();
        let big = vec![b'x'; MAX_ENCODED_LEN];
        assert_eq!(fx.alice().send("bob", &big, now).map(|_| ()), Err(ClientError::MessageTooLarge));
        vec![]
    }),
];

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn catalogue_has_at_least_60_uniquely_named_cases_in_known_groups() {
    assert!(CATALOGUE.len() >= 60, "only {} cases", CATALOGUE.len());
    eprintln!(
        "hostile-input catalogue: {} cases ({} marked BUG)",
        CATALOGUE.len(),
        CATALOGUE.iter().filter(|c| c.bug.is_some()).count()
    );
    let mut names: Vec<&str> = CATALOGUE.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "duplicate case names");
    for case in CATALOGUE {
        assert!(GROUPS.iter().any(|g| case.name.starts_with(g)), "{} is in no group", case.name);
    }
}

const GROUPS: [&str; 7] = ["armour_", "data_", "ake_", "frag_", "text_", "body_", "api_"];

#[test]
fn hostile_armour() {
    run_group("armour_");
}

#[test]
fn hostile_data_messages() {
    run_group("data_");
}

#[test]
fn hostile_handshake() {
    run_group("ake_");
}

#[test]
fn hostile_fragments() {
    run_group("frag_");
}

#[test]
fn hostile_text_layer() {
    run_group("text_");
}

#[test]
fn hostile_encrypted_bodies() {
    run_group("body_");
}

#[test]
fn hostile_api_misuse() {
    run_group("api_");
}

/// Regression (fixed; was a bug in src/conversation/peer.rs, `receive_error`): see the case's note.
#[test]
fn bug_text_error_flood_with_error_start_ake_sends_one_query() {
    run_named("text_error_flood_with_error_start_ake_sends_one_query");
}

/// Regression (fixed; was a bug in src/conversation/data_flow.rs, `encrypt_with_seed`): see the case's note.
#[test]
fn bug_api_transport_limit_too_small_does_not_burn_a_message() {
    run_named("api_transport_limit_too_small_does_not_burn_a_message");
}

/// Regression (fixed; was a bug in src/conversation/data_flow.rs, `receive_data`): see the case's note.
#[test]
fn bug_data_reflected_own_message() {
    run_named("data_reflected_own_message");
}

/// Regression (fixed; was a bug in src/conversation/peer.rs, `receive_fragment`): see the case's note.
#[test]
fn bug_frag_reflected_own_fragments() {
    run_named("frag_reflected_own_fragments");
}
