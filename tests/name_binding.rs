//! Name binding (issue #13 item 7): the handshake binds normalised names, so the spellings real
//! deployments mix (a full vs a bare XMPP JID, `xmpp` vs `prpl-jabber`) still agree; a real
//! mismatch fails at once on both sides with reason 8 (NAMES_DIFFER) instead of an
//! authentication failure on one side and a 121 s silence on the other; and name binding can
//! be turned off for transports whose names change.

use offrec::conversation::{
    Action, Client, Event, NameBinding, Policy, SessionState, Settings, HANDSHAKE_NAMES_DIFFER, NAMES_DIFFER_ERROR_TEXT,
};
use offrec::crypto::{DeterministicRandom, IdentityKey};

/// One side of a two-party transport where each side sees the other under its own name for
/// it (as XMPP shows a full JID with resource, or an IRC network a new nick).
struct Side {
    client: Client,
    /// The name this side uses for the other one.
    peer: String,
    events: Vec<Event>,
    states: Vec<SessionState>,
    delivered: Vec<String>,
    outbox: Vec<String>,
}

fn side(label: &str, account: &str, protocol: &str, peer: &str, settings: Settings) -> Side {
    let mut rng = DeterministicRandom::from_label(label);
    let identity = IdentityKey::generate(&mut rng).unwrap();
    let tag = 0x100 + label.len() as u32 * 0x1111;
    let client = Client::with_parts(account, protocol, identity, tag, settings, Box::new(rng)).unwrap();
    Side { client, peer: peer.to_owned(), events: vec![], states: vec![], delivered: vec![], outbox: vec![] }
}

impl Side {
    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { peer, text } => {
                    assert_eq!(*peer, *self.peer);
                    self.outbox.push(text);
                }
                Action::Deliver { text, .. } => self.delivered.push(String::from_utf8(text.to_vec()).unwrap()),
                Action::StateChanged { state, .. } => self.states.push(state),
                Action::Event { event, .. } => self.events.push(event),
            }
        }
    }

    fn names_differ(&self) -> usize {
        self.events.iter().filter(|e| **e == Event::HandshakeFailed { reason: HANDSHAKE_NAMES_DIFFER }).count()
    }

    fn failures(&self) -> Vec<u32> {
        self.events
            .iter()
            .filter_map(|e| if let Event::HandshakeFailed { reason } = e { Some(*reason) } else { None })
            .collect()
    }
}

/// Delivers everything in flight, back and forth, until both outboxes are empty; returns the
/// number of messages that crossed the wire (a round trip is 2).
fn run(a: &mut Side, b: &mut Side, now: u64) -> usize {
    let mut crossed = 0;
    loop {
        let from_a: Vec<String> = a.outbox.drain(..).collect();
        let from_b: Vec<String> = b.outbox.drain(..).collect();
        if from_a.is_empty() && from_b.is_empty() {
            return crossed;
        }
        for text in from_a {
            crossed += 1;
            let actions = b.client.receive(&b.peer.clone(), &text, now);
            b.apply(actions);
        }
        for text in from_b {
            crossed += 1;
            let actions = a.client.receive(&a.peer.clone(), &text, now);
            a.apply(actions);
        }
    }
}

fn settings(binding: NameBinding) -> Settings {
    Settings { policy: Policy::MANUAL, name_binding: binding, ..Settings::default() }
}

/// Alice starts a session (she sends the query; Bob answers with Start).
fn start(a: &mut Side, b: &mut Side) -> usize {
    start_at(a, b, 1_000)
}

fn start_at(a: &mut Side, b: &mut Side, now: u64) -> usize {
    let peer = a.peer.clone();
    let actions = a.client.start_session(&peer, now).unwrap();
    a.apply(actions);
    run(a, b, now)
}

fn encrypted(s: &Side) -> bool {
    s.states.last() == Some(&SessionState::EncryptedUnverified)
}

#[test]
fn full_and_bare_jids_and_protocol_aliases_agree() {
    // Alice's client is logged in with a resource and calls the network prpl-jabber
    // (libpurple); Bob's calls it xmpp and sees Alice's full JID, Alice addresses Bob's bare JID.
    let mut alice =
        side("alice", "Alice@Example.org/laptop", "prpl-jabber", "bob@example.org", settings(NameBinding::Normalised));
    let mut bob = side("bob", "bob@example.org", "xmpp", "alice@example.org/laptop", settings(NameBinding::Normalised));
    start(&mut alice, &mut bob);
    assert!(encrypted(&alice) && encrypted(&bob), "alice {:?} bob {:?}", alice.events, bob.events);
    assert!(alice.failures().is_empty() && bob.failures().is_empty());
    let (_, actions) = alice.client.send("bob@example.org", b"hello over xmpp", 1_001).unwrap();
    alice.apply(actions);
    run(&mut alice, &mut bob, 1_001);
    assert_eq!(bob.delivered, vec!["hello over xmpp".to_owned()]);
}

