//! Persistence: identity, trust and held messages survive restarts, stored sessions are
//! restarted (never resumed) and every lost message is reported, stores are sealed and written
//! atomically, and every kind of bad store gives a clear error without touching the file.

mod support;

use std::os::unix::fs::PermissionsExt;

use offrec::conversation::{Event, Policy, SessionState};
use offrec::crypto::DeterministicRandom;
use offrec::store::{encode_client, load_from_bytes, open, save_to_bytes, seal, FileStore, StoreError, StoreKey};
use sha2::Digest;
use support::{encrypted_pair, settings, Net};
use zeroize::Zeroizing;

fn raw_key(byte: u8) -> StoreKey {
    StoreKey::Raw(Zeroizing::new([byte; 32]))
}

/// Replaces a party's client with one restored from `sealed`, as after a program restart.
fn restart(net: &mut Net, id: &str, sealed: &[u8], key: &StoreKey) {
    let rng = Box::new(DeterministicRandom::from_label(&format!("restart {id} {}", net.now)));
    let client = load_from_bytes(sealed, key, settings(Policy::MANUAL), rng).unwrap();
    net.parties.get_mut(id).unwrap().client = client;
}

#[test]
fn a_restored_session_is_restarted_not_resumed() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "before");
    net.run();
    let ssid = net.party("alice").client.sessions("bob")[0].ssid;
    let key = raw_key(7);
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    restart(&mut net, "alice", &sealed, &key);
    // Listed, but not shown as encrypted: it carries no traffic.
    assert_eq!(net.party("alice").client.sessions("bob")[0].ssid, ssid);
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    let held = net.send("alice", "bob", "after restart");
    let lost = net.send("bob", "alice", "sent on the old session");
    net.run();
    // Alice's message waited for the new session; bob's, on the old one, was not read and bob
    // was told which one.
    assert!(net.party("alice").saw(&Event::EncryptionRequired { message: held }));
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: held }));
    assert_eq!(net.party("bob").texts(), ["before", "after restart"]);
    assert!(net.party("alice").texts().is_empty());
    assert!(net.party("alice").saw(&Event::NotInPrivate));
    assert_eq!(lost_ids(&net, "bob"), [lost]);
    let new_ssid = net.party("alice").client.sessions("bob")[0].ssid;
    assert_ne!(new_ssid, ssid, "a new handshake replaced the stored session");
    assert_eq!(net.party("bob").client.sessions("alice")[0].ssid, new_ssid);
    net.send("bob", "alice", "welcome back");
    net.run();
    assert_eq!(net.party("alice").texts(), ["welcome back"]);
}

#[test]
fn message_in_flight_during_restart_is_lost_and_reported() {
    let mut net = encrypted_pair();
    let key = raw_key(1);
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    let id = net.send("bob", "alice", "sent while alice was restarting");
    restart(&mut net, "alice", &sealed, &key);
    net.run();
    assert!(net.party("alice").texts().is_empty(), "a restored session never decrypts");
    assert_eq!(lost_ids(&net, "bob"), [id], "bob is told exactly which message was lost");
    assert!(net.state("alice", "bob").is_encrypted(), "a new session came up by itself");
}

#[test]
fn held_messages_and_trust_survive() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALWAYS));
    net.add("bob", "bob", settings(Policy::MANUAL));
    let fp = net.party("bob").client.fingerprint();
    let now = net.now;
    net.client("alice").set_trust("bob", fp, offrec::trust::Trust::VerifiedManual);
    let id = net.send("alice", "bob", "queued before restart");
    net.queue.clear(); // the query is lost with the old process
    let key = raw_key(2);
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    let rng = Box::new(DeterministicRandom::from_label("alice again"));
    net.parties.get_mut("alice").unwrap().client =
        load_from_bytes(&sealed, &key, settings(Policy::ALWAYS), rng).unwrap();
    assert_eq!(net.party("alice").client.trust_store().trust("bob", &fp), offrec::trust::Trust::VerifiedManual);
    let actions = net.client("alice").start_session("bob", now).unwrap();
    net.apply("alice", actions);
    net.run();
    assert_eq!(net.party("bob").texts(), ["queued before restart"]);
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
}

#[test]
fn passphrase_store_round_trips_and_rejects_wrong_passphrase() {
    let net = encrypted_pair();
    let key = StoreKey::Passphrase(Zeroizing::new("correct horse battery staple".into()));
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    let restored =
        load_from_bytes(&sealed, &key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("p")))
            .unwrap();
    assert_eq!(restored.fingerprint(), net.party("alice").client.fingerprint());
    let wrong = StoreKey::Passphrase(Zeroizing::new("wrong".into()));
    assert_eq!(open(&sealed, &wrong).unwrap_err(), StoreError::WrongKey);
    assert_eq!(open(&sealed, &raw_key(0)).unwrap_err(), StoreError::WrongKey);
}

