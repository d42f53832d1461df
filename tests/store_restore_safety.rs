//! Issue #13 item 1: a client loaded from a store never reuses a message key and never accepts a
//! replay or a forgery, whatever the application does with saves (crash after a save, restore
//! of the latest save, restore of an older backup). Stored sessions are restarted, not resumed
//! (STORAGE.md §5.1, SECURITY.md §2.3).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use offrec::conversation::{
    Action, ClientError, Event, Policy, SessionState, PERSIST_HELD_MESSAGES, PERSIST_OTHER, PERSIST_SENT_LOG,
    PERSIST_SESSIONS, PERSIST_TRUST,
};
use offrec::crypto::DeterministicRandom;
use offrec::forge::{forge_wire, parse_captured};
use offrec::store::{load_from_bytes, save_to_bytes, StoreKey};
use support::{settings, Net};
use zeroize::Zeroizing;

fn key() -> StoreKey {
    StoreKey::Raw(Zeroizing::new([0x5a; 32]))
}

fn pair(policy: Policy) -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(policy));
    net.add("bob", "bob", settings(policy));
    net.start("alice", "bob");
    net.run();
    assert!(net.state("alice", "bob").is_encrypted());
    net
}

/// The process of `id` dies (kill -9: nothing after `sealed` was saved) and comes back from it.
fn crash_and_load(net: &mut Net, id: &str, sealed: &[u8], policy: Policy, label: &str) {
    let rng = Box::new(DeterministicRandom::from_label(&format!("reload {id} {label}")));
    let client = load_from_bytes(sealed, &key(), settings(policy), rng).unwrap();
    net.parties.get_mut(id).unwrap().client = client;
}

/// (sender, ratchet key, message number): what must never name two different ciphertexts.
type KeyUse = (String, [u8; 32], u32);

/// Every captured data message with its wire text.
fn data_messages(net: &Net) -> Vec<(KeyUse, String)> {
    net.wire_log
        .iter()
        .filter_map(|(from, _, text)| {
            let message = parse_captured(text).ok()?;
            Some(((from.clone(), message.header.ratchet_key, message.header.message_number), text.clone()))
        })
        .collect()
}

/// Fails if two different captured ciphertexts share a (ratchet key, N) pair: the same key and
/// nonce would have encrypted two plaintexts.
fn assert_no_key_reuse(net: &Net) {
    let mut seen: BTreeMap<KeyUse, String> = BTreeMap::new();
    for (id, text) in data_messages(net) {
        if let Some(earlier) = seen.insert(id.clone(), text.clone()) {
            assert_eq!(
                earlier,
                text,
                "(ratchet key, N) = ({}, {}) encrypted two different messages",
                hex::encode(&id.1[..8]),
                id.2
            );
        }
    }
}

fn delivered_now(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Deliver { text, .. } => Some(String::from_utf8_lossy(text).into_owned()),
            _ => None,
        })
        .collect()
}

#[test]
fn sender_restored_after_a_crash_never_reuses_a_message_key() {
    let mut net = pair(Policy::MANUAL);
    let save = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    net.send("alice", "bob", "first, sent after the save");
    net.run();
    crash_and_load(&mut net, "alice", &save, Policy::MANUAL, "1");
    // The restored session is not shown as encrypted and cannot carry traffic.
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    assert_eq!(net.party("alice").client.sessions("bob")[0].state, SessionState::Plaintext);
    let wire_before = net.wire_log.len() + net.queue.len();
    let second = net.send("alice", "bob", "second, sent after the load");
    assert!(
        net.party("alice").saw(&Event::EncryptionRequired { message: second }),
        "held, not sent on the stale chain"
    );
    assert!(net.queue.iter().all(|(_, _, t)| parse_captured(t).is_err()), "no data message on the restored chain");
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: second }));
    assert_eq!(net.party("bob").texts(), ["first, sent after the save", "second, sent after the load"]);
    assert!(net.wire_log.len() > wire_before);
    assert_no_key_reuse(&net);
    assert!(net.state("alice", "bob").is_encrypted(), "a new session replaced the restored one");
}

