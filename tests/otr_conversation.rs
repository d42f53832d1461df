//! OTR v3/v2 sessions through the conversation manager, between two offrec clients forced onto
//! OTR (a man in the middle removed the modern offer, or a policy allows OTR only in one
//! direction). The interop suite (tests/interop, `make interop`) proves the same against
//! libotr 4.1.1; this proves the engine's routing, events and calls on OTR sessions.

mod support;

use offrec::conversation::{Event, Policy, Protocol, Security, SessionState};
use offrec::otr::data::symmetric::hmac_sha1;
use offrec::otr::message::DataMessage;
use offrec::otr::text::armour;
use support::{settings, Net};

/// OTR as fallback without the downgrade guard: sessions stay OTR (the guard is tested below).
fn otr_fallback() -> Policy {
    Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2
}

/// Alice and Bob with an OTR session of `version`: Bob's query reached Alice with its modern
/// offer stripped, so Alice answered in OTR.
fn otr_pair(query: &str) -> Net {
    otr_pair_with(settings(otr_fallback()), query)
}

/// An OTR v3 pair as [`otr_pair`] gives, with Alice padding her bodies to `padding_block`.
fn otr_v3_pair_padding_to(padding_block: usize) -> Net {
    otr_pair_with(offrec::conversation::Settings { padding_block, ..settings(otr_fallback()) }, "?OTRv3?")
}

fn otr_pair_with(alice: offrec::conversation::Settings, query: &str) -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", alice);
    net.add("bob", "bob", settings(otr_fallback()));
    let now = net.now;
    let actions = net.client("alice").receive("bob", query, now);
    net.apply("alice", actions);
    net.run();
    net
}

#[test]
fn a_stripped_query_gives_an_otr_v3_session_that_carries_text_both_ways() {
    let mut net = otr_pair("?OTRv3?");
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        let sessions = net.party(id).client.sessions(peer);
        assert_eq!(sessions.len(), 1, "{id}");
        assert_eq!(sessions[0].protocol, Protocol::OtrV3);
        assert_eq!(net.state(id, peer), SessionState::EncryptedUnverified);
        assert!(net.party(id).saw(&Event::LegacySessionStarted { protocol: Protocol::OtrV3 }), "{id}");
    }
    // The fingerprints each side shows are the other's DSA key, as libotr would show them.
    let alice_sees = net.party("alice").client.sessions("bob")[0].otr.unwrap();
    let bob_sees = net.party("bob").client.sessions("alice")[0].otr.unwrap();
    assert_eq!(Some(alice_sees.their_fingerprint), net.party("bob").client.otr_fingerprint());
    assert_eq!(Some(bob_sees.their_fingerprint), net.party("alice").client.otr_fingerprint());
    assert_eq!(alice_sees.ssid, bob_sees.ssid);
    assert_ne!(alice_sees.first_half_bold, bob_sees.first_half_bold, "opposite halves are bold");

    for round in 0..5 {
        net.send("alice", "bob", &format!("to bob {round} <b>&amp;</b> ✓"));
        net.run();
        net.send("bob", "alice", &format!("to alice {round}"));
        net.run();
    }
    net.send("alice", "bob", &"x".repeat(10_000));
    net.run();
    let bob = net.party("bob");
    assert_eq!(bob.texts().len(), 6);
    assert_eq!(bob.texts()[3], "to bob 3 <b>&amp;</b> ✓");
    assert!(bob.delivered.iter().all(|d| d.security == Security::EncryptedUnverified));
    for (_, _, text) in &net.wire_log {
        assert!(!text.contains("to bob"), "plaintext on the wire: {text}");
        assert!(!text.starts_with("?OFR:"), "modern traffic in an OTR session");
    }
    assert!(net.wire_log.iter().any(|(_, _, t)| t.starts_with("?OTR:AAMD")), "OTR v3 data messages");
}

#[test]
fn otr_v2_when_only_v2_is_offered() {
    let mut net = otr_pair("?OTRv2?");
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV2);
    net.send("bob", "alice", "over v2");
    net.run();
    assert_eq!(net.party("alice").texts(), ["over v2"]);
    assert!(net.wire_log.iter().any(|(_, _, t)| t.starts_with("?OTR:AAID")), "OTR v2 data messages");
}

#[test]
fn the_modern_protocol_wins_when_both_are_offered() {
    let net = otr_pair("?OTRv3? ?OFRv1?");
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].protocol, Protocol::ModernV1);
    assert!(!net.wire_log.iter().any(|(_, _, t)| t.starts_with("?OTR")), "no OTR message was sent");
}

#[test]
fn require_modern_never_speaks_otr() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL | Policy::REQUIRE_MODERN));
    net.add("bob", "bob", settings(otr_fallback()));
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").client.sessions("bob").is_empty());
    assert!(net.party("alice").saw(&Event::ForeignProtocol));
    assert!(net.wire_log.is_empty(), "nothing answered");
}

#[test]
fn smp_extra_key_heartbeat_and_ending_work_over_otr() {
    let mut net = otr_pair("?OTRv3?");
    // SMP with a question: only the asker verifies (libotr's rule).
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"shared secret", Some("our city?"), now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob").saw(&Event::SmpAskedForSecret { question: Some("our city?".into()) }));
    let actions = net.client("bob").smp_respond("alice", None, b"shared secret", now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpSucceeded));
    assert!(net.party("bob").saw(&Event::SmpVerifiedByPeer));
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);

    // The extra symmetric key: the same 32 bytes on both sides.
    let now = net.now;
    let (key, actions) = net.client("bob").extra_symmetric_key("alice", None, 7, b"file.txt", now).unwrap();
    net.apply("bob", actions);
    net.run();
    let received = net.party("alice").events.iter().find_map(|(_, _, e)| match e {
        Event::ExtraKeyReceived { usage, context, key } => Some((*usage, context.clone(), *key.expose())),
        _ => None,
    });
    assert_eq!(received, Some((7, b"file.txt".to_vec(), *key)));

    // A heartbeat after a minute of silence following user text, not before.
    net.send("alice", "bob", "ping");
    net.run();
    net.now += 59;
    net.tick("bob");
    net.run();
    assert!(!net.party("bob").saw(&Event::HeartbeatSent), "no heartbeat before the interval");
    net.now += 2;
    net.tick("bob");
    net.run();
    assert!(net.party("bob").saw(&Event::HeartbeatSent));
    assert!(net.party("alice").saw(&Event::HeartbeatReceived));

    // Ending: the peer sees it finished, and a send fails instead of going out in the clear.
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    assert_eq!(net.state("bob", "alice"), SessionState::Finished);
    assert!(net.party("bob").saw(&Event::PeerEndedSession));
    let now = net.now;
    assert!(net.client("bob").send("alice", b"after the end", now).is_err());
}

