//! The three non-interactive (Fiat–Shamir) zero-knowledge proofs of SMP.
//!
//! Every challenge hashes the full transcript of its proof:
//!
//! ```text
//! c = H_s("offrec1 SMP" ‖ ssid(32) ‖ tag(1) ‖ statement points ‖ commitment points)
//! ```
//!
//! with `H_s` = [`hash_to_scalar`] and points in their 32-byte encodings. The tags are OTR's:
//! 1, 2 (Alice's `G2a`, `G3a`), 3, 4 (Bob's `G2b`, `G3b`), 5 (Bob's `Pb, Qb`), 6 (Alice's
//! `Pa, Qa`), 7 (Alice's `Ra`), 8 (Bob's `Rb`).
//!
//! | proof | statement points | commitments |
//! |---|---|---|
//! | [`LogProof`] (`X = G·a`) | `X` | `T = G·r` |
//! | [`CoordsProof`] (`P = G3·r4`, `Q = G·r4 + G2·x`) | `G2, G3, P, Q` | `T1 = G3·r5`, `T2 = G·r5 + G2·r6` |
//! | [`EqualLogsProof`] (`G3x = G·a3`, `R = D·a3`, `D = Qa − Qb`) | `G3x, D, R` | `T1 = G·r7`, `T2 = D·r7` |
//!
//! Responses are `d = r − c·secret`; the verifier recomputes the commitments from `(c, d)` and
//! accepts iff the recomputed challenge equals `c` (compared in constant time).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use subtle::ConstantTimeEq;

use super::error::SmpError;
use super::group::{encode_point, hash_to_scalar, random_scalar, G};
use crate::crypto::random::RandomSource;

/// Domain-separation label of every proof challenge.
pub const CHALLENGE_LABEL: &[u8] = b"offrec1 SMP";

/// Tag of Alice's proof of knowledge of `a2` (SMP1).
pub const TAG_G2A: u8 = 1;
/// Tag of Alice's proof of knowledge of `a3` (SMP1).
pub const TAG_G3A: u8 = 2;
/// Tag of Bob's proof of knowledge of `b2` (SMP2).
pub const TAG_G2B: u8 = 3;
/// Tag of Bob's proof of knowledge of `b3` (SMP2).
pub const TAG_G3B: u8 = 4;
/// Tag of Bob's proof that `Pb, Qb` are well formed (SMP2).
pub const TAG_PQ_B: u8 = 5;
/// Tag of Alice's proof that `Pa, Qa` are well formed (SMP3).
pub const TAG_PQ_A: u8 = 6;
/// Tag of Alice's proof that `log_G G3a = log_(Qa−Qb) Ra` (SMP3).
pub const TAG_R_A: u8 = 7;
/// Tag of Bob's proof that `log_G G3b = log_(Qa−Qb) Rb` (SMP4).
pub const TAG_R_B: u8 = 8;

/// `H_s("offrec1 SMP" ‖ ssid ‖ tag ‖ points…)`.
pub fn challenge(ssid: &[u8; 32], tag: u8, points: &[&RistrettoPoint]) -> Scalar {
    let encoded: Vec<[u8; 32]> = points.iter().map(|p| encode_point(p)).collect();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(points.len() + 3);
    parts.push(CHALLENGE_LABEL);
    parts.push(ssid);
    let tag = [tag];
    parts.push(&tag);
    parts.extend(encoded.iter().map(|e| e.as_slice()));
    hash_to_scalar(&parts)
}

fn check(expected: &Scalar, recomputed: &Scalar, tag: u8) -> Result<(), SmpError> {
    if bool::from(expected.ct_eq(recomputed)) {
        Ok(())
    } else {
        Err(SmpError::ProofFailed { tag })
    }
}

/// Proof of knowledge of `a` with `X = G·a` (Schnorr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogProof {
    /// Challenge.
    pub c: Scalar,
    /// Response `r − c·a`.
    pub d: Scalar,
}

impl LogProof {
    /// Proves knowledge of `a` for `x_point = G·a`.
    pub fn prove(
        ssid: &[u8; 32],
        tag: u8,
        a: &Scalar,
        x_point: &RistrettoPoint,
        rng: &mut dyn RandomSource,
    ) -> Result<Self, SmpError> {
        let r = random_scalar(rng)?;
        let t = RistrettoPoint::mul_base(&r);
        let c = challenge(ssid, tag, &[x_point, &t]);
        Ok(Self { c, d: *r - c * a })
    }

    /// Verifies the proof for `x_point`.
    pub fn verify(&self, ssid: &[u8; 32], tag: u8, x_point: &RistrettoPoint) -> Result<(), SmpError> {
        let t = RistrettoPoint::mul_base(&self.d) + x_point * self.c;
        check(&self.c, &challenge(ssid, tag, &[x_point, &t]), tag)
    }
}

/// The public inputs of a [`CoordsProof`].
#[derive(Debug, Clone, Copy)]
pub struct CoordsStatement<'a> {
    /// Shared generator `G2`.
    pub g2: &'a RistrettoPoint,
    /// Shared generator `G3`.
    pub g3: &'a RistrettoPoint,
    /// `P = G3·r4`.
    pub p: &'a RistrettoPoint,
    /// `Q = G·r4 + G2·x`.
    pub q: &'a RistrettoPoint,
}

/// Proof that `(P, Q)` is well formed: the same `r4` in both and knowledge of `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoordsProof {
    /// Challenge.
    pub c: Scalar,
    /// `r5 − r4·c`.
    pub d5: Scalar,
    /// `r6 − x·c`.
    pub d6: Scalar,
}

