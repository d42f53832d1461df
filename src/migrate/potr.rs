//! python-potr's key file, `<account>.key3` (weechat-otr's `~/.weechat/otr/nick@server.key3`,
//! the Gajim plugin's `<jid>.key3`): potr's `serializePrivateKey`, the key type as a SHORT
//! (`00 00`, DSA) and then p, q, g, y and x as OTR MPIs (4-byte length, minimal big-endian
//! magnitude). One key per file; the account is in the file's name. The trust file beside it,
//! `<account>.fpr`, has libotr's fingerprints layout (`super::fingerprints`).
//!
//! potr ignores bytes after the five MPIs and reads a cut MPI short; we refuse both.

use zeroize::Zeroizing;

use crate::otr::identity::{DsaIdentity, PUBKEY_TYPE_DSA};
use crate::otr::mpi;
use crate::wire::{Reader, Writer};

use super::MigrateError;

/// Largest key file read: five MPIs of at most `mpi::MAX_MPI_LEN` bytes.
pub const MAX_KEY3_LEN: usize = 2 + 5 * (4 + mpi::MAX_MPI_LEN);

const WHAT: &str = "potr key file";

fn malformed(detail: impl Into<String>) -> MigrateError {
    MigrateError::Malformed { what: WHAT, detail: detail.into() }
}

/// Reads a `.key3` file, with every DSA check.
pub fn read_key3(bytes: &[u8]) -> Result<DsaIdentity, MigrateError> {
    if bytes.len() > MAX_KEY3_LEN {
        return Err(MigrateError::TooLarge { what: WHAT, limit: MAX_KEY3_LEN });
    }
    let mut reader = Reader::new(bytes);
    let key_type = reader.u16().map_err(|_| malformed("shorter than a key type"))?;
    if key_type != PUBKEY_TYPE_DSA {
        return Err(malformed(format!("key type {key_type} is not DSA (0)")));
    }
    let mut values: [&[u8]; 5] = [&[]; 5];
    for (value, name) in values.iter_mut().zip(["p", "q", "g", "y", "x"]) {
        *value = mpi::read(&mut reader).map_err(|e| malformed(format!("value {name}: {e}")))?;
    }
    if reader.remaining() != 0 {
        return Err(malformed(format!("{} bytes after the key", reader.remaining())));
    }
    let [p, q, g, y, x] = values;
    DsaIdentity::from_components(p, q, g, y, x)
        .map_err(|reason| MigrateError::InvalidKey { account: "the potr key".to_owned(), reason })
}

/// The `.key3` bytes of `identity` (what potr's `serializePrivateKey` writes).
pub fn write_key3(identity: &DsaIdentity) -> Zeroizing<Vec<u8>> {
    let parts = identity.components();
    let mut w = Writer::with_capacity(2 + 5 * 4 + 3 * parts.p.len() + 2 * parts.q.len());
    w.u16(PUBKEY_TYPE_DSA);
    for value in [&parts.p[..], &parts.q, &parts.g, &parts.y, &parts.x] {
        mpi::write(&mut w, value);
    }
    w.into_zeroizing()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::libotr_key::read_key_file;

    fn alice() -> DsaIdentity {
        let file = include_bytes!("../../tests/migrate/fixtures/otr.private_key");
        read_key_file(file).unwrap()[1].identity().unwrap()
    }

    #[test]
    fn round_trip_and_layout() {
        let identity = alice();
        let bytes = write_key3(&identity);
        assert_eq!(&bytes[..2], &[0, 0]);
        let back = read_key3(&bytes).unwrap();
        assert_eq!(back.fingerprint(), identity.fingerprint());
        // The layout after the type is exactly the stored form's five MPIs.
        assert_eq!(&bytes[2..], &identity.to_stored()[..]);
    }

    #[test]
    fn refusals() {
        let bytes = write_key3(&alice());
        let error = |b: &[u8]| read_key3(b).unwrap_err();
        assert!(matches!(error(&[0, 1]), MigrateError::Malformed { .. }));
        assert!(matches!(error(&[]), MigrateError::Malformed { .. }));
        assert!(matches!(error(&[&bytes[..], &[0]].concat()), MigrateError::Malformed { .. }));
        for cut in 0..bytes.len() {
            assert!(read_key3(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(error(&flipped), MigrateError::InvalidKey { .. }));
        assert!(matches!(error(&vec![0; MAX_KEY3_LEN + 1]), MigrateError::TooLarge { .. }));
        // The cap is the largest file shaped as a key: five values of the longest length read.
        let mut largest = Writer::with_capacity(MAX_KEY3_LEN);
        largest.u16(PUBKEY_TYPE_DSA);
        for _ in 0..5 {
            mpi::write(&mut largest, &[0x80; mpi::MAX_MPI_LEN]);
        }
        let largest = largest.into_zeroizing();
        assert_eq!(largest.len(), MAX_KEY3_LEN);
        assert!(matches!(error(&largest), MigrateError::InvalidKey { .. }), "read whole, then checked as DSA");
        assert!(matches!(error(&[&largest[..], &[0]].concat()), MigrateError::TooLarge { .. }));
    }
}
