//! The migration targets (`offrec::migrate`, issue 16): files a user hands to `offrec import`.
//!
//! * `migrate_sexp` — the input as an `otr.private_key`: the s-expression reader and the key
//!   file reader (every account's DSA checks), then an import into a client;
//! * `migrate_fingerprints` — the input as an `otr.fingerprints` / `.fpr` file and as an
//!   `otr.instance_tags` file, imported into a client;
//! * `migrate_potr` — the input as a potr `.key3`, imported.
//!
//! Checked: no panic; a refused import changes nothing (the OTR key, trust store and instance
//! tag are as before); whatever is accepted survives its own export and import again.

use offrec::conversation::{Client, Settings};
use offrec::crypto::DeterministicRandom;
use offrec::migrate::fingerprints::{line, read_fingerprints, MAX_LINE_LEN};
use offrec::migrate::instance_tags::read_instance_tags;
use offrec::migrate::libotr_key::read_key_file;
use offrec::migrate::potr::read_key3;
use offrec::migrate::{sexp, AccountSelector, MigrateError, OtrFileFormat};
use offrec::trust::otr_fingerprint;

use super::identity;

/// The account every import looks for (the fuzzer finds it in the seeds).
const ACCOUNT: &str = "alice@example.org";
const TAG: u32 = 0x1234;

fn client() -> Client {
    Client::with_parts(
        ACCOUNT,
        "xmpp",
        identity("fuzz migrate"),
        TAG,
        Settings::default(),
        Box::new(DeterministicRandom::from_label("fuzz migrate")),
    )
    .expect("client")
}

/// What a refused import must leave alone.
fn snapshot(client: &Client) -> (Option<[u8; 20]>, String, u32) {
    (client.otr_fingerprint(), format!("{:?}", client.trust_store()), client.instance_tag())
}

/// The input as a libotr key file.
pub fn migrate_sexp(data: &[u8]) {
    if let Ok(list) = sexp::parse(data) {
        assert!(list.start < list.end && list.end <= data.len());
    }
    if let Ok(accounts) = read_key_file(data) {
        for account in &accounts {
            let _ = account.identity();
        }
    }
    let mut alice = client();
    let before = snapshot(&alice);
    match alice.import_otr_key(data, OtrFileFormat::Libotr, &AccountSelector::client(), false) {
        Err(_) => assert_eq!(snapshot(&alice), before, "a refused key import changed the client"),
        Ok((fp, _)) => {
            assert_eq!(alice.otr_fingerprint(), Some(fp));
            // Export (merged into the input) and import into a fresh client: the same key.
            let out = alice
                .export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), Some(data))
                .expect("export into the file just read");
            let mut again = client();
            let (fp2, _) = again
                .import_otr_key(&out, OtrFileFormat::Libotr, &AccountSelector::client(), false)
                .expect("re-import");
            assert_eq!(fp, fp2);
        }
    }
}