impl CoordsProof {
    /// Proves the statement with witnesses `r4` and `x`.
    pub fn prove(
        ssid: &[u8; 32],
        tag: u8,
        st: CoordsStatement<'_>,
        r4: &Scalar,
        x: &Scalar,
        rng: &mut dyn RandomSource,
    ) -> Result<Self, SmpError> {
        let r5 = random_scalar(rng)?;
        let r6 = random_scalar(rng)?;
        let t1 = st.g3 * *r5;
        let t2 = RistrettoPoint::mul_base(&r5) + st.g2 * *r6;
        let c = challenge(ssid, tag, &[st.g2, st.g3, st.p, st.q, &t1, &t2]);
        Ok(Self { c, d5: *r5 - r4 * c, d6: *r6 - x * c })
    }

    /// Verifies the proof.
    pub fn verify(&self, ssid: &[u8; 32], tag: u8, st: CoordsStatement<'_>) -> Result<(), SmpError> {
        let t1 = st.g3 * self.d5 + st.p * self.c;
        let t2 = G * self.d5 + st.g2 * self.d6 + st.q * self.c;
        check(&self.c, &challenge(ssid, tag, &[st.g2, st.g3, st.p, st.q, &t1, &t2]), tag)
    }
}

/// The public inputs of an [`EqualLogsProof`].
#[derive(Debug, Clone, Copy)]
pub struct EqualLogsStatement<'a> {
    /// The prover's `G3a` (Alice) or `G3b` (Bob) = `G·a3`.
    pub g3x: &'a RistrettoPoint,
    /// `D = Qa − Qb`.
    pub d: &'a RistrettoPoint,
    /// `R = D·a3`.
    pub r: &'a RistrettoPoint,
}

/// Proof that `log_G G3x = log_D R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EqualLogsProof {
    /// Challenge.
    pub c: Scalar,
    /// `r7 − a3·c`.
    pub d7: Scalar,
}

impl EqualLogsProof {
    /// Proves the statement with witness `a3`.
    pub fn prove(
        ssid: &[u8; 32],
        tag: u8,
        st: EqualLogsStatement<'_>,
        a3: &Scalar,
        rng: &mut dyn RandomSource,
    ) -> Result<Self, SmpError> {
        let r7 = random_scalar(rng)?;
        let t1 = RistrettoPoint::mul_base(&r7);
        let t2 = st.d * *r7;
        let c = challenge(ssid, tag, &[st.g3x, st.d, st.r, &t1, &t2]);
        Ok(Self { c, d7: *r7 - a3 * c })
    }

    /// Verifies the proof.
    pub fn verify(&self, ssid: &[u8; 32], tag: u8, st: EqualLogsStatement<'_>) -> Result<(), SmpError> {
        let t1 = RistrettoPoint::mul_base(&self.d7) + st.g3x * self.c;
        let t2 = st.d * self.d7 + st.r * self.c;
        check(&self.c, &challenge(ssid, tag, &[st.g3x, st.d, st.r, &t1, &t2]), tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random::DeterministicRandom;

    const SSID: [u8; 32] = [9; 32];

    fn rng() -> DeterministicRandom {
        DeterministicRandom::from_label("proofs")
    }

    #[test]
    fn log_proof_round_trip_and_binding() {
        let mut rng = rng();
        let a = random_scalar(&mut rng).unwrap();
        let x = RistrettoPoint::mul_base(&a);
        let proof = LogProof::prove(&SSID, TAG_G2A, &a, &x, &mut rng).unwrap();
        assert_eq!(proof.verify(&SSID, TAG_G2A, &x), Ok(()));
        assert!(proof.verify(&SSID, TAG_G3A, &x).is_err(), "tag is bound");
        assert!(proof.verify(&[8; 32], TAG_G2A, &x).is_err(), "ssid is bound");
        assert!(proof.verify(&SSID, TAG_G2A, &(x + G)).is_err(), "statement is bound");
    }

    #[test]
    fn coords_proof_round_trip_and_binding() {
        let mut rng = rng();
        let (g2, g3) = (G * *random_scalar(&mut rng).unwrap(), G * *random_scalar(&mut rng).unwrap());
        let (r4, x) = (random_scalar(&mut rng).unwrap(), random_scalar(&mut rng).unwrap());
        let p = g3 * *r4;
        let q = G * *r4 + g2 * *x;
        let st = CoordsStatement { g2: &g2, g3: &g3, p: &p, q: &q };
        let proof = CoordsProof::prove(&SSID, TAG_PQ_B, st, &r4, &x, &mut rng).unwrap();
        assert_eq!(proof.verify(&SSID, TAG_PQ_B, st), Ok(()));
        assert!(proof.verify(&SSID, TAG_PQ_A, st).is_err());
        let q2 = q + G;
        assert!(proof.verify(&SSID, TAG_PQ_B, CoordsStatement { q: &q2, ..st }).is_err());
        assert!(proof.verify(&SSID, TAG_PQ_B, CoordsStatement { g2: &g3, g3: &g2, ..st }).is_err());
    }

    #[test]
    fn equal_logs_proof_round_trip_and_binding() {
        let mut rng = rng();
        let a3 = random_scalar(&mut rng).unwrap();
        let g3a = RistrettoPoint::mul_base(&a3);
        let d = G * *random_scalar(&mut rng).unwrap();
        let r = d * *a3;
        let st = EqualLogsStatement { g3x: &g3a, d: &d, r: &r };
        let proof = EqualLogsProof::prove(&SSID, TAG_R_A, st, &a3, &mut rng).unwrap();
        assert_eq!(proof.verify(&SSID, TAG_R_A, st), Ok(()));
        assert!(proof.verify(&SSID, TAG_R_B, st).is_err());
        let r2 = r + G;
        assert!(proof.verify(&SSID, TAG_R_A, EqualLogsStatement { r: &r2, ..st }).is_err());
    }
}
