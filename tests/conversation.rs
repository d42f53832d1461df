//! Scripted conversations through the conversation manager, asserting the exact plaintexts,
//! states and events both sides see.

mod support;

use offrec::conversation::{ClientError, Event, NotSentReason, Policy, Security, SessionState};
use support::{settings, Net};

fn pair(alice: Policy, bob: Policy) -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(alice));
    net.add("bob", "bob", settings(bob));
    net
}

fn encrypted_pair() -> Net {
    let mut net = pair(Policy::MANUAL, Policy::MANUAL);
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
    net
}

fn is_protocol_text(text: &str) -> bool {
    // Our query offers OTR first (`?OTRv23? ?OFRv1? ...`), as the presets allow OTR fallback.
    text.starts_with("?OFR") || text.starts_with("?OTRv23? ?OFRv1?")
}

#[test]
fn manual_start_encrypts_both_ways_with_matching_ssid() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "hello bob");
    net.send("bob", "alice", "hello alice");
    net.run();
    assert_eq!(net.party("bob").texts(), ["hello bob"]);
    assert_eq!(net.party("alice").texts(), ["hello alice"]);
    assert_eq!(net.party("bob").delivered[0].security, Security::EncryptedUnverified);
    let a = &net.party("alice").client.sessions("bob")[0];
    let b = &net.party("bob").client.sessions("alice")[0];
    assert_eq!(a.ssid, b.ssid);
    assert_eq!(a.their_fingerprint, net.party("bob").client.fingerprint());
    assert!(net.party("alice").saw(&Event::NewFingerprint { fingerprint: net.party("bob").client.fingerprint() }));
    for (_, _, text) in &net.wire_log {
        assert!(!text.contains("hello"), "plaintext on the wire: {text}");
    }
}

#[test]
fn opportunistic_whitespace_tag_starts_the_session() {
    let mut net = pair(Policy::OPPORTUNISTIC, Policy::OPPORTUNISTIC);
    net.send("alice", "bob", "hi there");
    net.run();
    // The first message went in the clear, tagged, and was shown without the tag.
    assert_eq!(net.party("bob").delivered[0].text, "hi there");
    assert_eq!(net.party("bob").delivered[0].security, Security::Plaintext);
    assert!(net.wire_log[0].2.starts_with("hi there") && net.wire_log[0].2.len() > "hi there".len());
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
    net.send("bob", "alice", "now private");
    net.run();
    assert_eq!(net.party("alice").delivered.last().unwrap().security, Security::EncryptedUnverified);
}

#[test]
fn untagged_reply_stops_tagging() {
    let mut net = pair(Policy::OPPORTUNISTIC, Policy::NEVER);
    net.send("alice", "bob", "one");
    net.run();
    net.send("bob", "alice", "plain reply");
    net.run();
    net.send("alice", "bob", "two");
    net.run();
    let sent: Vec<&String> = net.party("alice").sent.iter().map(|(_, t)| t).collect();
    assert_ne!(sent[0], "one", "first message tagged");
    assert_eq!(sent[1], "two", "tagging stopped after an untagged reply");
}

#[test]
fn require_encryption_never_sends_plaintext_and_delivers_after_the_handshake() {
    let mut net = pair(Policy::ALWAYS, Policy::MANUAL);
    let id = net.send("alice", "bob", "the secret plan");
    assert!(net.party("alice").saw(&Event::EncryptionRequired { message: id }));
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(net.party("bob").texts(), ["the secret plan"]);
    assert_eq!(net.party("bob").delivered[0].security, Security::EncryptedUnverified);
    for (_, _, text) in &net.wire_log {
        assert!(is_protocol_text(text), "non-protocol text on the wire: {text}");
        assert!(!text.contains("secret plan"));
    }
}

