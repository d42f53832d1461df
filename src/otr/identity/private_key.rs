//! Our own DSA identity: the key pair that signs our side of every OTR AKE. Generated (slowly,
//! 0.1–0.3 s: an explicit call the application makes off its UI thread) or imported from
//! components (libotr's `otr.private_key`, potr's `.key3`), with every parameter checked.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::BoxedUint;
use dsa::signature::hazmat::PrehashSigner;
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::RandomSource;

use super::public_key::DsaPublicKey;
use super::rng_adapter::SourceRng;
use super::scalar::{self, Q_PRECISION};
use super::{Fingerprint, IdentityError, SIGNATURE_LEN};

/// How many parameter sets generation draws before giving up. The crate's p may fall a bit
/// short of 1024 bits; one draw in a few is refused, never dozens in a row.
const MAX_GENERATION_ATTEMPTS: usize = 16;

/// A DSA-1024/160 key pair. The private value is wiped on drop (the `dsa` crate keeps it in a
/// zeroizing box) and never printed.
#[derive(Clone)]
pub struct DsaIdentity {
    signing_key: dsa::SigningKey,
    public: DsaPublicKey,
}

/// p, q, g, y, x as minimal big-endian bytes, for storage and export. `x` is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct DsaComponents {
    /// The prime modulus (1024 bits).
    pub p: Vec<u8>,
    /// The subgroup order (160 bits).
    pub q: Vec<u8>,
    /// The subgroup generator.
    pub g: Vec<u8>,
    /// The public value.
    pub y: Vec<u8>,
    /// The private value.
    pub x: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for DsaComponents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsaComponents").field("y_len", &self.y.len()).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DsaIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsaIdentity").field("public", &self.public).finish_non_exhaustive()
    }
}

impl DsaIdentity {
    /// Generates a fresh key pair with new parameters (as libgcrypt does for libotr).
    /// Slow: 0.1–0.3 s in a release build.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<DsaIdentity, IdentityError> {
        for _ in 0..MAX_GENERATION_ATTEMPTS {
            let mut source = SourceRng::new(rng);
            #[allow(deprecated)] // DSA-1024 is what OTR v3 defines; the crate marks it legacy.
            let size = dsa::KeySize::DSA_1024_160;
            let Ok(components) = dsa::Components::try_generate_from_rng_with_key_size(&mut source, size);
            let Ok(signing_key) = dsa::SigningKey::try_generate_from_rng_with_components(&mut source, components);
            if source.failed() {
                return Err(IdentityError::Random);
            }
            // Re-check through the import path: the same invariants for every identity.
            let verifying = signing_key.verifying_key();
            let candidate = DsaComponents {
                p: scalar::to_minimal(verifying.components().p()),
                q: scalar::to_minimal(verifying.components().q()),
                g: scalar::to_minimal(verifying.components().g()),
                y: scalar::to_minimal(verifying.y()),
                x: minimal_secret(signing_key.x()),
            };
            if let Ok(identity) =
                DsaIdentity::from_components(&candidate.p, &candidate.q, &candidate.g, &candidate.y, &candidate.x)
            {
                return Ok(identity);
            }
        }
        Err(IdentityError::BadParameters)
    }

    /// A key pair from its values (big-endian, leading zeros allowed: gcrypt writes a sign
    /// byte). Checks sizes 1024/160, q | p-1, 1 < g < p, g and y of order q, 0 < x < q and
    /// y = g^x mod p.
    pub fn from_components(p: &[u8], q: &[u8], g: &[u8], y: &[u8], x: &[u8]) -> Result<DsaIdentity, IdentityError> {
        let public = DsaPublicKey::from_components(p, q, g, y)?;
        let x = Zeroizing::new(scalar::to_uint(x, Q_PRECISION).ok_or(IdentityError::KeyMismatch)?);
        let verifying = public.verifying_key().clone();
        let components = verifying.components();
        let params = BoxedMontyParams::new(components.p().clone());
        let g: BoxedUint = (**components.g()).clone();
        let mut computed_y = BoxedMontyForm::new(g, &params).pow(&x).retrieve();
        let matches = computed_y == **verifying.y();
        computed_y.zeroize();
        if !matches {
            return Err(IdentityError::KeyMismatch);
        }
        // The crate refuses x = 0 and x >= q.
        let signing_key =
            dsa::SigningKey::from_components(verifying, (*x).clone()).map_err(|_| IdentityError::KeyMismatch)?;
        Ok(DsaIdentity { signing_key, public })
    }

    /// The values, for storage and export.
    pub fn components(&self) -> DsaComponents {
        let public = self.public.components();
        DsaComponents { p: public.p, q: public.q, g: public.g, y: public.y, x: minimal_secret(self.signing_key.x()) }
    }

    /// Our public key.
    pub fn public_key(&self) -> &DsaPublicKey {
        &self.public
    }

    /// Our fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.public.fingerprint()
    }

    /// Signs the 32-byte value `m` as libotr does: the integer `m mod q` is signed (RFC 6979
    /// deterministic k), and r and s are written as 20 bytes each.
    pub fn sign(&self, m: &[u8; 32]) -> Result<[u8; SIGNATURE_LEN], IdentityError> {
        let q = self.signing_key.verifying_key().components().q();
        let mut z = scalar::reduce_mod_q(m, q).ok_or(IdentityError::SigningFailed)?;
        let signature = self.signing_key.sign_prehash(&z).map_err(|_| IdentityError::SigningFailed);
        z.zeroize();
        let signature = signature?;
        let r = scalar::to_q_width(signature.r()).ok_or(IdentityError::SigningFailed)?;
        let s = scalar::to_q_width(signature.s()).ok_or(IdentityError::SigningFailed)?;
        let mut out = [0u8; SIGNATURE_LEN];
        let (r_out, s_out) = out.split_at_mut(r.len());
        r_out.copy_from_slice(&r);
        s_out.copy_from_slice(&s);
        Ok(out)
    }
}