#[test]
fn secrets_are_never_written_in_the_clear() {
    let net = encrypted_pair();
    let client = &net.party("alice").client;
    let identity_secret = *client.identity().key_pair().secret_bytes().expose();
    let sealed = save_to_bytes(client, &raw_key(3)).unwrap();
    assert!(!sealed.windows(32).any(|w| w == identity_secret));
    assert!(!sealed.windows(5).any(|w| w == b"alice"), "even names are sealed");
    // The plaintext state does contain the secret (so the check above means something).
    assert!(encode_client(client).windows(32).any(|w| w == identity_secret));
}

#[test]
fn bad_stores_give_clear_errors() {
    let net = encrypted_pair();
    let key = raw_key(9);
    let sealed = save_to_bytes(&net.party("alice").client, &key).unwrap();
    assert_eq!(open(&[], &key).unwrap_err(), StoreError::Empty);
    assert_eq!(open(b"hello world, not a store at all", &key).unwrap_err(), StoreError::NotAStore);
    for cut in [3usize, 8, 20, 60, 70, 100, sealed.len() - 1] {
        assert_eq!(open(&sealed[..cut], &key).unwrap_err(), StoreError::Truncated, "cut {cut}");
    }
    let mut future = sealed.clone();
    future[9] = 99;
    assert_eq!(open(&future, &key).unwrap_err(), StoreError::UnsupportedVersion(99));
    assert_eq!(open(&sealed, &raw_key(8)).unwrap_err(), StoreError::WrongKey);
    // The header (91 bytes) is checked by its checksum, the rest by the GCM tag.
    for position in [70usize, 90] {
        let mut flipped = sealed.clone();
        flipped[position] ^= 1;
        assert_eq!(open(&flipped, &key).unwrap_err(), StoreError::HeaderDamaged, "flip at {position}");
    }
    for position in [91usize, sealed.len() / 2, sealed.len() - 1] {
        let mut flipped = sealed.clone();
        flipped[position] ^= 1;
        assert_eq!(open(&flipped, &key).unwrap_err(), StoreError::Corrupted, "flip at {position}");
    }
    let mut greedy = sealed.clone();
    greedy[10] = 1; // passphrase kdf with absurd parameters, and a checksum to match
    greedy[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
    let sum = sha2::Sha256::digest(&greedy[..75]);
    greedy[75..91].copy_from_slice(&sum[..16]);
    let passphrase = StoreKey::Passphrase(Zeroizing::new("x".into()));
    assert_eq!(open(&greedy, &passphrase).unwrap_err(), StoreError::BadKdfParameters);
    // A valid seal of an invalid state.
    let mut rng = DeterministicRandom::from_label("bad state");
    let junk = seal(b"OFRSTATE\x00\x01\x00", &key, &mut rng).unwrap();
    let error = load_from_bytes(&junk, &key, settings(Policy::MANUAL), Box::new(rng)).unwrap_err();
    assert_eq!(error, StoreError::Truncated);
}

#[test]
fn file_store_is_private_atomic_and_never_overwritten_by_a_failed_load() {
    let dir = std::env::temp_dir().join(format!("offrec-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = FileStore::open_dir(&dir).unwrap();
    let key = raw_key(4);
    assert_eq!(
        store.load(&key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("x"))).unwrap_err(),
        StoreError::NotFound
    );
    let net = encrypted_pair();
    store.save(&net.party("alice").client, &key).unwrap();
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o600);
    let before = std::fs::read(store.path()).unwrap();
    assert_eq!(
        store.load(&raw_key(5), settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("y"))).unwrap_err(),
        StoreError::WrongKey
    );
    assert_eq!(std::fs::read(store.path()).unwrap(), before, "failed load changed the file");
    let loaded = store.load(&key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("z"))).unwrap();
    assert_eq!(loaded.sessions("bob").len(), 1);
    store.save(&loaded, &key).unwrap();
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name() != "offrec.store").collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // A directory where the file should be.
    std::fs::remove_file(store.path()).unwrap();
    std::fs::create_dir(store.path()).unwrap();
    assert_eq!(
        store.load(&key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("w"))).unwrap_err(),
        StoreError::IsADirectory
    );
    assert_eq!(store.save(&loaded, &key).unwrap_err(), StoreError::IsADirectory);
    // A file where the directory should be.
    let file_path = dir.join("plain-file");
    std::fs::write(&file_path, b"x").unwrap();
    assert!(FileStore::open_dir(&file_path).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn lost_ids(net: &Net, id: &str) -> Vec<u64> {
    net.party(id).lost_messages()
}

#[test]
fn stale_session_heals_and_the_user_learns_which_messages_were_lost() {
    // Bob restores a backup taken before this session existed.
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    let key = raw_key(6);
    let old_backup = save_to_bytes(&net.party("bob").client, &key).unwrap();
    net.start("alice", "bob");
    net.run();
    restart(&mut net, "bob", &old_backup, &key);
    let ids: Vec<u64> = ["one", "two", "three"].iter().map(|t| net.send("alice", "bob", t)).collect();
    net.run();
    assert!(net.party("bob").texts().is_empty());
    assert_eq!(lost_ids(&net, "alice"), ids, "alice is told exactly which messages bob lost");
    // A new session came up by itself; nothing was resent automatically.
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
    assert!(net.party("bob").texts().is_empty());
    net.send("alice", "bob", "again");
    net.run();
    assert_eq!(net.party("bob").texts(), ["again"]);
}

#[test]
fn backup_with_an_older_ratchet_heals_too() {
    let mut net = encrypted_pair();
    let key = raw_key(7);
    net.send("bob", "alice", "first");
    net.run();
    let old_backup = save_to_bytes(&net.party("bob").client, &key).unwrap();
    for round in 0..3 {
        net.send("alice", "bob", &format!("a{round}"));
        net.send("bob", "alice", &format!("b{round}"));
        net.run();
    }
    restart(&mut net, "bob", &old_backup, &key);
    let lost = net.send("alice", "bob", "after bob's restore");
    net.run();
    assert!(lost_ids(&net, "alice").contains(&lost));
    net.send("alice", "bob", "healed");
    net.run();
    assert_eq!(net.party("bob").texts().last().unwrap(), "healed");
}

#[test]
fn a_forged_unreadable_report_for_an_unknown_message_does_nothing() {
    let mut net = encrypted_pair();
    let now = net.now;
    let actions =
        net.client("alice").receive("bob", "?OFR Error: unreadable encrypted message 0011223344556677:3", now);
    net.apply("alice", actions);
    assert!(lost_ids(&net, "alice").is_empty());
    assert!(net.queue.is_empty(), "no query sent for a message we never sent");
}

#[test]
fn messages_lost_before_our_restart_are_still_named() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    let key = raw_key(8);
    let bob_backup = save_to_bytes(&net.party("bob").client, &key).unwrap();
    net.start("alice", "bob");
    net.run();
    restart(&mut net, "bob", &bob_backup, &key); // bob loses the session
    let ids: Vec<u64> = ["first", "second"].iter().map(|t| net.send("alice", "bob", t)).collect();
    // Alice restarts too, before bob's complaint arrives.
    let alice_save = save_to_bytes(&net.party("alice").client, &key).unwrap();
    restart(&mut net, "alice", &alice_save, &key);
    net.run();
    assert_eq!(lost_ids(&net, "alice"), ids);
}

