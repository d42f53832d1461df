//! A simulated chat network for conversation tests: parties are `Client`s, the transport is a
//! queue that broadcasts a message to every instance of the addressed account, and everything
//! each party saw is recorded for assertions.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use offrec::conversation::{Action, Client, Event, MessageId, Security, SessionState, Settings};
use offrec::crypto::{DeterministicRandom, IdentityKey};

pub const PROTOCOL: &str = "testnet";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub from: String,
    pub instance: u32,
    pub text: String,
    pub security: Security,
}

pub struct Party {
    pub account: String,
    pub client: Client,
    pub delivered: Vec<Delivered>,
    pub events: Vec<(String, u32, Event)>,
    pub states: Vec<(String, u32, SessionState)>,
    pub sent: Vec<(String, String)>,
}

impl Party {
    pub fn texts(&self) -> Vec<String> {
        self.delivered.iter().map(|d| d.text.clone()).collect()
    }

    pub fn saw(&self, wanted: &Event) -> bool {
        self.events.iter().any(|(_, _, e)| e == wanted)
    }

    pub fn count(&self, wanted: fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|(_, _, e)| wanted(e)).count()
    }

    /// The ids of our messages the peer reported it could not read, in order.
    pub fn lost_messages(&self) -> Vec<MessageId> {
        self.events
            .iter()
            .filter_map(|(_, _, e)| match e {
                Event::PeerCouldNotRead { message } => Some(*message),
                _ => None,
            })
            .collect()
    }

    pub fn last_state(&self, peer: &str) -> Option<SessionState> {
        self.states.iter().rev().find(|(p, _, _)| p == peer).map(|(_, _, s)| *s)
    }
}

/// How the transport treats each message in flight.
pub type Filter = Box<dyn FnMut(&str, &str, &str) -> Vec<String>>;

pub struct Net {
    pub parties: BTreeMap<String, Party>,
    pub queue: VecDeque<(String, String, String)>,
    pub now: u64,
    pub wire_log: Vec<(String, String, String)>,
    pub filter: Option<Filter>,
}

impl Net {
    pub fn new() -> Self {
        Net { parties: BTreeMap::new(), queue: VecDeque::new(), now: 1_000, wire_log: Vec::new(), filter: None }
    }

    /// Adds a party `id` (e.g. "bob#2") for `account`, with deterministic keys from `id`.
    pub fn add(&mut self, id: &str, account: &str, settings: Settings) {
        let mut rng = DeterministicRandom::from_label(&format!("identity {account}"));
        let identity = IdentityKey::generate(&mut rng).unwrap();
        self.add_with_identity(id, account, settings, identity);
    }

    pub fn add_with_identity(&mut self, id: &str, account: &str, settings: Settings, identity: IdentityKey) {
        let tag = 0x100 + (self.parties.len() as u32 + 1) * 0x1111;
        let rng = DeterministicRandom::from_label(&format!("rng {id} {}", self.parties.len()));
        let client = Client::with_parts(account, PROTOCOL, identity, tag, settings, Box::new(rng)).unwrap();
        self.parties.insert(
            id.to_owned(),
            Party {
                account: account.to_owned(),
                client,
                delivered: vec![],
                events: vec![],
                states: vec![],
                sent: vec![],
            },
        );
    }

    pub fn party(&self, id: &str) -> &Party {
        &self.parties[id]
    }

    pub fn client(&mut self, id: &str) -> &mut Client {
        &mut self.parties.get_mut(id).unwrap().client
    }

    pub fn apply(&mut self, id: &str, actions: Vec<Action>) {
        let party = self.parties.get_mut(id).unwrap();
        let from = party.account.clone();
        for action in actions {
            match action {
                Action::Send { peer, text } => {
                    let peer = peer.to_string();
                    party.sent.push((peer.clone(), text.clone()));
                    self.queue.push_back((from.clone(), peer, text));
                }
                Action::Deliver { peer, instance, text, security } => party.delivered.push(Delivered {
                    from: peer.to_string(),
                    instance,
                    text: String::from_utf8(text.to_vec()).unwrap(),
                    security,
                }),
                Action::StateChanged { peer, instance, state } => {
                    party.states.push((peer.to_string(), instance, state))
                }
                Action::Event { peer, instance, event } => party.events.push((peer.to_string(), instance, event)),
            }
        }
    }

