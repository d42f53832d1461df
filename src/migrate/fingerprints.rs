//! libotr's `otr.fingerprints` (Pidgin's `~/.purple/otr.fingerprints`, irssi-otr's `otr.fp`)
//! and potr's `<account>.fpr` (weechat-otr, Gajim), which share one layout: a line per known
//! key,
//!
//! ```text
//! username \t accountname \t protocol \t 40 hex digits [\t trust] \n
//! ```
//!
//! Reading follows libotr (`otrl_privkey_read_fingerprints`): a line is what its 1000-byte
//! buffer holds, so at most 999 bytes with the newline; a `\r` ends the line's content; the
//! trust column is optional and any non-empty string means trusted. Where libotr silently
//! skips a line it cannot read (too long, too few columns, hex that is not 40 hex digits,
//! a last line without its newline), we refuse the file, naming the line: an import is all or
//! nothing. Trust strings seen in the wild: `smp` (libotr after SMP), `verified` (Pidgin,
//! weechat-otr), `manual` (irssi-otr). Mapping (brief §3.2): `""` → Unverified, `smp` →
//! VerifiedSmp, anything else → VerifiedManual; written back as `smp` and `verified`.
//!
//! Writing produces libotr's bytes: lower-case hex and always five columns.

use crate::otr::identity::Fingerprint;
use crate::trust::Trust;

use super::MigrateError;

/// Largest fingerprints file read (a line is about 100 bytes: over 100 000 keys).
pub const MAX_FINGERPRINTS_FILE_LEN: usize = 16 * 1024 * 1024;
/// Longest line, newline included: what libotr's `fgets` into 1000 bytes reads whole.
pub const MAX_LINE_LEN: usize = 999;

const WHAT: &str = "fingerprints file";

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintEntry<'a> {
    /// The peer.
    pub username: &'a [u8],
    /// Our account.
    pub account: &'a [u8],
    /// The protocol id.
    pub protocol: &'a [u8],
    /// The peer's DSA fingerprint.
    pub fingerprint: Fingerprint,
    /// The trust string (empty when the column is missing).
    pub trust: &'a [u8],
    /// The line number (from 1).
    pub line: usize,
    /// The whole line, newline included (kept as is when another account's file is merged).
    pub raw: &'a [u8],
}

fn malformed(line: usize, detail: &str) -> MigrateError {
    MigrateError::Malformed { what: WHAT, detail: format!("line {line}: {detail}") }
}

/// The lines of a file, each with its newline, numbered from 1; the last must end with one.
pub(crate) fn lines<'a>(bytes: &'a [u8], what: &'static str) -> Result<Vec<(usize, &'a [u8])>, MigrateError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut number = 0usize;
    while !rest.is_empty() {
        number += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(MigrateError::Malformed {
                what,
                detail: format!("line {number} has no newline: the file looks truncated"),
            });
        };
        let (line, tail) = rest.split_at(end + 1);
        if line.len() > MAX_LINE_LEN {
            return Err(MigrateError::Malformed {
                what,
                detail: format!("line {number} is longer than {MAX_LINE_LEN} bytes (libotr cannot read it either)"),
            });
        }
        out.push((number, line));
        rest = tail;
    }
    Ok(out)
}

/// A line's content: up to the first `\r` or `\n`, as libotr cuts it.
pub(crate) fn content(line: &[u8]) -> &[u8] {
    let end = line.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(line.len());
    line.get(..end).unwrap_or_default()
}

/// Lower- or upper-case hex to bytes; `None` unless every character is a hex digit.
pub(crate) fn decode_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        if !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Reads every line (all or nothing: the first bad line is an error naming it).
pub fn read_fingerprints(bytes: &[u8]) -> Result<Vec<FingerprintEntry<'_>>, MigrateError> {
    if bytes.len() > MAX_FINGERPRINTS_FILE_LEN {
        return Err(MigrateError::TooLarge { what: WHAT, limit: MAX_FINGERPRINTS_FILE_LEN });
    }
    let mut entries = Vec::new();
    for (number, raw) in lines(bytes, WHAT)? {
        let text = content(raw);
        if text.is_empty() {
            continue;
        }
        let mut columns = text.splitn(5, |&b| b == b'\t');
        let (Some(username), Some(account), Some(protocol), Some(hex)) =
            (columns.next(), columns.next(), columns.next(), columns.next())
        else {
            return Err(malformed(number, "expected peer, account, protocol and fingerprint separated by tabs"));
        };
        let trust = columns.next().unwrap_or_default();
        let fingerprint = decode_hex::<20>(hex)
            .ok_or_else(|| malformed(number, "the fingerprint is not 40 hex digits (only OTR DSA keys are known)"))?;
        entries.push(FingerprintEntry { username, account, protocol, fingerprint, trust, line: number, raw });
    }
    Ok(entries)
}