#[test]
fn a_real_mismatch_fails_at_once_on_both_sides_with_names_differ() {
    // Bob is logged in as mallory but Alice thinks she talks to bob (or a relay swapped them).
    let mut alice = side("alice", "alice@example.org", "xmpp", "bob@example.org", settings(NameBinding::Normalised));
    let mut bob = side("bob", "mallory@example.org", "xmpp", "alice@example.org", settings(NameBinding::Normalised));
    let crossed = start(&mut alice, &mut bob);
    // Query (A->B), Start (B->A), names-differ error (A->B): one round trip after the query,
    // no waiting for a timeout.
    assert_eq!(crossed, 3);
    assert_eq!(alice.names_differ(), 1, "alice (responder): {:?}", alice.events);
    assert_eq!(bob.names_differ(), 1, "bob (initiator): {:?}", bob.events);
    assert_eq!(alice.failures(), vec![HANDSHAKE_NAMES_DIFFER]);
    assert_eq!(bob.failures(), vec![HANDSHAKE_NAMES_DIFFER]);
    // The initiator is told through an error message it recognises, not a PeerError, and
    // it does not start another handshake that would fail the same way.
    assert!(!bob.events.iter().any(|e| matches!(e, Event::PeerError { .. })), "{:?}", bob.events);
    assert!(bob.outbox.is_empty());
    assert!(!encrypted(&alice) && !encrypted(&bob));
    // Trying again a few seconds later fails the same clear way on both sides: the error
    // message is not swallowed by the one-error-per-10-s limit.
    assert_eq!(start_at(&mut alice, &mut bob, 1_005), 3);
    assert_eq!((alice.names_differ(), bob.names_differ()), (2, 2));
}

#[test]
fn the_name_binding_settings_must_match() {
    let mut alice = side("alice", "alice", "irc", "bob", settings(NameBinding::Normalised));
    let mut bob = side("bob", "bob", "irc", "alice", settings(NameBinding::Off));
    start(&mut alice, &mut bob);
    assert_eq!((alice.failures(), bob.failures()), (vec![HANDSHAKE_NAMES_DIFFER], vec![HANDSHAKE_NAMES_DIFFER]));
}

#[test]
fn with_binding_off_a_nick_change_still_works_but_the_network_is_bound() {
    // IRC: Bob changed his nick to bob_away; Alice's client still sees him under the new nick
    // while Bob's account name is still bob.
    let mut alice = side("alice", "alice", "irc", "bob_away", settings(NameBinding::Off));
    let mut bob = side("bob", "bob", "prpl-irc", "alice", settings(NameBinding::Off));
    start(&mut alice, &mut bob);
    assert!(encrypted(&alice) && encrypted(&bob), "alice {:?} bob {:?}", alice.events, bob.events);
    // Normalised binding fails the same nick change, clearly.
    let mut alice = side("alice", "alice", "irc", "bob_away", settings(NameBinding::Normalised));
    let mut bob = side("bob", "bob", "irc", "alice", settings(NameBinding::Normalised));
    start(&mut alice, &mut bob);
    assert_eq!((alice.names_differ(), bob.names_differ()), (1, 1));
    // A different network is still refused with binding off.
    let mut alice = side("alice", "alice", "irc", "bob", settings(NameBinding::Off));
    let mut bob = side("bob", "bob", "xmpp", "alice", settings(NameBinding::Off));
    start(&mut alice, &mut bob);
    assert_eq!((alice.names_differ(), bob.names_differ()), (1, 1));
}

#[test]
fn a_names_differ_error_for_someone_elses_start_is_just_an_error() {
    // Unauthenticated: one that does not name our pending Start changes nothing.
    let mut bob = side("bob", "bob@example.org", "xmpp", "alice@example.org", settings(NameBinding::Normalised));
    let text = format!("?OFR Error: {NAMES_DIFFER_ERROR_TEXT} 0011223344556677");
    let actions = bob.client.receive("alice@example.org", &text, 1_000);
    bob.apply(actions);
    assert!(bob.failures().is_empty());
    assert!(bob.events.iter().any(|e| matches!(e, Event::PeerError { .. })));
}

#[test]
fn a_names_differ_error_must_name_our_pending_start_exactly() {
    // Bob has a Start in flight. Reports naming any other ephemeral prefix (including the
    // constant ones a careless implementation would compare against) change nothing; the
    // genuine report Alice sends for his Start is recognised.
    let mut alice = side("alice", "alice@example.org", "xmpp", "bob@example.org", settings(NameBinding::Normalised));
    let mut bob = side("bob", "mallory@example.org", "xmpp", "alice@example.org", settings(NameBinding::Normalised));
    let actions = alice.client.start_session("bob@example.org", 1_000).unwrap();
    alice.apply(actions);
    let query = alice.outbox.remove(0);
    let actions = bob.client.receive("alice@example.org", &query, 1_000);
    bob.apply(actions);
    assert_eq!(bob.outbox.len(), 1, "bob answers the query with a Start");
    for forged in ["0000000000000000", "0101010101010101", "ffffffffffffffff", "0011223344556677"] {
        let text = format!("?OFR Error: {NAMES_DIFFER_ERROR_TEXT} {forged}");
        let actions = bob.client.receive("alice@example.org", &text, 1_001);
        bob.apply(actions);
    }
    assert!(bob.failures().is_empty(), "{:?}", bob.events);
    run(&mut alice, &mut bob, 1_002);
    assert_eq!((alice.names_differ(), bob.names_differ()), (1, 1));
}