#[test]
fn file_store_paths_existence_and_only_its_own_stale_temporaries_removed() {
    use std::time::{Duration, SystemTime};
    let dir = std::env::temp_dir().join(format!("offrec-store-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = FileStore::open_dir(&dir).unwrap();
    assert!(!store.exists(), "nothing saved yet");
    let key = raw_key(8);
    let net = encrypted_pair();
    store.save(&net.party("alice").client, &key).unwrap();
    assert!(store.exists());

    // An hour old: past the stale age. Only the store's own temporary names may go.
    let old = SystemTime::now() - Duration::from_secs(3600);
    let names = [".offrec.store.4242.tmp", ".offrec.store.keep", "notes.tmp"];
    for name in names {
        let path = dir.join(name);
        std::fs::write(&path, b"x").unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
    }
    store.save(&net.party("alice").client, &key).unwrap();
    assert!(!dir.join(names[0]).exists(), "a killed writer's stale temporary file is removed");
    assert!(dir.join(names[1]).exists() && dir.join(names[2]).exists(), "files that are not its temporaries stay");

    // A path below a plain file is refused at once (the error is not "not found").
    let plain = dir.join("plain-file");
    std::fs::write(&plain, b"x").unwrap();
    assert!(FileStore::open_dir(plain.join("sub")).is_err());
    // A directory that became a file after it was named: the save refuses, writes nothing.
    let later = dir.join("later");
    let late_store = FileStore::open_dir(&later).unwrap();
    std::fs::write(&later, b"x").unwrap();
    assert!(matches!(late_store.save(&net.party("alice").client, &key), Err(StoreError::InvalidState(_))));
    assert_eq!(std::fs::read(&later).unwrap(), b"x");
    // Loading from it is an error, not "nothing saved yet": an application that takes NotFound
    // for a first run would make a new identity over an unreadable store.
    let error =
        late_store.load(&key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("u"))).unwrap_err();
    assert!(matches!(error, StoreError::Io { .. }), "{error:?}");

    // The size limit is 256 MiB: a 2 MiB file is read (and refused as no store), one byte over
    // the limit is refused unread. Both sparse, so nothing is written to disk.
    let too_big = offrec::store::MAX_STORE_FILE_LEN + 1;
    for (len, over) in [(2 << 20, false), (too_big, true)] {
        std::fs::File::create(store.path()).unwrap().set_len(len).unwrap();
        let error =
            store.load(&key, settings(Policy::MANUAL), Box::new(DeterministicRandom::from_label("v"))).unwrap_err();
        assert_eq!(
            error == StoreError::InvalidState("store file larger than the limit"),
            over,
            "{len} bytes: {error:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
