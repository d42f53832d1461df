//! The byte layouts of OTR's SMP TLV values (OTR v3 spec §"SMP state machine", libotr
//! `src/sm.c` `serialize_mpi_array`).
//!
//! Every SMP value is `INT count ‖ count × MPI`, and the count must be exactly the message's:
//!
//! | TLV type | message | MPIs, in order |
//! |---|---|---|
//! | 2 | SMP1 | `g2a, c2, D2, g3a, c3, D3` (6) |
//! | 7 | SMP1Q | `question ‖ 0x00 ‖` the SMP1 value |
//! | 3 | SMP2 | `g2b, c2, D2, g3b, c3, D3, Pb, Qb, cP, D5, D6` (11) |
//! | 4 | SMP3 | `Pa, Qa, cP, D5, D6, Ra, cR, D7` (8) |
//! | 5 | SMP4 | `Rb, cR, D7` (3) |
//! | 6 | SMP abort | empty |
//!
//! Reading checks more than libotr (documented in PROTOCOL.md part B): group elements must be
//! in [2, p-2] **and** quadratic residues (libotr checks only the range), exponents `D` in
//! [1, q-1] (as libotr), and no byte may follow the last MPI (libotr ignores trailing bytes; an
//! honest libotr never sends any). MPI lengths are capped by [`crate::otr::mpi::MAX_MPI_LEN`].

use super::error::OtrSmpError;
use super::proofs::{
    Challenge, CoordsProof, EqualLogsProof, LogProof, VERSION_G2A, VERSION_G2B, VERSION_G3A, VERSION_G3B, VERSION_PQ_A,
    VERSION_PQ_B, VERSION_R_A, VERSION_R_B,
};
use super::MAX_QUESTION_LEN;
use crate::otr::group::{Element, Exponent};
use crate::otr::mpi;
use crate::wire::{Reader, Writer};

/// TLV type of SMP1 (no question).
pub const TLV_SMP1: u16 = 2;
/// TLV type of SMP2.
pub const TLV_SMP2: u16 = 3;
/// TLV type of SMP3.
pub const TLV_SMP3: u16 = 4;
/// TLV type of SMP4.
pub const TLV_SMP4: u16 = 5;
/// TLV type of the SMP abort.
pub const TLV_SMP_ABORT: u16 = 6;
/// TLV type of SMP1 with a question.
pub const TLV_SMP1Q: u16 = 7;

/// MPIs in SMP1.
pub const SMP1_COUNT: u32 = 6;
/// MPIs in SMP2.
pub const SMP2_COUNT: u32 = 11;
/// MPIs in SMP3.
pub const SMP3_COUNT: u32 = 8;
/// MPIs in SMP4.
pub const SMP4_COUNT: u32 = 3;

/// An SMP TLV (type and value) for the data-message layer to carry. Each one must travel in
/// its own data message, with empty text (libotr looks TLVs up by type, not in wire order, so
/// an abort and an SMP1 in one message would be handled in the wrong order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtrSmpTlv {
    /// The TLV type (2..=7).
    pub tlv_type: u16,
    /// The TLV value.
    pub payload: Vec<u8>,
}

impl OtrSmpTlv {
    /// The abort TLV (type 6, empty).
    pub fn abort() -> OtrSmpTlv {
        OtrSmpTlv { tlv_type: TLV_SMP_ABORT, payload: Vec::new() }
    }
}

/// SMP1: Alice's halves of the generators `g2`, `g3`, with proofs.
#[derive(Debug, Clone)]
pub struct Smp1 {
    /// `g^a2`.
    pub g2a: Element,
    /// Proof for `a2` (version 1).
    pub proof2: LogProof,
    /// `g^a3`.
    pub g3a: Element,
    /// Proof for `a3` (version 2).
    pub proof3: LogProof,
}

/// SMP2: Bob's halves of the generators, and `Pb, Qb` with their proof.
#[derive(Debug, Clone)]
pub struct Smp2 {
    /// `g^b2`.
    pub g2b: Element,
    /// Proof for `b2` (version 3).
    pub proof2: LogProof,
    /// `g^b3`.
    pub g3b: Element,
    /// Proof for `b3` (version 4).
    pub proof3: LogProof,
    /// `Pb = g3^r`.
    pub pb: Element,
    /// `Qb = g^r g2^y`.
    pub qb: Element,
    /// Proof for `Pb, Qb` (version 5).
    pub proof_pq: CoordsProof,
}

/// SMP3: Alice's `Pa, Qa, Ra` with proofs.
#[derive(Debug, Clone)]
pub struct Smp3 {
    /// `Pa = g3^r`.
    pub pa: Element,
    /// `Qa = g^r g2^x`.
    pub qa: Element,
    /// Proof for `Pa, Qa` (version 6).
    pub proof_pq: CoordsProof,
    /// `Ra = (Qa/Qb)^a3`.
    pub ra: Element,
    /// Proof for `Ra` (version 7).
    pub proof_r: EqualLogsProof,
}

