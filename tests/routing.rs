//! Issue #13 item 2: where a plain `send` goes when a new key shows up for a verified peer.
//! Routing never moves from a verified key to an unverified one without the application's
//! consent (accept_key, an explicit send_to_instance, or set_trust verified), and control
//! messages (no user text) never move it at all. The attacker ("mallory", speaking as the
//! account "bob" with her own key) either uses a new instance tag or reuses the real one.

mod support;

use offrec::conversation::{Client, ClientError, Event, NotSentReason, Policy, Security, SessionState};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::trust::Trust;
use support::{settings, Net, Party, PROTOCOL};

const MALLORY_TAG: u32 = 0x0bad_0bad;

/// Alice and Bob with an encrypted session in which Alice verified Bob's key.
fn verified_pair() -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    let bob_fp = net.party("bob").client.fingerprint();
    let actions = net.client("alice").set_trust("bob", bob_fp, Trust::VerifiedManual);
    net.apply("alice", actions);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
    net
}

fn bob_tag(net: &Net) -> u32 {
    net.party("bob").client.instance_tag()
}

fn mallory_fp(net: &Net) -> [u8; 32] {
    net.party("mallory").client.fingerprint()
}

/// Mallory joins the network as another instance of the account "bob" (with instance `tag`)
/// and completes a handshake with Alice under that name with her own key. The real Bob is kept
/// off the network meanwhile so that only Mallory answers Alice's handshake.
fn mallory_handshakes(net: &mut Net, tag: u32) {
    let mut rng = DeterministicRandom::from_label("mallory's key");
    let identity = IdentityKey::generate(&mut rng).unwrap();
    let client = Client::with_parts("bob", PROTOCOL, identity, tag, settings(Policy::MANUAL), Box::new(rng)).unwrap();
    let party =
        Party { account: "bob".into(), client, delivered: vec![], events: vec![], states: vec![], sent: vec![] };
    net.parties.insert("mallory".into(), party);
    offline("bob", net, |net| {
        net.start("mallory", "alice");
        net.run();
    });
    let fp = mallory_fp(net);
    assert!(net.party("alice").saw(&Event::FingerprintChanged {
        old: net.party("bob").client.fingerprint(),
        new: fp,
        old_was_verified: true
    }));
    assert!(net.party("alice").saw(&Event::KeyConsentRequired { message: 0, fingerprint: fp }), "the app is told");
    assert_eq!(net.client("alice").trust_store().trust("bob", &fp), Trust::Unverified);
}

/// Runs `f` with party `id` off the network.
fn offline(id: &str, net: &mut Net, f: impl FnOnce(&mut Net)) {
    let party = net.parties.remove(id).unwrap();
    f(net);
    net.parties.insert(id.to_owned(), party);
}

fn texts(net: &Net, id: &str) -> Vec<String> {
    net.party(id).texts()
}

/// Mallory sends Alice one message without user text (an extra-key TLV): a control message.
fn mallory_sends_control_message(net: &mut Net) {
    let now = net.now;
    let (_, actions) = net.client("mallory").extra_symmetric_key("alice", None, 1, b"", now).unwrap();
    net.apply("mallory", actions);
    net.run();
    assert!(net.party("alice").events.iter().any(|(_, _, e)| matches!(e, Event::ExtraKeyReceived { .. })));
}

#[test]
fn an_unverified_key_on_a_new_instance_does_not_take_over_sends() {
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    assert_eq!(net.party("alice").client.sessions("bob").len(), 2);

    net.send("alice", "bob", "for bob");
    net.run();
    assert_eq!(texts(&net, "bob"), ["for bob"]);
    assert!(texts(&net, "mallory").is_empty(), "the verified session keeps the sends");
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);

    // Mallory writes: Alice reads it (marked unverified) but routing does not move.
    net.send("mallory", "alice", "it's me, bob");
    net.run();
    let last = net.party("alice").delivered.last().unwrap().clone();
    assert_eq!((last.instance, last.security), (MALLORY_TAG, Security::EncryptedUnverified));
    net.send("alice", "bob", "still for bob");
    net.run();
    assert_eq!(texts(&net, "bob"), ["for bob", "still for bob"]);
    assert!(texts(&net, "mallory").is_empty());
}