/// Alice with an OTR v3 session with each of `clients` (ids like "bob#1", all of the account
/// "bob"): every client answers her D-H Commit to "bob".
fn alice_with_otr_clients_of_bob(clients: &[&str]) -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    for id in clients {
        net.add(id, "bob", settings(otr_fallback()));
    }
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), clients.len());
    assert!(sessions.iter().all(|s| s.protocol == Protocol::OtrV3));
    net
}

#[test]
fn smp_respond_without_an_instance_answers_the_otr_instance_that_asked() {
    let mut net = alice_with_otr_clients_of_bob(&["bob#1", "bob#2"]);
    support::smp_respond_answers_the_instance_that_asked(&mut net);
}

#[test]
fn otr_data_without_a_session_is_answered_with_one_otr_error() {
    let mut net = otr_pair("?OTRv3?");
    net.lose_sessions("bob");
    net.send("alice", "bob", "lost one");
    net.send("alice", "bob", "lost two");
    net.run();
    let errors: Vec<_> =
        net.wire_log.iter().filter(|(from, _, t)| from == "bob" && t.starts_with("?OTR Error:")).collect();
    assert_eq!(errors.len(), 1, "rate-limited: {errors:?}");
    assert!(errors[0].2.contains("You transmitted an unreadable encrypted message."));
    assert!(net.party("bob").saw(&Event::NotInPrivate));
    assert!(net.party("alice").events.iter().any(|(_, _, e)| matches!(e, Event::PeerError { .. })));
    assert!(net.party("bob").texts().is_empty());
}

#[test]
fn otr_data_arriving_after_its_sender_ended_the_session_is_not_read() {
    // Alice's message is held up and her disconnect reaches Bob first, so his session is
    // finished when the message arrives. A finished session reads no more text (libotr's
    // FINISHED state): Bob is told, and nothing is delivered.
    let mut net = otr_pair("?OTRv3?");
    net.send("alice", "bob", "in flight");
    let in_flight = net.queue.pop_back().unwrap();
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    assert_eq!(net.state("bob", "alice"), SessionState::Finished);
    net.queue.push_back(in_flight);
    net.run();
    assert!(net.party("bob").texts().is_empty());
    assert!(net.party("bob").saw(&Event::NotInPrivate));
}

#[test]
fn an_otr_re_key_while_a_session_runs_installs_the_new_keys() {
    // Bob answers a (stripped) query from Alice while their session runs: a new exchange with
    // the same instance, new keys, which replace the running session's (libotr re-keys so).
    let mut net = otr_pair("?OTRv3?");
    let ssid = |net: &Net, id: &str, peer: &str| net.party(id).client.sessions(peer)[0].otr.unwrap().ssid;
    let old = ssid(&net, "alice", "bob");
    net.now += 1;
    let now = net.now;
    let actions = net.client("bob").receive("alice", "?OTRv3?", now);
    net.apply("bob", actions);
    net.run();
    let started = |net: &Net, id: &str| {
        net.party(id).count(|e| matches!(e, Event::LegacySessionStarted { protocol: Protocol::OtrV3 }))
    };
    assert_eq!((started(&net, "alice"), started(&net, "bob")), (2, 2));
    let new = ssid(&net, "alice", "bob");
    assert_ne!(new, old, "new keys");
    assert_eq!(new, ssid(&net, "bob", "alice"));
    assert_eq!(net.party("alice").client.sessions("bob").len(), 1);
    net.send("alice", "bob", "under the new keys");
    net.run();
    assert_eq!(net.party("bob").texts(), ["under the new keys"]);
}

#[test]
fn an_unreadable_report_names_no_message_of_an_otr_session() {
    // OTR sessions keep no log of what they sent (OTR's own error messages name nothing), so a
    // modern report of an unreadable message, whoever sent it, finds no message of theirs to
    // call lost and restarts nothing.
    use offrec::wire::unreadable_report::{self, LostScope};
    let mut net = otr_pair("?OTRv3?");
    net.send("alice", "bob", "read fine");
    net.run();
    for scope in [LostScope::OneMessage, LostScope::Session] {
        let report = offrec::wire::error_message::encode(&unreadable_report::encode(&[7; 32], 0, scope));
        let now = net.now;
        let actions = net.client("alice").receive("bob", &report, now);
        net.apply("alice", actions);
    }
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::PeerError { .. })), 2);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::PeerCouldNotRead { .. })), 0);
    assert!(net.queue.is_empty(), "no new session asked for");
}

#[test]
fn a_nul_in_text_for_an_otr_session_is_refused_and_nothing_is_sent() {
    let mut net = otr_pair("?OTRv3?");
    let sent_before = net.wire_log.len() + net.queue.len();
    let now = net.now;
    assert!(net.client("alice").send("bob", b"a\0b", now).is_err());
    assert_eq!(net.wire_log.len() + net.queue.len(), sent_before);
}

/// A man in the middle who removes offrec's offer from every query, and (with `block_modern`)
/// drops every modern message.
fn stripping_net(block_modern: bool) -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.filter = Some(Box::new(move |_, _, text: &str| {
        if text.starts_with("?OTRv") {
            return vec![text.replacen(" ?OFRv1?", "", 1)];
        }
        if block_modern && text.starts_with("?OFR") {
            return vec![];
        }
        vec![text.to_owned()]
    }));
    net
}