/// SMP4: Bob's `Rb` with its proof.
#[derive(Debug, Clone)]
pub struct Smp4 {
    /// `Rb = (Qa/Qb)^b3`.
    pub rb: Element,
    /// Proof for `Rb` (version 8).
    pub proof_r: EqualLogsProof,
}

/// Reads an MPI array of an exact length, one typed value at a time.
struct MpiArray<'a>(Reader<'a>);

fn malformed(what: &'static str) -> impl Fn(crate::wire::WireError) -> OtrSmpError {
    move |_| OtrSmpError::Malformed(what)
}

impl<'a> MpiArray<'a> {
    fn new(bytes: &'a [u8], count: u32) -> Result<Self, OtrSmpError> {
        let mut reader = Reader::new(bytes);
        if reader.u32().map_err(malformed("missing MPI count"))? != count {
            return Err(OtrSmpError::Malformed("wrong MPI count"));
        }
        Ok(MpiArray(reader))
    }

    fn next(&mut self) -> Result<&'a [u8], OtrSmpError> {
        mpi::read(&mut self.0).map_err(malformed("bad MPI"))
    }

    fn element(&mut self) -> Result<Element, OtrSmpError> {
        Ok(Element::from_peer(self.next()?)?)
    }

    fn exponent(&mut self) -> Result<Exponent, OtrSmpError> {
        Ok(Exponent::from_peer(self.next()?)?)
    }

    /// A challenge longer than a digest fails its proof (libotr finds it unequal to the hash).
    fn challenge(&mut self, version: u8) -> Result<Challenge, OtrSmpError> {
        Challenge::from_wire(self.next()?).ok_or(OtrSmpError::ProofFailed { version })
    }

    fn log_proof(&mut self, version: u8) -> Result<LogProof, OtrSmpError> {
        Ok(LogProof { c: self.challenge(version)?, d: self.exponent()? })
    }

    fn coords_proof(&mut self, version: u8) -> Result<CoordsProof, OtrSmpError> {
        Ok(CoordsProof { c: self.challenge(version)?, d1: self.exponent()?, d2: self.exponent()? })
    }

    fn equal_logs_proof(&mut self, version: u8) -> Result<EqualLogsProof, OtrSmpError> {
        Ok(EqualLogsProof { c: self.challenge(version)?, d: self.exponent()? })
    }

    fn finish(self) -> Result<(), OtrSmpError> {
        self.0.finish().map_err(malformed("bytes after the last MPI"))
    }
}

/// Writes an MPI array.
struct ArrayWriter(Writer);

impl ArrayWriter {
    fn new(count: u32) -> Self {
        let mut writer = Writer::with_capacity(4 + count as usize * (4 + crate::otr::group::ELEMENT_LEN));
        writer.u32(count);
        ArrayWriter(writer)
    }

    fn element(&mut self, value: &Element) -> &mut Self {
        mpi::write_element(&mut self.0, value);
        self
    }

    fn exponent(&mut self, value: &Exponent) -> &mut Self {
        mpi::write(&mut self.0, &value.to_minimal_bytes());
        self
    }

    fn log_proof(&mut self, proof: &LogProof) -> &mut Self {
        mpi::write(&mut self.0, &proof.c.to_minimal_bytes());
        self.exponent(&proof.d)
    }

    fn coords_proof(&mut self, proof: &CoordsProof) -> &mut Self {
        mpi::write(&mut self.0, &proof.c.to_minimal_bytes());
        self.exponent(&proof.d1).exponent(&proof.d2)
    }

    fn equal_logs_proof(&mut self, proof: &EqualLogsProof) -> &mut Self {
        mpi::write(&mut self.0, &proof.c.to_minimal_bytes());
        self.exponent(&proof.d)
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_vec()
    }
}

impl Smp1 {
    /// Parses an SMP1 value (type 2, or the part of type 7 after the question).
    pub fn parse(bytes: &[u8]) -> Result<Smp1, OtrSmpError> {
        let mut r = MpiArray::new(bytes, SMP1_COUNT)?;
        let msg = Smp1 {
            g2a: r.element()?,
            proof2: r.log_proof(VERSION_G2A)?,
            g3a: r.element()?,
            proof3: r.log_proof(VERSION_G3A)?,
        };
        r.finish()?;
        Ok(msg)
    }

    /// The wire value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = ArrayWriter::new(SMP1_COUNT);
        w.element(&self.g2a).log_proof(&self.proof2).element(&self.g3a).log_proof(&self.proof3);
        w.finish()
    }
}

impl Smp2 {
    /// Parses an SMP2 value.
    pub fn parse(bytes: &[u8]) -> Result<Smp2, OtrSmpError> {
        let mut r = MpiArray::new(bytes, SMP2_COUNT)?;
        let msg = Smp2 {
            g2b: r.element()?,
            proof2: r.log_proof(VERSION_G2B)?,
            g3b: r.element()?,
            proof3: r.log_proof(VERSION_G3B)?,
            pb: r.element()?,
            qb: r.element()?,
            proof_pq: r.coords_proof(VERSION_PQ_B)?,
        };
        r.finish()?;
        Ok(msg)
    }

