//! Exporting from a client into libotr's or potr's files, for moving back. Each export takes
//! the target file's current contents (`existing`) and keeps every other account's entries
//! byte for byte, so exporting into Pidgin's own `otr.private_key` or `otr.fingerprints`
//! replaces this account's entries only.
//!
//! The account and protocol written are, unless the application names them: the spelling of
//! the client's entry already in the target (the one an import would take: Pidgin writes
//! `alice@example.org/Home`, and libotr compares names exactly, so the entry must keep that
//! spelling), else the client's account and a protocol id for its network
//! ([`super::default_protocol_id`]: Pidgin's `prpl-jabber` / `prpl-<network>` for libotr
//! files, the network itself for potr files). Only the entry of exactly that spelling is
//! replaced; entries of other spellings are other accounts to libotr and stay.

use zeroize::Zeroizing;

use crate::conversation::Client;
use crate::trust::{otr_fingerprint, KeyKind};

use super::account::{default_protocol_id, AccountSelector, OtrFileFormat, Wanted};
use super::fingerprints::{line, read_fingerprints, unwritable, write_fingerprints, MAX_LINE_LEN};
use super::instance_tags::{read_instance_tags, write_instance_tags};
use super::libotr_key::{read_key_file, write_key_file};
use super::potr::write_key3;
use super::MigrateError;

/// What exporting the trust store wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustExport {
    /// Lines written (one per known OTR key).
    pub written: usize,
    /// Keys left out because the peer's name cannot go into the file (a tab, newline or NUL)
    /// or the line would be longer than libotr reads.
    pub skipped: usize,
}

impl Client {
    /// The account name and protocol id an export writes: as the application names them, else
    /// as the target's entry for this client spells them (`entries`: the target's (account,
    /// protocol) pairs; with `require_one`, two matching entries are an error, as for a key
    /// file, where each is a key; else the first match counts), else the defaults.
    fn export_names(
        &self,
        selector: &AccountSelector,
        format: OtrFileFormat,
        entries: &[(&[u8], &[u8])],
        require_one: bool,
    ) -> Result<(String, String), MigrateError> {
        let wanted = Wanted::new(selector, &self.account, &self.protocol);
        let found = if require_one {
            match wanted.pick(entries) {
                Ok(index) => entries.get(index).copied(),
                Err(MigrateError::NoAccount { .. }) => None,
                Err(other) => return Err(other),
            }
        } else {
            entries.iter().copied().find(|(n, p)| wanted.matches(n, p))
        };
        let spelled = |bytes: &[u8]| std::str::from_utf8(bytes).ok().map(str::to_owned);
        let name = selector
            .name
            .clone()
            .or_else(|| found.and_then(|(n, _)| spelled(n)))
            .unwrap_or_else(|| self.account.clone());
        let protocol = selector
            .protocol
            .clone()
            .or_else(|| found.and_then(|(_, p)| spelled(p)))
            .unwrap_or_else(|| default_protocol_id(&self.protocol, format));
        Ok((name, protocol))
    }

    fn tsv_names(
        &self,
        selector: &AccountSelector,
        format: OtrFileFormat,
        entries: &[(&[u8], &[u8])],
        require_one: bool,
    ) -> Result<(String, String), MigrateError> {
        let (name, protocol) = self.export_names(selector, format, entries, require_one)?;
        if let Some(reason) = unwritable(&name).or_else(|| unwritable(&protocol)) {
            return Err(MigrateError::Unwritable { what: "account or protocol", reason });
        }
        Ok((name, protocol))
    }

