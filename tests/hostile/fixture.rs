//! The fixture of the hostile-input catalogue: Alice (a real `Client`) with two encrypted
//! sessions with "bob":
//!
//! * the real Bob, another `Client` on the simulated network (`support::Net`), whose genuine
//!   messages the cases capture and mutate;
//! * a *puppet* instance of Bob (same identity key, its own instance tag) driven directly
//!   through `offrec::ake` and `offrec::ratchet`, so that cases can encrypt arbitrary plaintext
//!   bodies (bad TLVs, bad SMP payloads, invalid UTF-8) that a `Client` would never produce.

use offrec::ake::{AkeConfig, AkeKind, AkeMessage, Initiator};
use offrec::conversation::{Action, Client, Event, Policy, Security, SessionInfo, SessionState};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::ratchet::Ratchet;
use offrec::wire::data_message::DataMessage;
use offrec::wire::{armour, decode_body, encode_body};

use crate::support::{settings, Net, PROTOCOL};

/// The puppet's instance tag.
pub const PUPPET_TAG: u32 = 0x7777_0000;

/// What one call to `Client::receive` produced, split by kind.
#[derive(Debug, Default)]
pub struct Outcome {
    pub sends: Vec<String>,
    pub delivered: Vec<(Security, Vec<u8>)>,
    pub states: Vec<(u32, SessionState)>,
    pub events: Vec<Event>,
}

pub fn split_actions(actions: Vec<Action>) -> Outcome {
    let mut out = Outcome::default();
    for action in actions {
        match action {
            Action::Send { peer, text } => {
                assert_eq!(&*peer, "bob", "Alice sent to someone else");
                out.sends.push(text);
            }
            Action::Deliver { peer, text, security, .. } => {
                assert_eq!(&*peer, "bob");
                out.delivered.push((security, text.to_vec()));
            }
            Action::StateChanged { instance, state, .. } => out.states.push((instance, state)),
            Action::Event { event, .. } => out.events.push(event),
        }
    }
    out
}

/// The texts sent by any client's actions (for API cases on other clients).
pub fn split_actions_any(actions: Vec<Action>) -> Vec<String> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

/// The raw half of the puppet session.
pub struct Puppet {
    pub ratchet: Ratchet,
    pub rng: DeterministicRandom,
    pub ssid: [u8; 32],
}

pub struct Fixture {
    pub net: Net,
    pub alice_tag: u32,
    pub bob_tag: u32,
    pub puppet: Puppet,
    /// Texts from Bob held back by a case (a handshake message whose mutations were injected);
    /// delivered to Alice, and the network run, before the "still works" checks.
    pub release: Vec<String>,
    pub bob_identity: IdentityKey,
}

