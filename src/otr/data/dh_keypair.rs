//! A Diffie-Hellman key pair in the OTR group: a 320-bit secret exponent (libotr draws 40
//! random bytes) and its public value g^x. The AKE's key pair becomes keyid 1 of the data
//! path; each rotation makes a new one.

use zeroize::Zeroizing;

use crate::crypto::{RandomError, RandomSource};
use crate::otr::group::{Element, Exponent};

/// Bits in an OTR DH secret.
pub const DH_SECRET_BITS: u32 = 320;

/// A DH key pair. The secret is wiped on drop and never printed.
#[derive(Clone)]
pub struct DhKeyPair {
    secret: Exponent,
    public: Element,
    /// A shared secret already computed with one peer value (the AKE's): the data path's first
    /// key pair is this key with that same value, and recomputing it is a 1536-bit
    /// exponentiation. Boxed: most key pairs never hold one.
    kept: Option<Box<KeptSecret>>,
}

/// A shared secret and the peer value it is with (both wiped or public as their types say).
#[derive(Clone)]
struct KeptSecret {
    their_public: Element,
    secbytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

impl DhKeyPair {
    /// A fresh key pair: 40 random bytes as the secret, as libotr draws them.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<DhKeyPair, RandomError> {
        Ok(DhKeyPair::from_secret(Exponent::random(DH_SECRET_BITS, rng)?))
    }

    /// The key pair of a given secret (a stored one, or a test vector's).
    pub fn from_secret(secret: Exponent) -> DhKeyPair {
        let public = secret.public(DH_SECRET_BITS);
        DhKeyPair { secret, public, kept: None }
    }

    /// Our public value.
    pub fn public(&self) -> &Element {
        &self.public
    }

    /// The shared secret with `their_public`, encoded as OTR hashes it: `secbytes` =
    /// MPI(g^xy), minimal (4 + 191 bytes about one time in 256). Wiped on drop.
    pub fn shared_secbytes(&self, their_public: &Element) -> Zeroizing<Vec<u8>> {
        if let Some(kept) = self.kept.as_ref().filter(|kept| kept.their_public == *their_public) {
            return kept.secbytes.clone();
        }
        let shared = Zeroizing::new(their_public.pow(&self.secret, DH_SECRET_BITS));
        let magnitude = Zeroizing::new(shared.to_minimal_bytes());
        let mut secbytes = Zeroizing::new(Vec::with_capacity(4 + magnitude.len()));
        // A group element is at most 192 bytes: the length always fits.
        secbytes.extend_from_slice(&u32::try_from(magnitude.len()).unwrap_or(u32::MAX).to_be_bytes());
        secbytes.extend_from_slice(&magnitude);
        secbytes
    }

    /// This key pair holding `secbytes`, the shared secret it has with `their_public` (what
    /// [`DhKeyPair::shared_secbytes`] returned for it), so that asking again costs nothing.
    pub(crate) fn with_kept_secret(&self, their_public: &Element, secbytes: &Zeroizing<Vec<u8>>) -> DhKeyPair {
        let kept = KeptSecret { their_public: their_public.clone(), secbytes: secbytes.clone() };
        DhKeyPair { secret: self.secret.clone(), public: self.public.clone(), kept: Some(Box::new(kept)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;

    #[test]
    fn a_kept_secret_is_the_computed_one_and_only_for_its_peer_value() {
        let mut rng = DeterministicRandom::from_label("kept dh");
        let (a, b, c) = (
            DhKeyPair::generate(&mut rng).unwrap(),
            DhKeyPair::generate(&mut rng).unwrap(),
            DhKeyPair::generate(&mut rng).unwrap(),
        );
        let with_b = a.shared_secbytes(b.public());
        let keeping = a.with_kept_secret(b.public(), &with_b);
        assert_eq!(*keeping.shared_secbytes(b.public()), *with_b);
        assert_eq!(*keeping.shared_secbytes(c.public()), *a.shared_secbytes(c.public()));
        assert_eq!(*keeping.shared_secbytes(c.public()), *c.shared_secbytes(a.public()), "computed, not the kept one");
        assert_eq!(keeping.public(), a.public());
    }

    #[test]
    fn both_ends_agree_and_secbytes_is_an_mpi() {
        let mut rng = DeterministicRandom::from_label("dh");
        let a = DhKeyPair::generate(&mut rng).unwrap();
        let b = DhKeyPair::generate(&mut rng).unwrap();
        let s = a.shared_secbytes(b.public());
        assert_eq!(*s, *b.shared_secbytes(a.public()));
        let len = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
        assert_eq!(len, s.len() - 4);
        assert_ne!(s[4], 0, "minimal");
        assert!(!format!("{a:?}").contains("secret"));
    }
}