/// What a trust string means (any non-empty string is trust, as in libotr).
pub fn trust_from_libotr(trust: &[u8]) -> Trust {
    match trust {
        b"" => Trust::Unverified,
        b"smp" => Trust::VerifiedSmp,
        _ => Trust::VerifiedManual,
    }
}

/// The trust string written for a trust level.
pub fn trust_to_libotr(trust: Trust) -> &'static str {
    match trust {
        Trust::Unverified => "",
        Trust::VerifiedSmp => "smp",
        Trust::VerifiedManual => "verified",
    }
}

/// Why a name cannot go into a tab-separated line (`None`: it can).
pub(crate) fn unwritable(name: &str) -> Option<&'static str> {
    if name.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r' | 0)) {
        Some("contains a tab, newline or NUL")
    } else {
        None
    }
}

/// One line, as libotr writes it.
pub fn line(username: &str, account: &str, protocol: &str, fingerprint: &Fingerprint, trust: Trust) -> String {
    let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    format!("{username}\t{account}\t{protocol}\t{hex}\t{}\n", trust_to_libotr(trust))
}

/// A file with `ours` (already written lines) for `account` on `protocol`. With `existing`,
/// every line of other accounts is kept byte for byte and the old lines of this account and
/// protocol (compared exactly, as libotr compares them) are dropped; a damaged `existing` is
/// an error.
pub fn write_fingerprints(
    existing: Option<&[u8]>,
    account: &str,
    protocol: &str,
    ours: &[String],
) -> Result<Vec<u8>, MigrateError> {
    let mut out = Vec::new();
    if let Some(existing) = existing {
        for entry in read_fingerprints(existing)? {
            if entry.account != account.as_bytes() || entry.protocol != protocol.as_bytes() {
                out.extend_from_slice(entry.raw);
            }
        }
    }
    for line in ours {
        out.extend_from_slice(line.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by libotr 4.1.1 (`otrl_privkey_write_fingerprints`, see `make_fixtures.c`).
    pub(crate) const LIBOTR_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.fingerprints");

    #[test]
    fn reads_libotr_with_every_trust_string() {
        let entries = read_fingerprints(LIBOTR_FILE).unwrap();
        let seen: Vec<(&[u8], Trust)> = entries.iter().map(|e| (e.username, trust_from_libotr(e.trust))).collect();
        assert_eq!(
            seen,
            [
                (&b"carol@example.org"[..], Trust::Unverified),
                (b"dave@example.org", Trust::VerifiedSmp),
                (b"erin@example.org", Trust::VerifiedManual),
                (b"frank@example.org", Trust::Unverified),
                (b"frank@example.org", Trust::VerifiedManual),
                (b"zed", Trust::VerifiedSmp),
            ]
        );
        assert_eq!(entries[0].fingerprint[..2], [0xa0, 0x11]);
        assert_eq!(entries[5].account, b"bob");
        // Writing the same entries back gives libotr's bytes.
        let lines: Vec<String> = entries
            .iter()
            .map(|e| {
                let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
                let trust = if e.trust == b"manual" { Trust::VerifiedManual } else { trust_from_libotr(e.trust) };
                let mut text = line(&s(e.username), &s(e.account), &s(e.protocol), &e.fingerprint, trust);
                if e.trust == b"manual" {
                    text = text.replace("\tverified\n", "\tmanual\n");
                }
                text
            })
            .collect();
        assert_eq!(lines.concat().as_bytes(), LIBOTR_FILE);
    }

    /// The size cap keeps the promise of its comment: a trust file of 100,000 keys is read, and
    /// so is one of exactly MAX_FINGERPRINTS_FILE_LEN bytes; one byte more is refused.
    #[test]
    fn a_large_trust_file_is_read_up_to_the_cap() {
        let entry = |user: &str| line(user, "alice@example.org", "prpl-jabber", &[0xab; 20], Trust::VerifiedSmp);
        let overhead = entry("").len();
        let mut file: Vec<u8> =
            (0..100_000).flat_map(|i| entry(&format!("peer{i}@example.org")).into_bytes()).collect();
        let mut count = 100_000;
        while file.len() < MAX_FINGERPRINTS_FILE_LEN {
            let remaining = MAX_FINGERPRINTS_FILE_LEN - file.len();
            let length = match remaining {
                r if r >= MAX_LINE_LEN + 2 * overhead => MAX_LINE_LEN,
                r if r > MAX_LINE_LEN => r / 2,
                r => r,
            };
            file.extend_from_slice(entry(&"u".repeat(length - overhead)).as_bytes());
            count += 1;
        }
        assert_eq!(file.len(), MAX_FINGERPRINTS_FILE_LEN);
        assert_eq!(read_fingerprints(&file).unwrap().len(), count);
        file.push(b'\n');
        assert!(matches!(
            read_fingerprints(&file),
            Err(MigrateError::TooLarge { limit: MAX_FINGERPRINTS_FILE_LEN, .. })
        ));
    }

    #[test]
    fn libotr_leniencies_and_our_refusals() {
        // Optional trust column, CR LF, upper-case hex, trust up to the CR.
        let ok = b"a\tb\tc\tA011111111111111111111111111111111111111\r\n\nd\te\tf\ta011111111111111111111111111111111111111\tsmp\rjunk\n";
        let entries = read_fingerprints(ok).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].trust, entries[1].trust), (&b""[..], &b"smp"[..]));
        assert_eq!(entries[1].line, 3);

        let error = |text: &[u8]| read_fingerprints(text).unwrap_err().to_string();
        assert!(error(b"a\tb\tc\n").contains("line 1"));
        assert!(error(b"a\tb\tc\tabcd\n").contains("40 hex"));
        assert!(error(b"a\tb\tc\tz011111111111111111111111111111111111111\n").contains("40 hex"));
        assert!(error(b"a\tb\tc\ta011111111111111111111111111111111111111").contains("truncated"));
        let long = [&b"a\tb\tc\ta011111111111111111111111111111111111111\t"[..], &[b'x'; 960], b"\n"].concat();
        assert!(error(&long).contains("longer than 999"));
        let fits = [&b"a\tb\tc\ta011111111111111111111111111111111111111\t"[..], &[b'x'; 951], b"\n"].concat();
        assert_eq!(fits.len(), MAX_LINE_LEN);
        assert!(read_fingerprints(&fits).is_ok());
    }

    #[test]
    fn merging_keeps_other_accounts_byte_for_byte() {
        let ours = vec![line("newpeer", "alice@example.org", "prpl-jabber", &[7; 20], Trust::VerifiedSmp)];
        let merged = write_fingerprints(Some(LIBOTR_FILE), "alice@example.org", "prpl-jabber", &ours).unwrap();
        let text = String::from_utf8(merged).unwrap();
        assert_eq!(
            text,
            "zed\tbob\tIRC\ta06666666666666666666666666666666666663c\tsmp\n\
             newpeer\talice@example.org\tprpl-jabber\t0707070707070707070707070707070707070707\tsmp\n"
        );
        assert!(write_fingerprints(Some(b"broken"), "a", "b", &ours).is_err());
        // Only lines with both our account and our protocol are ours: the same account on
        // another protocol, and another account on the same protocol, are kept.
        let neighbours = "x\talice@example.org\tprpl-irc\ta06666666666666666666666666666666666663c\t\n\
                          y\tcarol@example.org\tprpl-jabber\ta06666666666666666666666666666666666663c\tsmp\n";
        let merged =
            write_fingerprints(Some(neighbours.as_bytes()), "alice@example.org", "prpl-jabber", &ours).unwrap();
        assert_eq!(String::from_utf8(merged).unwrap(), [neighbours, ours[0].as_str()].concat());
    }
}
