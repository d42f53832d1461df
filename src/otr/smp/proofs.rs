//! The three Fiat–Shamir proofs of OTR's SMP, as libotr 4.1.1 computes them (`src/sm.c`).
//!
//! Every challenge hashes only the commitments, with a one-byte version in front:
//!
//! ```text
//! c = SHA-256(version ‖ MPI(a) [‖ MPI(b)])   read as a 256-bit big-endian integer
//! ```
//!
//! (OTR v3's known weakness, kept for compatibility: neither the statement nor the session is
//! hashed; offrec's modern SMP fixed this.) Responses are `d = r - secret·c mod q`
//! ([`Exponent::response`]); a verifier recomputes the commitments from `(c, d)` and the
//! statement and accepts iff the hash equals `c`.
//!
//! | proof | statement | commitments hashed |
//! |---|---|---|
//! | [`LogProof`] (`X = g^a`) | `X` | `g^r` |
//! | [`CoordsProof`] (`P = g3^r`, `Q = g^r g2^x`) | `g2, g3, P, Q` | `g3^r1`, `g^r1 g2^r2` |
//! | [`EqualLogsProof`] (`G3o = g^x3`, `R = Qab^x3`) | `G3o, Qab, R` | `g^r`, `Qab^r` |
//!
//! Fresh randomness is 1536 bits, unreduced, as libotr draws it ([`RANDOM_BITS`]).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::OtrSmpError;
use crate::crypto::random::RandomSource;
use crate::otr::group::{Element, Exponent};
use crate::otr::mpi;

/// Version byte of Alice's proof of knowledge of `a2` (SMP1).
pub const VERSION_G2A: u8 = 1;
/// Version byte of Alice's proof of knowledge of `a3` (SMP1).
pub const VERSION_G3A: u8 = 2;
/// Version byte of Bob's proof of knowledge of `b2` (SMP2).
pub const VERSION_G2B: u8 = 3;
/// Version byte of Bob's proof of knowledge of `b3` (SMP2).
pub const VERSION_G3B: u8 = 4;
/// Version byte of Bob's proof that `Pb, Qb` are well formed (SMP2).
pub const VERSION_PQ_B: u8 = 5;
/// Version byte of Alice's proof that `Pa, Qa` are well formed (SMP3).
pub const VERSION_PQ_A: u8 = 6;
/// Version byte of Alice's proof for `Ra` (SMP3).
pub const VERSION_R_A: u8 = 7;
/// Version byte of Bob's proof for `Rb` (SMP4).
pub const VERSION_R_B: u8 = 8;

/// Bits of every random exponent (libotr: 192 random bytes, not reduced).
pub const RANDOM_BITS: u32 = 1536;
/// Bits of a challenge (one SHA-256 digest).
pub const CHALLENGE_BITS: u32 = 256;
/// Bits bounding a response `d`, which is below q.
pub const RESPONSE_BITS: u32 = 1536;

/// A proof's challenge: a SHA-256 digest, read as a big-endian integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge([u8; 32]);

impl Challenge {
    /// `SHA-256(version ‖ MPI(a) [‖ MPI(b)])`.
    pub fn hash(version: u8, a: &Element, b: Option<&Element>) -> Challenge {
        let mut hasher = Sha256::new();
        hasher.update([version]);
        hasher.update(mpi::encode(&a.to_minimal_bytes()));
        if let Some(b) = b {
            hasher.update(mpi::encode(&b.to_minimal_bytes()));
        }
        Challenge(hasher.finalize().into())
    }

    /// A received challenge (an MPI's magnitude, leading zeros allowed). `None` if the integer
    /// is longer than 256 bits: no digest can equal it, so its proof fails.
    pub fn from_wire(bytes: &[u8]) -> Option<Challenge> {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let magnitude = bytes.get(first..)?;
        let start = 32usize.checked_sub(magnitude.len())?;
        let mut out = [0u8; 32];
        out.get_mut(start..)?.copy_from_slice(magnitude);
        Some(Challenge(out))
    }

    /// Minimal big-endian bytes, as the MPI carries them.
    pub fn to_minimal_bytes(&self) -> Vec<u8> {
        let first = self.0.iter().position(|&b| b != 0).unwrap_or(self.0.len());
        self.0.get(first..).unwrap_or_default().to_vec()
    }

    /// The challenge as an exponent (32 bytes always fit, so this does not fail in practice).
    fn exponent(&self) -> Result<Exponent, OtrSmpError> {
        Ok(Exponent::from_be_bytes(&self.0)?)
    }

