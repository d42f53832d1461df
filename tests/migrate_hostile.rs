//! Hostile and damaged migration files (issue 16): deep nesting, huge numbers, wrong group
//! parameters, a key that does not match its public part, x out of range, files cut at every
//! byte. Each gets a clear error and leaves the client exactly as it was (same OTR key, same
//! trust store, same instance tag).

use offrec::conversation::{Client, Settings};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::migrate::fingerprints::{read_fingerprints, trust_from_libotr};
use offrec::migrate::{AccountSelector, MigrateError, OtrFileFormat};
use offrec::otr::identity::IdentityError;
use offrec::trust::otr_key_id;

const KEY_FILE: &[u8] = include_bytes!("migrate/fixtures/otr.private_key");
const FINGERPRINTS: &[u8] = include_bytes!("migrate/fixtures/otr.fingerprints");
const INSTANCE_TAGS: &[u8] = include_bytes!("migrate/fixtures/otr.instance_tags");

fn client() -> Client {
    let mut rng = DeterministicRandom::from_label("migrate hostile");
    let identity = IdentityKey::generate(&mut rng).unwrap();
    Client::with_parts("alice@example.org", "xmpp", identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
}

/// What an import must not change.
fn snapshot(client: &Client) -> (Option<[u8; 20]>, String, u32) {
    (client.otr_fingerprint(), format!("{:?}", client.trust_store()), client.instance_tag())
}

fn import_key(file: &[u8]) -> Result<[u8; 20], MigrateError> {
    let mut alice = client();
    let before = snapshot(&alice);
    let result = alice.import_otr_key(file, OtrFileFormat::Libotr, &AccountSelector::client(), false);
    if result.is_err() {
        assert_eq!(snapshot(&alice), before, "a failed import changed the client");
    }
    result.map(|(fp, _)| fp)
}

/// The fixture with one value of Alice's key replaced (`label` is `p`, `q`, `g`, `y` or `x`).
fn alice_with(label: &str, hex: &str) -> Vec<u8> {
    let text = String::from_utf8(KEY_FILE.to_vec()).unwrap();
    let start = text.find("(name \"alice@example.org\")").unwrap();
    let open = format!("  ({label} #");
    let value_start = start + text[start..].find(&open).unwrap() + open.len();
    let value_end = value_start + text[value_start..].find('#').unwrap();
    format!("{}{hex}{}", &text[..value_start], &text[value_end..]).into_bytes()
}

fn alice_value(label: &str) -> String {
    let text = String::from_utf8(KEY_FILE.to_vec()).unwrap();
    let start = text.find("(name \"alice@example.org\")").unwrap();
    let open = format!("  ({label} #");
    let value_start = start + text[start..].find(&open).unwrap() + open.len();
    let value_end = value_start + text[value_start..].find('#').unwrap();
    text[value_start..value_end].to_owned()
}

fn invalid_key(file: &[u8]) -> IdentityError {
    match import_key(file) {
        Err(MigrateError::InvalidKey { reason, .. }) => reason,
        other => panic!("expected InvalidKey, got {other:?}"),
    }
}

#[test]
fn the_fixture_imports() {
    import_key(KEY_FILE).unwrap();
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let deep = [&b"(privkeys "[..], &b"(".repeat(10_000), &b")".repeat(10_000), b")"].concat();
    let error = import_key(&deep).unwrap_err();
    assert!(matches!(error, MigrateError::Malformed { .. }), "{error:?}");
    assert!(error.to_string().contains("nested too deeply"), "{error}");
    // Unclosed, even deeper.
    let open = b"(".repeat(500_000);
    assert!(matches!(import_key(&open), Err(MigrateError::Malformed { .. })));
}

#[test]
fn huge_numbers_are_refused() {
    // A 450 KB number inside a file under the size limit: the atom cap refuses it.
    let huge = "AB".repeat(450 * 1024);
    let error = import_key(&alice_with("p", &huge)).unwrap_err();
    assert!(error.to_string().contains("too long"), "{error}");
    // A 1 MB number: the file itself is over the limit.
    let error = import_key(&alice_with("p", &"CD".repeat(1024 * 1024))).unwrap_err();
    assert!(matches!(error, MigrateError::TooLarge { .. }), "{error:?}");
    // A 2048-bit value that fits the atom cap: the DSA checks refuse its size.
    assert_eq!(invalid_key(&alice_with("p", &format!("00{}", "F1".repeat(256)))), IdentityError::BadParameters);
}

#[test]
fn wrong_group_parameters_are_refused() {
    let p = alice_value("p");
    // p + 2: still 1024 bits, but q no longer divides p - 1.
    let mut bytes = hex::decode(&p).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = bytes[last].wrapping_add(2);
    assert_eq!(invalid_key(&alice_with("p", &hex::encode_upper(&bytes))), IdentityError::BadParameters);
    // g = 1 and g = p.
    assert_eq!(invalid_key(&alice_with("g", "01")), IdentityError::BadParameters);
    assert_eq!(invalid_key(&alice_with("g", &p)), IdentityError::BadParameters);
    // A 1024-bit q.
    assert_eq!(invalid_key(&alice_with("q", &p)), IdentityError::BadParameters);
    // An empty value.
    assert_eq!(invalid_key(&alice_with("q", "")), IdentityError::BadParameters);
}

#[test]
fn a_key_that_does_not_match_its_public_part_is_refused() {
    let y = alice_value("y");
    let mut bytes = hex::decode(&y).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let reason = invalid_key(&alice_with("y", &hex::encode_upper(&bytes)));
    assert!(matches!(reason, IdentityError::BadParameters | IdentityError::KeyMismatch), "{reason:?}");
    // y from Bob's key: a valid group element, not g^x.
    let mut x = hex::decode(alice_value("x")).unwrap();
    let last = x.len() - 1;
    x[last] ^= 1;
    assert_eq!(invalid_key(&alice_with("x", &hex::encode_upper(&x))), IdentityError::KeyMismatch);
}

#[test]
fn x_out_of_range_is_refused() {
    let q = alice_value("q");
    assert_eq!(invalid_key(&alice_with("x", "00")), IdentityError::KeyMismatch);
    assert_eq!(invalid_key(&alice_with("x", &q)), IdentityError::KeyMismatch);
    assert_eq!(invalid_key(&alice_with("x", &"FF".repeat(40))), IdentityError::KeyMismatch);
}

#[test]
fn a_key_file_cut_at_every_byte_is_refused() {
    for cut in 0..KEY_FILE.len() - 1 {
        // Only the final newline may go: without it the file is still complete.
        assert!(import_key(&KEY_FILE[..cut]).is_err(), "cut at {cut} imported");
    }
    assert!(import_key(&KEY_FILE[..KEY_FILE.len() - 1]).is_ok());
}

#[test]
fn fingerprints_cut_at_every_byte_import_a_prefix_or_nothing() {
    let full = read_fingerprints(FINGERPRINTS).unwrap();
    for cut in 0..=FINGERPRINTS.len() {
        let mut alice = client();
        let before = snapshot(&alice);
        match alice.import_otr_fingerprints(&FINGERPRINTS[..cut], &AccountSelector::client()) {
            Err(error) => {
                assert_eq!(snapshot(&alice), before, "cut {cut}: {error}");
                assert!(error.to_string().contains("truncated") || matches!(error, MigrateError::NoAccount { .. }));
            }
            Ok(_) => {
                // Only whole lines were taken, each with the trust the full file gives it.
                for (peer, keys) in alice.trust_store().peers() {
                    for key in keys {
                        let line = full
                            .iter()
                            .find(|e| e.username == peer.as_bytes() && otr_key_id(&e.fingerprint) == key.fingerprint)
                            .expect("an imported key is in the file");
                        assert_eq!(key.trust, trust_from_libotr(line.trust), "cut {cut}");
                    }
                }
            }
        }
    }
}

#[test]
fn instance_tags_cut_at_every_byte() {
    for cut in 0..=INSTANCE_TAGS.len() {
        let mut alice = client();
        match alice.import_otr_instance_tag(&INSTANCE_TAGS[..cut], &AccountSelector::client()) {
            Ok((tag, _)) => assert_eq!(tag, alice.instance_tag()),
            Err(_) => assert_eq!(alice.instance_tag(), 0x1234, "cut {cut}"),
        }
    }
}

#[test]
fn potr_keys_cut_or_bent_are_refused() {
    let mut alice = client();
    alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
    let key3 = alice.export_otr_key(OtrFileFormat::Potr, &AccountSelector::client(), None).unwrap();
    for cut in 0..key3.len() {
        let mut fresh = client();
        assert!(fresh.import_otr_key(&key3[..cut], OtrFileFormat::Potr, &AccountSelector::client(), false).is_err());
        assert_eq!(fresh.otr_fingerprint(), None);
    }
    // An MPI length pointing past the end, and a 1 MB MPI length.
    let mut long = key3.to_vec();
    long[2..6].copy_from_slice(&(1u32 << 20).to_be_bytes());
    let mut fresh = client();
    assert!(fresh.import_otr_key(&long, OtrFileFormat::Potr, &AccountSelector::client(), false).is_err());
    let fresh_again = client();
    assert_eq!(fresh.otr_fingerprint(), fresh_again.otr_fingerprint());
}

#[test]
fn other_shapes_get_clear_errors() {
    let cases: [(&[u8], &str); 6] = [
        (b"", "empty"),
        (b"(privkeys (account (name a) (protocol b) (private-key (rsa (n #01#) (e #03#)))))", "not DSA"),
        (b"(privkeys (account (name alice@example.org) (protocol xmpp) (private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#))))))", "x"),
        (b"(privkeys [hint] (account))", "display hints"),
        (b"\xef\xbb\xbf(privkeys)", "exactly one parenthesised list"),
        (b"(privkeys (account (name a) (protocol b) (private-key (dsa (p \"\\q\"))))))", "escape"),
    ];
    for (file, expected) in cases {
        let error = import_key(file).unwrap_err().to_string();
        assert!(error.contains(expected), "{error:?} should mention {expected:?}");
    }
}