#[test]
fn receiver_restored_after_a_crash_rejects_replays_and_forgeries() {
    let mut net = pair(Policy::MANUAL);
    let save = save_to_bytes(&net.party("bob").client, &key()).unwrap();
    net.send("alice", "bob", "pay 10 EUR");
    net.run();
    assert_eq!(net.party("bob").texts(), ["pay 10 EUR"]);
    // Bob answers: his reply reveals the key of "pay 10 EUR" (deniability).
    net.send("bob", "alice", "ok");
    net.run();
    let captured: Vec<String> = data_messages(&net).into_iter().map(|(_, t)| t).collect();
    let (pay, later) = (&captured[0], &captured[1..]);
    let later: Vec<&str> = later.iter().map(String::as_str).collect();
    let forged = forge_wire(pay, &later, b"pay 10 EUR", b"pay 99 EUR").expect("the reveal makes a forgery possible");

    crash_and_load(&mut net, "bob", &save, Policy::MANUAL, "1");
    let now = net.now;
    let replay = net.client("bob").receive("alice", pay, now);
    assert!(delivered_now(&replay).is_empty(), "a replay was delivered again");
    assert!(replay.iter().any(|a| matches!(a, Action::Event { event: Event::NotInPrivate, .. })));
    let forgery = net.client("bob").receive("alice", &forged, now);
    assert!(delivered_now(&forgery).is_empty(), "a forgery from revealed material was delivered");
    assert_eq!(net.party("bob").texts(), ["pay 10 EUR"]);
    // Bob asked for a new session; once it is up, traffic flows again.
    net.apply("bob", replay);
    net.apply("bob", forgery);
    net.run();
    assert!(net.state("bob", "alice").is_encrypted());
    net.send("alice", "bob", "after the restart");
    net.run();
    assert_eq!(net.party("bob").texts(), ["pay 10 EUR", "after the restart"]);
    // Old captures stay dead on the new session too.
    for text in [pay.as_str(), forged.as_str()] {
        let now = net.now;
        assert!(delivered_now(&net.client("bob").receive("alice", text, now)).is_empty());
    }
}

#[test]
fn a_message_in_flight_to_a_restored_receiver_is_lost_and_reported() {
    let mut net = pair(Policy::MANUAL);
    let save = save_to_bytes(&net.party("bob").client, &key()).unwrap();
    let id = net.send("alice", "bob", "in flight during bob's restart");
    crash_and_load(&mut net, "bob", &save, Policy::MANUAL, "1");
    net.run();
    assert!(net.party("bob").texts().is_empty());
    assert!(net.party("bob").saw(&Event::NotInPrivate));
    assert!(net.party("alice").saw(&Event::PeerCouldNotRead { message: id }), "alice is told which message was lost");
    assert!(net.state("alice", "bob").is_encrypted() && net.state("bob", "alice").is_encrypted());
}

#[test]
fn send_to_instance_smp_and_extra_keys_on_a_restored_session() {
    let mut net = pair(Policy::MANUAL);
    let save = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    crash_and_load(&mut net, "alice", &save, Policy::MANUAL, "1");
    let tag = net.party("alice").client.sessions("bob")[0].instance;
    let now = net.now;
    let alice = net.client("alice");
    assert_eq!(alice.smp_start("bob", None, b"secret", None, now).unwrap_err(), ClientError::NoSession);
    assert_eq!(alice.smp_start("bob", Some(tag), b"secret", None, now).unwrap_err(), ClientError::NoSession);
    assert_eq!(alice.extra_symmetric_key("bob", Some(tag), 1, b"", now).unwrap_err(), ClientError::NoSession);
    let (id, actions) = alice.send_to_instance("bob", tag, b"to that instance", now).unwrap();
    assert!(actions.iter().all(|a| !matches!(a, Action::Send { text, .. } if parse_captured(text).is_ok())));
    net.apply("alice", actions);
    net.run();
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(net.party("bob").texts(), ["to that instance"]);
    assert_no_key_reuse(&net);
}

