//! The SMP calls as an application drives them: the exact events of a whole run on both sides,
//! aborting, and which session a call without an instance reaches when a peer has several.

mod support;

use offrec::conversation::{Event, Policy};
use support::{encrypted_pair, settings, Net};

fn smp_events(net: &Net, who: &str) -> Vec<Event> {
    net.party(who)
        .events
        .iter()
        .map(|(_, _, e)| e.clone())
        .filter(|e| {
            matches!(
                e,
                Event::SmpAskedForSecret { .. }
                    | Event::SmpInProgress
                    | Event::SmpSucceeded
                    | Event::SmpVerifiedByPeer
                    | Event::SmpFailed
                    | Event::SmpAborted
                    | Event::SmpCheated
            )
        })
        .collect()
}

#[test]
fn a_whole_run_reports_exactly_these_events_on_each_side() {
    let mut net = encrypted_pair();
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"the shared secret", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let now = net.now;
    let actions = net.client("bob").smp_respond("alice", None, b"the shared secret", now).unwrap();
    net.apply("bob", actions);
    net.run();
    // Alice: her start, Bob's SMP2 (she answers with SMP3), the result on SMP4.
    assert_eq!(smp_events(&net, "alice"), [Event::SmpInProgress, Event::SmpInProgress, Event::SmpSucceeded]);
    // Bob: the request, his answer, the result on SMP3.
    assert_eq!(
        smp_events(&net, "bob"),
        [Event::SmpAskedForSecret { question: None }, Event::SmpInProgress, Event::SmpSucceeded]
    );
}

#[test]
fn aborting_tells_the_peer_and_a_new_run_can_start() {
    let mut net = encrypted_pair();
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"secret", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let before = net.wire_log.len();
    let now = net.now;
    let actions = net.client("bob").smp_abort("alice", None, now).unwrap();
    net.apply("bob", actions);
    assert_eq!(net.queue.len(), 1, "the abort goes to the peer");
    net.run();
    assert!(net.wire_log.len() > before);
    assert_eq!(smp_events(&net, "bob").last(), Some(&Event::SmpAborted));
    assert_eq!(smp_events(&net, "alice").last(), Some(&Event::SmpAborted), "the peer hears of it");
    // Bob can answer a new request (his machine is idle again).
    net.now += 11;
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"again", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let now = net.now;
    let actions = net.client("bob").smp_respond("alice", None, b"again", now).unwrap();
    net.apply("bob", actions);
    net.run();
    assert_eq!(smp_events(&net, "alice").last(), Some(&Event::SmpSucceeded));
}

#[test]
fn an_answer_without_an_instance_reaches_the_session_that_asked() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob#1", "bob", settings(Policy::MANUAL));
    net.add("bob#2", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.client("alice").sessions("bob").len(), 2);
    // Bob's first instance asks after an SMP with his second, which then writes: its session
    // is the most recently active one at Alice's and holds an idle SMP state (the OTR twin of
    // this test is in tests/otr_conversation.rs).
    support::smp_respond_answers_the_instance_that_asked(&mut net);
    assert_eq!(smp_events(&net, "bob#1").last(), Some(&Event::SmpSucceeded));
}
