//! Loading a store is read-only and picky (issue #13 item 6, issue #19 survivors): a failed
//! load creates and deletes nothing, only a regular file of bounded size is read, another
//! account's store is refused, and the seal header carries the documented KDF parameters and a
//! fresh random nonce.

mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use offrec::conversation::{Client, Policy};
use offrec::crypto::DeterministicRandom;
use offrec::store::{
    load_account_from_bytes, load_from_bytes, open, save_to_bytes, FileStore, StoreError, StoreKey, ARGON2_M_COST_KIB,
    ARGON2_P_COST, ARGON2_T_COST, STALE_TEMP_SECS,
};
use sha2::{Digest, Sha256};
use support::settings;
use zeroize::Zeroizing;

fn raw_key(byte: u8) -> StoreKey {
    StoreKey::Raw(Zeroizing::new([byte; 32]))
}

fn client(account: &str) -> Client {
    Client::new(account, "xmpp", settings(Policy::MANUAL)).unwrap()
}

fn rng(label: &str) -> Box<DeterministicRandom> {
    Box::new(DeterministicRandom::from_label(label))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("offrec-store-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs a load on another thread and gives up after `limit`: the old code blocked forever on
/// a FIFO, and read /dev/zero until memory ran out.
fn load_within(store: FileStore, limit: Duration) -> Result<(), StoreError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = store.load(&raw_key(1), settings(Policy::MANUAL), rng("bounded")).map(|_| ());
        let _ = tx.send(result);
    });
    rx.recv_timeout(limit).expect("the load blocked or kept reading")
}