#[test]
fn stored_reveals_are_published_by_the_new_session() {
    let mut net = pair(Policy::MANUAL);
    net.send("alice", "bob", "read by bob, reveal not yet sent");
    net.run();
    // Bob saves with the reveal still pending, crashes, comes back.
    let save = save_to_bytes(&net.party("bob").client, &key()).unwrap();
    let pay = data_messages(&net).last().unwrap().1.clone();
    crash_and_load(&mut net, "bob", &save, Policy::MANUAL, "1");
    net.send("bob", "alice", "hello again"); // held; new handshake
    net.run();
    assert_eq!(net.party("alice").texts(), ["hello again"]);
    let later: Vec<String> = data_messages(&net).into_iter().map(|(_, t)| t).collect();
    let later: Vec<&str> = later.iter().map(String::as_str).collect();
    assert!(
        forge_wire(&pay, &later, b"read by bob, reveal not yet sent", b"forged").is_ok(),
        "deniability kept across the restart"
    );
}

#[test]
fn a_restored_session_sends_nothing_on_tick_and_waits_to_be_replaced() {
    let mut net = pair(Policy::MANUAL);
    net.send("bob", "alice", "unanswered, so a heartbeat would be due");
    net.run();
    let save = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    crash_and_load(&mut net, "alice", &save, Policy::MANUAL, "1");
    net.now += 100_000; // past heartbeat time and session expiry
    net.tick("alice");
    assert!(net.queue.is_empty(), "no heartbeat or goodbye on the stored chain");
    assert!(!net.party("alice").saw(&Event::SessionExpired));
    assert_eq!(net.party("alice").client.sessions("bob").len(), 1, "kept until replaced");
    net.send("alice", "bob", "later");
    net.run();
    assert_eq!(net.party("bob").texts(), ["later"]);
    assert_no_key_reuse(&net);
}

#[test]
fn reloading_a_reloaded_store_still_restarts() {
    let mut net = pair(Policy::MANUAL);
    let save = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    crash_and_load(&mut net, "alice", &save, Policy::MANUAL, "1");
    let resaved = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    crash_and_load(&mut net, "alice", &resaved, Policy::MANUAL, "2");
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    net.send("alice", "bob", "x");
    assert!(net.queue.iter().all(|(_, _, t)| parse_captured(t).is_err()));
}

fn persist_events(actions: &[Action]) -> Vec<u32> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Event { event: Event::PersistNeeded { what }, peer, instance } => {
                assert!(peer.is_empty() && *instance == 0);
                Some(*what)
            }
            _ => None,
        })
        .collect()
}