    pub fn send(&mut self, id: &str, to: &str, text: &str) -> MessageId {
        let now = self.now;
        let (message, actions) = self.client(id).send(to, text.as_bytes(), now).unwrap();
        self.apply(id, actions);
        message
    }

    pub fn start(&mut self, id: &str, to: &str) {
        let now = self.now;
        let actions = self.client(id).start_session(to, now).unwrap();
        self.apply(id, actions);
    }

    pub fn tick(&mut self, id: &str) {
        let now = self.now;
        let actions = self.client(id).tick(now);
        self.apply(id, actions);
    }

    /// Delivers one queued message to every party of the addressed account.
    pub fn step(&mut self) -> bool {
        let Some((from, to, text)) = self.queue.pop_front() else { return false };
        self.wire_log.push((from.clone(), to.clone(), text.clone()));
        let copies = match self.filter.as_mut() {
            Some(filter) => filter(&from, &to, &text),
            None => vec![text],
        };
        let receivers: Vec<String> =
            self.parties.iter().filter(|(_, p)| p.account == to).map(|(id, _)| id.clone()).collect();
        for copy in copies {
            for id in &receivers {
                let now = self.now;
                let actions = self.client(id).receive(&from, &copy, now);
                self.apply(id, actions);
            }
        }
        true
    }

    /// Runs the network until nothing is in flight (bounded, so a loop fails the test).
    pub fn run(&mut self) -> usize {
        let mut steps = 0;
        while self.step() {
            steps += 1;
            assert!(steps < 100_000, "network did not quiesce");
        }
        steps
    }

    /// Party `id` restarts without its state but with the same identity and instance tag (a
    /// program that keeps its keys but stores no sessions): every session it had is gone.
    pub fn lose_sessions(&mut self, id: &str) {
        let party = self.parties.get_mut(id).unwrap();
        let (identity, tag) = (party.client.identity().clone(), party.client.instance_tag());
        let settings = party.client.settings().clone();
        let rng = DeterministicRandom::from_label(&format!("{id} after losing its sessions"));
        party.client = Client::with_parts(&party.account, PROTOCOL, identity, tag, settings, Box::new(rng)).unwrap();
    }

    pub fn state(&self, id: &str, peer: &str) -> SessionState {
        self.parties[id].client.session_state(peer)
    }
}

pub fn settings(policy: offrec::conversation::Policy) -> Settings {
    Settings { policy, ..Settings::default() }
}

/// Alice and Bob (policy MANUAL) with an encrypted session: Alice asked, Bob started the handshake.
pub fn encrypted_pair() -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(offrec::conversation::Policy::MANUAL));
    net.add("bob", "bob", settings(offrec::conversation::Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
    net
}

/// Alice holds sessions with two clients of Bob ("bob#1", "bob#2"). Bob#1 asks an SMP question
/// after an SMP with bob#2 finished (so bob#2's session holds an idle SMP state, not none), then
/// bob#2 speaks last: answering without an instance must still reach the session whose request
/// waits for a secret, not the latest-heard one.
pub fn smp_respond_answers_the_instance_that_asked(net: &mut Net) {
    let asker = net.party("bob#1").client.instance_tag();
    let other = net.party("bob#2").client.instance_tag();
    let now = net.now;
    let actions = net.client("alice").smp_start("bob", Some(other), b"earlier", None, now).unwrap();
    net.apply("alice", actions);
    net.run();
    let actions = net.client("bob#2").smp_respond("alice", None, b"earlier", now).unwrap();
    net.apply("bob#2", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpSucceeded));

    let actions = net.client("bob#1").smp_start("alice", None, b"secret", Some("where?"), now).unwrap();
    net.apply("bob#1", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::SmpAskedForSecret { question: Some("where?".into()) }));
    net.now += 5;
    net.send("bob#2", "alice", "newer, from the other client");
    net.run();
    let now = net.now;
    let actions = net.client("alice").smp_respond("bob", None, b"secret", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert!(net.party("bob#1").saw(&Event::SmpSucceeded));
    let told = net.party("alice").events.iter().find(|(_, _, e)| matches!(e, Event::SmpVerifiedByPeer));
    assert_eq!(told.map(|(_, instance, _)| *instance), Some(asker));
}
