//! Which entries of a libotr or potr file belong to an offrec client: libotr names an account
//! by its account name and its IM plugin's protocol id (`prpl-jabber`, `prpl-irc`, irssi-otr's
//! `IRC`, weechat-otr's `irc`), offrec by an account and a network. Both sides are compared
//! after the normalisation the handshake uses (`conversation::names`, PROTOCOL.md §4.2): case
//! and surrounding spaces do not matter, `prpl-` is dropped, `jabber` is `xmpp`, and on XMPP a
//! resource (`alice@example.org/Home`, as Pidgin writes the account) is ignored.

use crate::conversation::{normalise_name, normalise_protocol};

use super::MigrateError;

/// Which file layout a key or trust file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtrFileFormat {
    /// libotr's files (Pidgin, irssi-otr, Adium...): `otr.private_key`, `otr.fingerprints`,
    /// `otr.instance_tags`.
    Libotr,
    /// python-potr's files (weechat-otr, Gajim): `<account>.key3` and `<account>.fpr`.
    Potr,
}

/// Which account of a file to take. `None` fields mean "the client's own": its account name
/// and network, compared after normalisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSelector {
    /// The account name as the file writes it (irssi-otr and weechat-otr write `nick@server`).
    pub name: Option<String>,
    /// The protocol id as the file writes it (`prpl-jabber`, `IRC`, `irc`...).
    pub protocol: Option<String>,
}

impl AccountSelector {
    /// The client's own account (the default).
    pub fn client() -> Self {
        Self::default()
    }

    /// An account named in the file.
    pub fn named(name: Option<&str>, protocol: Option<&str>) -> Self {
        AccountSelector { name: name.map(str::to_owned), protocol: protocol.map(str::to_owned) }
    }
}

/// The client's account and network, to match entries against.
pub(crate) struct Wanted<'a> {
    selector: &'a AccountSelector,
    account: &'a str,
    network: &'a str,
}

impl<'a> Wanted<'a> {
    pub(crate) fn new(selector: &'a AccountSelector, account: &'a str, network: &'a str) -> Self {
        Wanted { selector, account, network }
    }

    /// Whether a file entry for account `name` on `protocol` is the one wanted.
    pub(crate) fn matches(&self, name: &[u8], protocol: &[u8]) -> bool {
        let (Ok(name), Ok(protocol)) = (std::str::from_utf8(name), std::str::from_utf8(protocol)) else {
            return false;
        };
        let file_network = normalise_protocol(protocol);
        let want_network = normalise_protocol(self.selector.protocol.as_deref().unwrap_or(self.network));
        if file_network != want_network {
            return false;
        }
        let want_name = self.selector.name.as_deref().unwrap_or(self.account);
        normalise_name(&file_network, name) == normalise_name(&file_network, want_name)
    }

    /// Whether `name` is byte for byte the name the application gave (it breaks ties between
    /// entries that differ only in case or XMPP resource).
    pub(crate) fn exact(&self, name: &[u8]) -> bool {
        self.selector.name.as_deref().is_some_and(|wanted| wanted.as_bytes() == name)
    }

    /// A description of what was looked for, for error messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} on {}",
            self.selector.name.as_deref().unwrap_or(self.account),
            self.selector.protocol.as_deref().unwrap_or(self.network)
        )
    }

    /// Picks the one entry wanted among `entries` (name, protocol): exactly one must match,
    /// or one among several must carry exactly the name the application gave.
    pub(crate) fn pick<'e>(&self, entries: &[(&'e [u8], &'e [u8])]) -> Result<usize, MigrateError> {
        let matching: Vec<usize> =
            entries.iter().enumerate().filter(|(_, (n, p))| self.matches(n, p)).map(|(i, _)| i).collect();
        match matching.as_slice() {
            [one] => Ok(*one),
            [] => Err(MigrateError::NoAccount { wanted: self.describe(), available: describe_all(entries) }),
            several => {
                let exact: Vec<usize> = several.iter().copied().filter(|&i| self.exact(entries[i].0)).collect();
                match exact.as_slice() {
                    [one] => Ok(*one),
                    _ => Err(MigrateError::AmbiguousAccount {
                        wanted: self.describe(),
                        matches: several.iter().map(|&i| describe(entries[i].0, entries[i].1)).collect(),
                    }),
                }
            }
        }
    }
}

/// `name on protocol`, readable even for non-UTF-8 names.
pub(crate) fn describe(name: &[u8], protocol: &[u8]) -> String {
    format!("{} on {}", String::from_utf8_lossy(name), String::from_utf8_lossy(protocol))
}