/// `PersistNeeded` comes at most once per call, last, and is reported once until saved: only a
/// call that changes a kind of state not changed since the last successful save reports, naming
/// every kind changed since.
#[test]
fn persist_needed_is_reported_once_until_saved_and_last() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    let now = net.now;
    // A query changes nothing stored.
    let actions = net.client("alice").start_session("bob", now).unwrap();
    assert!(persist_events(&actions).is_empty());
    net.apply("alice", actions);
    let mut installs = 0;
    while let Some((from, to, text)) = net.queue.pop_front() {
        let actions = net.client(&to).receive(&from, &text, now);
        let persist = persist_events(&actions);
        assert!(persist.len() <= 1);
        if persist.first().is_some_and(|w| w & PERSIST_SESSIONS != 0) {
            installs += 1;
            assert!(persist[0] & PERSIST_TRUST != 0, "a first key was recorded");
            assert!(matches!(actions.last(), Some(Action::Event { event: Event::PersistNeeded { .. }, .. })));
        }
        net.apply(&to, actions);
    }
    assert_eq!(installs, 2, "both sides installed a session");
    const SENT: u32 = PERSIST_SENT_LOG | PERSIST_OTHER;
    save_to_bytes(&net.party("alice").client, &key()).unwrap();
    let (_, actions) = net.client("alice").send("bob", b"hi", now).unwrap();
    assert_eq!(persist_events(&actions), [SENT], "saved before: the send reports what it changed");
    let (_, actions) = net.client("alice").send("bob", b"again", now).unwrap();
    assert_eq!(persist_events(&actions), [], "not saved since: nothing new to report");
    let fp = net.party("bob").client.fingerprint();
    let actions = net.client("alice").set_trust("bob", fp, offrec::trust::Trust::VerifiedManual);
    assert_eq!(persist_events(&actions), [PERSIST_TRUST | SENT], "a new kind, with everything unsaved");
    let actions = net.client("alice").set_trust("bob", fp, offrec::trust::Trust::Unverified);
    assert_eq!(persist_events(&actions), [], "trust again: already unsaved");
    // A failed save (the store file's place is a directory) leaves the notice pending.
    let dir = std::env::temp_dir().join(format!("offrec-persist-once-{}", std::process::id()));
    let blocker = dir.join(offrec::store::STORE_FILE_NAME);
    std::fs::create_dir_all(&blocker).unwrap();
    let store = offrec::store::FileStore::open_dir(&dir).unwrap();
    assert!(store.save(&net.party("alice").client, &key()).is_err());
    let (_, actions) = net.client("alice").send("bob", b"after a failed save", now).unwrap();
    assert_eq!(persist_events(&actions), []);
    // Every save path clears it: the directory store, the sealed bytes, the raw encoding.
    std::fs::remove_dir(&blocker).unwrap();
    store.save(&net.party("alice").client, &key()).unwrap();
    let (_, actions) = net.client("alice").send("bob", b"after a save to the directory", now).unwrap();
    assert_eq!(persist_events(&actions), [SENT]);
    std::fs::remove_dir_all(&dir).unwrap();
    save_to_bytes(&net.party("alice").client, &key()).unwrap();
    let (_, actions) = net.client("alice").send("bob", b"after a save to bytes", now).unwrap();
    assert_eq!(persist_events(&actions), [SENT]);
    offrec::store::encode_client(&net.party("alice").client);
    let actions = net.client("alice").end_session("bob", None, now);
    assert_eq!(persist_events(&actions), [PERSIST_SESSIONS]);
    // A loaded client starts with nothing unsaved.
    let sealed = save_to_bytes(&net.party("alice").client, &key()).unwrap();
    crash_and_load(&mut net, "alice", &sealed, Policy::MANUAL, "persist");
    let (_, actions) = net.client("alice").send("bob", b"after the load", now).unwrap();
    assert_eq!(persist_events(&actions), [PERSIST_OTHER]);
    // Holding a message for encryption: a new client's first change is reported.
    let mut strict = Net::new();
    strict.add("carol", "carol", settings(Policy::ALWAYS));
    let (_, actions) = strict.client("carol").send("dave", b"held", now).unwrap();
    assert_eq!(persist_events(&actions), [PERSIST_HELD_MESSAGES | PERSIST_OTHER]);
    // Nothing stored changes on a tick with nothing to do.
    assert!(persist_events(&strict.client("carol").tick(now)).is_empty());
}

/// A small deterministic generator for schedules (xorshift64*).
struct Schedule(u64);

