//! libotr's `otr.instance_tags` (Pidgin's `~/.purple/otr.instance_tags`, irssi-otr's
//! `otr.instag`): a warning line, then `accountname \t protocol \t 8 hex digits \n` per
//! account. libotr ignores lines without a tab (the warning) and skips a tag that is not
//! exactly 8 hex digits or is below 0x100; we refuse such a file instead, naming the line.
//!
//! An instance tag names one installation. Import one only when offrec *replaces* that client
//! on the same device (its peers then keep routing to the same instance); a tag copied to a
//! second device makes the two indistinguishable, which is what the warning line says.

use crate::wire::InstanceTag;

use super::fingerprints::{content, decode_hex, lines};
use super::MigrateError;

/// Largest instance-tags file read (a line is about 40 bytes: over 20,000 accounts).
pub const MAX_INSTANCE_TAGS_FILE_LEN: usize = 1024 * 1024;

/// The first line libotr 4.1.1 writes.
pub const WARNING_LINE: &str =
    "# WARNING! You shouldn't copy this file to another computer. It is unnecessary and can cause problems.\n";

const WHAT: &str = "instance tags file";

/// One account's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTagEntry<'a> {
    /// Our account.
    pub account: &'a [u8],
    /// The protocol id.
    pub protocol: &'a [u8],
    /// The tag (at least 0x100).
    pub tag: u32,
    /// The whole line, newline included.
    pub raw: &'a [u8],
}

/// Reads every tag line (all or nothing).
pub fn read_instance_tags(bytes: &[u8]) -> Result<Vec<InstanceTagEntry<'_>>, MigrateError> {
    if bytes.len() > MAX_INSTANCE_TAGS_FILE_LEN {
        return Err(MigrateError::TooLarge { what: WHAT, limit: MAX_INSTANCE_TAGS_FILE_LEN });
    }
    let mut entries = Vec::new();
    for (number, raw) in lines(bytes, WHAT)? {
        let text = content(raw);
        if !text.contains(&b'\t') {
            continue; // the warning line (libotr skips every line without a tab)
        }
        let bad = |detail: &str| MigrateError::Malformed { what: WHAT, detail: format!("line {number}: {detail}") };
        let mut columns = text.splitn(3, |&b| b == b'\t');
        let (Some(account), Some(protocol), Some(hex)) = (columns.next(), columns.next(), columns.next()) else {
            return Err(bad("expected account, protocol and tag separated by tabs"));
        };
        let tag = decode_hex::<4>(hex).map(u32::from_be_bytes).ok_or_else(|| bad("the tag is not 8 hex digits"))?;
        if !InstanceTag(tag).is_valid() {
            return Err(bad("the tag is below 0x100 (reserved)"));
        }
        entries.push(InstanceTagEntry { account, protocol, tag, raw });
    }
    Ok(entries)
}

/// A file giving `account` on `protocol` the tag `tag`. With `existing`, other accounts' lines
/// are kept byte for byte and this account's old line is replaced; a damaged `existing` is an
/// error.
pub fn write_instance_tags(
    existing: Option<&[u8]>,
    account: &str,
    protocol: &str,
    tag: u32,
) -> Result<Vec<u8>, MigrateError> {
    let mut out = WARNING_LINE.as_bytes().to_vec();
    if let Some(existing) = existing {
        for entry in read_instance_tags(existing)? {
            if entry.account != account.as_bytes() || entry.protocol != protocol.as_bytes() {
                out.extend_from_slice(entry.raw);
            }
        }
    }
    out.extend_from_slice(format!("{account}\t{protocol}\t{tag:08x}\n").as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by libotr 4.1.1 (`otrl_instag_generate`, see `make_fixtures.c`).
    const LIBOTR_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.instance_tags");

    #[test]
    fn reads_libotr_and_writes_its_layout() {
        let entries = read_instance_tags(LIBOTR_FILE).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].account, entries[0].protocol), (&b"bob"[..], &b"IRC"[..]));
        let bob = entries[0].tag;
        let alice = entries[1].tag;
        // Rewriting Alice's tag in place reproduces libotr's bytes.
        let again = write_instance_tags(Some(LIBOTR_FILE), "alice@example.org", "prpl-jabber", alice).unwrap();
        assert_eq!(again, LIBOTR_FILE);
        assert!(bob >= 0x100 && alice >= 0x100);
        // Only the line with both our account and our protocol is replaced: the same account
        // on another protocol, and another account on the same protocol, keep theirs.
        let neighbours = "alice@example.org\tprpl-irc\t00000123\ncarol\tprpl-jabber\t00000456\n";
        let merged =
            write_instance_tags(Some(neighbours.as_bytes()), "alice@example.org", "prpl-jabber", alice).unwrap();
        let tags: Vec<u32> = read_instance_tags(&merged).unwrap().iter().map(|e| e.tag).collect();
        assert_eq!(tags, [0x123, 0x456, alice]);
    }

    #[test]
    fn a_file_of_exactly_the_limit_is_read() {
        // 20,000 accounts, then lines libotr skips (no tab) up to exactly the limit.
        let mut file = WARNING_LINE.as_bytes().to_vec();
        for n in 0..20_000u32 {
            file.extend_from_slice(format!("user{n}@example.org\tprpl-jabber\t{:08x}\n", 0x100 + n).as_bytes());
        }
        while file.len() < MAX_INSTANCE_TAGS_FILE_LEN {
            let length = (MAX_INSTANCE_TAGS_FILE_LEN - file.len()).min(500);
            file.extend(std::iter::repeat_n(b'#', length - 1).chain([b'\n']));
        }
        assert_eq!(file.len(), MAX_INSTANCE_TAGS_FILE_LEN);
        assert_eq!(read_instance_tags(&file).unwrap().len(), 20_000);
        file.push(b'\n');
        assert!(matches!(
            read_instance_tags(&file),
            Err(MigrateError::TooLarge { limit: MAX_INSTANCE_TAGS_FILE_LEN, .. })
        ));
    }

    #[test]
    fn bad_tags_are_refused() {
        let error = |text: &[u8]| read_instance_tags(text).unwrap_err().to_string();
        assert!(error(b"a\tb\t000000ff\n").contains("below 0x100"));
        assert!(error(b"a\tb\t1234\n").contains("8 hex"));
        assert!(error(b"a\tb\t1234567g\n").contains("8 hex"));
        assert!(error(b"a\tb\n").contains("tabs"));
        assert!(error(b"a\tb\t00000100").contains("truncated"));
        let ok = read_instance_tags(b"comment\n\na\tb\t0000ABCD\r\n").unwrap();
        assert_eq!(ok[0].tag, 0xabcd);
    }
}
