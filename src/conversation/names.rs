//! What the handshake binds about names (PROTOCOL.md §4.2): both account names and the network,
//! normalised so that the spellings real deployments mix up still agree, or, with name
//! binding off, the network alone.
//!
//! The normalisation is deliberately small and explicit (every implementation must apply
//! exactly the same rules, byte for byte):
//!
//! 1. **Network id**: trim ASCII white space, ASCII lower-case, drop a leading `prpl-`
//!    (libpurple's prefix), then map the alias `jabber` to `xmpp`. So `xmpp`, `XMPP`,
//!    `jabber` and `prpl-jabber` are all `xmpp`; `prpl-irc` is `irc`.
//! 2. **Names** (our account and the peer): trim ASCII white space and ASCII lower-case;
//!    on `xmpp` only, also drop the resource (from the first `/` on), so a full JID
//!    `alice@example.org/laptop` and the bare `alice@example.org` agree.
//!
//! Nothing else is folded: non-ASCII letters are compared as they are (Unicode case
//! mappings differ between versions and libraries; a mismatch is reported, never guessed).

/// How much of the names the handshake binds (`Settings::name_binding`,
/// `OFFREC_OPTION_NAME_BINDING`). Both sides must use the same setting, or the handshake
/// fails with "names differ".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameBinding {
    /// Both account names, normalised, and the normalised network (the default).
    #[default]
    Normalised,
    /// The normalised network only: for transports where names change during a conversation
    /// (IRC nick changes). Identity keys are still bound (SECURITY.md: what this gives up).
    Off,
}

/// The network id the handshake binds for `protocol` (rule 1 above).
pub fn normalise_protocol(protocol: &str) -> String {
    let lower = protocol.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    let bare = lower.strip_prefix("prpl-").unwrap_or(&lower);
    match bare {
        "jabber" => "xmpp".to_owned(),
        other => other.to_owned(),
    }
}

/// The form of an account or peer `name` the handshake binds on network `protocol_id` (an
/// already normalised network id; rule 2 above).
pub fn normalise_name(protocol_id: &str, name: &str) -> String {
    let lower = name.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    if protocol_id == "xmpp" {
        if let Some((bare, _resource)) = lower.split_once('/') {
            return bare.to_owned();
        }
    }
    lower
}

/// phi, the session context both sides bind into the handshake:
/// `DATA(first) ‖ DATA(second) ‖ DATA(network id)` with the two normalised names in
/// ascending byte order (`DATA(x)` = `u32 len ‖ x`). With binding off both names are empty.
pub fn phi(account: &str, peer: &str, protocol: &str, binding: NameBinding) -> Vec<u8> {
    let network = normalise_protocol(protocol);
    let (ours, theirs) = match binding {
        NameBinding::Normalised => (normalise_name(&network, account), normalise_name(&network, peer)),
        NameBinding::Off => (String::new(), String::new()),
    };
    let (first, second) = if ours <= theirs { (ours, theirs) } else { (theirs, ours) };
    let mut out = Vec::with_capacity(12 + first.len() + second.len() + network.len());
    for part in [first.as_str(), second.as_str(), network.as_str()] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_and_names_normalise_as_documented() {
        for p in ["xmpp", "XMPP", " jabber ", "prpl-jabber", "Prpl-Jabber"] {
            assert_eq!(normalise_protocol(p), "xmpp", "{p}");
        }
        assert_eq!(normalise_protocol("prpl-irc"), "irc");
        assert_eq!(normalise_protocol("matrix"), "matrix");
        assert_eq!(normalise_name("xmpp", "Alice@Example.org/Laptop"), "alice@example.org");
        assert_eq!(normalise_name("xmpp", "alice@example.org"), "alice@example.org");
        // Only XMPP has resources.
        assert_eq!(normalise_name("irc", "Nick/away"), "nick/away");
        // Non-ASCII is not case-folded.
        assert_eq!(normalise_name("xmpp", "ÄLICE@x"), "Älice@x");
    }

    #[test]
    fn phi_agrees_across_spellings_and_differs_across_people() {
        let a = phi("alice@example.org/phone", "bob@example.org", "prpl-jabber", NameBinding::Normalised);
        let b = phi("Bob@example.org/desk", "alice@example.org", "xmpp", NameBinding::Normalised);
        assert_eq!(a, b);
        let m = phi("mallory@example.org", "alice@example.org", "xmpp", NameBinding::Normalised);
        assert_ne!(a, m);
        let off_a = phi("alice", "bob", "irc", NameBinding::Off);
        let off_b = phi("bob_", "alice", "prpl-irc", NameBinding::Off);
        assert_eq!(off_a, off_b);
        assert_ne!(off_a, phi("alice", "bob", "irc", NameBinding::Normalised));
        assert_ne!(off_a, phi("alice", "bob", "xmpp", NameBinding::Off), "the network stays bound");
        assert_eq!(off_a, [&[0u8; 8][..], &3u32.to_be_bytes(), b"irc"].concat());
    }

    #[test]
    fn phi_lists_the_names_in_ascending_byte_order_as_documented() {
        // Another implementation computes phi from PROTOCOL.md §4.2: the order is part of it.
        let expected =
            [&5u32.to_be_bytes()[..], b"alice", &3u32.to_be_bytes(), b"bob", &4u32.to_be_bytes(), b"xmpp"].concat();
        assert_eq!(phi("bob", "alice", "xmpp", NameBinding::Normalised), expected);
        assert_eq!(phi("alice", "bob", "xmpp", NameBinding::Normalised), expected);
    }
}