impl Schedule {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 300 seeded schedules of sends both ways, saves, crashes with a restore of the latest or an
/// older save, and partial delivery; `SEED=n` reruns one schedule (with a trace on failure).
#[test]
fn random_save_crash_restore_schedules_never_reuse_keys_or_redeliver() {
    const SCHEDULES: u64 = 300;
    let policy = Policy::ALWAYS;
    for seed in std::env::var("SEED").ok().and_then(|s| s.parse().ok()).map_or(1..=SCHEDULES, |s: u64| s..=s) {
        let mut rng = Schedule(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut net = pair(policy);
        let mut saves: BTreeMap<&str, Vec<Vec<u8>>> = BTreeMap::new();
        for id in ["alice", "bob"] {
            saves.entry(id).or_default().push(save_to_bytes(&net.party(id).client, &key()).unwrap());
        }
        let mut counter = 0u32;
        let mut restores = 0u32;
        for _ in 0..12 {
            net.now += 1 + rng.below(15);
            let id = if rng.below(2) == 0 { "alice" } else { "bob" };
            let other = if id == "alice" { "bob" } else { "alice" };
            match rng.below(10) {
                0..=4 => {
                    counter += 1;
                    let now = net.now;
                    let text = format!("{id}-{counter}");
                    if let Ok((_, actions)) = net.client(id).send(other, text.as_bytes(), now) {
                        net.apply(id, actions);
                    }
                }
                5 => {
                    saves.entry(id).or_default().push(save_to_bytes(&net.party(id).client, &key()).unwrap());
                }
                6 => {
                    // Crash, then restore the latest save or an older backup.
                    let list = &saves[id];
                    let pick = if rng.below(2) == 0 { list.len() - 1 } else { rng.below(list.len() as u64) as usize };
                    let sealed = list[pick].clone();
                    restores += 1;
                    crash_and_load(&mut net, id, &sealed, policy, &format!("{seed} {restores}"));
                    // Every captured message replayed at the restored party: nothing delivered.
                    for (_, text) in data_messages(&net).into_iter().filter(|((from, _, _), _)| from == other) {
                        let now = net.now;
                        let actions = net.client(id).receive(other, &text, now);
                        assert!(delivered_now(&actions).is_empty(), "seed {seed}: replay delivered after restore");
                    }
                }
                _ => {
                    // Deliver some of what is in flight.
                    for _ in 0..rng.below(6) {
                        net.step();
                    }
                }
            }
        }
        // Recovery: the conversation comes back in both directions.
        let mut recovered = false;
        for round in 0..6 {
            net.run();
            net.now += 11;
            let (a, b) = (format!("recover-a-{round}"), format!("recover-b-{round}"));
            net.send("alice", "bob", &a);
            net.send("bob", "alice", &b);
            net.run();
            if net.party("bob").texts().contains(&a) && net.party("alice").texts().contains(&b) {
                recovered = true;
                break;
            }
        }
        if !recovered {
            for id in ["alice", "bob"] {
                eprintln!("{id}: texts {:?}", net.party(id).texts());
                eprintln!(
                    "{id}: sessions {:?}",
                    net.party(id).client.sessions(if id == "alice" { "bob" } else { "alice" })
                );
                for e in net.party(id).events.iter().rev().take(30).rev() {
                    eprintln!("  {e:?}");
                }
            }
            for (f, t, x) in net.wire_log.iter().rev().take(30).rev() {
                eprintln!("{f}->{t}: {}", &x[..x.len().min(60)]);
            }
        }
        assert!(recovered, "seed {seed}: the conversation did not recover");
        assert_no_key_reuse(&net);
        for id in ["alice", "bob"] {
            let texts = net.party(id).texts();
            let unique: BTreeSet<&String> = texts.iter().collect();
            assert_eq!(unique.len(), texts.len(), "seed {seed}: {id} got a message twice: {texts:?}");
        }
        // Every captured message replayed at the end: nothing is delivered again.
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            for (_, text) in data_messages(&net).into_iter().filter(|((f, _, _), _)| f == from) {
                let now = net.now;
                let actions = net.client(to).receive(from, &text, now);
                assert!(delivered_now(&actions).is_empty(), "seed {seed}: final replay delivered");
            }
        }
    }
}