#[test]
fn held_message_times_out_with_its_id() {
    let mut net = pair(Policy::ALWAYS, Policy::NEVER);
    let id = net.send("alice", "bob", "never in clear");
    net.run();
    let failed = Event::MessageNotSent { message: id, reason: NotSentReason::EncryptionTimeout };
    // Held for exactly the timeout (120 s): still held. One second more: it fails.
    net.now += 120;
    net.tick("alice");
    assert!(!net.party("alice").saw(&failed));
    net.now += 1;
    net.tick("alice");
    assert!(net.party("alice").saw(&failed));
    // Bob (policy never) saw only the query text, not the message.
    assert!(net.party("bob").texts().iter().all(|t| !t.contains("never in clear")));
}

#[test]
fn both_start_at_once_converge_on_one_session() {
    let mut net = pair(Policy::MANUAL, Policy::MANUAL);
    net.start("alice", "bob");
    net.start("bob", "alice");
    net.run();
    let a = net.party("alice").client.sessions("bob");
    let b = net.party("bob").client.sessions("alice");
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].ssid, b[0].ssid);
    net.send("alice", "bob", "x");
    net.send("bob", "alice", "y");
    net.run();
    assert_eq!(net.party("bob").texts(), ["x"]);
    assert_eq!(net.party("alice").texts(), ["y"]);
}

#[test]
fn refresh_keeps_old_session_until_new_one_completes() {
    let mut net = encrypted_pair();
    let old_ssid = net.party("alice").client.sessions("bob")[0].ssid;
    net.start("alice", "bob"); // query queued, not yet delivered
    net.send("alice", "bob", "during refresh");
    assert!(net.queue.iter().all(|(_, _, t)| is_protocol_text(t)));
    net.run();
    assert_eq!(net.party("bob").texts(), ["during refresh"]);
    let new_ssid = net.party("alice").client.sessions("bob")[0].ssid;
    assert_ne!(old_ssid, new_ssid);
    assert_eq!(net.party("bob").client.sessions("alice")[0].ssid, new_ssid);
    net.send("bob", "alice", "after refresh");
    net.run();
    assert_eq!(net.party("alice").texts(), ["after refresh"]);
}

#[test]
fn peer_restart_loses_session_and_heals_on_restart() {
    let mut net = encrypted_pair();
    // Bob's program restarts with the same identity but no session state.
    let identity = net.party("bob").client.identity().clone();
    net.parties.remove("bob");
    net.add_with_identity("bob", "bob", settings(Policy::MANUAL), identity);
    net.send("alice", "bob", "are you there?");
    net.run();
    assert!(net.party("bob").texts().is_empty());
    assert!(net.party("bob").saw(&Event::NotInPrivate));
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::PeerError { .. })), 1);
    // Either side restarts the session and the conversation continues.
    net.start("bob", "alice");
    net.run();
    net.send("alice", "bob", "back again");
    net.run();
    assert_eq!(net.party("bob").texts(), ["back again"]);
}

#[test]
fn three_instances_of_one_peer() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    for id in ["bob#1", "bob#2", "bob#3"] {
        net.add(id, "bob", settings(Policy::MANUAL));
    }
    net.start("alice", "bob");
    net.run();
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), 3);
    for id in ["bob#1", "bob#2", "bob#3"] {
        assert_eq!(net.state(id, "alice"), SessionState::EncryptedUnverified);
    }
    // Send to each instance explicitly; the others see a message for another instance.
    for (i, id) in ["bob#1", "bob#2", "bob#3"].iter().enumerate() {
        let tag = net.party(id).client.instance_tag();
        let now = net.now;
        let (_, actions) =
            net.client("alice").send_to_instance("bob", tag, format!("for {i}").as_bytes(), now).unwrap();
        net.apply("alice", actions);
        net.run();
        assert_eq!(net.party(id).texts().last().unwrap(), &format!("for {i}"));
    }
    for id in ["bob#1", "bob#2", "bob#3"] {
        assert_eq!(net.party(id).texts().len(), 1);
        assert_eq!(net.party(id).count(|e| matches!(e, Event::ForOtherInstance)), 2);
    }
    // Replies come from distinct instances and are attributed correctly.
    net.send("bob#2", "alice", "from two");
    net.run();
    let reply = net.party("alice").delivered.last().unwrap().clone();
    assert_eq!((reply.text.as_str(), reply.instance), ("from two", net.party("bob#2").client.instance_tag()));
}

