//! The byte layouts of the SMP TLV payloads.
//!
//! Every point and scalar is exactly 32 bytes (see [`super::group`]); lengths are exact and
//! trailing bytes are an error.
//!
//! | TLV type | message | payload |
//! |---|---|---|
//! | 2 | SMP1 | `u32 BE qlen ‖ question (UTF-8, qlen ≤ 1024, empty = none) ‖ G2a ‖ c2 ‖ d2 ‖ G3a ‖ c3 ‖ d3` |
//! | 3 | SMP2 | `G2b ‖ c2 ‖ d2 ‖ G3b ‖ c3 ‖ d3 ‖ Pb ‖ Qb ‖ cP ‖ d5 ‖ d6` (352 bytes) |
//! | 4 | SMP3 | `Pa ‖ Qa ‖ cP ‖ d5 ‖ d6 ‖ Ra ‖ cR ‖ d7` (256 bytes) |
//! | 5 | SMP4 | `Rb ‖ cR ‖ d7` (96 bytes) |
//! | 6 | SMP_ABORT | empty |

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;

use super::error::SmpError;
use super::group::{decode_point, decode_scalar, encode_point, ELEMENT_LEN};
use super::proofs::{CoordsProof, EqualLogsProof, LogProof};

/// TLV type of SMP1.
pub const TLV_SMP1: u16 = 2;
/// TLV type of SMP2.
pub const TLV_SMP2: u16 = 3;
/// TLV type of SMP3.
pub const TLV_SMP3: u16 = 4;
/// TLV type of SMP4.
pub const TLV_SMP4: u16 = 5;
/// TLV type of SMP_ABORT.
pub const TLV_SMP_ABORT: u16 = 6;

/// Longest question accepted or sent, in bytes of UTF-8.
pub const MAX_QUESTION_LEN: usize = 1024;

/// Payload length of SMP2.
pub const SMP2_LEN: usize = 11 * ELEMENT_LEN;
/// Payload length of SMP3.
pub const SMP3_LEN: usize = 8 * ELEMENT_LEN;
/// Payload length of SMP4.
pub const SMP4_LEN: usize = 3 * ELEMENT_LEN;

/// A TLV carrying an SMP message, for the conversation layer to wrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmpTlv {
    /// TLV type (2..=6).
    pub tlv_type: u16,
    /// TLV payload.
    pub payload: Vec<u8>,
}

impl SmpTlv {
    /// The `SMP_ABORT` TLV.
    pub fn abort() -> Self {
        Self { tlv_type: TLV_SMP_ABORT, payload: Vec::new() }
    }
}

/// SMP1: Alice's generators with proofs, and an optional question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smp1 {
    /// The question for Bob (never empty when `Some`).
    pub question: Option<String>,
    /// `G2a = G·a2`.
    pub g2a: RistrettoPoint,
    /// Proof for `a2` (tag 1).
    pub proof2: LogProof,
    /// `G3a = G·a3`.
    pub g3a: RistrettoPoint,
    /// Proof for `a3` (tag 2).
    pub proof3: LogProof,
}

/// SMP2: Bob's generators with proofs, and `Pb, Qb` with their proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smp2 {
    /// `G2b = G·b2`.
    pub g2b: RistrettoPoint,
    /// Proof for `b2` (tag 3).
    pub proof2: LogProof,
    /// `G3b = G·b3`.
    pub g3b: RistrettoPoint,
    /// Proof for `b3` (tag 4).
    pub proof3: LogProof,
    /// `Pb = G3·r4`.
    pub pb: RistrettoPoint,
    /// `Qb = G·r4 + G2·y`.
    pub qb: RistrettoPoint,
    /// Proof for `Pb, Qb` (tag 5).
    pub proof_pq: CoordsProof,
}

/// SMP3: Alice's `Pa, Qa, Ra` with proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smp3 {
    /// `Pa = G3·r4'`.
    pub pa: RistrettoPoint,
    /// `Qa = G·r4' + G2·x`.
    pub qa: RistrettoPoint,
    /// Proof for `Pa, Qa` (tag 6).
    pub proof_pq: CoordsProof,
    /// `Ra = (Qa − Qb)·a3`.
    pub ra: RistrettoPoint,
    /// Proof for `Ra` (tag 7).
    pub proof_r: EqualLogsProof,
}

/// SMP4: Bob's `Rb` with proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smp4 {
    /// `Rb = (Qa − Qb)·b3`.
    pub rb: RistrettoPoint,
    /// Proof for `Rb` (tag 8).
    pub proof_r: EqualLogsProof,
}

/// SMP's fields read with the wire codec's cursor (which never panics: every read checks the
/// remaining length); a short payload is [`SmpError::Truncated`], a long one
/// [`SmpError::TrailingBytes`].
struct Reader<'a>(crate::wire::Reader<'a>);

