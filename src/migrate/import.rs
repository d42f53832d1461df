//! Importing into a client, all or nothing: the whole file is read and checked first, and the
//! client changes only once nothing can fail any more. Each call ends like any client call: a
//! `PersistNeeded` event when something changed (save the client afterwards).

use std::collections::BTreeMap;

use crate::conversation::{Action, Client, MAX_NAME_LEN, PERSIST_OTHER, PERSIST_TRUST};
use crate::otr::identity::{DsaIdentity, Fingerprint};
use crate::trust::{otr_key_id, Trust, MAX_KEYS_PER_PEER};

use super::account::{describe, AccountSelector, OtrFileFormat, Wanted};
use super::fingerprints::{read_fingerprints, trust_from_libotr};
use super::instance_tags::read_instance_tags;
use super::libotr_key::read_key_file;
use super::potr::read_key3;
use super::MigrateError;

/// What importing a fingerprints file did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustImport {
    /// Keys of the account now in the trust store (added, raised, or already there).
    pub imported: usize,
    /// Keys that were new to the client.
    pub added: usize,
    /// Known keys that were unverified and are now verified.
    pub raised: usize,
    /// Keys left out because the peer already has the most keys the store keeps
    /// (`MAX_KEYS_PER_PEER`; verified keys go in first).
    pub skipped_full: usize,
    /// Lines of other accounts, left alone.
    pub other_accounts: usize,
}

impl Client {
    /// Takes the OTR DSA key of a libotr key file (the account `selector` names, by default
    /// the client's own) or of a potr `.key3` file, after every DSA check. If the client
    /// already has a different OTR key, `replace` must be set (its contacts know the old one);
    /// importing the key it already has changes nothing. Returns the key's fingerprint.
    pub fn import_otr_key(
        &mut self,
        file: &[u8],
        format: OtrFileFormat,
        selector: &AccountSelector,
        replace: bool,
    ) -> Result<(Fingerprint, Vec<Action>), MigrateError> {
        let identity = match format {
            OtrFileFormat::Libotr => {
                let accounts = read_key_file(file)?;
                let names: Vec<(&[u8], &[u8])> =
                    accounts.iter().map(|a| (a.name.as_slice(), a.protocol.as_slice())).collect();
                let index = Wanted::new(selector, &self.account, &self.protocol).pick(&names)?;
                accounts.get(index).ok_or(MigrateError::NoKey)?.identity()?
            }
            OtrFileFormat::Potr => read_key3(file)?,
        };
        self.adopt_otr_key(identity, replace)
    }

    fn adopt_otr_key(
        &mut self,
        identity: DsaIdentity,
        replace: bool,
    ) -> Result<(Fingerprint, Vec<Action>), MigrateError> {
        let fingerprint = identity.fingerprint();
        match self.otr_fingerprint() {
            Some(existing) if existing == fingerprint => return Ok((fingerprint, Vec::new())),
            Some(existing) if !replace => return Err(MigrateError::KeyExists { existing }),
            _ => {}
        }
        self.set_otr_identity(Some(identity));
        Ok((fingerprint, self.finish_call(Vec::new())))
    }