#[test]
fn irc_sized_limit_fragments_and_reassembles() {
    let mut net = encrypted_pair();
    for id in ["alice", "bob"] {
        let peer = if id == "alice" { "bob" } else { "alice" };
        net.client(id).set_max_message_size(peer, 400).unwrap();
    }
    let long: String = (0..3000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    net.send("alice", "bob", &long);
    let pieces = net.queue.len();
    assert!(pieces > 5, "expected fragments, got {pieces}");
    assert!(net.queue.iter().all(|(_, _, t)| t.len() <= 400 && t.starts_with("?OFR|")));
    net.run();
    assert_eq!(net.party("bob").texts(), [long]);
}

#[test]
fn a_peer_limit_of_zero_returns_to_the_client_wide_limit() {
    let mut net = encrypted_pair();
    let mut wide = net.party("alice").client.settings().clone();
    wide.max_message_size = 300;
    net.client("alice").set_settings(wide);
    net.client("alice").set_max_message_size("bob", 1_000).unwrap();
    net.client("alice").set_max_message_size("bob", 0).unwrap();
    let long = "x".repeat(2_000);
    net.send("alice", "bob", &long);
    assert!(net.queue.len() > 1, "not fragmented");
    assert!(net.queue.iter().all(|(_, _, t)| t.len() <= 300), "0 must mean the client default, not no limit");
    net.run();
    assert_eq!(net.party("bob").texts(), [long]);
}

#[test]
fn lossy_reordering_transport_never_desynchronises() {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::rc::Rc;
    let mut net = encrypted_pair();
    // Which wire texts the deterministic filter dropped, so the test knows exactly what must
    // arrive: every message whose wire text was not dropped, once, and nothing else.
    let dropped: Rc<RefCell<BTreeSet<String>>> = Rc::default();
    let seen = Rc::clone(&dropped);
    let mut counter = 0u32;
    net.filter = Some(Box::new(move |_, _, text| {
        counter += 1;
        match counter % 7 {
            3 => {
                seen.borrow_mut().insert(text.to_owned());
                vec![]
            }
            5 => vec![text.to_owned(), text.to_owned()], // duplicated
            _ => vec![text.to_owned()],
        }
    }));
    let mut wire_of = Vec::new(); // (plaintext, its wire text, sender)
    let mut queue_send = |net: &mut Net, from: &str, to: &str, text: String| {
        net.send(from, to, &text);
        let wire = net.queue.back().unwrap().2.clone();
        wire_of.push((text, wire, from.to_owned()));
    };
    for round in 0..30 {
        queue_send(&mut net, "alice", "bob", format!("a{round}"));
        if round % 3 == 0 {
            // Reorder: swap the two newest messages in flight.
            let n = net.queue.len();
            if n >= 2 {
                net.queue.swap(n - 1, n - 2);
            }
        }
        if round % 4 == 0 {
            queue_send(&mut net, "bob", "alice", format!("b{round}"));
            net.run();
        }
    }
    net.run();
    let dropped = dropped.borrow().clone();
    for (receiver, sender) in [("bob", "alice"), ("alice", "bob")] {
        let expected: BTreeSet<String> = wire_of
            .iter()
            .filter(|(_, wire, from)| from == sender && !dropped.contains(wire))
            .map(|(text, _, _)| text.clone())
            .collect();
        let got = net.party(receiver).texts();
        let got_set: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got_set.len(), got.len(), "{receiver}: a message was delivered twice: {got:?}");
        assert_eq!(got_set, expected, "{receiver}: delivered set differs from the undropped set");
    }
    assert!(!dropped.is_empty(), "the filter must really drop something");
    // Still in sync both ways.
    net.filter = None;
    net.send("alice", "bob", "final a");
    net.send("bob", "alice", "final b");
    net.run();
    assert_eq!(net.party("bob").texts().last().unwrap(), "final a");
    assert_eq!(net.party("alice").texts().last().unwrap(), "final b");
}