#[test]
fn a_control_message_from_the_attacker_does_not_move_routing() {
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    mallory_sends_control_message(&mut net);
    net.send("alice", "bob", "after the control message");
    net.run();
    assert_eq!(texts(&net, "bob"), ["after the control message"]);
    assert!(texts(&net, "mallory").is_empty());
}

#[test]
fn control_messages_never_move_routing_even_between_accepted_sessions() {
    // The sequence, once Alice has accepted Mallory's key: the real Bob writes (his
    // session becomes preferred), then an empty control message from Mallory must not take
    // the sends back.
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    let now = net.now;
    let actions = net.client("alice").accept_key("bob", MALLORY_TAG, now).unwrap();
    net.apply("alice", actions);
    net.send("bob", "alice", "bob again");
    net.run();
    net.send("alice", "bob", "to the last writer");
    net.run();
    assert_eq!(texts(&net, "bob"), ["to the last writer"]);
    mallory_sends_control_message(&mut net);
    net.send("alice", "bob", "still the last writer");
    net.run();
    assert_eq!(texts(&net, "bob"), ["to the last writer", "still the last writer"]);
    assert!(texts(&net, "mallory").is_empty());
    // A heartbeat is a control message too.
    let now = net.now;
    let (_, actions) =
        net.client("alice").send_to_instance("bob", MALLORY_TAG, b"mallory will owe a heartbeat", now).unwrap();
    net.apply("alice", actions);
    net.run();
    net.send("bob", "alice", "bob writes last");
    net.run();
    net.now += 61;
    net.tick("mallory");
    net.run();
    assert!(net.party("alice").saw(&Event::HeartbeatReceived));
    net.send("alice", "bob", "after a heartbeat");
    net.run();
    assert_eq!(texts(&net, "bob").last().unwrap(), "after a heartbeat");
    assert_eq!(texts(&net, "mallory"), ["mallory will owe a heartbeat"]);
}

#[test]
fn an_attacker_reusing_the_instance_tag_gets_nothing_sends_are_held_with_key_changed() {
    let mut net = verified_pair();
    let tag = bob_tag(&net);
    mallory_handshakes(&mut net, tag);
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), 1, "Mallory's session replaced Bob's under his tag");
    assert_eq!(sessions[0].their_fingerprint, mallory_fp(&net));
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);

    let wire_before = net.wire_log.len();
    let id = net.send("alice", "bob", "for verified bob only");
    let fp = mallory_fp(&net);
    assert!(net.party("alice").saw(&Event::KeyConsentRequired { message: id, fingerprint: fp }));
    net.run();
    assert_eq!(net.wire_log.len(), wire_before, "nothing sent: not to Mallory, not in the clear");
    assert!(texts(&net, "mallory").is_empty());
    assert!(texts(&net, "bob").is_empty());

    // A control message from Mallory changes nothing; the held message times out as KeyChanged.
    mallory_sends_control_message(&mut net);
    assert!(texts(&net, "mallory").is_empty());
    net.now += 121;
    net.tick("alice");
    assert!(net.party("alice").saw(&Event::MessageNotSent { message: id, reason: NotSentReason::KeyChanged }));
    net.run();
    assert!(texts(&net, "mallory").is_empty());
}

#[test]
fn accepting_the_key_moves_routing_and_sends_the_held_messages() {
    let mut net = verified_pair();
    let tag = bob_tag(&net);
    mallory_handshakes(&mut net, tag);
    let first = net.send("alice", "bob", "held one");
    let second = net.send("alice", "bob", "held two");
    net.run();
    assert!(texts(&net, "mallory").is_empty());

    let now = net.now;
    let actions = net.client("alice").accept_key("bob", tag, now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: first }));
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: second }));
    assert_eq!(texts(&net, "mallory"), ["held one", "held two"]);
    net.send("alice", "bob", "after consent");
    net.run();
    assert_eq!(texts(&net, "mallory").last().unwrap(), "after consent");
    // Consent is not verification.
    let fp = mallory_fp(&net);
    assert_eq!(net.client("alice").trust_store().trust("bob", &fp), Trust::Unverified);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
}