    /// Takes the trust of a libotr `otr.fingerprints` or potr `.fpr` file: every key listed
    /// for the account `selector` names (by default the client's own) becomes a known OTR key
    /// of its peer with the file's trust (`""` unverified, `smp` verified by SMP, anything
    /// else verified by hand). Trust is only ever raised: a key the client already verified
    /// stays verified. A peer keeps at most `MAX_KEYS_PER_PEER` keys; verified ones go in
    /// first, the rest are counted in [`TrustImport::skipped_full`]. Sessions whose key became
    /// verified report their new state.
    pub fn import_otr_fingerprints(
        &mut self,
        file: &[u8],
        selector: &AccountSelector,
    ) -> Result<(TrustImport, Vec<Action>), MigrateError> {
        let entries = read_fingerprints(file)?;
        let wanted = Wanted::new(selector, &self.account, &self.protocol);
        let mut summary = TrustImport::default();
        // Per peer, in file order, each key once with the strongest trust the file gives it.
        let mut per_peer: BTreeMap<String, Vec<([u8; 32], Trust)>> = BTreeMap::new();
        for entry in &entries {
            if !wanted.matches(entry.account, entry.protocol) {
                summary.other_accounts += 1;
                continue;
            }
            let peer = std::str::from_utf8(entry.username)
                .ok()
                .filter(|p| !p.is_empty() && p.len() <= MAX_NAME_LEN)
                .ok_or_else(|| MigrateError::Malformed {
                    what: "fingerprints file",
                    detail: format!("line {}: the peer name is empty, too long or not UTF-8", entry.line),
                })?;
            let keys = per_peer.entry(peer.to_owned()).or_default();
            let id = otr_key_id(&entry.fingerprint);
            let trust = trust_from_libotr(entry.trust);
            match keys.iter_mut().find(|(known, _)| *known == id) {
                Some((_, existing)) if !existing.is_verified() => *existing = trust,
                Some(_) => {}
                None => keys.push((id, trust)),
            }
        }
        if !entries.is_empty() && per_peer.is_empty() {
            let mut available: Vec<String> = entries.iter().map(|e| describe(e.account, e.protocol)).collect();
            available.sort();
            available.dedup();
            return Err(MigrateError::NoAccount { wanted: wanted.describe(), available });
        }

        // Plan against the current store; nothing below can fail.
        let mut plan: Vec<(String, [u8; 32], Trust)> = Vec::new();
        for (peer, keys) in per_peer {
            let known = self.trust.keys(&peer);
            let mut room = MAX_KEYS_PER_PEER.saturating_sub(known.len());
            let mut new_keys = Vec::new();
            for (id, trust) in keys {
                match known.iter().find(|k| k.fingerprint == id) {
                    Some(key) if !key.trust.is_verified() && trust.is_verified() => {
                        summary.raised += 1;
                        summary.imported += 1;
                        plan.push((peer.clone(), id, trust));
                    }
                    Some(_) => summary.imported += 1,
                    None => new_keys.push((id, trust)),
                }
            }
            // Verified keys first, then file order.
            new_keys.sort_by_key(|(_, trust)| !trust.is_verified());
            for (id, trust) in new_keys {
                if room == 0 {
                    summary.skipped_full += 1;
                    continue;
                }
                room -= 1;
                summary.added += 1;
                summary.imported += 1;
                plan.push((peer.clone(), id, trust));
            }
        }

        let mut actions = Vec::new();
        for (peer, id, trust) in &plan {
            self.trust.set_trust(peer, *id, *trust);
            for info in self.sessions(peer) {
                if info.their_fingerprint == *id && info.state.is_encrypted() {
                    actions.push(Action::StateChanged {
                        peer: peer.as_str().into(),
                        instance: info.instance,
                        state: info.state,
                    });
                }
            }
        }
        if !plan.is_empty() {
            self.dirty |= PERSIST_TRUST;
        }
        Ok((summary, self.finish_call(actions)))
    }

