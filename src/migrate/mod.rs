//! Moving between libotr (or python-potr) and offrec: import a user's OTR DSA key, the
//! fingerprints they trust and (same device only) their instance tag, and export offrec's DSA
//! key and OTR trust in the same formats, so that moving back is possible. MIGRATING.md is the
//! user's guide; the OTR compatibility brief §3 describes the formats byte by byte.
//!
//! - [`sexp`]: libgcrypt's s-expressions (the syntax of `otr.private_key`);
//! - [`libotr_key`]: `otr.private_key`, several accounts per file;
//! - [`fingerprints`]: `otr.fingerprints` and potr's `.fpr`, with the trust mapping;
//! - [`instance_tags`]: the `otr.instance_tags` file;
//! - [`potr`]: potr's `.key3`;
//! - [`account`]: which entries of a file are the client's (libotr protocol ids → networks);
//! - [`import`] and [`export`]: the client operations, all or nothing;
//! - [`file_io`]: bounded reads of regular files and atomic 0600 writes.
//!
//! Every parser is strict where libotr is lenient (it skips lines it cannot read): an import
//! either takes a whole, well-formed file or changes nothing and says what is wrong.

pub mod account;
pub mod export;
pub mod file_io;
pub mod fingerprints;
pub mod import;
pub mod instance_tags;
pub mod libotr_key;
pub mod potr;
pub mod sexp;

pub use account::{default_protocol_id, AccountSelector, OtrFileFormat};
pub use export::TrustExport;
pub use file_io::FileKind;
pub use import::TrustImport;

use crate::otr::identity::{human_fingerprint, Fingerprint, IdentityError};

/// Why an import or export did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The file is not in the expected format, or is damaged or truncated.
    #[error("the {what} is malformed: {detail}")]
    Malformed {
        /// Which kind of file.
        what: &'static str,
        /// What is wrong, and where.
        detail: String,
    },
    /// The file is larger than any real one.
    #[error("the {what} is larger than {limit} bytes, more than any real one")]
    TooLarge {
        /// Which kind of file.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The key does not pass the DSA checks (wrong group parameters, sizes other than
    /// 1024/160, a private value that does not match the public one or is out of range).
    #[error("the key of {account} is not a usable OTR DSA key: {reason}")]
    InvalidKey {
        /// Whose key.
        account: String,
        /// The failed check.
        reason: IdentityError,
    },
    /// No entry of the file belongs to the account.
    #[error("the file has no entry for {wanted} (it has: {})", list_or_none(available))]
    NoAccount {
        /// What was looked for.
        wanted: String,
        /// The accounts the file has.
        available: Vec<String>,
    },
    /// Several entries match (accounts that differ only in case or XMPP resource).
    #[error("several accounts in the file match {wanted} ({}): name one exactly", matches.join(", "))]
    AmbiguousAccount {
        /// What was looked for.
        wanted: String,
        /// The matching accounts.
        matches: Vec<String>,
    },
    /// The client already has another OTR key; importing would replace the key its OTR
    /// contacts know, so it must be asked for.
    #[error("the client already has another OTR key ({}); ask to replace it", human_fingerprint(existing))]
    KeyExists {
        /// The current key's fingerprint.
        existing: Fingerprint,
    },
    /// An instance tag can only be imported before the client has talked to anyone.
    #[error("the instance tag can only be imported into a client that has no conversations yet")]
    InUse,
    /// There is no OTR key to export.
    #[error("the client has no OTR key yet")]
    NoKey,
    /// A name cannot be written in the file's format.
    #[error("cannot write the {what}: a name {reason}")]
    Unwritable {
        /// Which kind of file.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Reading or writing the file failed.
    #[error("cannot {operation} {path}: {message}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: String,
        /// The OS error's kind.
        kind: std::io::ErrorKind,
        /// The OS error.
        message: String,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
