//! Store format version 2 (STORAGE.md §2, §4.1): sections a reader does not know are skipped
//! when optional and refused when critical, the OTR identity has its own section, trust entries
//! carry a key kind, and every truncation or bit flip of a stored file gives a clear error and
//! changes nothing.

mod support;

use std::path::PathBuf;

use offrec::conversation::{Client, Policy};
use offrec::crypto::DeterministicRandom;
use offrec::store::{encode_client, load_from_bytes, open, seal, FileStore, StoreError, StoreKey};
use support::settings;
use zeroize::Zeroizing;

fn key() -> StoreKey {
    StoreKey::Raw(Zeroizing::new([0x42; 32]))
}

/// Alice's state from the frozen version-2 vector (one peer with a session, trust decisions).
fn alice_state() -> Vec<u8> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/store_v2.json").unwrap()).unwrap();
    let sealed = hex::decode(json["alice"].as_str().unwrap()).unwrap();
    open(&sealed, &key()).unwrap().to_vec()
}

fn section(tag: u16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = tag.to_be_bytes().to_vec();
    out.push(flags);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits a version-2 state into its sections: (tag, flags, body).
fn sections(plain: &[u8]) -> Vec<(u16, u8, Vec<u8>)> {
    let mut at = 10;
    let mut out = Vec::new();
    while at < plain.len() {
        let len = u32::from_be_bytes(plain[at + 3..at + 7].try_into().unwrap()) as usize;
        out.push((u16::from_be_bytes([plain[at], plain[at + 1]]), plain[at + 2], plain[at + 7..at + 7 + len].to_vec()));
        at += 7 + len;
    }
    out
}

fn state_of(sections: &[(u16, u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"OFRSTATE\x00\x02".to_vec();
    for (tag, flags, body) in sections {
        out.extend_from_slice(&section(*tag, *flags, body));
    }
    out
}

fn load(plain: &[u8]) -> Result<Client, StoreError> {
    let mut rng = DeterministicRandom::from_label("store v2");
    let sealed = seal(plain, &key(), &mut rng).unwrap();
    load_from_bytes(&sealed, &key(), settings(Policy::MANUAL), Box::new(rng))
}

#[test]
fn an_unknown_optional_section_is_skipped_and_not_written_back() {
    let plain = alice_state();
    let mut with_extra = plain.clone();
    with_extra.extend_from_slice(&section(0x7F00, 0, b"a cache a newer offrec keeps"));
    // Reserved flag bits are ignored as well.
    with_extra.extend_from_slice(&section(0x7F01, 0xFE, b""));
    let client = load(&with_extra).unwrap();
    assert_eq!(client.sessions("bob").len(), 1, "the rest of the store loaded");
    assert_eq!(encode_client(&client)[..], plain[..], "dropped on the next save, nothing else changed");
}

#[test]
fn an_unknown_critical_section_refuses_the_store() {
    let mut plain = alice_state();
    plain.extend_from_slice(&section(0x7F00, 1, b"protocol pins of a newer offrec"));
    let error = load(&plain).unwrap_err();
    assert_eq!(error, StoreError::UnsupportedSection(0x7F00));
    assert!(error.to_string().contains("newer offrec"), "{error}");
}

#[test]
fn the_otr_identity_section_holds_a_checked_dsa_key() {
    let plain = alice_state();
    let mut rng = DeterministicRandom::from_label("dsa for the store");
    let identity = offrec::otr::identity::DsaIdentity::generate(&mut rng).unwrap();
    let mut with_identity = plain.clone();
    with_identity.extend_from_slice(&section(4, 1, &identity.to_stored()));
    let client = load(&with_identity).unwrap();
    assert_eq!(client.otr_fingerprint(), Some(identity.fingerprint()));
    assert_eq!(encode_client(&client)[..], with_identity[..], "written back unchanged, after the peers");
    // Bytes that are not a valid DSA key are refused, never used as one.
    let mut garbage = plain.clone();
    garbage.extend_from_slice(&section(4, 1, &[0xD5; 440]));
    assert_eq!(load(&garbage).unwrap_err(), StoreError::InvalidState("OTR identity"));
    // Over its cap it is refused, not cut.
    let mut too_long = plain.clone();
    too_long.extend_from_slice(&section(4, 1, &vec![0; 4097]));
    assert_eq!(load(&too_long).unwrap_err(), StoreError::InvalidState("OTR identity length"));
}

#[test]
fn sections_are_required_unique_and_in_order() {
    let found = sections(&alice_state());
    assert_eq!(found.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), [(1, 1), (2, 1), (3, 1)]);
    let missing = [found[0].clone(), found[2].clone()];
    assert_eq!(load(&state_of(&missing)).unwrap_err(), StoreError::InvalidState("a required section is missing"));
    let swapped = [found[0].clone(), found[2].clone(), found[1].clone()];
    assert_eq!(load(&state_of(&swapped)).unwrap_err(), StoreError::InvalidState("sections repeated or out of order"));
    let repeated = [found[0].clone(), found[1].clone(), found[1].clone(), found[2].clone()];
    assert_eq!(load(&state_of(&repeated)).unwrap_err(), StoreError::InvalidState("sections repeated or out of order"));
    let mut padded = found.clone();
    padded[0].2.push(0);
    assert_eq!(load(&state_of(&padded)).unwrap_err(), StoreError::InvalidState("trailing bytes in a section"));
    // A section running past the end of the state.
    let mut cut = state_of(&found);
    cut.truncate(cut.len() - 1);
    assert_eq!(load(&cut).unwrap_err(), StoreError::Truncated);
}

#[test]
fn trust_entries_carry_a_key_kind() {
    let found = sections(&alice_state());
    let trust = &found[1].2;
    // Alice trusts one peer, bob, with one Modern key (kind 0): count, name, key count, key.
    assert_eq!(&trust[..4], &[0, 0, 0, 1]);
    assert_eq!(&trust[4..15], &[0, 0, 0, 3, b'b', b'o', b'b', 0, 0, 0, 1]);
    assert_eq!(trust[15], 0, "kind Modern");
    assert_eq!(trust.len(), 15 + 1 + 32 + 1);
    assert_eq!(trust[48], 2, "VerifiedManual");
    // An OTR DSA entry (kind 1, a 20-byte fingerprint) loads as that key's 32-byte key id.
    let mut otr = b"\x00\x00\x00\x01\x00\x00\x00\x05carol\x00\x00\x00\x01\x01".to_vec();
    otr.extend_from_slice(&[7; 20]);
    otr.push(1);
    let with_otr = [found[0].clone(), (2, 1, otr), found[2].clone()];
    let client = load(&state_of(&with_otr)).unwrap();
    let key_id = offrec::trust::otr_key_id(&[7; 20]);
    assert_eq!(client.trust_store().trust("carol", &key_id), offrec::trust::Trust::VerifiedSmp);
    let mut unknown = found.clone();
    unknown[1].2[15] = 9;
    assert_eq!(load(&state_of(&unknown)).unwrap_err(), StoreError::UnsupportedKeyKind(9));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("offrec-store-v2-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads `bytes` as the store file of `dir` and checks that the failed load left the file
/// and the directory exactly as they were.
fn load_file(store: &FileStore, bytes: &[u8]) -> StoreError {
    std::fs::write(store.path(), bytes).unwrap();
    let rng = Box::new(DeterministicRandom::from_label("load"));
    let error = store.load(&key(), settings(Policy::MANUAL), rng).unwrap_err();
    assert_eq!(std::fs::read(store.path()).unwrap(), bytes, "a failed load changed the file");
    error
}

#[test]
fn every_truncation_gives_a_clear_error_and_changes_nothing() {
    let dir = temp_dir("cut");
    let store = FileStore::open_dir(&dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/store_v2.json").unwrap()).unwrap();
    let sealed = hex::decode(json["alice"].as_str().unwrap()).unwrap();
    assert_eq!(load_file(&store, &[]), StoreError::Empty);
    for cut in 1..sealed.len() {
        assert_eq!(load_file(&store, &sealed[..cut]), StoreError::Truncated, "cut at {cut} of {}", sealed.len());
    }
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["offrec.store"], "a load created or left files");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_bit_flip_gives_a_clear_error_and_changes_nothing() {
    let dir = temp_dir("flip");
    let store = FileStore::open_dir(&dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/store_v2.json").unwrap()).unwrap();
    let sealed = hex::decode(json["alice"].as_str().unwrap()).unwrap();
    for position in 0..sealed.len() {
        for bit in 0..8 {
            let mut flipped = sealed.clone();
            flipped[position] ^= 1 << bit;
            // Through the directory store once per byte (the file must stay as it was), else
            // through the bytes API, which shares everything but the file access.
            let error = if bit == 0 {
                load_file(&store, &flipped)
            } else {
                let rng = Box::new(DeterministicRandom::from_label("flip"));
                load_from_bytes(&flipped, &key(), settings(Policy::MANUAL), rng).unwrap_err()
            };
            let expected = match position {
                0..=7 => StoreError::NotAStore,
                // The version decides the layout: another number reads as a newer format.
                8..=9 => StoreError::UnsupportedVersion(u16::from_be_bytes([flipped[8], flipped[9]])),
                10..=90 => StoreError::HeaderDamaged,
                _ => StoreError::Corrupted,
            };
            assert_eq!(error, expected, "bit {bit} of byte {position}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