    fn matches(&self, recomputed: &Challenge) -> bool {
        bool::from(self.0.ct_eq(&recomputed.0))
    }
}

fn check(version: u8, c: &Challenge, recomputed: &Challenge) -> Result<(), OtrSmpError> {
    if c.matches(recomputed) {
        Ok(())
    } else {
        Err(OtrSmpError::ProofFailed { version })
    }
}

/// `g^d · x^c`: a commitment recomputed from a response and a challenge.
fn recommit(base: &Element, d: &Exponent, x: &Element, c: &Challenge) -> Result<Element, OtrSmpError> {
    Ok(base.pow(d, RESPONSE_BITS).mul(&x.pow(&c.exponent()?, CHALLENGE_BITS)))
}

/// Proof of knowledge of `a` with `X = g^a`.
#[derive(Debug, Clone)]
pub struct LogProof {
    /// The challenge.
    pub c: Challenge,
    /// The response `r - a c mod q`.
    pub d: Exponent,
}

impl LogProof {
    /// Proves knowledge of `secret` (the statement is `g^secret`).
    pub fn prove(version: u8, secret: &Exponent, rng: &mut dyn RandomSource) -> Result<LogProof, OtrSmpError> {
        let r = Exponent::random(RANDOM_BITS, rng)?;
        let c = Challenge::hash(version, &r.public(RANDOM_BITS), None);
        let d = r.response(secret, &c.exponent()?);
        Ok(LogProof { c, d })
    }

    /// Checks `c = H(version, g^d X^c)`.
    pub fn verify(&self, version: u8, public: &Element) -> Result<(), OtrSmpError> {
        let commitment = recommit(&Element::generator(), &self.d, public, &self.c)?;
        check(version, &self.c, &Challenge::hash(version, &commitment, None))
    }
}

/// Proof that `P = g3^r` and `Q = g^r g2^x` for the same `r` and some `x`.
#[derive(Debug, Clone)]
pub struct CoordsProof {
    /// The challenge.
    pub c: Challenge,
    /// `r1 - r c mod q`.
    pub d1: Exponent,
    /// `r2 - x c mod q`.
    pub d2: Exponent,
}

/// The group elements a [`CoordsProof`] speaks about.
#[derive(Debug, Clone, Copy)]
pub struct CoordsStatement<'a> {
    /// The run's shared `g2`.
    pub g2: &'a Element,
    /// The run's shared `g3`.
    pub g3: &'a Element,
    /// `P = g3^r`.
    pub p: &'a Element,
    /// `Q = g^r g2^x`.
    pub q: &'a Element,
}

impl CoordsProof {
    /// Proves the statement for exponent `r` and secret `x`.
    pub fn prove(
        version: u8,
        g2: &Element,
        g3: &Element,
        r: &Exponent,
        x: &Exponent,
        rng: &mut dyn RandomSource,
    ) -> Result<CoordsProof, OtrSmpError> {
        let r1 = Exponent::random(RANDOM_BITS, rng)?;
        let r2 = Exponent::random(RANDOM_BITS, rng)?;
        let t1 = g3.pow(&r1, RANDOM_BITS);
        let t2 = r1.public(RANDOM_BITS).mul(&g2.pow(&r2, RANDOM_BITS));
        let c = Challenge::hash(version, &t1, Some(&t2));
        let ce = c.exponent()?;
        Ok(CoordsProof { d1: r1.response(r, &ce), d2: r2.response(x, &ce), c })
    }

    /// Checks `c = H(version, g3^d1 P^c, g^d1 g2^d2 Q^c)`.
    pub fn verify(&self, version: u8, st: CoordsStatement<'_>) -> Result<(), OtrSmpError> {
        let t1 = recommit(st.g3, &self.d1, st.p, &self.c)?;
        let t2 = recommit(&Element::generator(), &self.d1, st.q, &self.c)?.mul(&st.g2.pow(&self.d2, RESPONSE_BITS));
        check(version, &self.c, &Challenge::hash(version, &t1, Some(&t2)))
    }
}

/// Proof that `log_g G3o = log_Qab R` (the same `x3` raised both).
#[derive(Debug, Clone)]
pub struct EqualLogsProof {
    /// The challenge.
    pub c: Challenge,
    /// `r - x3 c mod q`.
    pub d: Exponent,
}

