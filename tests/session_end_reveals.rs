//! Issue #13, item 5: reveals that never happened. Ending a session publishes the forgery
//! material of *every* key it still holds (up to 1,000 skipped keys plus the queue, in as many
//! messages as that takes), also when the peer ended first; a refresh that replaces a session
//! before we write again carries its reveals into the new session instead of dropping them.
//! "Published" is checked the way a transcript reader would: with the forge API, every message
//! whose key was due becomes forgeable from what went over the wire.

mod support;

use offrec::conversation::{Action, Event, Policy};
use offrec::crypto::DeterministicRandom;
use offrec::forge::{find_reveal, parse_captured, revealed_in};
use offrec::ratchet::{MAX_INHERITED_REVEALS, MAX_PENDING_REVEALS, MAX_SKIP};
use offrec::store::{decode_client, encode_client};
use offrec::wire::data_message::MAX_REVEALS_PER_MESSAGE;
use support::{encrypted_pair, settings, Net};

/// Alice sends `count` messages; they are taken off the network (not delivered).
fn alice_sends(net: &mut Net, count: usize) -> Vec<String> {
    for i in 0..count {
        net.send("alice", "bob", &format!("m{i}"));
    }
    net.queue.drain(..).map(|(_, _, text)| text).collect()
}

fn deliver_to_bob(net: &mut Net, wire: &str) {
    let now = net.now;
    let actions = net.client("bob").receive("alice", wire, now);
    net.apply("bob", actions);
}

fn sent_texts(actions: &[Action]) -> Vec<String> {
    actions.iter().filter_map(|a| if let Action::Send { text, .. } = a { Some(text.clone()) } else { None }).collect()
}

/// Every piece of material revealed in these wire messages.
fn revealed(wire: &[String]) -> Vec<[u8; 32]> {
    wire.iter().flat_map(|w| revealed_in(&parse_captured(w).unwrap())).map(|m| m.to_bytes()).collect()
}

fn forgeable(captured: &str, material: &[[u8; 32]]) -> bool {
    find_reveal(&parse_captured(captured).unwrap(), material.iter()).is_some()
}

#[test]
fn ending_a_session_reveals_every_skipped_key_in_several_messages() {
    let mut net = encrypted_pair();
    let wire = alice_sends(&mut net, MAX_SKIP as usize + 1);
    // Only the last arrives: bob stores the 1,000 skipped keys before it.
    deliver_to_bob(&mut net, wire.last().unwrap());
    assert_eq!(net.party("bob").texts(), vec![format!("m{MAX_SKIP}")]);

    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    let goodbye = sent_texts(&actions);
    let material = revealed(&goodbye);
    assert_eq!(material.len(), MAX_SKIP as usize + 1, "1,000 skipped keys and the one read");
    assert_eq!(goodbye.len(), material.len().div_ceil(MAX_REVEALS_PER_MESSAGE), "as few messages as fit");
    // A transcript reader can now forge any of alice's messages (sampled: each check is a
    // search through 1,001 candidates).
    for captured in wire.iter().step_by(37).chain(wire.last()) {
        assert!(forgeable(captured, &material));
    }

    // Alice reads the goodbye: the reveal-only messages are quiet, the last one ends it.
    net.apply("bob", actions);
    net.run();
    let alice = net.party("alice");
    assert_eq!(alice.count(|e| *e == Event::PeerEndedSession), 1);
    assert_eq!(alice.count(|e| matches!(e, Event::Unreadable | Event::NotInPrivate | Event::Malformed)), 0);
}

#[test]
fn a_refresh_before_writing_again_publishes_the_old_sessions_reveals() {
    let mut net = encrypted_pair();
    let wire = alice_sends(&mut net, 3);
    deliver_to_bob(&mut net, &wire[0]);
    deliver_to_bob(&mut net, &wire[2]); // wire[1] is skipped: its key is stored
                                        // A refresh replaces both sessions before bob writes anything.
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("bob").count(|e| *e == Event::HandshakeComplete), 2);

    net.send("bob", "alice", "after the refresh");
    let reply: Vec<String> = net.queue.iter().map(|(_, _, text)| text.clone()).collect();
    let material = revealed(&reply);
    for captured in &wire {
        assert!(forgeable(captured, &material), "a message of the replaced session stays unforgeable");
    }
    net.run();
    assert_eq!(net.party("alice").texts(), vec!["after the refresh".to_owned()]);
}

