//! libotr's `otr.private_key` (Pidgin's `~/.purple/otr.private_key`, irssi-otr's `otr.key`):
//! one s-expression holding every account's DSA key,
//!
//! ```text
//! (privkeys
//!  (account
//! (name "alice@example.org")
//! (protocol prpl-jabber)
//! (private-key
//!  (dsa
//!   (p #00A301…#)
//!   (q #00D935…#)
//!   (g #00A121…#)
//!   (y #009D0D…#)
//!   (x #520FCA…#)
//!   )
//!  )
//!  )
//! )
//! ```
//!
//! Reading follows libotr: the list must be named `privkeys` and hold only `account` lists;
//! in each, the first lists named `name`, `protocol` and `private-key` (searched in document
//! order, as `gcry_sexp_find_token` does), and in the key the `dsa` list's `p q g y x`. The
//! numbers are libgcrypt's signed MPIs (a leading `00` marks a positive value with its top bit
//! set); like libotr's `make_pubkey` we read them unsigned. Only the account being imported is
//! checked as a DSA key ([`crate::otr::identity::DsaIdentity::from_components`]), the others
//! only for their shape.
//!
//! Writing produces what libotr writes (`gcry_sexp_sprint` in advanced format) byte for byte:
//! names as tokens, quoted strings or hex exactly as libgcrypt chooses, numbers in upper-case
//! hex with the `00` sign byte whenever the top bit is set (libgcrypt prints MPIs in signed
//! form; without the byte a reader that takes the number as signed would see it negative).

use zeroize::Zeroizing;

use crate::otr::identity::{DsaComponents, DsaIdentity};

use super::sexp::{self, is_token_char, List, Sexp};
use super::MigrateError;

/// Largest `otr.private_key` read (a key takes about 1 KiB: a thousand accounts).
pub const MAX_KEY_FILE_LEN: usize = 1024 * 1024;

const WHAT: &str = "key file";

/// One account's entry, not yet checked as a DSA key.
#[derive(Clone)]
pub struct KeyFileAccount {
    /// The account name, as written (bytes: old files may hold any).
    pub name: Vec<u8>,
    /// The protocol id, as written.
    pub protocol: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    g: Vec<u8>,
    y: Vec<u8>,
    x: Zeroizing<Vec<u8>>,
    /// Where the `(account …)` list sits in the file.
    span: (usize, usize),
}

impl std::fmt::Debug for KeyFileAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFileAccount")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("protocol", &String::from_utf8_lossy(&self.protocol))
            .finish_non_exhaustive()
    }
}

impl KeyFileAccount {
    /// The account's key, with every DSA check (sizes 1024/160, q | p-1, 1 < g < p, g and y of
    /// order q, 0 < x < q, y = g^x mod p).
    pub fn identity(&self) -> Result<DsaIdentity, MigrateError> {
        DsaIdentity::from_components(&self.p, &self.q, &self.g, &self.y, &self.x).map_err(|reason| {
            MigrateError::InvalidKey { account: super::account::describe(&self.name, &self.protocol), reason }
        })
    }
}

fn malformed(detail: impl Into<String>) -> MigrateError {
    MigrateError::Malformed { what: WHAT, detail: detail.into() }
}

/// Reads every account of a key file (their shape only; see [`KeyFileAccount::identity`]).
pub fn read_key_file(bytes: &[u8]) -> Result<Vec<KeyFileAccount>, MigrateError> {
    if bytes.len() > MAX_KEY_FILE_LEN {
        return Err(MigrateError::TooLarge { what: WHAT, limit: MAX_KEY_FILE_LEN });
    }
    let top = sexp::parse(bytes).map_err(|e| malformed(e.to_string()))?;
    if top.head() != Some(&b"privkeys"[..]) {
        return Err(malformed("it does not start with (privkeys: not a libotr key file"));
    }
    let mut accounts = Vec::new();
    for (index, item) in top.items.iter().enumerate().skip(1) {
        let Sexp::List(account) = item else {
            return Err(malformed(format!("element {index} of (privkeys …) is not a list")));
        };
        if account.head() != Some(&b"account"[..]) {
            return Err(malformed(format!("element {index} of (privkeys …) is not an (account …)")));
        }
        accounts.push(read_account(account, index)?);
    }
    Ok(accounts)
}

