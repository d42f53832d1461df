//! Property tests of the migration formats: exports read back to what was exported (key
//! files under any account name and protocol, fingerprints with any trust), and no parser
//! panics on arbitrary bytes or on mutations of libotr's own files.

use offrec::conversation::{Client, Settings};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::migrate::fingerprints::read_fingerprints;
use offrec::migrate::instance_tags::read_instance_tags;
use offrec::migrate::libotr_key::read_key_file;
use offrec::migrate::potr::read_key3;
use offrec::migrate::{sexp, AccountSelector, OtrFileFormat};
use offrec::trust::{otr_key_id, Trust};
use proptest::prelude::*;

const KEY_FILE: &[u8] = include_bytes!("migrate/fixtures/otr.private_key");
const FINGERPRINTS: &[u8] = include_bytes!("migrate/fixtures/otr.fingerprints");
const INSTANCE_TAGS: &[u8] = include_bytes!("migrate/fixtures/otr.instance_tags");

fn client(account: &str) -> Client {
    let mut rng = DeterministicRandom::from_label("migrate props");
    let identity = IdentityKey::generate(&mut rng).unwrap();
    Client::with_parts(account, "xmpp", identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
}

fn with_key() -> Client {
    let mut alice = client("alice@example.org");
    alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
    alice
}

fn trust_strategy() -> impl Strategy<Value = Trust> {
    prop::sample::select(vec![Trust::Unverified, Trust::VerifiedSmp, Trust::VerifiedManual])
}

fn parse_everything(bytes: &[u8]) {
    let _ = sexp::parse(bytes);
    if let Ok(accounts) = read_key_file(bytes) {
        for account in accounts {
            let _ = account.identity();
        }
    }
    let _ = read_fingerprints(bytes);
    let _ = read_instance_tags(bytes);
    let _ = read_key3(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any account name and protocol (control characters, quotes, non-ASCII, digits first)
    /// survives the key file's encoding, and the key keeps its fingerprint.
    #[test]
    fn key_files_round_trip_any_names(name in "\\PC{0,40}|[\\x00-\\x7f]{0,40}", protocol in "[ -~]{1,20}") {
        let alice = with_key();
        let selector = AccountSelector::named(Some(&name), Some(&protocol));
        let bytes = alice.export_otr_key(OtrFileFormat::Libotr, &selector, None).unwrap();
        let accounts = read_key_file(&bytes).unwrap();
        prop_assert_eq!(accounts.len(), 1);
        prop_assert_eq!(&accounts[0].name, name.as_bytes());
        prop_assert_eq!(&accounts[0].protocol, protocol.as_bytes());
        prop_assert_eq!(accounts[0].identity().unwrap().fingerprint(), alice.otr_fingerprint().unwrap());
        // Merging into the result again replaces the entry instead of adding one.
        let again = alice.export_otr_key(OtrFileFormat::Libotr, &selector, Some(&bytes)).unwrap();
        prop_assert_eq!(&again[..], &bytes[..]);
    }

    /// Fingerprints with any trust, exported and imported into a fresh client, give the same
    /// trust store (for OTR keys).
    #[test]
    fn fingerprints_round_trip(keys in prop::collection::vec(("[a-z]{1,8}(@[a-z]{1,6}\\.org)?", any::<[u8; 20]>(), trust_strategy()), 0..24)) {
        let mut alice = client("alice@example.org");
        for (peer, fp, trust) in &keys {
            alice.set_trust(peer, otr_key_id(fp), *trust);
        }
        let (bytes, summary) =
            alice.export_otr_fingerprints(OtrFileFormat::Libotr, &AccountSelector::client(), None).unwrap();
        prop_assert_eq!(summary.skipped, 0);
        let mut fresh = client("alice@example.org");
        let (imported, _) = fresh.import_otr_fingerprints(&bytes, &AccountSelector::client()).unwrap();
        prop_assert_eq!(imported.imported, summary.written);
        for (peer, known) in alice.trust_store().peers() {
            for key in known {
                prop_assert_eq!(fresh.trust_store().trust(peer, &key.fingerprint), key.trust);
            }
            prop_assert_eq!(fresh.trust_store().keys(peer).len(), known.len());
        }
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_everything(&bytes);
    }

    /// Flips, cuts and insertions in libotr's own files.
    #[test]
    fn parsers_never_panic_on_mutated_files(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = [KEY_FILE, FINGERPRINTS, INSTANCE_TAGS][which].to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] ^= byte | 1,
                1 => bytes.truncate(i),
                _ => bytes.insert(i, byte),
            }
        }
        parse_everything(&bytes);
        let mut alice = client("alice@example.org");
        let _ = alice.import_otr_key(&bytes, OtrFileFormat::Libotr, &AccountSelector::client(), false);
        let _ = alice.import_otr_fingerprints(&bytes, &AccountSelector::client());
        let _ = alice.import_otr_instance_tag(&bytes, &AccountSelector::client());
    }
}