fn truncated(_: crate::wire::WireError) -> SmpError {
    SmpError::Truncated
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self(crate::wire::Reader::new(bytes))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SmpError> {
        self.0.bytes(n).map_err(truncated)
    }

    fn array(&mut self) -> Result<[u8; ELEMENT_LEN], SmpError> {
        self.0.array().map_err(truncated)
    }

    fn u32(&mut self) -> Result<u32, SmpError> {
        self.0.u32().map_err(truncated)
    }

    fn point(&mut self) -> Result<RistrettoPoint, SmpError> {
        decode_point(&self.array()?)
    }

    fn scalar(&mut self) -> Result<Scalar, SmpError> {
        decode_scalar(&self.array()?)
    }

    fn log_proof(&mut self) -> Result<LogProof, SmpError> {
        Ok(LogProof { c: self.scalar()?, d: self.scalar()? })
    }

    fn coords_proof(&mut self) -> Result<CoordsProof, SmpError> {
        Ok(CoordsProof { c: self.scalar()?, d5: self.scalar()?, d6: self.scalar()? })
    }

    fn equal_logs_proof(&mut self) -> Result<EqualLogsProof, SmpError> {
        Ok(EqualLogsProof { c: self.scalar()?, d7: self.scalar()? })
    }

    fn finish(self) -> Result<(), SmpError> {
        self.0.finish().map_err(|_| SmpError::TrailingBytes)
    }
}

/// Checks a question that we are about to send or have received.
pub fn check_question(question: &str) -> Result<(), SmpError> {
    if question.len() > MAX_QUESTION_LEN {
        Err(SmpError::QuestionTooLong { max: MAX_QUESTION_LEN })
    } else {
        Ok(())
    }
}

fn put_log_proof(out: &mut Vec<u8>, proof: &LogProof) {
    out.extend_from_slice(proof.c.as_bytes());
    out.extend_from_slice(proof.d.as_bytes());
}

fn put_coords_proof(out: &mut Vec<u8>, proof: &CoordsProof) {
    out.extend_from_slice(proof.c.as_bytes());
    out.extend_from_slice(proof.d5.as_bytes());
    out.extend_from_slice(proof.d6.as_bytes());
}

fn put_equal_logs_proof(out: &mut Vec<u8>, proof: &EqualLogsProof) {
    out.extend_from_slice(proof.c.as_bytes());
    out.extend_from_slice(proof.d7.as_bytes());
}

impl Smp1 {
    /// Serializes; fails only if the question is over [`MAX_QUESTION_LEN`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, SmpError> {
        let question = self.question.as_deref().unwrap_or("");
        check_question(question)?;
        let len = u32::try_from(question.len()).map_err(|_| SmpError::QuestionTooLong { max: MAX_QUESTION_LEN })?;
        let mut out = Vec::with_capacity(4 + question.len() + 6 * ELEMENT_LEN);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(question.as_bytes());
        out.extend_from_slice(&encode_point(&self.g2a));
        put_log_proof(&mut out, &self.proof2);
        out.extend_from_slice(&encode_point(&self.g3a));
        put_log_proof(&mut out, &self.proof3);
        Ok(out)
    }

    /// Parses and checks encodings (not the proofs).
    pub fn parse(bytes: &[u8]) -> Result<Self, SmpError> {
        let mut r = Reader::new(bytes);
        let len = usize::try_from(r.u32()?).map_err(|_| SmpError::QuestionTooLong { max: MAX_QUESTION_LEN })?;
        if len > MAX_QUESTION_LEN {
            return Err(SmpError::QuestionTooLong { max: MAX_QUESTION_LEN });
        }
        let question = core::str::from_utf8(r.take(len)?).map_err(|_| SmpError::QuestionNotUtf8)?;
        let question = (!question.is_empty()).then(|| question.to_owned());
        let msg = Self { question, g2a: r.point()?, proof2: r.log_proof()?, g3a: r.point()?, proof3: r.log_proof()? };
        r.finish()?;
        Ok(msg)
    }
}

impl Smp2 {
    /// Serializes (always [`SMP2_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SMP2_LEN);
        out.extend_from_slice(&encode_point(&self.g2b));
        put_log_proof(&mut out, &self.proof2);
        out.extend_from_slice(&encode_point(&self.g3b));
        put_log_proof(&mut out, &self.proof3);
        out.extend_from_slice(&encode_point(&self.pb));
        out.extend_from_slice(&encode_point(&self.qb));
        put_coords_proof(&mut out, &self.proof_pq);
        out
    }

    /// Parses and checks encodings (not the proofs).
    pub fn parse(bytes: &[u8]) -> Result<Self, SmpError> {
        let mut r = Reader::new(bytes);
        let msg = Self {
            g2b: r.point()?,
            proof2: r.log_proof()?,
            g3b: r.point()?,
            proof3: r.log_proof()?,
            pb: r.point()?,
            qb: r.point()?,
            proof_pq: r.coords_proof()?,
        };
        r.finish()?;
        Ok(msg)
    }
}