fn read_account(account: &List, index: usize) -> Result<KeyFileAccount, MigrateError> {
    let field = |list: &List, token: &str| -> Result<Vec<u8>, MigrateError> {
        list.find(token.as_bytes())
            .and_then(|found| found.atom(1))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| malformed(format!("account {index}: no ({token} …) value")))
    };
    let name = field(account, "name")?;
    let protocol = field(account, "protocol")?;
    let key = account.find(b"private-key").ok_or_else(|| malformed(format!("account {index}: no (private-key …)")))?;
    let dsa = key.find(b"dsa").ok_or_else(|| malformed(format!("account {index}: the private key is not DSA")))?;
    let (p, q, g, y) = (field(dsa, "p")?, field(dsa, "q")?, field(dsa, "g")?, field(dsa, "y")?);
    let x = Zeroizing::new(field(dsa, "x")?);
    Ok(KeyFileAccount { p, q, g, y, x, name, protocol, span: (account.start, account.end) })
}

/// An atom as libgcrypt's advanced format prints it: `""` when empty, a token when it can be
/// one, a quoted string when every byte is printable or has an escape, hex otherwise.
fn write_atom(out: &mut Vec<u8>, value: &[u8]) {
    let binary = value.iter().any(|&b| b >= 0x7f || (b < 0x20 && !b"\x08\t\x0b\n\x0c\r".contains(&b)));
    if binary {
        write_hex(out, value);
        return;
    }
    let token = value.first().is_some_and(|b| !b.is_ascii_digit()) && value.iter().all(|&b| is_token_char(b));
    if token {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for &byte in value {
        let escaped: &[u8] = match byte {
            0x08 => b"\\b",
            b'\t' => b"\\t",
            0x0b => b"\\v",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            b'"' => b"\\\"",
            b'\'' => b"\\'",
            b'\\' => b"\\\\",
            _ => {
                out.push(byte);
                continue;
            }
        };
        out.extend_from_slice(escaped);
    }
    out.push(b'"');
}

fn write_hex(out: &mut Vec<u8>, value: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'#');
    for &byte in value {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 15)]);
    }
    out.push(b'#');
}

/// A positive number in libgcrypt's signed form: minimal bytes, `00` first if the top bit is set
/// (what libgcrypt prints, so that nobody reading the file as signed numbers sees a negative one).
fn write_number(out: &mut Vec<u8>, minimal: &[u8]) {
    let mut signed = Zeroizing::new(Vec::with_capacity(minimal.len() + 1));
    if minimal.first().is_some_and(|b| b & 0x80 != 0) {
        signed.push(0);
    }
    signed.extend_from_slice(minimal);
    write_hex(out, &signed);
}

/// One `(account …)` block, laid out as libotr lays it out (with the space before it).
fn write_account(out: &mut Vec<u8>, name: &[u8], protocol: &[u8], key: &DsaComponents) {
    out.extend_from_slice(b" (account\n(name ");
    write_atom(out, name);
    out.extend_from_slice(b")\n(protocol ");
    write_atom(out, protocol);
    out.extend_from_slice(b")\n(private-key \n (dsa \n");
    for (label, value) in [(b'p', &key.p[..]), (b'q', &key.q), (b'g', &key.g), (b'y', &key.y), (b'x', &key.x)] {
        out.extend_from_slice(b"  (");
        out.push(label);
        out.push(b' ');
        write_number(out, value);
        out.extend_from_slice(b")\n");
    }
    out.extend_from_slice(b"  )\n )\n )\n");
}