#[test]
fn a_stripped_query_between_two_offrec_users_is_upgraded_to_the_modern_protocol() {
    let mut net = stripping_net(false);
    net.start("alice", "bob");
    net.run();
    // OTR first (the offer was stripped), then each side's probe started the modern handshake.
    assert!(net.wire_log.iter().any(|(_, _, t)| t.starts_with("?OTR:AAMC")), "an OTR AKE ran first");
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        assert!(net.party(id).saw(&Event::LegacySessionStarted { protocol: Protocol::OtrV3 }), "{id}");
        assert!(net.party(id).saw(&Event::ProtocolUpgraded), "{id}");
        assert!(!net.party(id).saw(&Event::DowngradeSuspected), "{id}");
        let sessions = net.party(id).client.sessions(peer);
        assert_eq!(sessions.len(), 1, "{id}: the OTR session was replaced, not kept beside");
        assert_eq!(sessions[0].protocol, Protocol::ModernV1, "{id}");
    }
    let upgraded_at = net.wire_log.len();
    net.send("alice", "bob", "after the upgrade");
    net.run();
    assert_eq!(net.party("bob").texts(), ["after the upgrade"]);
    assert!(net.wire_log[upgraded_at..].iter().all(|(_, _, t)| t.starts_with("?OFR:")), "modern traffic only");
}

#[test]
fn a_blocked_upgrade_is_reported_as_a_suspected_downgrade() {
    let mut net = stripping_net(true);
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    assert!(!net.party("alice").saw(&Event::DowngradeSuspected), "not before the handshake timeout");
    net.now += net.party("alice").client.settings().handshake_timeout + 1;
    net.tick("alice");
    net.tick("bob");
    net.run();
    for id in ["alice", "bob"] {
        assert_eq!(net.party(id).count(|e| matches!(e, Event::DowngradeSuspected)), 1, "{id}: reported once");
    }
    net.now += 1000;
    net.tick("alice");
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::DowngradeSuspected)), 1, "never repeated");
    // The OTR session still works: the users are told, not cut off.
    net.send("alice", "bob", "still here");
    net.run();
    assert_eq!(net.party("bob").texts(), ["still here"]);
}

#[test]
fn without_the_guard_no_probe_is_sent_and_the_session_stays_otr() {
    let mut net = otr_pair("?OTRv3?");
    assert!(!net.party("alice").saw(&Event::ProtocolUpgraded));
    assert!(!net.wire_log.iter().any(|(_, _, t)| t.starts_with("?OFR:")), "no modern handshake");
    net.send("alice", "bob", "x");
    net.run();
    assert_eq!(net.party("bob").client.sessions("alice")[0].protocol, Protocol::OtrV3);
}

/// The ciphertext lengths of the OTR data messages Alice (padding to `block`) sends for texts
/// of `lens` bytes.
fn otr_ciphertext_lengths(block: usize, lens: &[usize]) -> Vec<usize> {
    let plain: Vec<(usize, Option<usize>)> = lens.iter().map(|&len| (len, None)).collect();
    otr_ciphertext_lengths_with_tlvs(block, &plain)
}

/// As [`otr_ciphertext_lengths`], for texts of `len` bytes each sent with an application TLV
/// whose value has the given length, if any.
fn otr_ciphertext_lengths_with_tlvs(block: usize, messages: &[(usize, Option<usize>)]) -> Vec<usize> {
    let mut net = otr_v3_pair_padding_to(block);
    let before = net.wire_log.len();
    for &(len, tlv) in messages {
        let text = "p".repeat(len);
        match tlv {
            None => drop(net.send("alice", "bob", &text)),
            Some(value_len) => {
                let value = vec![7; value_len];
                let tlv = offrec::conversation::AppTlv { kind: offrec::conversation::APP_TLV_FIRST, value: &value };
                let now = net.now;
                let (_, actions) = net.client("alice").send_with_tlvs("bob", text.as_bytes(), &[tlv], now).unwrap();
                net.apply("alice", actions);
            }
        }
        net.run();
    }
    assert_eq!(net.party("bob").texts().len(), messages.len());
    net.wire_log[before..]
        .iter()
        .filter(|(from, _, _)| from == "alice")
        .map(|(_, _, text)| {
            let bytes = offrec::otr::text::armour::decode(text).unwrap();
            offrec::otr::message::DataMessage::parse(&bytes).unwrap().fields.ciphertext.len()
        })
        .collect()
}

#[test]
fn otr_bodies_are_padded_to_the_next_whole_block_and_no_further() {
    let lens: [usize; 9] = [1, 12, 13, 27, 28, 29, 31, 32, 60];
    // Text, its NUL, and a padding TLV (a 4-byte header and zeros) up to the next multiple.
    let expected: Vec<usize> = lens.iter().map(|len| (len + 1 + 4).div_ceil(32) * 32).collect();
    assert_eq!(otr_ciphertext_lengths(32, &lens), expected);
    // A block of 0 turns padding off: the text and its NUL alone.
    let bare: Vec<usize> = lens.iter().map(|len| len + 1).collect();
    assert_eq!(otr_ciphertext_lengths(0, &lens), bare);
}

#[test]
fn otr_bodies_with_tlvs_are_padded_to_the_next_whole_block_too() {
    // Text, its NUL, each TLV (a 4-byte header and its value), then the padding TLV.
    let messages: [(usize, Option<usize>); 5] =
        [(1, Some(0)), (5, Some(3)), (12, Some(10)), (20, Some(40)), (3, Some(17))];
    let expected: Vec<usize> =
        messages.iter().map(|&(len, tlv)| (len + 1 + 4 + tlv.unwrap() + 4).div_ceil(32) * 32).collect();
    assert_eq!(otr_ciphertext_lengths_with_tlvs(32, &messages), expected);
}

#[test]
fn a_flood_of_v2_queries_costs_one_commit() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("bob", "bob", settings(otr_fallback()));
    let now = net.now;
    for _ in 0..20 {
        let actions = net.client("alice").receive("bob", "?OTRv2?", now);
        net.apply("alice", actions);
    }
    let commits = net.party("alice").sent.iter().filter(|(_, t)| t.starts_with("?OTR:AAIC")).count();
    assert_eq!(commits, 1);
}