#[test]
fn accepting_the_key_of_a_new_instance_moves_routing_to_it() {
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    let now = net.now;
    let actions = net.client("alice").accept_key("bob", MALLORY_TAG, now).unwrap();
    net.apply("alice", actions);
    net.send("alice", "bob", "to the accepted key");
    net.run();
    assert_eq!(texts(&net, "mallory"), ["to the accepted key"]);
    assert!(texts(&net, "bob").is_empty());
}

#[test]
fn accept_key_refuses_unknown_and_finished_sessions() {
    let mut net = verified_pair();
    let now = net.now;
    assert_eq!(net.client("alice").accept_key("bob", 0x4242, now).unwrap_err(), ClientError::NoSession);
    assert_eq!(net.client("alice").accept_key("nobody", 0x4242, now).unwrap_err(), ClientError::NoSession);
    let tag = bob_tag(&net);
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    net.run();
    assert_eq!(net.client("alice").accept_key("bob", tag, now).unwrap_err(), ClientError::SessionFinished);
}

#[test]
fn sending_to_the_instance_explicitly_is_consent() {
    let mut net = verified_pair();
    let tag = bob_tag(&net);
    mallory_handshakes(&mut net, tag);
    let held = net.send("alice", "bob", "typed before choosing");
    let now = net.now;
    let (_, actions) = net.client("alice").send_to_instance("bob", tag, b"explicitly to this key", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: held }));
    assert_eq!(texts(&net, "mallory"), ["typed before choosing", "explicitly to this key"]);
}

#[test]
fn explicit_send_to_a_new_instance_reaches_it() {
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    let now = net.now;
    let (_, actions) = net.client("alice").send_to_instance("bob", MALLORY_TAG, b"just this one", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert_eq!(texts(&net, "mallory"), ["just this one"]);
    assert!(texts(&net, "bob").is_empty());
}

#[test]
fn verifying_the_new_key_is_consent() {
    let mut net = verified_pair();
    let tag = bob_tag(&net);
    mallory_handshakes(&mut net, tag);
    let id = net.send("alice", "bob", "held until verified");
    let fp = mallory_fp(&net);
    let actions = net.client("alice").set_trust("bob", fp, Trust::VerifiedManual);
    net.apply("alice", actions);
    net.tick("alice");
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(texts(&net, "mallory"), ["held until verified"]);
}

#[test]
fn when_the_verified_session_ends_sends_are_held_not_moved() {
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    let now = net.now;
    let tag = bob_tag(&net);
    let actions = net.client("alice").end_session("bob", Some(tag), now);
    net.apply("alice", actions);
    net.run();
    let id = net.send("alice", "bob", "nowhere yet");
    net.run();
    assert!(net.party("alice").saw(&Event::KeyConsentRequired { message: id, fingerprint: mallory_fp(&net) }));
    assert!(texts(&net, "mallory").is_empty());
    assert!(
        net.party("alice")
            .sent
            .iter()
            .all(|(_, text)| text.starts_with("?OFR") || text.starts_with("?OTRv23? ?OFRv1?")),
        "never in the clear"
    );
}

#[test]
fn without_a_verified_key_new_sessions_are_used_as_before() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    mallory_handshakes_unverified(&mut net);
    net.send("alice", "bob", "no key was verified");
    net.run();
    assert_eq!(texts(&net, "mallory"), ["no key was verified"]);
}

/// As [`mallory_handshakes`] when no key of Bob is verified (no consent event expected).
fn mallory_handshakes_unverified(net: &mut Net) {
    let mut rng = DeterministicRandom::from_label("mallory's key");
    let identity = IdentityKey::generate(&mut rng).unwrap();
    let client =
        Client::with_parts("bob", PROTOCOL, identity, MALLORY_TAG, settings(Policy::MANUAL), Box::new(rng)).unwrap();
    let party =
        Party { account: "bob".into(), client, delivered: vec![], events: vec![], states: vec![], sent: vec![] };
    net.parties.insert("mallory".into(), party);
    offline("bob", net, |net| {
        net.start("mallory", "alice");
        net.run();
    });
    assert!(!net.party("alice").events.iter().any(|(_, _, e)| matches!(e, Event::KeyConsentRequired { .. })));
}

