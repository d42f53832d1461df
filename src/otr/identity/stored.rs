//! The stored form of an OTR DSA identity: p, q, g, y and x as five MPIs (the same fields
//! python-potr writes after its key type, without that type). Read back through
//! [`DsaIdentity::from_components`], so a damaged or mismatched key is refused, never used.

use zeroize::Zeroizing;

use super::{DsaIdentity, IdentityError};
use crate::otr::mpi;
use crate::wire::{Reader, Writer};

impl DsaIdentity {
    /// The key as five MPIs (p, q, g, y, x). Holds the secret: wiped on drop.
    pub fn to_stored(&self) -> Zeroizing<Vec<u8>> {
        let parts = self.components();
        let mut w = Writer::with_capacity(5 * 4 + parts.p.len() * 3 + parts.q.len() * 2);
        for value in [&parts.p[..], &parts.q, &parts.g, &parts.y, &parts.x] {
            mpi::write(&mut w, value);
        }
        w.into_zeroizing()
    }

    /// Reads [`DsaIdentity::to_stored`]'s form; every DSA check of `from_components` applies.
    pub fn from_stored(bytes: &[u8]) -> Result<DsaIdentity, IdentityError> {
        let mut r = Reader::new(bytes);
        let p = mpi::read(&mut r)?;
        let q = mpi::read(&mut r)?;
        let g = mpi::read(&mut r)?;
        let y = mpi::read(&mut r)?;
        let x = Zeroizing::new(mpi::read(&mut r)?.to_vec());
        r.finish()?;
        DsaIdentity::from_components(p, q, g, y, &x)
    }
}
