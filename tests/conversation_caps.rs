//! Caps and timeouts of the conversation layer at their boundaries: the held-message queue
//! (QUEUE_FULL) and the responder-side handshake timeout (a stranger's handshake start is not
//! kept forever).

mod support;

use offrec::conversation::{
    ClientError, Event, NotSentReason, Policy, Protocol, MAX_HELD_MESSAGES, MAX_INSTANCES_PER_PEER,
};
use support::{settings, Net};

#[test]
fn held_queue_takes_exactly_max_held_messages_then_refuses_with_queue_full() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALWAYS));
    net.add("bob", "bob", settings(Policy::ALWAYS));
    let now = net.now;
    for i in 0..MAX_HELD_MESSAGES {
        let (_, actions) = net.client("alice").send("bob", format!("held {i}").as_bytes(), now).unwrap();
        net.apply("alice", actions);
    }
    let refused = net.client("alice").send("bob", b"one too many", now);
    assert!(matches!(refused, Err(ClientError::QueueFull)), "got {refused:?}");
    // Exactly the first MAX_HELD_MESSAGES go out once the session is up; the refused one never.
    net.queue.clear();
    net.start("alice", "bob");
    net.run();
    let texts = net.party("bob").texts();
    assert_eq!(texts.len(), MAX_HELD_MESSAGES);
    assert_eq!(texts[0], "held 0");
    assert!(!texts.iter().any(|t| t == "one too many"));
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::HeldMessageSent { .. })), MAX_HELD_MESSAGES);
    assert_eq!(
        net.party("alice").count(|e| matches!(e, Event::MessageNotSent { reason: NotSentReason::QueueFull, .. })),
        0
    );
}

/// Mallory, a name Alice never addressed, sends her a handshake start (as if answering a query)
/// and never finishes it. Alice must drop that half-handshake after the handshake timeout and
/// forget Mallory; a late Finish then completes nothing.
#[test]
fn a_strangers_unfinished_handshake_expires_and_the_stranger_is_forgotten() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("mallory", "mallory", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    // Alice's query to Bob, replayed to Mallory as if Alice had asked Mallory.
    net.start("alice", "bob");
    let (_, _, query) = net.queue.pop_front().unwrap();
    let now = net.now;
    let actions = net.client("mallory").receive("alice", &query, now);
    net.apply("mallory", actions);
    // Mallory's Start reaches Alice, who answers it and keeps a pending responder.
    net.step();
    assert!(net.client("alice").peers().contains(&"mallory".to_owned()), "Alice holds the half-handshake");
    let (_, _, reply) = net.queue.pop_front().unwrap();
    let timeout = net.client("alice").settings().handshake_timeout;

    // Just before the timeout it is still held.
    net.now += timeout;
    net.tick("alice");
    assert!(net.client("alice").peers().contains(&"mallory".to_owned()));

    // Past it, Alice drops it and forgets the stranger.
    net.now += 2;
    net.tick("alice");
    assert!(!net.client("alice").peers().contains(&"mallory".to_owned()), "stranger kept after the handshake timeout");

    // Mallory finishing now completes nothing at Alice.
    let now = net.now;
    let actions = net.client("mallory").receive("alice", &reply, now);
    net.apply("mallory", actions);
    net.run();
    assert!(net.client("alice").sessions("mallory").is_empty());
    assert!(!net.party("alice").saw(&Event::HandshakeComplete));
}

/// Alice's query reaches one client of Bob's only (a query to all would start a handshake with
/// every client, the OTR one included): that client starts, and her answers name it.
fn start_with_one_client(net: &mut Net, id: &str) {
    net.now += 1;
    let now = net.now;
    let query = offrec::wire::query::encode_query(offrec::wire::Versions::SUPPORTED, "");
    let actions = net.client(id).receive("alice", &query, now);
    net.apply(id, actions);
    net.run();
}

fn modern_only() -> offrec::conversation::Settings {
    settings(Policy::ALLOW | Policy::REQUIRE_MODERN)
}