#[test]
fn broken_engines_exchange_a_bounded_number_of_errors() {
    let mut net = encrypted_pair();
    // Real data messages of the first session, captured in both directions.
    net.send("alice", "bob", "old a");
    net.send("bob", "alice", "old b");
    let captured: Vec<(String, String, String)> = net.queue.drain(..).collect();
    assert_eq!(captured.len(), 2);
    // Both sides lose that session (a restart without state): from now on every captured
    // message is unreadable to them, and each answers with an error message, which the other
    // must never answer with an error of its own.
    net.lose_sessions("alice");
    net.lose_sessions("bob");
    let before = net.wire_log.len();
    let seconds = 60u64;
    for _ in 0..seconds {
        net.now += 1;
        // Ten replays per second each way: a storm.
        for _ in 0..10 {
            net.queue.extend(captured.iter().cloned());
        }
        net.run();
    }
    let errors_from = |who: &str| {
        net.wire_log[before..].iter().filter(|(from, _, t)| from == who && t.starts_with("?OFR Error:")).count()
    };
    let bound = (seconds / offrec::conversation::ERROR_MESSAGE_INTERVAL + 1) as usize;
    for who in ["alice", "bob"] {
        let errors = errors_from(who);
        assert!(errors >= 1, "{who} sent no error: the storm did not happen");
        assert!(errors <= bound, "{who} sent {errors} error messages in {seconds} s (bound {bound})");
    }
    // Errors were never answered with errors: everything on the wire is a replay, an error, or
    // the healing query/handshake, and the number of wire messages not injected is small.
    let injected = captured.len() * 10 * seconds as usize;
    let generated = net.wire_log.len() - before - injected;
    assert!(generated <= 4 * bound + 8, "{generated} messages generated in response to the storm");
}

#[test]
fn heartbeat_after_silence_moves_the_ratchet_and_publishes_reveals() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "ping");
    net.run();
    net.now += 30;
    net.tick("bob");
    assert!(!net.party("bob").saw(&Event::HeartbeatSent));
    net.now += 31;
    net.tick("bob");
    assert!(net.party("bob").saw(&Event::HeartbeatSent));
    net.run();
    assert!(net.party("alice").saw(&Event::HeartbeatReceived));
    assert_eq!(net.party("alice").texts(), Vec::<String>::new());
    // Only once per received message.
    net.now += 100;
    net.tick("bob");
    assert_eq!(net.party("bob").count(|e| matches!(e, Event::HeartbeatSent)), 1);
}

#[test]
fn ending_a_session_finishes_it_for_the_peer() {
    let mut net = encrypted_pair();
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    net.run();
    assert_eq!(net.state("bob", "alice"), SessionState::Finished);
    assert!(net.party("bob").saw(&Event::PeerEndedSession));
    let now = net.now;
    assert_eq!(net.client("bob").send("alice", b"still there?", now).unwrap_err(), ClientError::SessionFinished);
    // Bob ends too, and can then talk in plaintext again.
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    assert_eq!(net.state("bob", "alice"), SessionState::Plaintext);
}

#[test]
fn idle_session_expires_and_tells_the_peer() {
    let mut net = encrypted_pair();
    net.now += 2 * 60 * 60;
    net.tick("alice");
    assert!(net.party("alice").saw(&Event::SessionExpired));
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    net.run();
    assert_eq!(net.state("bob", "alice"), SessionState::Finished);
}

#[test]
fn extra_symmetric_key_is_the_same_on_both_sides() {
    let mut net = encrypted_pair();
    let now = net.now;
    let (key, actions) = net.client("alice").extra_symmetric_key("bob", None, 7, b"file.tar", now).unwrap();
    net.apply("alice", actions);
    net.run();
    let received = net.party("bob").events.iter().find_map(|(_, _, e)| match e {
        Event::ExtraKeyReceived { usage, context, key } => Some((*usage, context.clone(), *key.expose())),
        _ => None,
    });
    assert_eq!(received, Some((7, b"file.tar".to_vec(), *key)));
    let (other, _) = net.client("alice").extra_symmetric_key("bob", None, 8, b"", now).unwrap();
    assert_ne!(*other, *key);
}