    /// The wire value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = ArrayWriter::new(SMP2_COUNT);
        w.element(&self.g2b).log_proof(&self.proof2).element(&self.g3b).log_proof(&self.proof3);
        w.element(&self.pb).element(&self.qb).coords_proof(&self.proof_pq);
        w.finish()
    }
}

impl Smp3 {
    /// Parses an SMP3 value.
    pub fn parse(bytes: &[u8]) -> Result<Smp3, OtrSmpError> {
        let mut r = MpiArray::new(bytes, SMP3_COUNT)?;
        let msg = Smp3 {
            pa: r.element()?,
            qa: r.element()?,
            proof_pq: r.coords_proof(VERSION_PQ_A)?,
            ra: r.element()?,
            proof_r: r.equal_logs_proof(VERSION_R_A)?,
        };
        r.finish()?;
        Ok(msg)
    }

    /// The wire value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = ArrayWriter::new(SMP3_COUNT);
        w.element(&self.pa).element(&self.qa).coords_proof(&self.proof_pq);
        w.element(&self.ra).equal_logs_proof(&self.proof_r);
        w.finish()
    }
}

impl Smp4 {
    /// Parses an SMP4 value.
    pub fn parse(bytes: &[u8]) -> Result<Smp4, OtrSmpError> {
        let mut r = MpiArray::new(bytes, SMP4_COUNT)?;
        let msg = Smp4 { rb: r.element()?, proof_r: r.equal_logs_proof(VERSION_R_B)? };
        r.finish()?;
        Ok(msg)
    }

    /// The wire value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = ArrayWriter::new(SMP4_COUNT);
        w.element(&self.rb).equal_logs_proof(&self.proof_r);
        w.finish()
    }
}

/// Checks a question we are about to send: at most [`MAX_QUESTION_LEN`] bytes, no NUL (the
/// NUL ends the question on the wire).
pub fn check_question(question: &str) -> Result<(), OtrSmpError> {
    if question.len() > MAX_QUESTION_LEN {
        return Err(OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN });
    }
    if question.as_bytes().contains(&0) {
        return Err(OtrSmpError::QuestionHasNul);
    }
    Ok(())
}

/// The SMP1Q value: `question ‖ 0x00 ‖ smp1`.
pub fn join_question(question: &str, smp1: &[u8]) -> Result<Vec<u8>, OtrSmpError> {
    check_question(question)?;
    let mut out = Vec::with_capacity(question.len() + 1 + smp1.len());
    out.extend_from_slice(question.as_bytes());
    out.push(0);
    out.extend_from_slice(smp1);
    Ok(out)
}

/// Splits an SMP1Q value into the question (bytes before the first NUL, which must exist) and
/// the SMP1 value after it. A question over [`MAX_QUESTION_LEN`] bytes is refused.
pub fn split_question(value: &[u8]) -> Result<(&[u8], &[u8]), OtrSmpError> {
    let nul = value.iter().position(|&b| b == 0).ok_or(OtrSmpError::Malformed("SMP1Q question without NUL"))?;
    let (question, rest) = value.split_at(nul);
    if question.len() > MAX_QUESTION_LEN {
        return Err(OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN });
    }
    Ok((question, rest.get(1..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_round_trip_and_checks() {
        let joined = join_question("who?", &[0, 0, 0, 6]).unwrap();
        assert_eq!(joined, b"who?\0\0\0\0\x06");
        assert_eq!(split_question(&joined).unwrap(), (&b"who?"[..], &[0u8, 0, 0, 6][..]));
        assert_eq!(split_question(b"\0").unwrap(), (&b""[..], &b""[..]));
        assert_eq!(split_question(b"no nul"), Err(OtrSmpError::Malformed("SMP1Q question without NUL")));
        assert_eq!(join_question("a\0b", &[]), Err(OtrSmpError::QuestionHasNul));
        let long = "x".repeat(MAX_QUESTION_LEN + 1);
        assert_eq!(join_question(&long, &[]), Err(OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN }));
        let mut value = long.into_bytes();
        value.push(0);
        assert_eq!(split_question(&value), Err(OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN }));
        // Exactly the cap is a question, both ways.
        let longest = "x".repeat(MAX_QUESTION_LEN);
        let joined = join_question(&longest, &[7]).unwrap();
        assert_eq!(split_question(&joined).unwrap(), (longest.as_bytes(), &[7u8][..]));
    }

    #[test]
    fn counts_are_exact() {
        for count in [0u32, 5, 7, u32::MAX] {
            let bytes = count.to_be_bytes();
            assert_eq!(Smp1::parse(&bytes).unwrap_err(), OtrSmpError::Malformed("wrong MPI count"));
        }
        assert_eq!(Smp1::parse(&[0, 0]).unwrap_err(), OtrSmpError::Malformed("missing MPI count"));
        assert_eq!(Smp4::parse(&[0, 0, 0, 3]).unwrap_err(), OtrSmpError::Malformed("bad MPI"));
    }
}