#[test]
fn a_lost_probe_is_repeated_in_the_first_user_messages() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    // The man in the middle strips the offer and drops each side's first OTR data message
    // (the probe that opens every OTR v3 session).
    let mut dropped: Vec<String> = Vec::new();
    net.filter = Some(Box::new(move |from: &str, _: &str, text: &str| {
        if text.starts_with("?OTRv") {
            return vec![text.replacen(" ?OFRv1?", "", 1)];
        }
        if text.starts_with("?OTR:AAMD") && !dropped.iter().any(|d| d == from) {
            dropped.push(from.to_owned());
            return vec![];
        }
        vec![text.to_owned()]
    }));
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3, "no probe arrived yet");
    net.send("alice", "bob", "hello over OTR");
    net.run();
    assert_eq!(net.party("bob").texts(), ["hello over OTR"], "the text arrives with the probe beside it");
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        assert!(net.party(id).saw(&Event::ProtocolUpgraded), "{id}");
        assert_eq!(net.party(id).client.sessions(peer)[0].protocol, Protocol::ModernV1, "{id}");
    }
}

/// Trust taken from a libotr fingerprints file reaches a running OTR session: verifying the
/// key the session uses turns it verified, with a state change for the UI; verifying another
/// key of the same peer changes no session.
#[test]
fn imported_libotr_trust_verifies_the_running_otr_session() {
    use offrec::migrate::AccountSelector;
    let mut net = otr_pair("?OTRv3?");
    let line = |fingerprint: &[u8]| {
        let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
        format!("bob\talice\t{}\t{hex}\tsmp\n", support::PROTOCOL)
    };

    let before = net.party("alice").states.len();
    let other_key = line(&[0x55; 20]);
    let (summary, actions) =
        net.client("alice").import_otr_fingerprints(other_key.as_bytes(), &AccountSelector::client()).unwrap();
    assert_eq!(summary.added, 1);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").states.len(), before, "{:?}", net.party("alice").states);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);

    let bobs_key = line(&net.party("bob").client.otr_fingerprint().unwrap());
    let (summary, actions) =
        net.client("alice").import_otr_fingerprints(bobs_key.as_bytes(), &AccountSelector::client()).unwrap();
    assert_eq!(summary.raised, 1, "the session's key was known, unverified");
    net.apply("alice", actions);
    let states: Vec<_> =
        net.party("alice").states[before..].iter().map(|(peer, _, state)| (peer.as_str(), *state)).collect();
    assert_eq!(states, [("bob", SessionState::EncryptedVerified)]);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
}

/// A random source that can be made to fail, as the OS generator may.
struct SwitchableRandom {
    inner: offrec::crypto::DeterministicRandom,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl offrec::crypto::RandomSource for SwitchableRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), offrec::crypto::RandomError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(offrec::crypto::RandomError);
        }
        self.inner.fill(out)
    }
}

#[test]
fn a_failed_random_source_during_otr_smp_is_reported_as_such_and_changes_nothing() {
    use offrec::conversation::{Client, ClientError};
    use offrec::smp::SmpError;
    use std::sync::atomic::Ordering;
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("bob", "bob", settings(otr_fallback()));
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let old = &net.party("alice").client;
    let (identity, tag) = (old.identity().clone(), old.instance_tag());
    let rng = SwitchableRandom {
        inner: offrec::crypto::DeterministicRandom::from_label("alice switchable"),
        failing: failing.clone(),
    };
    let alice = Client::with_parts("alice", support::PROTOCOL, identity, tag, settings(otr_fallback()), Box::new(rng));
    net.parties.get_mut("alice").unwrap().client = alice.unwrap();
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);

    failing.store(true, Ordering::SeqCst);
    let result = net.client("alice").smp_start("bob", None, b"secret", None, now);
    assert!(matches!(result, Err(ClientError::Smp(SmpError::Random(_)))), "{result:?}");
    assert!(!net.party("alice").client.sessions("bob")[0].smp_in_progress, "nothing started");
    // Once the source works again, SMP runs as usual.
    failing.store(false, Ordering::SeqCst);
    let actions = net.client("alice").smp_start("bob", None, b"secret", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let actions = net.client("bob").smp_respond("alice", None, b"secret", now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpSucceeded));
}