#[test]
fn a_load_from_a_missing_directory_creates_nothing() {
    let dir = temp_dir("missing");
    let store = FileStore::open_dir(&dir).unwrap();
    assert!(!dir.exists(), "naming a store directory created it");
    assert_eq!(store.load(&raw_key(1), settings(Policy::MANUAL), rng("m")).unwrap_err(), StoreError::NotFound);
    assert!(!dir.exists(), "a failed load created the directory");
    // The first save creates it, private.
    store.save(&client("alice"), &raw_key(1)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_load_never_deletes_temporary_files_of_a_concurrent_saver() {
    let dir = temp_dir("temps");
    let store = FileStore::open_dir(&dir).unwrap();
    store.save(&client("alice"), &raw_key(1)).unwrap();
    // Another saver is writing right now.
    let theirs = dir.join(".offrec.store.0011223344556677.tmp");
    std::fs::write(&theirs, b"half-written").unwrap();
    let reopened = FileStore::open_dir(&dir).unwrap();
    assert_eq!(reopened.load(&raw_key(2), settings(Policy::MANUAL), rng("w")).unwrap_err(), StoreError::WrongKey);
    assert!(theirs.exists(), "a wrong-key load deleted another saver's temporary file");
    reopened.load(&raw_key(1), settings(Policy::MANUAL), rng("r")).unwrap();
    assert!(theirs.exists(), "a load deleted another saver's temporary file");
    // A save leaves a fresh temporary file alone too, but removes one that is stale.
    reopened.save(&client("alice"), &raw_key(1)).unwrap();
    assert!(theirs.exists(), "a save deleted a fresh temporary file");
    let stale = dir.join(".offrec.store.8899aabbccddeeff.tmp");
    std::fs::write(&stale, b"torn").unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(STALE_TEMP_SECS + 60);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(long_ago).unwrap();
    reopened.save(&client("alice"), &raw_key(1)).unwrap();
    assert_eq!(names_in(&dir), vec![".offrec.store.0011223344556677.tmp".to_owned(), "offrec.store".to_owned()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_in_place_of_the_store_is_refused_without_blocking() {
    let dir = temp_dir("fifo");
    std::fs::create_dir(&dir).unwrap();
    let status = std::process::Command::new("mkfifo").arg(dir.join("offrec.store")).status().unwrap();
    assert!(status.success());
    let store = FileStore::open_dir(&dir).unwrap();
    assert_eq!(load_within(store, Duration::from_secs(5)), Err(StoreError::NotAFile));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn symbolic_links_are_never_followed() {
    let dir = temp_dir("symlink");
    std::fs::create_dir(&dir).unwrap();
    // A link to an endless device: the old code read it until memory ran out.
    std::os::unix::fs::symlink("/dev/zero", dir.join("offrec.store")).unwrap();
    let store = FileStore::open_dir(&dir).unwrap();
    assert_eq!(load_within(store.clone(), Duration::from_secs(5)), Err(StoreError::NotAFile));
    // Even a link to a genuine store is refused: whoever can plant links in the store
    // directory must not choose what we load.
    std::fs::remove_file(dir.join("offrec.store")).unwrap();
    let elsewhere = temp_dir("symlink-target");
    let genuine = FileStore::open_dir(&elsewhere).unwrap();
    genuine.save(&client("alice"), &raw_key(1)).unwrap();
    std::os::unix::fs::symlink(genuine.path(), dir.join("offrec.store")).unwrap();
    assert_eq!(store.load(&raw_key(1), settings(Policy::MANUAL), rng("l")).unwrap_err(), StoreError::NotAFile);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&elsewhere).unwrap();
}

#[test]
fn another_accounts_store_is_refused() {
    let key = raw_key(7);
    let alice = client("alice@example.org");
    let sealed = save_to_bytes(&alice, &key).unwrap();
    // Without an expected account the store says whose it is: the app can check.
    let loaded = load_from_bytes(&sealed, &key, settings(Policy::MANUAL), rng("any")).unwrap();
    assert_eq!(loaded.account(), "alice@example.org");
    // With one, a swapped store is refused, whether bytes or a directory.
    let error =
        load_account_from_bytes(&sealed, "bob@example.org", &key, settings(Policy::MANUAL), rng("b")).unwrap_err();
    assert_eq!(error, StoreError::WrongAccount);
    let ok = load_account_from_bytes(&sealed, "alice@example.org", &key, settings(Policy::MANUAL), rng("a")).unwrap();
    assert_eq!(ok.fingerprint(), alice.fingerprint());
    let dir = temp_dir("account");
    let store = FileStore::open_dir(&dir).unwrap();
    store.save(&alice, &key).unwrap();
    let before = std::fs::read(store.path()).unwrap();
    let error = store.load_account("bob@example.org", &key, settings(Policy::MANUAL), rng("b")).unwrap_err();
    assert_eq!(error, StoreError::WrongAccount);
    assert_eq!(std::fs::read(store.path()).unwrap(), before);
    assert_eq!(
        store.load_account("alice@example.org", &key, settings(Policy::MANUAL), rng("a")).unwrap().account(),
        "alice@example.org"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Recomputes a version-2 header's checksum (STORAGE.md §2: the first 16 bytes of SHA-256
/// over the 75 header bytes before it), as someone planting a file would.
fn with_checksum(mut sealed: Vec<u8>) -> Vec<u8> {
    let sum = Sha256::digest(&sealed[..75]);
    sealed[75..91].copy_from_slice(&sum[..16]);
    sealed
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[test]
fn passphrase_stores_are_written_with_the_documented_kdf_parameters() {
    let passphrase = StoreKey::Passphrase(Zeroizing::new("correct horse".into()));
    let sealed = save_to_bytes(&client("alice"), &passphrase).unwrap();
    assert_eq!(sealed[10], 1, "KDF kind: Argon2id");
    assert_eq!((u32_at(&sealed, 11), u32_at(&sealed, 15), u32_at(&sealed, 19)), (19456, 2, 1));
    assert_eq!((ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST), (19456, 2, 1), "STORAGE.md §3 documents these");
    let raw = save_to_bytes(&client("alice"), &raw_key(1)).unwrap();
    assert_eq!(raw[10], 0);
    assert_eq!((u32_at(&raw, 11), u32_at(&raw, 15), u32_at(&raw, 19)), (0, 0, 0));
}

#[test]
fn argon2_costs_above_our_caps_are_refused_before_hashing() {
    let passphrase = StoreKey::Passphrase(Zeroizing::new("x".into()));
    let sealed = save_to_bytes(&client("alice"), &passphrase).unwrap();
    // Each is a valid Argon2 parameter set (argon2 itself would run it), but above our caps:
    // memory 256 MiB + 1 KiB; 17 passes; 9 lanes.
    for (m, t, p) in [((1u32 << 18) + 1, 1u32, 1u32), (8, 17, 1), (72, 1, 9)] {
        assert!(argon2::Params::new(m, t, p, Some(32)).is_ok(), "argon2 accepts ({m}, {t}, {p})");
        let mut greedy = sealed.clone();
        greedy[11..15].copy_from_slice(&m.to_be_bytes());
        greedy[15..19].copy_from_slice(&t.to_be_bytes());
        greedy[19..23].copy_from_slice(&p.to_be_bytes());
        let greedy = with_checksum(greedy);
        // Hashed, these would fail the key check (WrongKey): BadKdfParameters means refused first.
        assert_eq!(open(&greedy, &passphrase).unwrap_err(), StoreError::BadKdfParameters, "({m}, {t}, {p})");
    }
    // Each cap exactly is accepted (and hashed): only the header was changed, so the key check
    // fails. Memory 256 MiB; 16 passes; 8 lanes (with the 64 KiB those need).
    for (m, t, p) in [(1u32 << 18, 1u32, 1u32), (8, 16, 1), (64, 1, 8)] {
        let mut at_cap = sealed.clone();
        at_cap[11..15].copy_from_slice(&m.to_be_bytes());
        at_cap[15..19].copy_from_slice(&t.to_be_bytes());
        at_cap[19..23].copy_from_slice(&p.to_be_bytes());
        assert_eq!(open(&with_checksum(at_cap), &passphrase).unwrap_err(), StoreError::WrongKey, "({m}, {t}, {p})");
    }
}

#[test]
fn every_save_has_a_fresh_nonzero_nonce_and_salt() {
    let alice = client("alice");
    let one = save_to_bytes(&alice, &raw_key(1)).unwrap();
    let two = save_to_bytes(&alice, &raw_key(1)).unwrap();
    let (nonce_one, nonce_two) = (&one[55..67], &two[55..67]);
    assert_ne!(nonce_one, nonce_two, "two saves reused a nonce");
    assert!(nonce_one.iter().any(|&b| b != 0) && nonce_two.iter().any(|&b| b != 0), "all-zero nonce");
    assert_ne!(&one[23..39], &two[23..39], "two saves reused a salt");
    assert!(one[23..39].iter().any(|&b| b != 0), "all-zero salt");
}

#[test]
fn damage_to_the_kdf_fields_salt_or_key_check_is_not_a_wrong_key() {
    // STORAGE.md §3: a version-2 header carries a checksum, so its damage is told apart from a
    // wrong key, before any key is tried (no Argon2id run for a damaged passphrase store).
    let passphrase = StoreKey::Passphrase(Zeroizing::new("correct horse".into()));
    let sealed = save_to_bytes(&client("alice"), &passphrase).unwrap();
    let wrong = StoreKey::Passphrase(Zeroizing::new("wrong horse".into()));
    assert_eq!(open(&sealed, &wrong).unwrap_err(), StoreError::WrongKey, "a wrong passphrase is still that");
    let fields = [("KDF kind", 10usize), ("m", 14), ("t", 15), ("p", 22), ("salt", 23), ("salt", 38)];
    let fields = fields.into_iter().chain([("key check", 39), ("key check", 54), ("checksum", 80)]);
    for (field, position) in fields {
        let mut damaged = sealed.clone();
        damaged[position] ^= 0x10;
        let error = open(&damaged, &passphrase).unwrap_err();
        assert_eq!(error, StoreError::HeaderDamaged, "{field}, byte {position}");
        assert_eq!(open(&damaged, &wrong).unwrap_err(), StoreError::HeaderDamaged, "whatever the key");
        assert!(!error.to_string().contains("wrong key"), "{error}");
    }
    // No key is tried on a damaged header: damage that puts the memory cost far above our cap
    // is reported as damage, so the checksum was checked before the KDF parameters were read.
    let mut damaged = sealed.clone();
    damaged[11] ^= 0x80;
    assert_eq!(open(&damaged, &passphrase).unwrap_err(), StoreError::HeaderDamaged);
    assert_eq!(open(&with_checksum(damaged), &passphrase).unwrap_err(), StoreError::BadKdfParameters);
    // The same for a raw-key store, and the right key still opens the undamaged one.
    let key = raw_key(3);
    let sealed = save_to_bytes(&client("alice"), &key).unwrap();
    for position in [10usize, 11, 23, 38, 39, 54] {
        let mut damaged = sealed.clone();
        damaged[position] ^= 0x01;
        assert_eq!(open(&damaged, &key).unwrap_err(), StoreError::HeaderDamaged, "byte {position}");
    }
    assert!(open(&sealed, &key).is_ok());
    // Someone who rewrites the checksum too is not stopped by it: the key check still fails
    // (WrongKey), and the GCM tag, which covers the whole header, catches anything else.
    let mut salt = sealed.clone();
    salt[30] ^= 1;
    assert_eq!(open(&with_checksum(salt), &key).unwrap_err(), StoreError::WrongKey);
    let mut nonce = sealed.clone();
    nonce[60] ^= 1;
    assert_eq!(open(&with_checksum(nonce), &key).unwrap_err(), StoreError::Corrupted);
}

#[test]
fn a_version_1_store_still_cannot_tell_salt_damage_from_a_wrong_key() {
    // Version 1 has nothing but the key to check these fields with; the error text says so.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/store_v1.json").unwrap()).unwrap();
    let sealed = hex::decode(json["alice"].as_str().unwrap()).unwrap();
    let key = raw_key(0x42);
    assert_eq!(u16::from_be_bytes([sealed[8], sealed[9]]), 1);
    assert!(open(&sealed, &key).is_ok());
    for position in [23usize, 38, 39, 54] {
        let mut damaged = sealed.clone();
        damaged[position] ^= 0x10;
        let error = open(&damaged, &key).unwrap_err();
        assert_eq!(error, StoreError::WrongKey, "byte {position}");
        assert!(error.to_string().contains("version-1") && error.to_string().contains("damaged"), "{error}");
    }
    // Damage to the nonce is caught by the tag: Corrupted.
    let mut nonce = sealed.clone();
    nonce[60] ^= 1;
    assert_eq!(open(&nonce, &key).unwrap_err(), StoreError::Corrupted);
}