/// The group elements an [`EqualLogsProof`] speaks about.
#[derive(Debug, Clone, Copy)]
pub struct EqualLogsStatement<'a> {
    /// `g^x3`, the prover's SMP1/SMP2 value `g3a` or `g3b`.
    pub g3o: &'a Element,
    /// `Qa / Qb`.
    pub qab: &'a Element,
    /// `R = Qab^x3`.
    pub r: &'a Element,
}

impl EqualLogsProof {
    /// Proves `R = qab^x3` for the `x3` behind `g^x3`.
    pub fn prove(
        version: u8,
        qab: &Element,
        x3: &Exponent,
        rng: &mut dyn RandomSource,
    ) -> Result<EqualLogsProof, OtrSmpError> {
        let r = Exponent::random(RANDOM_BITS, rng)?;
        let c = Challenge::hash(version, &r.public(RANDOM_BITS), Some(&qab.pow(&r, RANDOM_BITS)));
        let d = r.response(x3, &c.exponent()?);
        Ok(EqualLogsProof { c, d })
    }

    /// Checks `c = H(version, g^d G3o^c, Qab^d R^c)`.
    pub fn verify(&self, version: u8, st: EqualLogsStatement<'_>) -> Result<(), OtrSmpError> {
        let t1 = recommit(&Element::generator(), &self.d, st.g3o, &self.c)?;
        let t2 = recommit(st.qab, &self.d, st.r, &self.c)?;
        check(version, &self.c, &Challenge::hash(version, &t1, Some(&t2)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random::DeterministicRandom;

    fn rng() -> DeterministicRandom {
        DeterministicRandom::from_label("otr smp proofs")
    }

    #[test]
    fn challenge_wire_form_compares_as_an_integer() {
        let c = Challenge::hash(1, &Element::generator(), None);
        let minimal = c.to_minimal_bytes();
        let mut padded = vec![0, 0, 0];
        padded.extend_from_slice(&minimal);
        assert_eq!(Challenge::from_wire(&padded), Some(c.clone()));
        let mut long = vec![1u8];
        long.extend_from_slice(&[0u8; 32]);
        assert_eq!(Challenge::from_wire(&long), None);
        assert_eq!(Challenge::from_wire(&[]), Some(Challenge([0; 32])));
    }

    #[test]
    fn log_proof_verifies_and_binds_version_and_statement() {
        let mut rng = rng();
        let a = Exponent::random(RANDOM_BITS, &mut rng).unwrap();
        let x = a.public(RANDOM_BITS);
        let proof = LogProof::prove(VERSION_G2A, &a, &mut rng).unwrap();
        proof.verify(VERSION_G2A, &x).unwrap();
        assert_eq!(proof.verify(VERSION_G3A, &x), Err(OtrSmpError::ProofFailed { version: VERSION_G3A }));
        assert!(proof.verify(VERSION_G2A, &x.mul(&Element::generator())).is_err());
    }

    #[test]
    fn coords_and_equal_logs_proofs_verify() {
        let mut rng = rng();
        let e = |rng: &mut DeterministicRandom| Exponent::random(RANDOM_BITS, rng).unwrap();
        let g2 = e(&mut rng).public(RANDOM_BITS);
        let g3 = e(&mut rng).public(RANDOM_BITS);
        let r = e(&mut rng);
        let x = Exponent::from_be_bytes(&[7; 32]).unwrap();
        let p = g3.pow(&r, RANDOM_BITS);
        let q = r.public(RANDOM_BITS).mul(&g2.pow(&x, 256));
        let proof = CoordsProof::prove(VERSION_PQ_B, &g2, &g3, &r, &x, &mut rng).unwrap();
        let st = CoordsStatement { g2: &g2, g3: &g3, p: &p, q: &q };
        proof.verify(VERSION_PQ_B, st).unwrap();
        let st_bad = CoordsStatement { q: &p, ..st };
        assert!(proof.verify(VERSION_PQ_B, st_bad).is_err());

        let x3 = e(&mut rng);
        let g3o = x3.public(RANDOM_BITS);
        let qab = e(&mut rng).public(RANDOM_BITS);
        let rr = qab.pow(&x3, RANDOM_BITS);
        let proof = EqualLogsProof::prove(VERSION_R_A, &qab, &x3, &mut rng).unwrap();
        let st = EqualLogsStatement { g3o: &g3o, qab: &qab, r: &rr };
        proof.verify(VERSION_R_A, st).unwrap();
        assert!(proof.verify(VERSION_R_A, EqualLogsStatement { r: &qab, ..st }).is_err());
    }
}