#[test]
fn smp_without_an_instance_reaches_the_session_awaiting_consent_and_verifying_is_consent() {
    let mut net = verified_pair();
    let tag = bob_tag(&net);
    mallory_handshakes(&mut net, tag);
    let id = net.send("alice", "bob", "held until SMP verifies the key");
    // The new key's owner proves the shared secret: SMP is how the new key gets verified.
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", None, b"shared", None, now).unwrap();
    net.apply("alice", actions);
    offline("bob", &mut net, |net| {
        net.run();
        let now = net.now;
        let actions = net.client("mallory").smp_respond("alice", None, b"shared", now).unwrap();
        net.apply("mallory", actions);
        net.run();
    });
    assert!(net.party("alice").saw(&Event::SmpSucceeded));
    assert_eq!(net.party("alice").client.trust_store().trust("bob", &mallory_fp(&net)), Trust::VerifiedSmp);
    offline("bob", &mut net, |net| {
        net.tick("alice");
        net.run();
    });
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(texts(&net, "mallory"), ["held until SMP verifies the key"]);
}

#[test]
fn smp_respond_without_an_instance_answers_the_session_that_asked() {
    // SMP messages do not move routing, so the request may come from a session plain sends do
    // not use: answering without an instance goes to the session that asked.
    let mut net = verified_pair();
    mallory_handshakes(&mut net, MALLORY_TAG);
    let now = net.now;
    let actions = net.client("mallory").smp_start("alice", None, b"s", Some("question?"), now).unwrap();
    net.apply("mallory", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpAskedForSecret { question: Some("question?".into()) }));
    let actions = net.client("alice").smp_respond("bob", None, b"s", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("mallory").saw(&Event::SmpSucceeded));
    // Alice answered a question: she is told she was verified, and trusts nothing new.
    assert!(net.party("alice").saw(&Event::SmpVerifiedByPeer));
    assert_eq!(net.party("alice").client.trust_store().trust("bob", &mallory_fp(&net)), Trust::Unverified);
    // Routing did not move.
    net.send("alice", "bob", "still for bob");
    net.run();
    assert_eq!(texts(&net, "bob"), ["still for bob"]);
}

#[test]
fn after_a_restart_a_new_key_waits_for_consent_and_the_restarted_verified_session_gets_the_message() {
    use offrec::store::{load_from_bytes, save_to_bytes, StoreKey};
    let mut net = verified_pair();
    let key = StoreKey::Raw(zeroize::Zeroizing::new([9; 32]));
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    let rng = Box::new(DeterministicRandom::from_label("alice restarted"));
    net.parties.get_mut("alice").unwrap().client =
        load_from_bytes(&sealed, &key, settings(Policy::MANUAL), rng).unwrap();
    // While Bob's stored session waits to be restarted, Mallory completes a handshake.
    mallory_handshakes(&mut net, MALLORY_TAG);
    let id = net.send("alice", "bob", "after the restart");
    let fp = mallory_fp(&net);
    assert!(net.party("alice").saw(&Event::KeyConsentRequired { message: id, fingerprint: fp }));
    assert!(texts(&net, "mallory").is_empty());
    // The restart handshake brings Bob's verified key back: the held message goes to him.
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(texts(&net, "bob"), ["after the restart"]);
    assert!(texts(&net, "mallory").is_empty());
}

#[test]
fn sending_to_a_finished_instance_is_refused_and_nothing_is_sent_or_held() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    let bob_tag = net.client("bob").instance_tag();
    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::Finished);
    let before = net.wire_log.len();
    let now = net.now;
    let refused = net.client("alice").send_to_instance("bob", bob_tag, b"too late", now);
    assert!(matches!(refused, Err(ClientError::SessionFinished)), "{refused:?}");
    assert!(matches!(
        net.client("alice").smp_start("bob", Some(bob_tag), b"s", None, now),
        Err(ClientError::SessionFinished)
    ));
    net.run();
    assert_eq!(net.wire_log.len(), before, "nothing went out");
    assert!(net.party("bob").texts().is_empty());
}