/// The private value's minimal bytes, in wiped buffers.
fn minimal_secret(x: &BoxedUint) -> Zeroizing<Vec<u8>> {
    let mut bytes = x.to_be_bytes();
    let minimal = Zeroizing::new(scalar::strip_leading_zeros(&bytes).to_vec());
    bytes.zeroize();
    minimal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;

    /// A libotr 4.1.1 key (generated once with `otrl_privkey_generate`), so unit tests do not
    /// pay for key generation.
    pub(crate) fn libotr_key() -> DsaIdentity {
        let hex = |s: &str| hex_bytes(s);
        DsaIdentity::from_components(&hex(P), &hex(Q), &hex(G), &hex(Y), &hex(X)).unwrap()
    }

    #[test]
    fn public_keys_are_equal_only_to_themselves() {
        let key = libotr_key();
        let same = libotr_key();
        assert_eq!(key.public_key(), same.public_key());
        let mut rng = DeterministicRandom::from_label("another dsa key");
        let other = DsaIdentity::generate(&mut rng).unwrap();
        assert_ne!(key.public_key(), other.public_key());
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    const P: &str = concat!(
        "00C4A816972EB03D312679BAB5D62211A2170B7F87A43AEEA62EC5FFE49B001B4DF4D56FA28099335AFFBE3EEC92ABEF",
        "CD938FAFF2C7180C801CCB7D2B78482C7040AF81F5F4A9DFCF9F41263A6860FC456B516AED8ADA3ACCA1483D69B18B8D",
        "08B8C71823D40312ADA56B9A57A36D1BA31FA02D0770CA641D2108940EE8655493",
    );
    const Q: &str = "00A16FD9FBC19CBCCAD32B31A67DFF8D1A2060290D";
    const G: &str = concat!(
        "0C70A1DDFFA8F1FBCCDB21B9A00696474F52877FE870C88D2034A240802207C3DDF3A35ED1954169396A9BF532BCF6C4",
        "B51E5EAAABA98AF7077BC3B1BF82711410E75CD718A05D40577E404E1B3B6286373F7A6007863DA4335BAE3581FAAE75",
        "2516EC0FC3F41F919023C2FC87F358DC22DB453A1424A28BF1E362B3F4A19A6C",
    );
    const Y: &str = concat!(
        "0088E5C8CD76F2F182648244A5603EE92CCB45A1103E1CF49EFE4235FD4FD80CF9CDB52A39BC027A24764BB06A5761B9",
        "BE92AC927FD4E2D9322171870D9F9C028D0BA118B3FB50D11C9D11DE0C5BDD591A7676A7044E319CB9423A769A0384EF",
        "0790B8550C331BE5945C80C0C864916F427F61A3828C991C08A95F7B0BAFA5F96A",
    );
    const X: &str = "009D3D8C71461D9D0B11C17E4612F4A020B1C78E14";

    #[test]
    fn fingerprint_matches_libotr() {
        // otrl_privkey_fingerprint for this key.
        assert_eq!(
            super::super::human_fingerprint(&libotr_key().fingerprint()),
            "39384623 F69E8A08 E9113F83 018E72CA 1D69EFF6"
        );
    }

    #[test]
    fn sign_verify_and_refuse_tampering() {
        let identity = libotr_key();
        let m = [0x5A; 32];
        let signature = identity.sign(&m).unwrap();
        identity.public_key().verify(&m, &signature).unwrap();
        let mut other = m;
        other[0] ^= 1;
        assert_eq!(identity.public_key().verify(&other, &signature), Err(IdentityError::BadSignature));
        let mut bad = signature;
        bad[39] ^= 1;
        assert_eq!(identity.public_key().verify(&m, &bad), Err(IdentityError::BadSignature));
        assert_eq!(identity.public_key().verify(&m, &signature[..39]), Err(IdentityError::BadSignature));
    }

    #[test]
    fn the_fast_verification_agrees_with_the_dsa_crate() {
        let identity = libotr_key();
        let key = identity.public_key();
        let q = hex_bytes(Q);
        let q = q.strip_prefix(&[0]).unwrap_or(&q);
        let agree = |m: &[u8; 32], signature: &[u8]| {
            let fast = key.verify(m, signature);
            assert_eq!(fast, key.verify_with_dsa_crate(m, signature), "m {m:02x?} signature {signature:02x?}");
            fast.is_ok()
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..64 {
            let mut m = [0u8; 32];
            m.iter_mut().for_each(|b| *b = next() as u8);
            if round == 0 {
                m = [0xFF; 32]; // above q: reduced before signing and verifying
            }
            let signature = identity.sign(&m).unwrap();
            assert!(agree(&m, &signature), "a real signature verifies");
            let mut tampered = signature;
            tampered[(next() % 40) as usize] ^= 1 << (next() % 8);
            assert!(!agree(&m, &tampered));
            let mut other = m;
            other[(next() % 32) as usize] ^= 1;
            assert!(!agree(&other, &signature));
            let mut random = [0u8; 40];
            random.iter_mut().for_each(|b| *b = next() as u8);
            assert!(!agree(&m, &random));
        }
        // Out-of-range r and s: 0, q, q + 1, all ones; and wrong lengths.
        let signature = identity.sign(&[7; 32]).unwrap();
        let mut q_plus_one = q.to_vec();
        *q_plus_one.last_mut().unwrap() += 1;
        for bad in [vec![0u8; 20], q.to_vec(), q_plus_one, vec![0xFF; 20]] {
            let mut with_r = bad.clone();
            with_r.extend_from_slice(&signature[20..]);
            assert!(!agree(&[7; 32], &with_r));
            let mut with_s = signature[..20].to_vec();
            with_s.extend_from_slice(&bad);
            assert!(!agree(&[7; 32], &with_s));
        }
        assert!(!agree(&[7; 32], &signature[..39]));
        let mut long = signature.to_vec();
        long.push(0);
        assert!(!agree(&[7; 32], &long));
    }

    #[test]
    fn a_remembered_key_is_the_validated_one_and_bad_keys_are_never_remembered() {
        let identity = libotr_key();
        let c = identity.public_key().components();
        let signature = identity.sign(&[3; 32]).unwrap();
        for _ in 0..3 {
            let key = DsaPublicKey::from_components(&c.p, &c.q, &c.g, &c.y).unwrap();
            assert_eq!(key.to_bytes(), identity.public_key().to_bytes());
            assert_eq!(key.verify(&[3; 32], &signature), Ok(()));
            assert_eq!(key.verify(&[4; 32], &signature), Err(IdentityError::BadSignature));
        }
        let mut y = c.y.clone();
        *y.last_mut().unwrap() ^= 2; // y no longer of order q
        for _ in 0..3 {
            assert_eq!(DsaPublicKey::from_components(&c.p, &c.q, &c.g, &y).unwrap_err(), IdentityError::BadParameters);
        }
    }

    #[test]
    fn components_round_trip_and_mismatches_are_refused() {
        let identity = libotr_key();
        let c = identity.components();
        let again = DsaIdentity::from_components(&c.p, &c.q, &c.g, &c.y, &c.x).unwrap();
        assert_eq!(again.fingerprint(), identity.fingerprint());
        let mut x = c.x.to_vec();
        *x.last_mut().unwrap() ^= 1;
        assert_eq!(DsaIdentity::from_components(&c.p, &c.q, &c.g, &c.y, &x).unwrap_err(), IdentityError::KeyMismatch);
        assert_eq!(DsaIdentity::from_components(&c.p, &c.q, &c.g, &c.y, &[0]).unwrap_err(), IdentityError::KeyMismatch);
        assert_eq!(DsaIdentity::from_components(&c.p, &c.q, &c.g, &c.y, &c.q).unwrap_err(), IdentityError::KeyMismatch);
        let mut gsign = vec![0u8];
        gsign.extend_from_slice(&c.g);
        assert!(DsaIdentity::from_components(&c.p, &c.q, &gsign, &c.y, &c.x).is_ok(), "sign byte accepted");
        assert_eq!(
            DsaIdentity::from_components(&c.p, &c.q, &[1], &c.y, &c.x).unwrap_err(),
            IdentityError::BadParameters
        );
        assert!(!format!("{identity:?}{c:?}").contains(&format!("{:02x}", c.x[0]).repeat(2)));
    }

    #[test]
    fn generate_makes_a_valid_key() {
        let mut rng = DeterministicRandom::from_label("dsa keygen");
        let identity = DsaIdentity::generate(&mut rng).unwrap();
        let c = identity.components();
        assert_eq!(c.p.len(), 128);
        assert_eq!(c.q.len(), 20);
        let m = [7u8; 32];
        identity.public_key().verify(&m, &identity.sign(&m).unwrap()).unwrap();
    }
}