/// Alice with `MAX_INSTANCES_PER_PEER` sessions with clients of "bob", made in this order:
/// bob#verified (its key verified by Alice, then silent: the idlest of all), bob#otr (OTR v3:
/// its query reaches Alice, and only it speaks OTR), then bob#1.. (modern, unverified). If
/// `otr_speaks`, bob#otr then sends text, so that it is the least idle unverified session.
fn sessions_with_sixteen_clients_of_bob(otr_speaks: bool) -> Net {
    use offrec::crypto::{DeterministicRandom, IdentityKey};
    use offrec::trust::Trust;
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALLOW | Policy::ALLOW_OTR_V3));
    let verified_key = IdentityKey::generate(&mut DeterministicRandom::from_label("bob's verified key")).unwrap();
    let verified_fingerprint = verified_key.fingerprint();
    net.add_with_identity("bob#verified", "bob", modern_only(), verified_key);
    start_with_one_client(&mut net, "bob#verified");
    let actions = net.client("alice").set_trust("bob", verified_fingerprint, Trust::VerifiedManual);
    net.apply("alice", actions);
    net.add("bob#otr", "bob", settings(Policy::ALLOW | Policy::ALLOW_OTR_V3));
    net.now += 1;
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    for i in 1..MAX_INSTANCES_PER_PEER - 1 {
        let id = format!("bob#{i}");
        net.add(&id, "bob", modern_only());
        start_with_one_client(&mut net, &id);
    }
    let otr_session =
        net.party("alice").client.sessions("bob").into_iter().find(|s| s.instance == tag(&net, "bob#otr"));
    assert_eq!(otr_session.map(|s| s.protocol), Some(Protocol::OtrV3));
    assert_eq!(sessions_with_bob(&net).len(), MAX_INSTANCES_PER_PEER);
    if otr_speaks {
        net.now += 1;
        net.send("bob#otr", "alice", "still here");
        net.run();
        assert_eq!(net.party("alice").texts(), ["still here"]);
    }
    net
}

fn tag(net: &Net, id: &str) -> u32 {
    net.party(id).client.instance_tag()
}

fn sessions_with_bob(net: &Net) -> Vec<u32> {
    net.party("alice").client.sessions("bob").iter().map(|s| s.instance).collect()
}

/// Alice's sessions with one name are capped at `MAX_INSTANCES_PER_PEER`. A new client past
/// the cap pushes out one session: never the verified one while an unverified one is left, and
/// among the unverified the idlest. An OTR session's activity counts as a modern one's does.
#[test]
fn a_new_client_past_the_instance_cap_pushes_out_the_idlest_unverified_session() {
    let mut net = sessions_with_sixteen_clients_of_bob(true);
    net.add("bob#new", "bob", modern_only());
    start_with_one_client(&mut net, "bob#new");
    let after = sessions_with_bob(&net);
    assert_eq!(after.len(), MAX_INSTANCES_PER_PEER);
    assert!(!after.contains(&tag(&net, "bob#1")), "the idlest unverified session went");
    for kept in ["bob#verified", "bob#otr", "bob#2", "bob#new"] {
        assert!(after.contains(&tag(&net, kept)), "{kept} was pushed out");
    }
}

#[test]
fn an_otr_session_pushed_out_before_it_read_anything_sends_nothing() {
    // A session pushed out first publishes the MAC keys it still holds, in empty messages. An
    // OTR session that never read a message holds none: it goes without a word.
    let mut net = sessions_with_sixteen_clients_of_bob(false);
    let before = net.wire_log.len();
    net.add("bob#new", "bob", modern_only());
    start_with_one_client(&mut net, "bob#new");
    let after = sessions_with_bob(&net);
    assert!(!after.contains(&tag(&net, "bob#otr")), "the idlest unverified session went");
    assert!(after.contains(&tag(&net, "bob#new")));
    let otr_sent: Vec<_> =
        net.wire_log[before..].iter().filter(|(from, _, text)| from == "alice" && text.starts_with("?OTR")).collect();
    assert!(otr_sent.is_empty(), "{otr_sent:?}");
}
