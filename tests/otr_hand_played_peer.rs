//! Alice, a real `Client`, against Bob played by hand with the engine's own `Ake` and
//! `DataSession` (as tests/otr_live.rs plays offrec against libotr), so the test decides which
//! of his messages arrives, when, whose commit hash is the higher, and what his messages
//! carry, as no offrec client would send it:
//! - OTR v3 handshakes that overtake one another: Alice keeps one D-H Commit to every client of
//!   "bob" and one exchange per client, and these cases pin down which exchange a D-H Key or
//!   Reveal Signature from Bob continues when both exist;
//! - handshake messages that continue nothing;
//! - TLV types no offrec client sends.

mod otr_support;
mod support;

use offrec::conversation::{Action, Policy, Protocol};
use offrec::crypto::OsRandom;
use offrec::otr::ake::{Ake, AkeOutcome, EstablishedAke};
use offrec::otr::data::DataSession;
use offrec::otr::identity::DsaIdentity;
use offrec::otr::message::{parse_header, DhCommit, MessageType, OtrVersion};
use offrec::otr::text::armour;
use offrec::otr::tlv::{encode_plaintext, OtrTlv};
use offrec::wire::InstanceTag;
use otr_support::Vector;
use support::{settings, Net};

const BOB_TAG: u32 = 0x4242_4242;

/// Bob's side: his DSA key and a fresh exchange whenever the case needs one.
struct Bob {
    identity: DsaIdentity,
    rng: OsRandom,
}

impl Bob {
    fn new() -> Bob {
        Bob { identity: Vector::v3().identity("bob"), rng: OsRandom }
    }

    fn exchange(&self) -> Ake {
        Ake::new(OtrVersion::V3, InstanceTag(BOB_TAG), InstanceTag::NONE)
    }

    fn answer(&mut self, ake: &mut Ake, message: &[u8]) -> AkeOutcome {
        ake.receive(message, &self.identity, &mut self.rng).unwrap()
    }

    fn reply(&mut self, ake: &mut Ake, message: &[u8]) -> Vec<u8> {
        match self.answer(ake, message) {
            AkeOutcome::Reply(reply) => reply,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    /// A D-H Commit whose hashed g^x is above `theirs`: where it crosses Alice's commit, Alice
    /// yields and answers it (the higher hash wins).
    fn commit_above(&mut self, theirs: &[u8]) -> (Ake, Vec<u8>) {
        let theirs = DhCommit::parse(theirs).unwrap().hashed_gx;
        loop {
            let mut ake = self.exchange();
            let commit = ake.start(&mut self.rng).unwrap();
            if DhCommit::parse(&commit).unwrap().hashed_gx > theirs {
                return (ake, commit);
            }
        }
    }
}

fn alice() -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALLOW | Policy::ALLOW_OTR_V3));
    net
}

/// Alice receives `text` from "bob"; returns the OTR AKE messages she sends back (Bob's side is
/// played by the test, so nothing goes on the network queue).
fn alice_hears(net: &mut Net, text: &str) -> Vec<Vec<u8>> {
    let now = net.now;
    let actions = net.client("alice").receive("bob", text, now);
    let sent = actions
        .iter()
        .filter_map(|action| match action {
            Action::Send { text, .. } => armour::decode(text).ok(),
            _ => None,
        })
        .filter(|bytes| parse_header(bytes).is_ok_and(|h| h.message_type != MessageType::Data))
        .collect();
    net.apply("alice", actions);
    net.queue.clear();
    sent
}

fn alice_hears_binary(net: &mut Net, binary: &[u8]) -> Vec<Vec<u8>> {
    alice_hears(net, &armour::encode(binary))
}

fn kinds(messages: &[Vec<u8>]) -> Vec<MessageType> {
    messages.iter().map(|m| parse_header(m).unwrap().message_type).collect()
}

fn one(messages: Vec<Vec<u8>>, kind: MessageType) -> Vec<u8> {
    assert_eq!(kinds(&messages), [kind]);
    messages.into_iter().next().unwrap()
}

/// Alice's OTR sessions with Bob's client, by session id.
fn alice_sessions_with_bob(net: &Net) -> Vec<[u8; 8]> {
    let sessions = net.party("alice").client.sessions("bob");
    assert!(sessions.iter().all(|s| s.instance == BOB_TAG && s.protocol == Protocol::OtrV3), "{sessions:?}");
    sessions.iter().map(|s| s.otr.unwrap().ssid).collect()
}