/// Alice with OTR v3 sessions with three clients of "bob". `speaker` sends text, then bob#3
/// does (so Alice prefers bob#3) and ends his session: Alice's next plain send goes to the
/// client that most recently sent text among those left, which is `speaker`.
fn plain_send_after_the_preferred_session_ends(speaker: &str) -> Vec<String> {
    let mut net = alice_with_otr_clients_of_bob(&["bob#1", "bob#2", "bob#3"]);
    net.now += 1;
    net.send(speaker, "alice", "earlier");
    net.run();
    net.now += 1;
    net.send("bob#3", "alice", "later");
    net.run();
    let now = net.now;
    let actions = net.client("bob#3").end_session("alice", None, now);
    net.apply("bob#3", actions);
    net.run();
    net.send("alice", "bob", "to whom?");
    net.run();
    ["bob#1", "bob#2", "bob#3"]
        .into_iter()
        .filter(|id| net.party(id).texts().contains(&"to whom?".to_owned()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn without_a_preferred_session_plain_sends_go_to_the_latest_otr_client_that_sent_text() {
    // Both ways round, so the choice cannot be the sessions' order.
    assert_eq!(plain_send_after_the_preferred_session_ends("bob#1"), ["bob#1"]);
    assert_eq!(plain_send_after_the_preferred_session_ends("bob#2"), ["bob#2"]);
}

#[test]
fn otr_smp_arguments_over_their_limits_or_with_a_nul_are_refused_and_start_nothing() {
    use offrec::conversation::ClientError;
    use offrec::otr::smp::{MAX_QUESTION_LEN, MAX_SECRET_LEN};
    let mut net = otr_pair("?OTRv3?");
    let now = net.now;
    let long_question = "q".repeat(MAX_QUESTION_LEN + 1);
    let long_secret = vec![b's'; MAX_SECRET_LEN + 1];
    let nul = ClientError::InvalidArgument("an OTR SMP question cannot contain NUL");
    for (secret, question, refused) in [
        (&b"secret"[..], Some(long_question.as_str()), ClientError::MessageTooLarge),
        (&long_secret[..], None, ClientError::MessageTooLarge),
        // OTR's question ends at its first NUL: the rest would be lost.
        (&b"secret"[..], Some("which\0one"), nul),
    ] {
        let result = net.client("alice").smp_start("bob", None, secret, question, now);
        assert_eq!(result.map(|_| ()), Err(refused));
        assert!(!net.party("alice").client.sessions("bob")[0].smp_in_progress);
        assert!(net.queue.is_empty(), "nothing sent");
    }
    // The answer's secret has the same limit; the run waits for a usable one.
    let actions = net.client("bob").smp_start("alice", None, b"secret", None, now).unwrap();
    net.apply("bob", actions);
    net.run();
    let result = net.client("alice").smp_respond("bob", None, &long_secret, now);
    assert_eq!(result.map(|_| ()), Err(ClientError::MessageTooLarge));
    assert!(net.queue.is_empty(), "nothing sent");
    let actions = net.client("alice").smp_respond("bob", None, b"secret", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob").saw(&Event::SmpSucceeded), "{:?}", net.party("bob").events);
    // Bob heard the run go on (Alice's SMP2), and nobody was told it was aborted.
    assert!(net.party("bob").saw(&Event::SmpInProgress));
    for id in ["alice", "bob"] {
        assert!(!net.party(id).saw(&Event::SmpAborted), "{id}");
    }
}

#[test]
fn ending_the_conversation_cancels_an_otr_handshake_in_progress() {
    // Alice's commit is out when her user ends the conversation: Bob's answer, arriving after,
    // must not bring up a session the user just ended (nor any later message of that exchange).
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("bob", "bob", settings(otr_fallback()));
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.step(); // Bob answers Alice's commit
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").client.sessions("bob").is_empty());
    assert!(!net.party("alice").saw(&Event::LegacySessionStarted { protocol: Protocol::OtrV3 }));
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
}

/// Alice with OTR v3 sessions with two clients of "bob", both of which started SMP with her;
/// then `speaker` sends text. Returns which client saw its run aborted after Alice's
/// `smp_abort` without an instance (the run of the latest-heard session).
fn smp_abort_without_an_instance(speaker: &str) -> Vec<String> {
    let mut net = alice_with_otr_clients_of_bob(&["bob#1", "bob#2"]);
    for id in ["bob#1", "bob#2"] {
        net.now += 1;
        let now = net.now;
        let actions = net.client(id).smp_start("alice", None, b"secret", None, now).unwrap();
        net.apply(id, actions);
        net.run();
    }
    assert!(net.party("alice").client.sessions("bob").iter().all(|s| s.smp_in_progress));
    net.now += 1;
    net.send(speaker, "alice", "latest");
    net.run();
    let now = net.now;
    let actions = net.client("alice").smp_abort("bob", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    ["bob#1", "bob#2"].into_iter().filter(|id| net.party(id).saw(&Event::SmpAborted)).map(str::to_owned).collect()
}

#[test]
fn smp_abort_without_an_instance_aborts_the_run_of_the_latest_heard_otr_client() {
    assert_eq!(smp_abort_without_an_instance("bob#1"), ["bob#1"]);
    assert_eq!(smp_abort_without_an_instance("bob#2"), ["bob#2"]);
}

#[test]
fn every_otr_message_length_fits_the_transport_limit_it_was_planned_for() {
    // Whether a message goes whole or in pieces is planned from the size it will have, before
    // it is encrypted: a size even one byte short would send some lengths whole past the limit.
    // Every message counts, revealed MAC keys included.
    // A padding block of 1 keeps the padding TLV but lets every length occur, as does 0 (no
    // padding TLV: the other way a body is built); 1 to 500 bytes of text cross the
    // 600-character limit.
    for padding_block in [1, 0] {
        every_length_fits(padding_block);
    }
}

fn every_length_fits(padding_block: usize) {
    let mut net = otr_v3_pair_padding_to(padding_block);
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        net.client(id).set_max_message_size(peer, 600).unwrap();
    }
    let before = net.wire_log.len();
    for len in 1..=500 {
        let text = "m".repeat(len);
        net.send("alice", "bob", &text);
        net.run();
        assert_eq!(net.party("bob").texts().last(), Some(&text), "{len} bytes");
        // Around where messages stop fitting whole, replies rotate the keys so that Alice's
        // messages also reveal old MAC keys (their length is part of the plan too). Only there:
        // each rotation is a 1536-bit exponentiation on both sides.
        if (150..=250).contains(&len) && len % 2 == 0 {
            net.send("bob", "alice", "ok");
            net.run();
        }
    }
    let sent = &net.wire_log[before..];
    let revealing = sent.iter().filter(|(from, _, wire)| {
        from == "alice"
            && wire.starts_with("?OTR:")
            && wire.len() > 500
            && !offrec::otr::message::DataMessage::parse(&offrec::otr::text::armour::decode(wire).unwrap())
                .unwrap()
                .old_mac_keys
                .is_empty()
    });
    assert!(revealing.count() > 0, "no message near the limit revealed keys");
    assert!(sent.iter().any(|(_, _, wire)| wire.starts_with("?OTR:")), "some went whole");
    assert!(sent.iter().any(|(_, _, wire)| wire.starts_with("?OTR|")), "some went in pieces");
    for (_, _, wire) in sent {
        assert!(wire.len() <= 600, "{} characters on the wire", wire.len());
    }
}

#[test]
fn the_largest_otr_message_under_the_receivers_cap_goes_and_a_byte_more_is_refused() {
    // The size is planned before encryption: an estimate even 1 byte over would refuse
    // messages that fit, one under would send messages every receiver drops. Each byte of text
    // is a byte of the binary message here, so the largest text that goes must make the
    // largest binary message that armours within the cap, and arrive. A padding block of 1
    // (a padding TLV, no zeros) takes the text-only path; 0 (no padding TLV) and an application
    // TLV take the path that encodes TLVs.
    use offrec::conversation::{AppTlv, ClientError, APP_TLV_FIRST};
    use offrec::otr::text::armour::{encoded_len, MAX_OTR_ENCODED_LEN};
    let largest_binary = (0..MAX_OTR_ENCODED_LEN).rev().find(|&n| encoded_len(n) <= MAX_OTR_ENCODED_LEN).unwrap();
    for (padding_block, with_tlv) in [(1, false), (0, false), (0, true)] {
        let case = format!("padding {padding_block}, TLV {with_tlv}");
        let mut net = otr_v3_pair_padding_to(padding_block);
        let tlv = [AppTlv { kind: APP_TLV_FIRST, value: b"typing" }];
        let tlvs: &[AppTlv<'_>] = if with_tlv { &tlv } else { &[] };
        // Refused sends change nothing, and sends without replies reveal nothing, so the
        // largest that goes is found on one session.
        let send = |net: &mut Net, len: usize| {
            let now = net.now;
            let sent = net.client("alice").send_with_tlvs("bob", &vec![b'c'; len], tlvs, now);
            sent.map(|(_, actions)| net.apply("alice", actions))
        };
        let (mut goes, mut refused) = (90_000, 100_000);
        while refused - goes > 1 {
            let mid = (goes + refused) / 2;
            match send(&mut net, mid) {
                Ok(()) => goes = mid,
                Err(error) => {
                    assert_eq!(error, ClientError::MessageTooLarge, "{case}");
                    refused = mid;
                }
            }
            net.queue.clear();
        }
        assert_eq!(send(&mut net, goes + 1), Err(ClientError::MessageTooLarge), "{case}");
        send(&mut net, goes).unwrap();
        let wire: Vec<Vec<u8>> = net.queue.iter().map(|(_, _, wire)| armour::decode(wire).unwrap()).collect();
        assert_eq!(wire.len(), 1, "{case}: whole");
        assert_eq!(wire[0].len(), largest_binary, "{case}");
        net.run();
        assert_eq!(net.party("bob").texts().last().map(String::len), Some(goes), "{case}");
    }
}

/// What Alice's next OTR message to Bob looks like on the wire under a transport limit of
/// `limit` (None: no limit): Alice and Bob are built the same way every time (deterministic
/// keys), after `rounds` exchanges of messages (rotated keys make Alice reveal old MAC keys),
/// so twins send the same bytes.
fn next_otr_message_under(limit: Option<usize>, rounds: usize, with_tlv: bool) -> Vec<String> {
    let mut net = otr_pair("?OTRv3?");
    for round in 0..rounds {
        net.send("alice", "bob", &format!("round {round}"));
        net.run();
        net.send("bob", "alice", &format!("reply {round}"));
        net.run();
    }
    if let Some(limit) = limit {
        net.client("alice").set_max_message_size("bob", limit).unwrap();
    }
    let now = net.now;
    let text = "w".repeat(150);
    let tlv = offrec::conversation::AppTlv { kind: offrec::conversation::APP_TLV_FIRST, value: b"typing" };
    let tlvs: &[_] = if with_tlv { &[tlv] } else { &[] };
    let (_, actions) = net.client("alice").send_with_tlvs("bob", text.as_bytes(), tlvs, now).unwrap();
    net.apply("alice", actions);
    let wire: Vec<String> = net.queue.iter().map(|(_, _, wire)| wire.clone()).collect();
    net.run();
    assert_eq!(net.party("bob").texts().last(), Some(&text));
    wire
}

#[test]
fn an_otr_message_that_fits_the_limit_exactly_goes_whole() {
    // The plan must not overestimate either: a message is split only when it would not fit.
    // Revealed keys and TLVs change the size, so each combination is tried.
    for (rounds, with_tlv) in [(0, false), (0, true), (2, false), (2, true)] {
        let case = format!("{rounds} rounds, TLV {with_tlv}");
        let unlimited = next_otr_message_under(None, rounds, with_tlv);
        assert_eq!(unlimited.len(), 1, "{case}");
        let reveals = DataMessage::parse(&armour::decode(&unlimited[0]).unwrap()).unwrap().old_mac_keys.len();
        assert_eq!(reveals > 0, rounds > 0, "{case}");
        let exact = unlimited[0].len();
        assert_eq!(next_otr_message_under(Some(exact), rounds, with_tlv), unlimited, "{case}: whole at the limit");
        let pieces = next_otr_message_under(Some(exact - 1), rounds, with_tlv);
        assert!(pieces.len() > 1 && pieces.iter().all(|p| p.len() < exact), "{case}: in pieces one under");
    }
}

#[test]
fn an_otr_message_longer_than_any_receiver_accepts_is_refused_and_burns_nothing() {
    // Receivers (offrec's among them) refuse encoded OTR messages over 128 KiB: such a message
    // used to go out whole when no transport limit was set and be lost at the other end.
    let mut net = otr_pair("?OTRv3?");
    let now = net.now;
    let result = net.client("alice").send("bob", "m".repeat(100_000).as_bytes(), now);
    assert_eq!(result.map(|_| ()), Err(offrec::conversation::ClientError::MessageTooLarge));
    assert!(net.queue.is_empty(), "nothing sent");
    // The largest size that fits goes through, and the session is as it was.
    let fits = "f".repeat(90_000);
    net.send("alice", "bob", &fits);
    net.run();
    assert_eq!(net.party("bob").texts(), [fits]);
    assert!(!net.party("bob").saw(&Event::Malformed));
}

#[test]
fn otr_smp_is_rate_limited_and_five_failed_runs_lock_it_out() {
    use offrec::conversation::{ClientError, SMP_MAX_FAILURES, SMP_MIN_INTERVAL};
    let mut net = otr_pair("?OTRv3?");
    for run in 0..SMP_MAX_FAILURES {
        let now = net.now;
        let actions = net.client("alice").smp_start("bob", None, b"right", None, now).unwrap();
        net.apply("alice", actions);
        net.run();
        // A second start within the interval is refused, run under way or not.
        let early = net.client("alice").smp_start("bob", None, b"right", None, now + SMP_MIN_INTERVAL - 1);
        assert_eq!(early.unwrap_err(), ClientError::SmpRateLimited, "run {run}");
        let actions = net.client("bob").smp_respond("alice", None, b"wrong guess", now).unwrap();
        net.apply("bob", actions);
        net.run();
        assert_eq!(net.party("alice").count(|e| matches!(e, Event::SmpFailed)), run as usize + 1);
        net.now += SMP_MIN_INTERVAL;
    }
    // Five wrong guesses: no more runs in this session, however long Alice waits.
    net.now += SMP_MIN_INTERVAL * 100;
    let now = net.now;
    assert_eq!(
        net.client("alice").smp_start("bob", None, b"right", None, now).unwrap_err(),
        ClientError::SmpRateLimited
    );
}

#[cfg(feature = "test-hooks")]
#[test]
fn a_malformed_otr_smp_message_is_reported_as_cheating() {
    let mut net = otr_pair("?OTRv3?");
    let now = net.now;
    // SMP1 (TLV type 2) whose value is not the MPIs SMP1 holds: what a cheater or a broken
    // peer sends.
    let actions = net.client("bob").test_send_otr_smp("alice", None, 2, &[0, 0, 0, 6, 1, 2, 3], now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpCheated));
    assert!(!net.party("alice").saw(&Event::SmpAskedForSecret { question: None }));
    assert!(!net.party("alice").client.sessions("bob")[0].smp_in_progress);
    // The session carries on.
    net.send("bob", "alice", "still here");
    net.run();
    assert_eq!(net.party("alice").texts(), ["still here"]);
}

#[test]
fn otr_handshakes_with_strangers_are_kept_exactly_the_handshake_timeout() {
    let timeout = offrec::conversation::Settings::default().handshake_timeout;
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("carol", "carol", settings(otr_fallback()));
    net.add("dave", "dave", settings(otr_fallback()));
    let start = net.now;
    // Carol is asked by a stranger ("eve"): she starts an OTR handshake (her D-H Commit).
    let actions = net.client("carol").receive("eve", "?OTRv3?", start);
    assert!(actions
        .iter()
        .any(|a| matches!(a, offrec::conversation::Action::Send { text, .. } if text.starts_with("?OTR:AAMC"))));
    // Dave gets a D-H Commit from a stranger (Alice's, answering a query): he answers it.
    let actions = net.client("alice").receive("frank", "?OTRv3?", start);
    let commit = actions
        .iter()
        .find_map(|a| match a {
            offrec::conversation::Action::Send { text, .. } if text.starts_with("?OTR:AAMC") => Some(text.to_string()),
            _ => None,
        })
        .unwrap();
    let actions = net.client("dave").receive("alice", &commit, start);
    assert!(actions
        .iter()
        .any(|a| matches!(a, offrec::conversation::Action::Send { text, .. } if text.starts_with("?OTR:AAMK"))));
    for (id, stranger) in [("carol", "eve"), ("dave", "alice")] {
        // Kept for the handshake's whole timeout...
        net.client(id).tick(start + 1);
        net.client(id).tick(start + timeout);
        assert_eq!(net.party(id).client.peers(), [stranger], "{id} at the timeout");
        // ...and forgotten, handshake and all, right after it.
        net.client(id).tick(start + timeout + 1);
        assert!(net.party(id).client.peers().is_empty(), "{id} after the timeout");
    }
}

#[test]
fn the_probe_rides_in_exactly_the_first_two_user_messages() {
    // Offrec's offer stripped from queries and its messages dropped: the OTR v3 session stays,
    // and Alice (with the downgrade guard) repeats her probe in her first two user messages
    // only. The probe is a TLV inside the encryption, so it shows as a longer ciphertext.
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.filter = Some(Box::new(|_: &str, _: &str, text: &str| {
        if text.starts_with("?OTRv") {
            return vec![text.replacen(" ?OFRv1?", "", 1)];
        }
        if text.starts_with("?OFR") {
            return vec![];
        }
        vec![text.to_owned()]
    }));
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    let mut lengths = Vec::new();
    for _ in 0..4 {
        net.send("alice", "bob", "same text");
        let wire =
            net.queue.iter().find(|(from, _, t)| from == "alice" && t.starts_with("?OTR:AAMD")).unwrap().2.clone();
        let bytes = offrec::otr::text::armour::decode(&wire).unwrap();
        lengths.push(offrec::otr::message::DataMessage::parse(&bytes).unwrap().fields.ciphertext.len());
        net.run();
    }
    assert_eq!(net.party("bob").texts(), ["same text"; 4]);
    assert_eq!(lengths[0], lengths[1]);
    assert_eq!(lengths[2], lengths[3]);
    assert!(lengths[1] > lengths[2], "{lengths:?}");
}

/// Alice's OTR data messages among `sent`, each with the MAC keys it reveals.
fn revealed_per_message(sent: &[(String, String, String)]) -> Vec<usize> {
    sent.iter()
        .filter(|(from, _, text)| from == "alice" && text.starts_with("?OTR:AAMD"))
        .map(|(_, _, text)| {
            let bytes = offrec::otr::text::armour::decode(text).unwrap();
            offrec::otr::message::DataMessage::parse(&bytes).unwrap().old_mac_keys.len()
        })
        .collect()
}

#[test]
fn ending_an_otr_session_publishes_its_remaining_mac_keys_in_one_message() {
    for peer_ended_first in [false, true] {
        let mut net = otr_pair("?OTRv3?");
        for round in 0..3 {
            net.send("alice", "bob", &format!("to bob {round}"));
            net.run();
            net.send("bob", "alice", &format!("to alice {round}"));
            net.run();
        }
        if peer_ended_first {
            let now = net.now;
            let actions = net.client("bob").end_session("alice", None, now);
            net.apply("bob", actions);
            net.run();
            assert_eq!(net.state("alice", "bob"), SessionState::Finished);
        }
        let before = net.wire_log.len();
        let now = net.now;
        let actions = net.client("alice").end_session("bob", None, now);
        net.apply("alice", actions);
        net.run();
        // One message carries them all (the disconnect, or an empty one once Bob has left).
        let revealed = revealed_per_message(&net.wire_log[before..]);
        assert_eq!(revealed.len(), 1, "peer ended first: {peer_ended_first}: {revealed:?}");
        assert!(revealed[0] > 0, "peer ended first: {peer_ended_first}: nothing revealed");
        // OTR's deniability: afterwards every message Bob sent Alice, the last included, can
        // be forged with a MAC key Alice published.
        let alices_keys = mac_keys_revealed_by("alice", &net.wire_log);
        for (from, _, text) in &net.wire_log {
            if from == "bob" && text.starts_with("?OTR:AAMD") {
                let bytes = armour::decode(text).unwrap();
                let message = DataMessage::parse(&bytes).unwrap();
                let authenticated = &bytes[..message.authenticated_len()];
                let forgeable = alices_keys.iter().any(|key| hmac_sha1(key, &[authenticated]) == message.mac);
                assert!(forgeable, "peer ended first: {peer_ended_first}: a message of Bob's stays unforgeable");
            }
        }
    }
}

/// Every MAC key `id` revealed in its OTR data messages in `sent`.
fn mac_keys_revealed_by(id: &str, sent: &[(String, String, String)]) -> Vec<[u8; 20]> {
    sent.iter()
        .filter(|(from, _, text)| from == id && text.starts_with("?OTR:AAMD"))
        .flat_map(|(_, _, text)| DataMessage::parse(&armour::decode(text).unwrap()).unwrap().old_mac_keys)
        .collect()
}

#[test]
fn an_otr_handshake_in_fragments_reaches_the_instance_it_answers() {
    // Under a 200-character limit every AKE message but the commit goes in fragments, and each
    // fragment names the instance it is for: a wrong receiver tag would have it ignored there,
    // and no tag (0) would have every other client of the name reassemble it for nothing.
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("bob", "bob", settings(otr_fallback()));
    net.add("bob#2", "bob", settings(otr_fallback()));
    for (id, peer) in [("alice", "bob"), ("bob", "alice"), ("bob#2", "alice")] {
        net.client(id).set_max_message_size(peer, 200).unwrap();
    }
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    for from in ["alice", "bob"] {
        let fragmented = net.wire_log.iter().any(|(f, _, t)| f == from && t.starts_with("?OTR|"));
        assert!(fragmented, "{from} answered in fragments");
    }
    assert!(net.wire_log.iter().all(|(_, _, t)| t.len() <= 200));
    assert_eq!(net.party("alice").client.sessions("bob").len(), 2);
    for id in ["bob", "bob#2"] {
        assert_eq!(net.party(id).client.sessions("alice")[0].protocol, Protocol::OtrV3, "{id}");
        // The other client's fragments were dropped unread, by their header.
        assert_eq!(net.party(id).count(|e| matches!(e, Event::ForOtherInstance)), 0, "{id}");
    }
    net.send("bob", "alice", "through fragments");
    net.run();
    assert_eq!(net.party("alice").texts(), ["through fragments"]);
}

#[test]
fn a_whitespace_tag_during_an_otr_session_starts_no_new_handshake() {
    use offrec::otr::text::{whitespace::otr_tag, OtrVersions};
    let mut net = Net::new();
    let opportunistic = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::WHITESPACE_START_AKE;
    net.add("alice", "alice", settings(opportunistic));
    net.add("bob", "bob", settings(opportunistic));
    let now = net.now;
    let tagged = format!("hello{}", otr_tag(OtrVersions::V3));
    // With no session, a tagged plaintext starts an OTR handshake...
    let actions = net.client("alice").receive("bob", &tagged, now);
    net.apply("alice", actions);
    assert!(net.queue.iter().any(|(from, _, t)| from == "alice" && t.starts_with("?OTR:AAMC")));
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    // ...but with one up, another (anyone can inject plaintext) starts nothing, however much
    // later it comes (a commit within 2 s of the last is never repeated anyway).
    net.now += 60;
    let now = net.now;
    let before = net.wire_log.len();
    let actions = net.client("alice").receive("bob", &tagged, now);
    net.apply("alice", actions);
    net.run();
    assert!(net.wire_log[before..].iter().all(|(_, _, t)| !t.starts_with("?OTR:AAMC")), "a new D-H Commit");
    assert_eq!(net.party("alice").client.sessions("bob").len(), 1);
}

#[test]
fn a_whitespace_tag_starts_no_otr_handshake_without_the_policy_to() {
    use offrec::otr::text::{whitespace::otr_tag, OtrVersions};
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALLOW | Policy::ALLOW_OTR_V3));
    let now = net.now;
    let actions = net.client("alice").receive("bob", &format!("hello{}", otr_tag(OtrVersions::V3)), now);
    net.apply("alice", actions);
    assert!(net.queue.is_empty(), "{:?}", net.queue);
    assert_eq!(net.party("alice").texts(), ["hello"]);
}

#[test]
fn a_modern_tag_naming_no_version_we_speak_leaves_the_otr_tag_to_start_otr() {
    // A future offrec that speaks only newer versions still tags OTR v3: we answer in OTR.
    use offrec::otr::text::{whitespace::otr_tag, OtrVersions};
    use offrec::wire::whitespace::append_tag;
    use offrec::wire::Versions;
    let mut net = Net::new();
    let opportunistic = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::WHITESPACE_START_AKE;
    net.add("alice", "alice", settings(opportunistic));
    let tagged = append_tag(&format!("hello{}", otr_tag(OtrVersions::V3)), Versions::empty());
    let now = net.now;
    let actions = net.client("alice").receive("bob", &tagged, now);
    net.apply("alice", actions);
    assert!(net.queue.iter().any(|(from, _, t)| from == "alice" && t.starts_with("?OTR:AAMC")), "{:?}", net.queue);
    assert_eq!(net.party("alice").texts(), ["hello"]);
}

#[test]
fn a_late_answer_to_our_otr_commit_from_another_client_still_completes() {
    // Alice's D-H Commit goes to every client of "bob". Bob#1's answer completes a session at
    // once; Bob#2's D-H Key is held up until then. Alice's commit must still be there for it.
    use std::cell::RefCell;
    use std::rc::Rc;
    let mut net = Net::new();
    net.add("alice", "alice", settings(otr_fallback()));
    net.add("bob#1", "bob", settings(otr_fallback()));
    net.add("bob#2", "bob", settings(otr_fallback()));
    let late_tag = net.party("bob#2").client.instance_tag();
    let held: Rc<RefCell<Vec<String>>> = Rc::default();
    let hold = Rc::clone(&held);
    net.filter = Some(Box::new(move |_: &str, _: &str, text: &str| {
        let from_late = offrec::otr::text::armour::decode(text)
            .ok()
            .and_then(|bytes| offrec::otr::message::parse_header(&bytes).ok())
            .is_some_and(|h| h.message_type == offrec::otr::message::MessageType::DhKey && h.sender_tag.0 == late_tag);
        // Held once (the test hands it on itself), then let through.
        if from_late && !hold.borrow().iter().any(|t| t == text) {
            hold.borrow_mut().push(text.to_owned());
            return vec![];
        }
        vec![text.to_owned()]
    }));
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob").len(), 1, "bob#1's session first");
    let late = held.borrow().first().cloned().expect("bob#2's D-H Key was held");
    net.now += 1;
    net.queue.push_back(("bob".into(), "alice".into(), late));
    net.run();
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(sessions.iter().any(|s| s.instance == late_tag && s.protocol == Protocol::OtrV3));
}