#[test]
fn a_refresh_carries_a_full_queue_and_every_skipped_key_through_a_save() {
    let mut net = encrypted_pair();
    // Bob reads more than the queue holds without writing, then skips 1,000 keys.
    let read = alice_sends(&mut net, MAX_PENDING_REVEALS + 50);
    for w in &read {
        deliver_to_bob(&mut net, w);
    }
    let skipped = alice_sends(&mut net, MAX_SKIP as usize + 1);
    deliver_to_bob(&mut net, skipped.last().unwrap());
    net.start("alice", "bob");
    net.run();

    // The refreshed session is saved and restored with everything it inherited.
    let bytes = encode_client(&net.parties["bob"].client);
    let restored =
        decode_client(&bytes, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("restored bob")));
    net.parties.get_mut("bob").unwrap().client = restored.expect("a refreshed session's queue loads back");
    // A loaded session never sends (STORAGE.md §5.1): the new session that replaces it takes
    // over its queue and publishes it.
    net.start("alice", "bob");
    net.run();

    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    let material = revealed(&sent_texts(&actions));
    // What the queue held (its cap: the newest reads, the last message read among them) and the
    // 1,000 skipped keys: MAX_INHERITED_REVEALS, all of them, through the save and the restart.
    assert_eq!(material.len(), MAX_INHERITED_REVEALS);
    assert_eq!(MAX_INHERITED_REVEALS, MAX_PENDING_REVEALS + MAX_SKIP as usize);
    for captured in skipped.iter().step_by(97).chain(read.iter().rev().step_by(101)) {
        assert!(forgeable(captured, &material));
    }
}

#[test]
fn when_the_peer_ended_first_the_reveals_are_still_published() {
    let mut net = encrypted_pair();
    let wire = alice_sends(&mut net, 2);
    deliver_to_bob(&mut net, &wire[1]); // wire[0] skipped
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob").saw(&Event::PeerEndedSession));
    let alice_goodbye = net.wire_log.last().unwrap().2.clone();

    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    let material = revealed(&sent_texts(&actions));
    assert_eq!(material.len(), 3, "the skipped key, the message read and alice's goodbye");
    for captured in wire.iter().chain([&alice_goodbye]) {
        assert!(forgeable(captured, &material));
    }
    // Alice has no session any more: she ignores them without answering.
    net.apply("bob", actions);
    let (events, sent) = (net.party("alice").events.len(), net.party("alice").sent.len());
    net.run();
    assert_eq!(net.party("alice").events.len(), events);
    assert_eq!(net.party("alice").sent.len(), sent, "no error message in answer");
}

#[test]
fn skipped_keys_saved_in_a_store_are_published_after_the_restart() {
    let mut net = encrypted_pair();
    let wire = alice_sends(&mut net, 6);
    deliver_to_bob(&mut net, &wire[5]); // 0..=4 skipped: their keys are stored
    let bytes = encode_client(&net.parties["bob"].client);
    let restored =
        decode_client(&bytes, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("bob again")));
    net.parties.get_mut("bob").unwrap().client = restored.expect("a session with skipped keys loads back");
    // The loaded session is replaced; the new one publishes what the old one held.
    net.start("alice", "bob");
    net.run();
    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    let material = revealed(&sent_texts(&actions));
    for captured in &wire[..5] {
        assert!(forgeable(captured, &material), "a skipped key stored before the restart was not revealed");
    }
}

#[test]
fn a_store_holding_the_most_skipped_keys_a_session_can_have_loads() {
    // Exactly MAX_STORED_SKIPPED_KEYS at the save: the reader's cap must accept its own maximum.
    let mut net = encrypted_pair();
    let wire = alice_sends(&mut net, MAX_SKIP as usize + 1);
    deliver_to_bob(&mut net, wire.last().unwrap()); // MAX_SKIP keys stored
    let bytes = encode_client(&net.parties["bob"].client);
    let restored = decode_client(&bytes, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("full")));
    net.parties.get_mut("bob").unwrap().client = restored.expect("a store at the skipped-key cap loads");
    net.start("alice", "bob");
    net.run();
    let now = net.now;
    let material = revealed(&sent_texts(&net.client("bob").end_session("alice", None, now)));
    for captured in wire[..MAX_SKIP as usize].iter().step_by(111) {
        assert!(forgeable(captured, &material));
    }
}

#[test]
fn a_loaded_session_with_a_full_queue_and_full_skipped_store_saves_and_loads_again() {
    // A refreshed session inherits a full queue (MAX_INHERITED_REVEALS) and then stores
    // MAX_SKIP skipped keys of its own. Loading retires it (skipped keys become reveals); the
    // result must still fit what a store may hold, or the next load would fail.
    let mut net = encrypted_pair();
    for w in &alice_sends(&mut net, MAX_PENDING_REVEALS + 50) {
        deliver_to_bob(&mut net, w);
    }
    let skipped = alice_sends(&mut net, MAX_SKIP as usize + 1);
    deliver_to_bob(&mut net, skipped.last().unwrap());
    net.start("alice", "bob");
    net.run();
    let more = alice_sends(&mut net, MAX_SKIP as usize + 1);
    deliver_to_bob(&mut net, more.last().unwrap());
    let load = |bytes: &[u8], label: &str| {
        decode_client(bytes, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label(label)))
            .expect("the store loads")
    };
    let first = load(&encode_client(&net.parties["bob"].client), "first load");
    let second = load(&encode_client(&first), "second load");
    assert_eq!(encode_client(&second).len(), encode_client(&first).len());
}
