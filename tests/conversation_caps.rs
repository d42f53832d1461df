//! Caps and timeouts of the conversation layer at their boundaries: the held-message queue
//! (QUEUE_FULL) and the responder-side handshake timeout (a stranger's handshake start is not
//! kept forever).

mod support;

use offrec::conversation::{ClientError, Event, NotSentReason, Policy, MAX_HELD_MESSAGES};
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