/// Bob answers Alice's D-H Key `key` in `exchange` with his Reveal Signature; Alice's
/// Signature must complete his exchange, and Alice then hold exactly that session with Bob.
fn bob_reveals_and_both_complete(net: &mut Net, bob: &mut Bob, exchange: &mut Ake, key: &[u8]) -> EstablishedAke {
    let reveal = bob.reply(exchange, key);
    let signature = one(alice_hears_binary(net, &reveal), MessageType::Signature);
    let AkeOutcome::Established { reply: None, session } = bob.answer(exchange, &signature) else {
        panic!("Alice's Signature completes Bob's exchange")
    };
    assert_eq!(alice_sessions_with_bob(net), [session.ssid]);
    *session
}

/// Bob answers Alice's D-H Commit with a new exchange; her Reveal Signature must complete his
/// side, her part must complete with his Signature, and Alice then hold exactly that session.
fn bob_answers_and_both_complete(net: &mut Net, bob: &mut Bob, alice_commit: &[u8]) {
    let mut answering = bob.exchange();
    let key = bob.reply(&mut answering, alice_commit);
    let reveal = one(alice_hears_binary(net, &key), MessageType::RevealSignature);
    let AkeOutcome::Established { reply: Some(signature), session } = bob.answer(&mut answering, &reveal) else {
        panic!("Alice's Reveal Signature completes Bob's side")
    };
    assert!(alice_hears_binary(net, &signature).is_empty());
    assert_eq!(alice_sessions_with_bob(net), [session.ssid]);
}

#[test]
fn a_d_h_key_to_our_newer_commit_replaces_the_exchange_it_overtook() {
    // Alice answers Bob's commit, but her D-H Key is lost. A second later she sends her own
    // commit to every client; Bob, who gave up on his, answers hers. That D-H Key must take over
    // from the exchange answering Bob's old commit, or Bob waits for a Reveal Signature forever.
    let (mut net, mut bob) = (alice(), Bob::new());
    let mut abandoned = bob.exchange();
    let commit = abandoned.start(&mut bob.rng).unwrap();
    one(alice_hears_binary(&mut net, &commit), MessageType::DhKey);
    net.now += 1;
    let alice_commit = one(alice_hears(&mut net, "?OTRv3?"), MessageType::DhCommit);
    bob_answers_and_both_complete(&mut net, &mut bob, &alice_commit);
}

/// Bob's D-H Key to Alice's commit is held up; meanwhile Bob starts again with a commit that
/// wins the crossing, and Alice answers it `later` seconds after her own commit. The stale D-H
/// Key then arrives: it must not displace the exchange that answered Bob's newer commit.
fn a_stale_d_h_key_keeps_the_exchange_answered_after_our_commit(later: u64) {
    let (mut net, mut bob) = (alice(), Bob::new());
    let alice_commit = one(alice_hears(&mut net, "?OTRv3?"), MessageType::DhCommit);
    let stale_key = bob.reply(&mut bob.exchange(), &alice_commit);

    net.now += later;
    let (mut restarted, commit) = bob.commit_above(&alice_commit);
    let key = one(alice_hears_binary(&mut net, &commit), MessageType::DhKey);
    assert!(alice_hears_binary(&mut net, &stale_key).is_empty(), "the stale D-H Key is ignored");
    bob_reveals_and_both_complete(&mut net, &mut bob, &mut restarted, &key);
}

#[test]
fn a_stale_d_h_key_keeps_an_exchange_answered_in_the_same_second_as_our_commit() {
    // Within one second the order cannot be told from the clock: the exchange is kept.
    a_stale_d_h_key_keeps_the_exchange_answered_after_our_commit(0);
}

#[test]
fn a_stale_d_h_key_keeps_an_exchange_answered_after_our_commit() {
    a_stale_d_h_key_keeps_the_exchange_answered_after_our_commit(1);
}

#[test]
fn our_new_commit_keeps_the_exchange_that_answers_bobs_commit() {
    // Alice answers Bob's commit; before Bob's Reveal Signature comes, she sends her own commit
    // to every client (Bob's query arrived). Only exchanges that continue an older commit of
    // hers are superseded by it: the one answering Bob's commit must still complete.
    let (mut net, mut bob) = (alice(), Bob::new());
    let mut bobs = bob.exchange();
    let commit = bobs.start(&mut bob.rng).unwrap();
    let key = one(alice_hears_binary(&mut net, &commit), MessageType::DhKey);
    net.now += 1;
    one(alice_hears(&mut net, "?OTRv3?"), MessageType::DhCommit);
    bob_reveals_and_both_complete(&mut net, &mut bob, &mut bobs, &key);
}