impl Smp3 {
    /// Serializes (always [`SMP3_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SMP3_LEN);
        out.extend_from_slice(&encode_point(&self.pa));
        out.extend_from_slice(&encode_point(&self.qa));
        put_coords_proof(&mut out, &self.proof_pq);
        out.extend_from_slice(&encode_point(&self.ra));
        put_equal_logs_proof(&mut out, &self.proof_r);
        out
    }

    /// Parses and checks encodings (not the proofs).
    pub fn parse(bytes: &[u8]) -> Result<Self, SmpError> {
        let mut r = Reader::new(bytes);
        let msg = Self {
            pa: r.point()?,
            qa: r.point()?,
            proof_pq: r.coords_proof()?,
            ra: r.point()?,
            proof_r: r.equal_logs_proof()?,
        };
        r.finish()?;
        Ok(msg)
    }
}

impl Smp4 {
    /// Serializes (always [`SMP4_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SMP4_LEN);
        out.extend_from_slice(&encode_point(&self.rb));
        put_equal_logs_proof(&mut out, &self.proof_r);
        out
    }

    /// Parses and checks encodings (not the proofs).
    pub fn parse(bytes: &[u8]) -> Result<Self, SmpError> {
        let mut r = Reader::new(bytes);
        let msg = Self { rb: r.point()?, proof_r: r.equal_logs_proof()? };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;

    fn log() -> LogProof {
        LogProof { c: Scalar::from(1u64), d: Scalar::from(2u64) }
    }

    fn smp1(question: Option<&str>) -> Smp1 {
        Smp1 { question: question.map(str::to_owned), g2a: G, proof2: log(), g3a: G + G, proof3: log() }
    }

    #[test]
    fn smp1_round_trips_with_and_without_question() {
        for q in [None, Some("what is the café?")] {
            let msg = smp1(q);
            let bytes = msg.to_bytes().unwrap();
            assert_eq!(Smp1::parse(&bytes).unwrap(), msg);
        }
        // An empty question is no question.
        let bytes = smp1(Some("")).to_bytes().unwrap();
        assert_eq!(Smp1::parse(&bytes).unwrap().question, None);
    }

    #[test]
    fn smp1_rejects_bad_questions_and_lengths() {
        let long = "a".repeat(MAX_QUESTION_LEN + 1);
        assert!(smp1(Some(&long)).to_bytes().is_err());
        let mut bytes = smp1(Some("ab")).to_bytes().unwrap();
        bytes[4] = 0xff; // invalid UTF-8
        assert_eq!(Smp1::parse(&bytes), Err(SmpError::QuestionNotUtf8));
        let mut bytes = smp1(None).to_bytes().unwrap();
        bytes[0] = 0xff; // huge length
        assert!(matches!(Smp1::parse(&bytes), Err(SmpError::QuestionTooLong { .. })));
        let bytes = smp1(None).to_bytes().unwrap();
        assert_eq!(Smp1::parse(&bytes[..bytes.len() - 1]), Err(SmpError::Truncated));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Smp1::parse(&longer), Err(SmpError::TrailingBytes));
        assert_eq!(Smp1::parse(&[]), Err(SmpError::Truncated));
    }

    #[test]
    fn fixed_messages_round_trip() {
        let c = CoordsProof { c: Scalar::from(3u64), d5: Scalar::from(4u64), d6: Scalar::from(5u64) };
        let e = EqualLogsProof { c: Scalar::from(6u64), d7: Scalar::from(7u64) };
        let m2 = Smp2 { g2b: G, proof2: log(), g3b: G, proof3: log(), pb: G, qb: G, proof_pq: c };
        assert_eq!(m2.to_bytes().len(), SMP2_LEN);
        assert_eq!(Smp2::parse(&m2.to_bytes()).unwrap(), m2);
        let m3 = Smp3 { pa: G, qa: G, proof_pq: c, ra: G, proof_r: e };
        assert_eq!(m3.to_bytes().len(), SMP3_LEN);
        assert_eq!(Smp3::parse(&m3.to_bytes()).unwrap(), m3);
        let m4 = Smp4 { rb: G, proof_r: e };
        assert_eq!(m4.to_bytes().len(), SMP4_LEN);
        assert_eq!(Smp4::parse(&m4.to_bytes()).unwrap(), m4);
        assert_eq!(Smp4::parse(&m4.to_bytes()[1..]), Err(SmpError::Truncated));
    }
}