    /// Takes the instance tag of a libotr `otr.instance_tags` file for the account `selector`
    /// names (by default the client's own). Only for a client that *replaces* that libotr
    /// client on the same device (its peers keep addressing the same instance), and only
    /// before the client has talked to anyone ([`MigrateError::InUse`] otherwise). Copying a
    /// tag to a second device makes the two indistinguishable to every peer.
    pub fn import_otr_instance_tag(
        &mut self,
        file: &[u8],
        selector: &AccountSelector,
    ) -> Result<(u32, Vec<Action>), MigrateError> {
        let entries = read_instance_tags(file)?;
        let names: Vec<(&[u8], &[u8])> = entries.iter().map(|e| (e.account, e.protocol)).collect();
        let index = Wanted::new(selector, &self.account, &self.protocol).pick(&names)?;
        let tag = entries.get(index).map(|e| e.tag).ok_or(MigrateError::NoKey)?;
        if tag == self.our_tag {
            return Ok((tag, Vec::new()));
        }
        if !self.peers.is_empty() {
            return Err(MigrateError::InUse);
        }
        self.our_tag = tag;
        self.dirty |= PERSIST_OTHER;
        Ok((tag, self.finish_call(Vec::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Event, Settings};
    use crate::crypto::{DeterministicRandom, IdentityKey};
    use crate::otr::identity::human_fingerprint;

    const KEY_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.private_key");
    const FINGERPRINTS: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.fingerprints");
    const INSTANCE_TAGS: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.instance_tags");

    fn client(account: &str, network: &str) -> Client {
        let mut rng = DeterministicRandom::from_label("migrate import");
        let identity = IdentityKey::generate(&mut rng).unwrap();
        Client::with_parts(account, network, identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
    }

    fn persisted(actions: &[Action]) -> bool {
        matches!(actions.last(), Some(Action::Event { event: Event::PersistNeeded { .. }, .. }))
    }

    #[test]
    fn key_import_picks_the_clients_account() {
        let mut alice = client("alice@example.org/laptop", "xmpp");
        let (fp, actions) =
            alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
        assert_eq!(human_fingerprint(&fp), "982DEAE9 CE05DE82 BD900150 E6031B4C 2FE568C4");
        assert_eq!(alice.otr_fingerprint(), Some(fp));
        assert!(persisted(&actions));
        // Again: nothing to do.
        let (_, actions) =
            alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false).unwrap();
        assert!(actions.is_empty());
        // Bob's key is another key: refused unless replacing.
        let bob = AccountSelector::named(Some("bob"), Some("IRC"));
        assert!(matches!(
            alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &bob, false),
            Err(MigrateError::KeyExists { existing }) if existing == fp
        ));
        assert_eq!(alice.otr_fingerprint(), Some(fp));
        let (bob_fp, _) = alice.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &bob, true).unwrap();
        assert_eq!(human_fingerprint(&bob_fp), "DFB5982D A8225668 30386702 1367C864 C1CE9F44");
    }

    #[test]
    fn key_import_failures_change_nothing() {
        let mut carol = client("carol", "xmpp");
        let error = carol.import_otr_key(KEY_FILE, OtrFileFormat::Libotr, &AccountSelector::client(), false);
        assert!(matches!(error, Err(MigrateError::NoAccount { .. })), "{error:?}");
        assert!(error.unwrap_err().to_string().contains("bob on IRC, alice@example.org on prpl-jabber"));
        assert_eq!(carol.otr_fingerprint(), None);
        for cut in [0, 10, KEY_FILE.len() / 2, KEY_FILE.len() - 3] {
            let mut alice = client("alice@example.org", "xmpp");
            let result =
                alice.import_otr_key(&KEY_FILE[..cut], OtrFileFormat::Libotr, &AccountSelector::client(), false);
            assert!(result.is_err(), "cut {cut}");
            assert_eq!(alice.otr_fingerprint(), None);
        }
    }

    #[test]
    fn fingerprints_map_trust_and_never_lower_it() {
        let mut alice = client("alice@example.org", "prpl-jabber");
        let dave = otr_key_id(
            &crate::migrate::fingerprints::decode_hex::<20>(b"a022222222222222222222222222222222222278").unwrap(),
        );
        let carol = otr_key_id(
            &crate::migrate::fingerprints::decode_hex::<20>(b"a01111111111111111111111111111111111114b").unwrap(),
        );
        alice.set_trust("carol@example.org", carol, Trust::VerifiedManual);
        alice.mark_saved(); // saved on set_trust's notice, so the import asks again
        let (summary, actions) = alice.import_otr_fingerprints(FINGERPRINTS, &AccountSelector::client()).unwrap();
        assert_eq!(summary, TrustImport { imported: 5, added: 4, raised: 0, skipped_full: 0, other_accounts: 1 });
        assert!(persisted(&actions));
        let store = alice.trust_store();
        assert_eq!(store.trust("dave@example.org", &dave), Trust::VerifiedSmp);
        assert_eq!(store.trust("carol@example.org", &carol), Trust::VerifiedManual, "not lowered to unverified");
        let trusts: Vec<Trust> = store.keys("frank@example.org").iter().map(|k| k.trust).collect();
        assert_eq!(trusts.len(), 2);
        assert!(trusts.contains(&Trust::VerifiedManual) && trusts.contains(&Trust::Unverified));
        assert!(store.keys("zed").is_empty(), "bob's contacts are another account");
        // Importing again changes nothing.
        let (again, actions) = alice.import_otr_fingerprints(FINGERPRINTS, &AccountSelector::client()).unwrap();
        assert_eq!((again.imported, again.added, again.raised), (5, 0, 0));
        assert!(actions.is_empty());
    }

    #[test]
    fn fingerprints_for_nobody_and_broken_files_change_nothing() {
        let mut carol = client("carol", "xmpp");
        assert!(matches!(
            carol.import_otr_fingerprints(FINGERPRINTS, &AccountSelector::client()),
            Err(MigrateError::NoAccount { .. })
        ));
        assert_eq!(carol.import_otr_fingerprints(b"", &AccountSelector::client()).unwrap().0, TrustImport::default());
        let mut alice = client("alice@example.org", "xmpp");
        let broken = [FINGERPRINTS, b"x\ty\n"].concat();
        assert!(alice.import_otr_fingerprints(&broken, &AccountSelector::client()).is_err());
        assert_eq!(alice.trust_store().peers().count(), 0);
        // A line of our account with no peer name is refused, with its line number.
        let nameless =
            [FINGERPRINTS, b"\talice@example.org\tprpl-jabber\ta01111111111111111111111111111111111114b\tsmp\n"]
                .concat();
        match alice.import_otr_fingerprints(&nameless, &AccountSelector::client()) {
            Err(MigrateError::Malformed { detail, .. }) => assert!(detail.starts_with("line 7:"), "{detail}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(alice.trust_store().peers().count(), 0);
    }

    /// A key the client knows unverified is raised to the file's verified trust, and counted.
    #[test]
    fn a_known_unverified_key_is_raised() {
        let mut alice = client("a", "xmpp");
        let (known, other) = ([0x33; 20], [0x44; 20]);
        alice.set_trust("bob", otr_key_id(&known), Trust::Unverified);
        alice.set_trust("bob", otr_key_id(&other), Trust::Unverified);
        alice.mark_saved();
        let file = format!("bob\ta\txmpp\t{}\tsmp\nbob\ta\txmpp\t{}\t\n", "33".repeat(20), "44".repeat(20));
        let (summary, actions) = alice.import_otr_fingerprints(file.as_bytes(), &AccountSelector::client()).unwrap();
        assert_eq!(summary, TrustImport { imported: 2, added: 0, raised: 1, skipped_full: 0, other_accounts: 0 });
        assert!(persisted(&actions));
        assert_eq!(alice.trust_store().trust("bob", &otr_key_id(&known)), Trust::VerifiedSmp);
        assert_eq!(alice.trust_store().trust("bob", &otr_key_id(&other)), Trust::Unverified);
    }

    /// A key the file lists twice for one peer is imported once, with the strongest trust of
    /// its lines, whichever comes first.
    #[test]
    fn a_key_listed_twice_takes_its_strongest_trust() {
        let mut alice = client("a", "xmpp");
        let (first, second) = ("11".repeat(20), "22".repeat(20));
        let file = format!("bob\ta\txmpp\t{first}\tsmp\nbob\ta\txmpp\t{first}\t\nbob\ta\txmpp\t{second}\t\nbob\ta\txmpp\t{second}\tverified\n");
        let (summary, _) = alice.import_otr_fingerprints(file.as_bytes(), &AccountSelector::client()).unwrap();
        assert_eq!((summary.imported, summary.added), (2, 2));
        let store = alice.trust_store();
        let id = |hex: &str| otr_key_id(&crate::migrate::fingerprints::decode_hex::<20>(hex.as_bytes()).unwrap());
        assert_eq!(store.trust("bob", &id(&first)), Trust::VerifiedSmp, "a later unverified line does not lower it");
        assert_eq!(store.trust("bob", &id(&second)), Trust::VerifiedManual, "a later verified line raises it");
    }

    #[test]
    fn a_full_peer_takes_verified_keys_first() {
        let mut alice = client("a", "xmpp");
        let mut file = String::new();
        for n in 0..(MAX_KEYS_PER_PEER as u8 + 4) {
            let trust = if n >= MAX_KEYS_PER_PEER as u8 { "smp" } else { "" };
            file.push_str(&format!("bob\ta\txmpp\t{}\t{trust}\n", format!("{n:02x}").repeat(20)));
        }
        let (summary, _) = alice.import_otr_fingerprints(file.as_bytes(), &AccountSelector::client()).unwrap();
        assert_eq!((summary.added, summary.skipped_full), (MAX_KEYS_PER_PEER, 4));
        let verified = alice.trust_store().keys("bob").iter().filter(|k| k.trust.is_verified()).count();
        assert_eq!(verified, 4);
    }

    #[test]
    fn instance_tags_only_into_a_fresh_client() {
        let mut alice = client("alice@example.org", "xmpp");
        let (tag, actions) = alice.import_otr_instance_tag(INSTANCE_TAGS, &AccountSelector::client()).unwrap();
        assert_eq!(tag, 0xcfc1f450);
        assert_eq!(alice.instance_tag(), tag);
        assert!(persisted(&actions));
        let mut busy = client("bob", "irc");
        busy.start_session("carol", 0).unwrap();
        assert_eq!(busy.import_otr_instance_tag(INSTANCE_TAGS, &AccountSelector::client()), Err(MigrateError::InUse));
        assert_eq!(busy.instance_tag(), 0x1234);
    }
}