#[test]
fn handshake_messages_answering_nothing_cost_nothing() {
    // A D-H Key, Reveal Signature or Signature that continues no exchange of Alice's (a late
    // or forged one) is dropped at once: above all, Alice's OTR key (a DSA-1024 generation,
    // 0.1-0.3 s) is not made for it, and nothing is sent.
    let (mut net, mut bob) = (alice(), Bob::new());
    let alice_tag = net.party("alice").client.instance_tag();
    // Messages of an exchange Bob had with an earlier instance of Alice's that used her tag.
    let mut earlier = Ake::new(OtrVersion::V3, InstanceTag(alice_tag), InstanceTag::NONE);
    let mut bobs = bob.exchange();
    let commit = earlier.start(&mut bob.rng).unwrap();
    let key = bob.reply(&mut bobs, &commit);
    let reveal = bob.reply(&mut earlier, &key);
    let AkeOutcome::Established { reply: Some(signature), .. } = bob.answer(&mut bobs, &reveal) else {
        panic!("the earlier exchange completes")
    };
    for stray in [&key, &reveal, &signature] {
        assert!(alice_hears_binary(&mut net, stray).is_empty());
    }
    assert_eq!(net.party("alice").client.otr_fingerprint(), None, "no OTR key made");
    assert!(net.party("alice").client.sessions("bob").is_empty());
}

/// Bob starts a session with Alice: his commit, her D-H Key, his Reveal Signature, her
/// Signature.
fn bob_starts_a_session(net: &mut Net, bob: &mut Bob) -> EstablishedAke {
    let mut bobs = bob.exchange();
    let commit = bobs.start(&mut bob.rng).unwrap();
    let key = one(alice_hears_binary(net, &commit), MessageType::DhKey);
    bob_reveals_and_both_complete(net, bob, &mut bobs, &key)
}

#[test]
fn tlv_types_outside_the_application_range_are_not_passed_on_as_application_tlvs() {
    // The application hears of TLVs in its range (0x8000 and up) only; OTR's own types Alice
    // handles, and any other (OTRv4's, a future extension's) she ignores, never handing it to
    // the application as if it were one of its own.
    use offrec::conversation::{Event, APP_TLV_FIRST};
    let (mut net, mut bob) = (alice(), Bob::new());
    let established = bob_starts_a_session(&mut net, &mut bob);
    let mut data = DataSession::new(established, &mut bob.rng).unwrap();
    let tlvs = [OtrTlv::new(9, b"otrv4"), OtrTlv::new(APP_TLV_FIRST - 1, b"below"), OtrTlv::new(APP_TLV_FIRST, b"app")];
    let message = data.encrypt(0, &encode_plaintext(b"hello", &tlvs).unwrap()).unwrap();
    assert!(alice_hears_binary(&mut net, &message).is_empty());
    assert_eq!(net.party("alice").texts(), ["hello"]);
    let passed_on: Vec<(u16, Vec<u8>)> = net
        .party("alice")
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::TlvReceived { kind, value } => Some((*kind, value.to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(passed_on, [(APP_TLV_FIRST, b"app".to_vec())]);
}

#[test]
fn our_new_commit_drops_the_exchanges_of_our_older_one() {
    // Bob answered Alice's commit and she sent her Reveal Signature; before his Signature
    // comes, she commits anew (another query, past the 2 s interval). Like libotr, she drops
    // the exchange of her older commit: its Signature completes nothing. Bob's answer to the
    // new commit does.
    let (mut net, mut bob) = (alice(), Bob::new());
    let older = one(alice_hears(&mut net, "?OTRv3?"), MessageType::DhCommit);
    let mut answering_older = bob.exchange();
    let key = bob.reply(&mut answering_older, &older);
    let reveal = one(alice_hears_binary(&mut net, &key), MessageType::RevealSignature);
    let AkeOutcome::Established { reply: Some(late_signature), .. } = bob.answer(&mut answering_older, &reveal) else {
        panic!("Alice's Reveal Signature completes Bob's side")
    };
    net.now += 2;
    let newer = one(alice_hears(&mut net, "?OTRv3?"), MessageType::DhCommit);
    assert!(alice_hears_binary(&mut net, &late_signature).is_empty());
    assert!(alice_sessions_with_bob(&net).is_empty(), "the older exchange completed");
    bob_answers_and_both_complete(&mut net, &mut bob, &newer);
}