#[test]
fn smp_with_a_question_verifies_only_the_asker() {
    let mut net = encrypted_pair();
    let now = net.now;
    let alice_fp = net.party("alice").client.fingerprint();
    let bob_fp = net.party("bob").client.fingerprint();
    let actions = net.client("alice").smp_start("bob", None, b"blue", Some("favourite colour?"), now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob").saw(&Event::SmpAskedForSecret { question: Some("favourite colour?".into()) }));
    let actions = net.client("bob").smp_respond("alice", None, b"blue", now).unwrap();
    net.apply("bob", actions);
    net.run();
    // The asker chose the question: only the asker learns that the peer is who it expects.
    assert!(net.party("alice").saw(&Event::SmpSucceeded));
    assert_eq!(net.party("alice").client.trust_store().trust("bob", &bob_fp), offrec::trust::Trust::VerifiedSmp);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
    // The answerer is told it was verified, and trusts nothing new.
    assert!(net.party("bob").saw(&Event::SmpVerifiedByPeer));
    assert!(!net.party("bob").saw(&Event::SmpSucceeded));
    assert_eq!(net.party("bob").client.trust_store().trust("alice", &alice_fp), offrec::trust::Trust::Unverified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
    assert!(!net.party("bob").states.iter().any(|(_, _, s)| *s == SessionState::EncryptedVerified));
    net.send("alice", "bob", "from an unverified key, for Bob");
    net.run();
    assert_eq!(net.party("bob").delivered.last().unwrap().security, Security::EncryptedUnverified);
    net.send("bob", "alice", "from a verified key, for Alice");
    net.run();
    assert_eq!(net.party("alice").delivered.last().unwrap().security, Security::EncryptedVerified);

    // Bob verifies Alice by asking his own question.
    net.now += offrec::conversation::SMP_MIN_INTERVAL;
    let now = net.now;
    let actions = net.client("bob").smp_start("alice", None, b"red", Some("my colour?"), now).unwrap();
    net.apply("bob", actions);
    net.run();
    let actions = net.client("alice").smp_respond("bob", None, b"red", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpVerifiedByPeer));
    assert_eq!(net.party("bob").client.trust_store().trust("alice", &alice_fp), offrec::trust::Trust::VerifiedSmp);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedVerified);
}

#[test]
fn smp_without_a_question_verifies_both_and_failed_smp_does_not() {
    let mut net = encrypted_pair();
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"blue", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob").saw(&Event::SmpAskedForSecret { question: None }));
    let actions = net.client("bob").smp_respond("alice", None, b"blue", now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpSucceeded));
    assert!(net.party("bob").saw(&Event::SmpSucceeded));
    assert!(!net.party("bob").saw(&Event::SmpVerifiedByPeer));
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedVerified);
    net.send("alice", "bob", "verified hello");
    net.run();
    assert_eq!(net.party("bob").delivered.last().unwrap().security, Security::EncryptedVerified);

    let mut net = encrypted_pair();
    let actions = net.client("alice").smp_start("bob", None, b"blue", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let actions = net.client("bob").smp_respond("alice", None, b"green", now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpFailed));
    assert!(net.party("bob").saw(&Event::SmpFailed));
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    // Rate limit: an immediate second run is refused.
    assert_eq!(net.client("alice").smp_start("bob", None, b"x", None, now).unwrap_err(), ClientError::SmpRateLimited);
}

/// Issue #19 mutation survivor: failed runs must be counted, or the guessing limit never bites.
#[test]
fn five_failed_smp_runs_lock_out_smp_in_the_session() {
    let mut net = encrypted_pair();
    for run in 0..offrec::conversation::SMP_MAX_FAILURES {
        net.now += offrec::conversation::SMP_MIN_INTERVAL;
        let now = net.now;
        let actions = net.client("alice").smp_start("bob", None, b"right", None, now).unwrap();
        net.apply("alice", actions);
        net.run();
        let actions = net.client("bob").smp_respond("alice", None, b"wrong guess", now).unwrap();
        net.apply("bob", actions);
        net.run();
        assert_eq!(net.party("alice").count(|e| matches!(e, Event::SmpFailed)), run as usize + 1);
    }
    net.now += offrec::conversation::SMP_MIN_INTERVAL * 100;
    let now = net.now;
    assert_eq!(
        net.client("alice").smp_start("bob", None, b"right", None, now).unwrap_err(),
        ClientError::SmpRateLimited
    );
}