/// The handshake binding string both sides compute (same as the conversation layer's).
pub fn phi(a: &str, b: &str) -> Vec<u8> {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let mut out = Vec::new();
    for part in [first, second, PROTOCOL] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Decodes an armoured handshake message.
pub fn ake_of(text: &str) -> Option<AkeMessage> {
    armour::decode(text).ok().and_then(|b| AkeMessage::parse(&b))
}

impl Fixture {
    pub fn new() -> Self {
        let mut net = Net::new();
        // The modern protocol only: this catalogue pins that OTR traffic is reported and never
        // answered by a client that does not speak OTR (the OTR catalogue is tests/otr_hostile.rs).
        net.add("alice", "alice", settings(Policy::ALLOW));
        net.add("bob", "bob", settings(Policy::ALLOW));
        let alice_tag = net.party("alice").client.instance_tag();
        let bob_tag = net.party("bob").client.instance_tag();
        let bob_identity = net.party("bob").client.identity().clone();

        // The puppet handshake first, so that the real Bob's session ends up preferred.
        let mut rng = DeterministicRandom::from_label("puppet");
        let phi = phi("alice", "bob");
        let config = AkeConfig { identity: &bob_identity, our_tag: PUPPET_TAG, phi: &phi };
        let (initiator, start) = Initiator::start(config, 0, 0, &mut rng).unwrap();
        let now = net.now;
        let out = split_actions(net.client("alice").receive("bob", &armour::encode(&start.to_bytes()), now));
        assert_eq!(out.sends.len(), 1, "Alice answers the puppet's Start");
        let reply = ake_of(&out.sends[0]).unwrap();
        assert_eq!(reply.kind, AkeKind::Reply);
        let (finish, established) = initiator.finish(&reply, &mut rng).unwrap();
        let out = split_actions(net.client("alice").receive("bob", &armour::encode(&finish.to_bytes()), now));
        assert!(out.events.contains(&Event::HandshakeComplete), "{:?}", out.events);
        let puppet = Puppet { ssid: established.ssid, ratchet: established.ratchet, rng };

        net.start("alice", "bob");
        net.run();
        assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
        assert_eq!(net.party("alice").client.sessions("bob").len(), 2);
        Fixture { net, alice_tag, bob_tag, puppet, release: Vec::new(), bob_identity }
    }

    pub fn now(&self) -> u64 {
        self.net.now
    }

    pub fn alice(&mut self) -> &mut Client {
        self.net.client("alice")
    }

    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.net.party("alice").client.sessions("bob")
    }

    /// Injects one text from "bob" into Alice without touching the network.
    pub fn inject(&mut self, text: &str) -> Outcome {
        let now = self.now();
        split_actions(self.alice().receive("bob", text, now))
    }

    /// Injects a text and carries out Alice's actions on the network (setup only).
    pub fn inject_and_apply(&mut self, text: &str) {
        let now = self.now();
        let actions = self.alice().receive("bob", text, now);
        self.net.apply("alice", actions);
    }

    /// A genuine armoured data message from the real Bob to Alice, taken off the network
    /// before delivery.
    pub fn bob_msg(&mut self, text: &str) -> String {
        assert!(self.net.queue.is_empty());
        self.net.send("bob", "alice", text);
        let (from, to, wire) = self.net.queue.pop_back().unwrap();
        assert!(self.net.queue.is_empty());
        assert_eq!((from.as_str(), to.as_str()), ("bob", "alice"));
        wire
    }

    /// The binary form of [`Self::bob_msg`].
    pub fn bob_bytes(&mut self, text: &str) -> Vec<u8> {
        armour::decode(&self.bob_msg(text)).unwrap()
    }

    /// Encrypts an arbitrary plaintext body from the puppet to Alice.
    pub fn puppet_body(&mut self, body: &[u8], flags: u8) -> String {
        let alice_tag = self.alice_tag;
        let encrypted = self.puppet.ratchet.encrypt(PUPPET_TAG, alice_tag, flags, body).unwrap();
        armour::encode(&encrypted.bytes)
    }

    /// A well-formed message from the puppet.
    pub fn puppet_text(&mut self, text: &[u8]) -> String {
        let body = encode_body(text, &[], 16).unwrap();
        self.puppet_body(&body, 0)
    }

    /// Decrypts what Alice sent to the puppet; returns the body text.
    pub fn puppet_read(&mut self, wire: &str) -> Vec<u8> {
        let bytes = armour::decode(wire).unwrap();
        let message = DataMessage::parse(&bytes).unwrap();
        assert_eq!(message.header.receiver_tag, PUPPET_TAG);
        let now = self.now();
        let decrypted = self.puppet.ratchet.decrypt(&message, now, &mut self.puppet.rng).unwrap();
        decode_body(&decrypted.body).unwrap().text
    }

    /// Every text of `wire_log` from `from` to `to` that is a handshake message of `kind`.
    pub fn logged_ake(&self, from: &str, kind: AkeKind) -> Vec<String> {
        self.net
            .wire_log
            .iter()
            .filter(|(f, _, t)| f == from && ake_of(t).is_some_and(|m| m.kind == kind))
            .map(|(_, _, t)| t.clone())
            .collect()
    }

    /// After a case: the held-back texts are released, then genuine traffic must still flow
    /// both ways with both of Bob's instances, each message delivered exactly once.
    pub fn assert_still_works(&mut self) {
        for text in std::mem::take(&mut self.release) {
            self.inject_and_apply(&text);
        }
        self.net.run();

        let before = self.net.party("alice").delivered.len();
        self.net.send("bob", "alice", "genuine after the attack");
        self.net.run();
        let new: Vec<String> = self.net.party("alice").delivered[before..].iter().map(|d| d.text.clone()).collect();
        assert_eq!(new, ["genuine after the attack"], "Bob's next message");
        assert_eq!(self.net.party("alice").delivered.last().unwrap().instance, self.bob_tag);

        let wire = self.puppet_text(b"puppet after the attack");
        let out = self.inject(&wire);
        assert_eq!(
            out.delivered,
            vec![(Security::EncryptedUnverified, b"puppet after the attack".to_vec())],
            "puppet's next message"
        );
        assert!(out.sends.is_empty() && out.events.is_empty(), "{out:?}");

        let (now, bob_tag) = (self.now(), self.bob_tag);
        let before = self.net.party("bob").delivered.len();
        let (_, actions) = self.alice().send_to_instance("bob", bob_tag, b"alice to bob", now).unwrap();
        self.net.apply("alice", actions);
        self.net.run();
        let new: Vec<String> = self.net.party("bob").delivered[before..].iter().map(|d| d.text.clone()).collect();
        assert_eq!(new, ["alice to bob"], "Alice can still send to Bob");

        let (_, actions) = self.alice().send_to_instance("bob", PUPPET_TAG, b"alice to puppet", now).unwrap();
        let out = split_actions(actions);
        assert_eq!(out.sends.len(), 1);
        let text = self.puppet_read(&out.sends[0]);
        assert_eq!(text, b"alice to puppet", "Alice can still send to the puppet");
    }
}