fn describe_all(entries: &[(&[u8], &[u8])]) -> Vec<String> {
    let mut all: Vec<String> = entries.iter().map(|(n, p)| describe(n, p)).collect();
    all.dedup();
    all
}

/// The protocol id to write for a client on `network` when the application names none:
/// Pidgin's plugin ids for libotr files (`prpl-jabber` for XMPP, `prpl-<network>` otherwise),
/// the network itself for potr files (weechat-otr writes `irc`, Gajim `xmpp`).
pub fn default_protocol_id(network: &str, format: OtrFileFormat) -> String {
    let network = normalise_protocol(network);
    match format {
        OtrFileFormat::Potr => network,
        OtrFileFormat::Libotr if network == "xmpp" => "prpl-jabber".to_owned(),
        OtrFileFormat::Libotr => format!("prpl-{network}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libotr_protocol_ids_map_to_networks() {
        let default = AccountSelector::client();
        let xmpp = Wanted::new(&default, "alice@example.org", "xmpp");
        assert!(xmpp.matches(b"alice@example.org/Home", b"prpl-jabber"));
        assert!(xmpp.matches(b"Alice@Example.org", b"jabber"));
        assert!(!xmpp.matches(b"alice@example.org", b"prpl-irc"));
        assert!(!xmpp.matches(b"bob@example.org", b"prpl-jabber"));
        let irc = Wanted::new(&default, "nick", "irc");
        assert!(irc.matches(b"nick", b"IRC"));
        assert!(irc.matches(b"nick", b"prpl-irc"));
        assert!(!irc.matches(b"nick@irc.libera.chat", b"IRC"), "irssi-otr's names need naming");
        let named = AccountSelector::named(Some("nick@irc.libera.chat"), None);
        assert!(Wanted::new(&named, "nick", "irc").matches(b"nick@irc.libera.chat", b"IRC"));
        assert!(!Wanted::new(&named, "nick", "irc").matches(b"nick@irc.libera.chat\xff", b"IRC"));
    }

    #[test]
    fn picks_one_or_explains() {
        let default = AccountSelector::client();
        let wanted = Wanted::new(&default, "alice@example.org", "xmpp");
        let entries: Vec<(&[u8], &[u8])> = vec![(b"bob", b"IRC"), (b"alice@example.org", b"prpl-jabber")];
        assert_eq!(wanted.pick(&entries).unwrap(), 1);
        let none = Wanted::new(&default, "carol", "xmpp");
        match none.pick(&entries).unwrap_err() {
            MigrateError::NoAccount { wanted, available } => {
                assert_eq!(wanted, "carol on xmpp", "the client's own account, as looked for");
                assert_eq!(available, ["bob on IRC", "alice@example.org on prpl-jabber"])
            }
            other => panic!("{other:?}"),
        }
        // A selector's own name and protocol id are what the error says was looked for.
        let named = AccountSelector::named(Some("nick@irc.libera.chat"), Some("IRC"));
        match Wanted::new(&named, "carol", "xmpp").pick(&entries).unwrap_err() {
            MigrateError::NoAccount { wanted, .. } => assert_eq!(wanted, "nick@irc.libera.chat on IRC"),
            other => panic!("{other:?}"),
        }
        let two: Vec<(&[u8], &[u8])> = vec![(b"a@x/Home", b"prpl-jabber"), (b"a@x/Work", b"prpl-jabber")];
        assert!(matches!(Wanted::new(&default, "a@x", "xmpp").pick(&two), Err(MigrateError::AmbiguousAccount { .. })));
        let exact = AccountSelector::named(Some("a@x/Work"), None);
        assert_eq!(Wanted::new(&exact, "a@x", "xmpp").pick(&two).unwrap(), 1);
        match Wanted::new(&default, "a@x", "xmpp").pick(&two).unwrap_err() {
            MigrateError::AmbiguousAccount { wanted, matches } => {
                assert_eq!(wanted, "a@x on xmpp");
                assert_eq!(matches, ["a@x/Home on prpl-jabber", "a@x/Work on prpl-jabber"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_ids() {
        assert_eq!(default_protocol_id("xmpp", OtrFileFormat::Libotr), "prpl-jabber");
        assert_eq!(default_protocol_id("IRC", OtrFileFormat::Libotr), "prpl-irc");
        assert_eq!(default_protocol_id("irc", OtrFileFormat::Potr), "irc");
        assert_eq!(default_protocol_id("prpl-jabber", OtrFileFormat::Potr), "xmpp");
    }
}