/// The input as a fingerprints file and as an instance tags file.
pub fn migrate_fingerprints(data: &[u8]) {
    let parsed = read_fingerprints(data);
    let _ = read_instance_tags(data);
    let mut alice = client();
    let before = snapshot(&alice);
    match alice.import_otr_fingerprints(data, &AccountSelector::client()) {
        Err(_) => assert_eq!(snapshot(&alice), before, "a refused trust import changed the client"),
        Ok((summary, _)) => {
            assert!(parsed.is_ok());
            let (out, written) = alice
                .export_otr_fingerprints(OtrFileFormat::Libotr, &AccountSelector::client(), Some(data))
                .expect("export into the file just read");
            let mut again = client();
            match again.import_otr_fingerprints(&out, &AccountSelector::client()) {
                // The export replaced the account's lines of one spelling; lines of other
                // spellings stay in the file and are taken again.
                Ok((back, _)) => assert!(back.imported >= written.written),
                // Nothing of ours could be written (every peer name unwritable), and only
                // other accounts' lines are left.
                Err(MigrateError::NoAccount { .. }) => assert_eq!(written.written, 0),
                Err(other) => panic!("re-import of an export: {other}"),
            }
            assert_eq!(summary.imported, summary.added, "a fresh client knew none of them");
            // Every key whose line can be written comes back with its trust.
            for (peer, keys) in alice.trust_store().peers() {
                for key in keys {
                    let dsa = otr_fingerprint(&key.fingerprint).expect("imported keys are OTR keys");
                    let text = line(peer, ACCOUNT, "prpl-jabber", &dsa, key.trust);
                    if peer.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r' | 0)) || text.len() > MAX_LINE_LEN {
                        continue;
                    }
                    assert_eq!(again.trust_store().trust(peer, &key.fingerprint), key.trust);
                }
            }
        }
    }
    let mut bob = client();
    let before = snapshot(&bob);
    match bob.import_otr_instance_tag(data, &AccountSelector::client()) {
        Err(_) => assert_eq!(snapshot(&bob), before, "a refused tag import changed the client"),
        Ok((tag, _)) => assert!(tag >= 0x100 && bob.instance_tag() == tag),
    }
}

/// The input as a potr `.key3`.
pub fn migrate_potr(data: &[u8]) {
    let parsed = read_key3(data);
    let mut alice = client();
    match alice.import_otr_key(data, OtrFileFormat::Potr, &AccountSelector::client(), false) {
        Err(_) => assert_eq!(alice.otr_fingerprint(), None),
        Ok((fp, _)) => {
            assert_eq!(parsed.map(|k| k.fingerprint()).ok(), Some(fp));
            let out = alice.export_otr_key(OtrFileFormat::Potr, &AccountSelector::client(), None).expect("export");
            assert_eq!(read_key3(&out).expect("re-read").fingerprint(), fp);
        }
    }
}

/// The seed corpus: libotr's own files (tests/migrate/fixtures), what offrec exports, and the
/// same key in libgcrypt's canonical encoding.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    const KEY_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.private_key");
    const FINGERPRINTS: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.fingerprints");
    const INSTANCE_TAGS: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.instance_tags");
    let mut alice = client();
    alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).expect("fixture key");
    alice.import_otr_fingerprints(FINGERPRINTS, &AccountSelector::client()).expect("fixture trust");
    let alone = alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), None).expect("export");
    let key3 = alice.export_otr_key(OtrFileFormat::Potr, &AccountSelector::client(), None).expect("export");
    let (fpr, _) =
        alice.export_otr_fingerprints(OtrFileFormat::Potr, &AccountSelector::client(), None).expect("export");
    let canonical_form = canonical(&sexp::parse(&alone).expect("exported key parses"));
    let crlf: Vec<u8> = String::from_utf8_lossy(FINGERPRINTS).replace('\n', "\r\n").into_bytes();
    vec![
        ("migrate_sexp", KEY_FILE.to_vec()),
        ("migrate_sexp", alone.to_vec()),
        ("migrate_sexp", canonical_form),
        ("migrate_fingerprints", FINGERPRINTS.to_vec()),
        ("migrate_fingerprints", fpr),
        ("migrate_fingerprints", crlf),
        ("migrate_fingerprints", INSTANCE_TAGS.to_vec()),
        ("migrate_potr", key3.to_vec()),
        ("migrate_potr", key3[..key3.len() / 2].to_vec()),
    ]
}

/// libgcrypt's canonical encoding (`(4:name5:alice)`): every atom as `N:bytes`.
fn canonical(list: &sexp::List) -> Vec<u8> {
    let mut out = vec![b'('];
    for item in &list.items {
        match item {
            sexp::Sexp::Atom(atom) => {
                out.extend(format!("{}:", atom.bytes().len()).into_bytes());
                out.extend_from_slice(atom.bytes());
            }
            sexp::Sexp::List(inner) => out.extend(canonical(inner)),
        }
    }
    out.push(b')');
    out
}