#[test]
fn changed_key_of_a_verified_peer_is_loud_and_held_messages_wait_for_consent() {
    let mut net = encrypted_pair();
    let old = net.party("bob").client.fingerprint();
    let now = net.now;
    net.client("alice").set_trust("bob", old, offrec::trust::Trust::VerifiedManual);
    // Bob comes back with a new key (or Mallory does).
    net.parties.remove("bob");
    let mut rng = offrec::crypto::DeterministicRandom::from_label("new bob key");
    let new_identity = offrec::crypto::IdentityKey::generate(&mut rng).unwrap();
    net.add_with_identity("bob", "bob", settings(Policy::MANUAL), new_identity);
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    let mut s = settings(Policy::ALWAYS);
    s.policy = Policy::ALWAYS;
    net.client("alice").set_settings(s);
    let id = net.send("alice", "bob", "for verified bob only");
    net.run();
    let new = net.party("bob").client.fingerprint();
    assert!(net.party("alice").saw(&Event::FingerprintChanged { old, new, old_was_verified: true }));
    assert!(net.party("alice").saw(&Event::KeyConsentRequired { message: 0, fingerprint: new }));
    assert!(net.party("bob").texts().is_empty());
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    // Without the app's consent the held message fails after the held-message timeout.
    net.now += 121;
    net.tick("alice");
    net.run();
    assert!(net.party("alice").saw(&Event::MessageNotSent { message: id, reason: NotSentReason::KeyChanged }));
    assert!(net.party("bob").texts().is_empty());
}

#[test]
fn otr_traffic_is_reported_never_answered_without_the_otr_policy_bits() {
    let without_otr = Policy::ALLOW | Policy::SEND_WHITESPACE_TAG | Policy::WHITESPACE_START_AKE;
    let mut net = pair(without_otr, without_otr);
    let now = net.now;
    for text in ["?OTRv3? Bob wants OTR", "?OTR:AAMDAAAA.", "?OTR|1|2,1,2,abc,"] {
        let actions = net.client("alice").receive("bob", text, now);
        net.apply("alice", actions);
    }
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::ForeignProtocol)), 3);
    assert!(net.party("alice").sent.is_empty(), "never auto-reply to OTR");
    assert_eq!(net.party("alice").texts(), ["?OTRv3? Bob wants OTR"]);
}

#[test]
fn policy_never_passes_everything_through_as_plaintext() {
    let mut net = pair(Policy::NEVER, Policy::MANUAL);
    net.start("bob", "alice");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    assert!(net.party("alice").sent.is_empty());
    assert_eq!(net.party("alice").delivered.len(), 1);
    let now = net.now;
    assert_eq!(net.client("alice").start_session("bob", now).unwrap_err(), ClientError::PolicyForbids);
}