    /// Our OTR DSA key as a libotr key file (merged into `existing`) or a potr `.key3` file.
    /// Holds the private key: write it 0600 ([`super::file_io::write_atomically`] does).
    pub fn export_otr_key(
        &self,
        format: OtrFileFormat,
        selector: &AccountSelector,
        existing: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, MigrateError> {
        let identity = self.otr_identity.as_deref().ok_or(MigrateError::NoKey)?;
        match format {
            OtrFileFormat::Potr => Ok(write_key3(identity)),
            OtrFileFormat::Libotr => {
                let accounts = existing.map(read_key_file).transpose()?.unwrap_or_default();
                let entries: Vec<(&[u8], &[u8])> =
                    accounts.iter().map(|a| (a.name.as_slice(), a.protocol.as_slice())).collect();
                let (name, protocol) = self.export_names(selector, format, &entries, true)?;
                write_key_file(existing, name.as_bytes(), protocol.as_bytes(), identity)
            }
        }
    }

    /// Every OTR (DSA) key of the trust store as fingerprints-file lines for our account,
    /// merged into `existing`. offrec's own (modern) keys have no place in these files and
    /// are left out.
    pub fn export_otr_fingerprints(
        &self,
        format: OtrFileFormat,
        selector: &AccountSelector,
        existing: Option<&[u8]>,
    ) -> Result<(Vec<u8>, TrustExport), MigrateError> {
        let old_lines = existing.map(read_fingerprints).transpose()?.unwrap_or_default();
        let entries: Vec<(&[u8], &[u8])> = old_lines.iter().map(|l| (l.account, l.protocol)).collect();
        let (account, protocol) = self.tsv_names(selector, format, &entries, false)?;
        let mut summary = TrustExport::default();
        let mut lines = Vec::new();
        for (peer, keys) in self.trust.peers() {
            for key in keys.iter().filter(|k| KeyKind::of(&k.fingerprint) == KeyKind::OtrDsa) {
                let Some(dsa) = otr_fingerprint(&key.fingerprint) else { continue };
                let text = line(peer, &account, &protocol, &dsa, key.trust);
                if unwritable(peer).is_some() || text.len() > MAX_LINE_LEN {
                    summary.skipped += 1;
                    continue;
                }
                lines.push(text);
                summary.written += 1;
            }
        }
        let bytes = write_fingerprints(existing, &account, &protocol, &lines)?;
        Ok((bytes, summary))
    }

    /// Our instance tag as an `otr.instance_tags` line, merged into `existing`. Only for a
    /// libotr client that will replace offrec on this same device.
    pub fn export_otr_instance_tag(
        &self,
        selector: &AccountSelector,
        existing: Option<&[u8]>,
    ) -> Result<Vec<u8>, MigrateError> {
        let tags = existing.map(read_instance_tags).transpose()?.unwrap_or_default();
        let entries: Vec<(&[u8], &[u8])> = tags.iter().map(|t| (t.account, t.protocol)).collect();
        let (account, protocol) = self.tsv_names(selector, OtrFileFormat::Libotr, &entries, true)?;
        write_instance_tags(existing, &account, &protocol, self.our_tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Settings;
    use crate::crypto::{DeterministicRandom, IdentityKey};
    use crate::migrate::fingerprints::read_fingerprints;
    use crate::migrate::libotr_key::read_key_file;
    use crate::trust::{otr_key_id, Trust};

    const KEY_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.private_key");
    const FINGERPRINTS: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.fingerprints");

    fn client(account: &str, network: &str) -> Client {
        let mut rng = DeterministicRandom::from_label("migrate export");
        let identity = IdentityKey::generate(&mut rng).unwrap();
        Client::with_parts(account, network, identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
    }

    #[test]
    fn key_export_round_trips_and_merges() {
        let mut alice = client("alice@example.org", "xmpp");
        assert_eq!(
            alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), None),
            Err(MigrateError::NoKey)
        );
        let (fp, _) = alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
        // Into Pidgin's own file: bob's entry stays, alice's is rewritten identically.
        let merged = alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), Some(KEY_FILE)).unwrap();
        assert_eq!(&merged[..], KEY_FILE);
        // Alone, under irssi-otr's names.
        let irssi = AccountSelector::named(Some("alice@irc.example.org"), Some("IRC"));
        let alone = alice.export_otr_key(OtrFileFormat::Libotr, &irssi, None).unwrap();
        let accounts = read_key_file(&alone).unwrap();
        assert_eq!(
            (accounts.len(), &accounts[0].name[..], &accounts[0].protocol[..]),
            (1, &b"alice@irc.example.org"[..], &b"IRC"[..])
        );
        assert_eq!(accounts[0].identity().unwrap().fingerprint(), fp);
        let potr = alice.export_otr_key(OtrFileFormat::Potr, &AccountSelector::client(), None).unwrap();
        assert_eq!(crate::migrate::potr::read_key3(&potr).unwrap().fingerprint(), fp);
        // A damaged target is never overwritten.
        assert!(alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), Some(b"(privkeys")).is_err());
    }

    #[test]
    fn fingerprints_export_maps_trust_and_skips_the_unwritable() {
        let mut alice = client("alice@example.org", "xmpp");
        alice.set_trust("bob", otr_key_id(&[1; 20]), Trust::VerifiedSmp);
        alice.set_trust("carol", otr_key_id(&[2; 20]), Trust::VerifiedManual);
        alice.set_trust("dave", otr_key_id(&[3; 20]), Trust::Unverified);
        alice.set_trust("dave", [9; 32], Trust::VerifiedSmp); // a modern key: not exported
        alice.set_trust("tab\tname", otr_key_id(&[4; 20]), Trust::VerifiedSmp);
        let (bytes, summary) = alice
            .export_otr_fingerprints(OtrFileFormat::Libotr, &AccountSelector::client(), Some(FINGERPRINTS))
            .unwrap();
        assert_eq!(summary, TrustExport { written: 3, skipped: 1 });
        let entries = read_fingerprints(&bytes).unwrap();
        let ours: Vec<(&[u8], &[u8])> =
            entries.iter().filter(|e| e.account == b"alice@example.org").map(|e| (e.username, e.trust)).collect();
        assert_eq!(ours, [(&b"bob"[..], &b"smp"[..]), (b"carol", b"verified"), (b"dave", b"")]);
        assert!(entries.iter().any(|e| e.username == b"zed"), "bob's IRC account kept");
        assert!(
            entries.iter().all(|e| e.protocol != b"prpl-jabber"
                || e.account != b"alice@example.org"
                || e.username != b"erin@example.org"),
            "old lines of the account replaced"
        );
        // A line libotr reads whole (MAX_LINE_LEN bytes, newline included) is written; one byte
        // longer is skipped, since libotr's reader would split it.
        let mut long_names = client("alice@example.org", "xmpp");
        let overhead = line("", "alice@example.org", "prpl-jabber", &[5; 20], Trust::VerifiedSmp).len();
        let fits = "f".repeat(MAX_LINE_LEN - overhead);
        let too_long = "t".repeat(MAX_LINE_LEN - overhead + 1);
        long_names.set_trust(&fits, otr_key_id(&[5; 20]), Trust::VerifiedSmp);
        long_names.set_trust(&too_long, otr_key_id(&[6; 20]), Trust::VerifiedSmp);
        let (bytes, summary) =
            long_names.export_otr_fingerprints(OtrFileFormat::Libotr, &AccountSelector::client(), None).unwrap();
        assert_eq!(summary, TrustExport { written: 1, skipped: 1 });
        let entries = read_fingerprints(&bytes).unwrap();
        assert_eq!(entries.iter().map(|e| e.username).collect::<Vec<_>>(), [fits.as_bytes()]);

        let bad = AccountSelector::named(Some("a\tb"), None);
        assert!(matches!(
            alice.export_otr_fingerprints(OtrFileFormat::Libotr, &bad, None),
            Err(MigrateError::Unwritable { .. })
        ));
    }

    /// Into Pidgin's files, the entry keeps Pidgin's spelling (`alice@example.org/Home`):
    /// libotr compares account names exactly.
    #[test]
    fn exports_keep_the_spelling_already_in_the_file() {
        let mut alice = client("alice@example.org", "xmpp");
        alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
        alice.set_trust("bob", otr_key_id(&[1; 20]), Trust::VerifiedSmp);
        let pidgin =
            String::from_utf8(KEY_FILE.to_vec()).unwrap().replace("alice@example.org", "alice@example.org/Home");
        let out =
            alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), Some(pidgin.as_bytes())).unwrap();
        assert_eq!(String::from_utf8_lossy(&out), pidgin, "replaced in place, same spelling");
        let fps = "bob\talice@example.org/Home\tjabber\t0101010101010101010101010101010101010101\t\n\
                   bob\talice@example.org/Work\tprpl-jabber\t0101010101010101010101010101010101010101\t\n";
        let (bytes, _) = alice
            .export_otr_fingerprints(OtrFileFormat::Libotr, &AccountSelector::client(), Some(fps.as_bytes()))
            .unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "bob\talice@example.org/Work\tprpl-jabber\t0101010101010101010101010101010101010101\t\n\
             bob\talice@example.org/Home\tjabber\t0101010101010101010101010101010101010101\tsmp\n"
        );
        // Two spellings of the account's key: the application must name one.
        let mut file = String::from_utf8(KEY_FILE.to_vec()).unwrap();
        let alice_entry_start = file.find(" (account\n(name \"alice").unwrap();
        let entry = file[alice_entry_start..file.len() - 2].to_owned();
        file.insert_str(file.len() - 2, &entry.replace("alice@example.org", "Alice@Example.org"));
        assert!(matches!(
            alice.export_otr_key(OtrFileFormat::Libotr, &AccountSelector::client(), Some(file.as_bytes())),
            Err(MigrateError::AmbiguousAccount { .. })
        ));
        let named = AccountSelector::named(Some("Alice@Example.org"), None);
        assert!(alice.export_otr_key(OtrFileFormat::Libotr, &named, Some(file.as_bytes())).is_ok());
    }

    #[test]
    fn instance_tag_export() {
        let alice = client("alice@example.org", "xmpp");
        let bytes = alice.export_otr_instance_tag(&AccountSelector::client(), None).unwrap();
        assert!(bytes.ends_with(b"alice@example.org\tprpl-jabber\t00001234\n"));
        assert!(bytes.starts_with(b"# WARNING!"));
    }
}