/// A key file holding `identity` for `name` on `protocol`. With `existing` (the current
/// contents of the file being replaced), every other account's entry is kept byte for byte
/// and an entry for the same name and protocol (compared exactly, as libotr compares them) is
/// replaced; ours goes last, as libotr puts a new key. A damaged `existing` is an error:
/// nothing is written over a file we could not read.
pub fn write_key_file(
    existing: Option<&[u8]>,
    name: &[u8],
    protocol: &[u8],
    identity: &DsaIdentity,
) -> Result<Zeroizing<Vec<u8>>, MigrateError> {
    let mut out = Zeroizing::new(Vec::with_capacity(1024 + existing.map_or(0, <[u8]>::len)));
    out.extend_from_slice(b"(privkeys\n");
    if let Some(existing) = existing {
        for account in read_key_file(existing)? {
            if account.name == name && account.protocol == protocol {
                continue;
            }
            let (start, end) = account.span;
            out.push(b' ');
            out.extend_from_slice(existing.get(start..end).unwrap_or_default());
            out.push(b'\n');
        }
    }
    write_account(&mut out, name, protocol, &identity.components());
    out.extend_from_slice(b")\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by libotr 4.1.1 (`otrl_privkey_generate` for two accounts).
    pub(crate) const LIBOTR_FILE: &[u8] = include_bytes!("../../tests/migrate/fixtures/otr.private_key");
    /// `otrl_privkey_fingerprint` of the two accounts (printed by `make_fixtures.c`).
    pub(crate) const BOB_FP: &str = "DFB5982D A8225668 30386702 1367C864 C1CE9F44";
    pub(crate) const ALICE_FP: &str = "982DEAE9 CE05DE82 BD900150 E6031B4C 2FE568C4";

    fn human(identity: &DsaIdentity) -> String {
        crate::otr::identity::human_fingerprint(&identity.fingerprint())
    }

    #[test]
    fn reads_libotr_and_writes_it_back_byte_for_byte() {
        let accounts = read_key_file(LIBOTR_FILE).unwrap();
        let names: Vec<_> = accounts.iter().map(|a| (a.name.clone(), a.protocol.clone())).collect();
        assert_eq!(
            names,
            [(b"bob".to_vec(), b"IRC".to_vec()), (b"alice@example.org".to_vec(), b"prpl-jabber".to_vec())]
        );
        let bob = accounts[0].identity().unwrap();
        let alice = accounts[1].identity().unwrap();
        assert_eq!(human(&bob), BOB_FP);
        assert_eq!(human(&alice), ALICE_FP);
        // Rewriting the file with Alice's key replaced by itself reproduces libotr's bytes.
        let again = write_key_file(Some(LIBOTR_FILE), b"alice@example.org", b"prpl-jabber", &alice).unwrap();
        assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(LIBOTR_FILE));
        // Only an entry with both the same name and the same protocol is replaced: Bob's IRC key
        // stays beside a key for "bob" on XMPP, and beside a key for someone else on IRC.
        for (name, protocol) in [(&b"bob"[..], &b"prpl-jabber"[..]), (b"carol", b"IRC")] {
            let written = write_key_file(Some(LIBOTR_FILE), name, protocol, &alice).unwrap();
            let kept: Vec<_> =
                read_key_file(&written).unwrap().iter().map(|a| (a.name.clone(), a.protocol.clone())).collect();
            assert_eq!(kept.len(), 3, "{kept:?}");
            assert_eq!((kept[0].0.as_slice(), kept[0].1.as_slice()), (&b"bob"[..], &b"IRC"[..]));
            assert_eq!((kept[2].0.as_slice(), kept[2].1.as_slice()), (name, protocol));
        }
    }

    #[test]
    fn names_are_encoded_as_libgcrypt_encodes_them() {
        let cases: [(&[u8], &str); 10] = [
            (b"bob", "bob"),
            (b"a b", "\"a b\""),
            (b"a\tb\nc", "\"a\\tb\\nc\""),
            (b"a\"b", "\"a\\\"b\""),
            (b"x'y", "\"x\\'y\""),
            (b"a\rb\x0b\x0c\x08", "\"a\\rb\\v\\f\\b\""),
            (b"1abc", "\"1abc\""),
            (b"\xc3\xa9", "#C3A9#"),
            (b"a\x7f", "#617F#"),
            (b"", "\"\""),
        ];
        for (value, expected) in cases {
            let mut out = Vec::new();
            write_atom(&mut out, value);
            assert_eq!(String::from_utf8_lossy(&out), expected);
            let parsed = sexp::parse(&[b"(n ", &out[..], b")"].concat()).unwrap();
            assert_eq!(parsed.atom(1), Some(value), "round trip of {expected}");
        }
    }

    /// The fixture's accounts with every value stripped of libgcrypt's `00` sign byte, and in
    /// libgcrypt's canonical encoding: the same keys (read unsigned, as libotr's `make_pubkey`
    /// reads them), and writing puts the sign bytes back.
    #[test]
    fn sign_bytes_and_encodings_do_not_change_the_key() {
        let text = String::from_utf8(LIBOTR_FILE.to_vec()).unwrap();
        let unsigned = text.replace(" #00", " #");
        assert_ne!(unsigned, text);
        let accounts = read_key_file(unsigned.as_bytes()).unwrap();
        let alice = accounts[1].identity().unwrap();
        assert_eq!(human(&alice), ALICE_FP);
        let back = write_key_file(Some(unsigned.as_bytes()), b"alice@example.org", b"prpl-jabber", &alice).unwrap();
        assert!(String::from_utf8_lossy(&back).contains("  (q #00"), "sign byte written back");

        fn canonical(list: &List, out: &mut Vec<u8>) {
            out.push(b'(');
            for item in &list.items {
                match item {
                    Sexp::Atom(atom) => {
                        out.extend(format!("{}:", atom.bytes().len()).into_bytes());
                        out.extend_from_slice(atom.bytes());
                    }
                    Sexp::List(inner) => canonical(inner, out),
                }
            }
            out.push(b')');
        }
        let mut canon = Vec::new();
        canonical(&sexp::parse(LIBOTR_FILE).unwrap(), &mut canon);
        assert!(canon.starts_with(b"(8:privkeys(7:account(4:name3:bob)"));
        let accounts = read_key_file(&canon).unwrap();
        assert_eq!(human(&accounts[1].identity().unwrap()), ALICE_FP);
        // Old files: names as quoted strings with escapes and raw bytes, values in base64.
        let old = b"(privkeys (account (name \"al\\x69ce@example.org\") (protocol |cHJwbC1qYWJiZXI=|)))";
        let parsed = sexp::parse(old).unwrap();
        let account = parsed.find(b"account").unwrap();
        assert_eq!(account.find(b"name").unwrap().atom(1), Some(&b"alice@example.org"[..]));
        assert_eq!(account.find(b"protocol").unwrap().atom(1), Some(&b"prpl-jabber"[..]));
    }

    #[test]
    fn structure_errors_are_reported() {
        let bad = |text: &[u8]| read_key_file(text).unwrap_err().to_string();
        assert!(bad(b"(keys)").contains("privkeys"));
        assert!(bad(b"(privkeys foo)").contains("not a list"));
        assert!(bad(b"(privkeys (acct))").contains("(account"));
        assert!(bad(b"(privkeys (account (name a)))").contains("protocol"));
        assert!(bad(b"(privkeys (account (name a) (protocol b)))").contains("private-key"));
        assert!(bad(b"(privkeys (account (name a) (protocol b) (private-key (rsa (n #01#)))))").contains("DSA"));
        assert!(bad(b"(privkeys (account (name a) (protocol b) (private-key (dsa (p #01#)))))").contains("(q"));
        assert!(read_key_file(b"(privkeys)").unwrap().is_empty());
        // The size cap: a file of exactly MAX_KEY_FILE_LEN bytes (white space after the list) is
        // read; one byte more is refused before it is parsed.
        let mut padded = LIBOTR_FILE.to_vec();
        padded.resize(MAX_KEY_FILE_LEN, b'\n');
        assert_eq!(read_key_file(&padded).unwrap().len(), 2);
        padded.push(b'\n');
        assert!(matches!(read_key_file(&padded), Err(MigrateError::TooLarge { limit: MAX_KEY_FILE_LEN, .. })));
        assert!(bad(b"(privkeys").contains("truncated"));
    }
}