#[test]
fn reflected_and_other_instance_messages_are_ignored() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "mine");
    let (_, _, wire) = net.queue.pop_front().unwrap();
    let now = net.now;
    let bob_tag = net.client("bob").instance_tag();
    // 1. Alice's own data message reflected back at her: Reflected, nothing delivered.
    let actions = net.client("alice").receive("bob", &wire, now);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::Reflected)), 1);
    assert!(net.party("alice").texts().is_empty());
    // 2. Bob's data message for another instance of Alice: ForOtherInstance, nothing delivered.
    net.send("bob", "alice", "for alice");
    let (_, _, from_bob) = net.queue.pop_front().unwrap();
    let mut bytes = offrec::wire::armour::decode(&from_bob).unwrap();
    // Receiver tag: bytes 7..11 of the data header (version 2, type 1, sender 4).
    bytes[7..11].copy_from_slice(&0x0BAD_0BADu32.to_be_bytes());
    let elsewhere = offrec::wire::armour::encode(&bytes);
    let actions = net.client("alice").receive("bob", &elsewhere, now);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::ForOtherInstance)), 1);
    assert!(net.party("alice").texts().is_empty());
    // 3. A reflected fragment of Alice's own long message: Reflected, no reassembly state kept.
    let now = net.now;
    let _ = net.client("alice").set_max_message_size("bob", 200);
    let long = "x".repeat(600);
    let (_, actions) = net.client("alice").send("bob", long.as_bytes(), now).unwrap();
    net.apply("alice", actions);
    let pieces: Vec<String> = net.queue.drain(..).map(|(_, _, t)| t).collect();
    assert!(pieces.len() > 1 && pieces[0].starts_with("?OFR|"));
    let actions = net.client("alice").receive("bob", &pieces[0], now);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::Reflected)), 2);
    // 4. A reflected handshake message: Alice's query answered by Bob, Bob's Start bounced.
    net.start("alice", "bob");
    net.step(); // Bob answers the query with a Start
    let (_, _, start) = net.queue.pop_front().unwrap();
    let actions = net.client("bob").receive("alice", &start, now);
    net.apply("bob", actions);
    assert_eq!(net.party("bob").count(|e| matches!(e, Event::Reflected)), 1);
    // Bob still reads the original messages; Alice reads Bob's, addressed to her.
    let actions = net.client("bob").receive("alice", &wire, now);
    net.apply("bob", actions);
    assert_eq!(net.party("bob").texts(), ["mine"]);
    let actions = net.client("alice").receive("bob", &from_bob, now);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").texts(), ["for alice"]);
    let _ = bob_tag;
}

#[test]
fn binary_text_with_nul_bytes_survives_encryption() {
    let mut net = encrypted_pair();
    let now = net.now;
    let payload = b"a\0b\0\xffc";
    let (_, actions) = net.client("alice").send("bob", payload, now).unwrap();
    net.apply("alice", actions);
    let (_, _, wire) = net.queue.pop_front().unwrap();
    let actions = net.client("bob").receive("alice", &wire, now);
    let text = actions.iter().find_map(|a| match a {
        offrec::conversation::Action::Deliver { text, .. } => Some(text.to_vec()),
        _ => None,
    });
    assert_eq!(text.as_deref(), Some(&payload[..]));
    // Plaintext sending of invalid UTF-8 is refused, not mangled.
    let mut plain = pair(Policy::MANUAL, Policy::MANUAL);
    assert_eq!(plain.client("alice").send("bob", b"\xff", now).unwrap_err(), ClientError::InvalidUtf8);
}

#[test]
fn heartbeats_do_not_ping_pong() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "ping");
    net.run();
    for _ in 0..10 {
        net.now += 61;
        net.tick("alice");
        net.tick("bob");
        net.run();
    }
    let sent = net.party("alice").count(|e| matches!(e, Event::HeartbeatSent))
        + net.party("bob").count(|e| matches!(e, Event::HeartbeatSent));
    assert_eq!(sent, 1);
}

#[test]
fn strangers_cannot_make_us_keep_state_per_name() {
    let mut net = pair(Policy::OPPORTUNISTIC, Policy::MANUAL);
    let now = net.now;
    for i in 0..10_000 {
        let name = format!("spammer{i}");
        let actions = net.client("alice").receive(&name, "buy cheap things", now);
        assert_eq!(actions.len(), 1, "delivered as plaintext");
    }
    assert!(net.party("alice").client.peers().is_empty(), "stateless strangers are forgotten");
    // A stranger's query does start a handshake, which is kept only until it times out.
    let actions = net.client("alice").receive("stranger", "?OFRv1?", now);
    net.apply("alice", actions);
    assert_eq!(net.party("alice").client.peers(), ["stranger"]);
    let later = now + 121;
    let actions = net.client("alice").tick(later);
    net.apply("alice", actions);
    assert!(net.party("alice").client.peers().is_empty());
    // Someone we address is remembered even without a session (e.g. to stop tagging).
    net.send("alice", "bob", "hi");
    net.run();
    assert_eq!(net.party("alice").client.peers(), ["bob"]);
}
