//! The OTR SMP state machine, with libotr 4.1.1's behaviour (`src/message.c` SMP branches,
//! `src/sm.c`) and the application duties Pidgin-OTR adds (abort on cheating and on errors).
//!
//! ```text
//! Alice (initiator)                         Bob (responder)
//! start()       ── SMP1 / SMP1Q ──▶  receive() → AskedForSecret{question}   (AwaitingSecret)
//! (Expect2)                          respond()
//! receive() → InProgress ◀── SMP2 ──        (Expect3)
//! (Expect4)     ── SMP3 ──▶          receive() → Succeeded | Failed        (Bob learns first)
//! receive() → Succeeded | Failed ◀── SMP4 ──
//! ```
//!
//! Differences from libotr itself, all on the side of refusing more:
//! * Any received message that does not parse, carries a value out of range or a failed proof
//!   is `Cheated` (as libotr), and we also **reply with an abort** and reset, which libotr
//!   leaves to the application (Pidgin does the same).
//! * An SMP message the state does not expect is libotr's `SMPEVENT_ERROR`; the application
//!   (Pidgin) then aborts. We do that ourselves: reply abort, reset, report
//!   [`OtrSmpEvent::WrongState`]. A libotr peer receiving our abort goes back to `EXPECT1` and
//!   reports `SMPEVENT_ABORT`. Simultaneous starts therefore end with both sides idle.
//! * Group elements must also be quadratic residues (libotr checks only [2, p-2]); no byte may
//!   follow the last MPI; questions are capped at [`super::MAX_QUESTION_LEN`] bytes.
//! * An empty SMP1Q value is cheating here, an `SMPEVENT_ERROR` in libotr (both end in an abort).
//! * An abort received while idle is silent here; libotr reports `SMPEVENT_ABORT` anyway.
//!
//! As in libotr, a new SMP1 while we wait for our user's secret replaces the pending one (libotr
//! stays in `EXPECT1` until the secret is given).

use core::fmt;

use subtle::ConstantTimeEq;

use super::error::OtrSmpError;
use super::messages::{
    join_question, split_question, OtrSmpTlv, Smp1, Smp2, Smp3, Smp4, TLV_SMP1, TLV_SMP1Q, TLV_SMP2, TLV_SMP3,
    TLV_SMP4, TLV_SMP_ABORT,
};
use super::proofs::{
    CoordsProof, CoordsStatement, EqualLogsProof, EqualLogsStatement, LogProof, RANDOM_BITS, VERSION_G2A, VERSION_G2B,
    VERSION_G3A, VERSION_G3B, VERSION_PQ_A, VERSION_PQ_B, VERSION_R_A, VERSION_R_B,
};
use super::secret::{derive_secret, SECRET_BITS};
use crate::crypto::random::RandomSource;
use crate::otr::group::{Element, Exponent, ELEMENT_LEN};

/// What the session tells SMP: both DSA fingerprints and the AKE's secure session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtrSmpContext {
    /// SHA-1 fingerprint of our DSA public key.
    pub our_fingerprint: [u8; 20],
    /// SHA-1 fingerprint of the peer's DSA public key, as the AKE authenticated it.
    pub their_fingerprint: [u8; 20],
    /// The 8-byte secure session id of the OTR v3/v2 AKE.
    pub ssid: [u8; 8],
}

/// Which part we played in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpRole {
    /// We sent SMP1 (asked the question, if any).
    Initiator,
    /// We answered an SMP1.
    Responder,
}

/// Something the user should learn about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtrSmpEvent {
    /// The peer started SMP; answer with [`OtrSmp::respond`] or refuse with [`OtrSmp::abort`].
    /// A question that is not UTF-8 is shown with replacement characters (libotr sends the
    /// peer's bytes as they are).
    AskedForSecret {
        /// The peer's question (SMP1Q), `None` for a plain SMP1. `Some("")` is possible: a
        /// libotr peer may send an empty question, and it still counts as a question.
        question: Option<String>,
    },
    /// The run advanced (we are the initiator and received SMP2).
    InProgress,
    /// Both sides used the same secret.
    Succeeded {
        /// Our part in the run.
        role: SmpRole,
        /// Whether the run was started with a question (SMP1Q).
        question: bool,
    },
    /// The secrets differ (or someone in the middle changed them).
    Failed {
        /// Our part in the run.
        role: SmpRole,
        /// Whether the run was started with a question (SMP1Q).
        question: bool,
    },
    /// The peer aborted a run in progress (TLV 6), or we could not go on (a question over our
    /// cap, the random generator failed; then we replied with an abort).
    Aborted,
    /// A message did not parse, carried a value out of range or a proof that does not verify
    /// (libotr's `SMPEVENT_CHEATED`). We replied with an abort.
    Cheated,
    /// An SMP message arrived that the state does not expect (libotr's `SMPEVENT_ERROR`). We
    /// replied with an abort, as libotr's applications do.
    WrongState,
}

/// How libotr changes the peer fingerprint's trust after a step (`set_smp_trust`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpTrust {
    /// libotr sets the trust to `"smp"`: the run succeeded.
    Verified,
    /// libotr sets the trust to `""`: the run failed or the final message was refused.
    Cleared,
}

/// The outcome of [`OtrSmp::receive`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtrSmpStep {
    /// A TLV to send to the peer, in a data message of its own.
    pub reply: Option<OtrSmpTlv>,
    /// Something to tell the user.
    pub event: Option<OtrSmpEvent>,
    /// What libotr would do to the peer's fingerprint trust at this point. Only the final
    /// messages set it, and the responder to a question never does (only the asker chose the
    /// question, so only the asker learns who answered).
    pub trust: Option<SmpTrust>,
    /// Why the run stopped, for logs.
    pub error: Option<OtrSmpError>,
}

// One `OtrSmp` per session: about a kilobyte inline costs less than a heap allocation.
#[allow(clippy::large_enum_variant)]
enum State {
    Idle,
    /// Bob: SMP1 verified, waiting for our user's secret.
    AwaitingSecret {
        g2a: Element,
        g3a: Element,
        question: bool,
    },
    /// Alice: SMP1 sent.
    Expect2 {
        x: Exponent,
        a2: Exponent,
        a3: Exponent,
        question: bool,
    },
    /// Bob: SMP2 sent.
    Expect3 {
        b3: Exponent,
        g3a: Element,
        g2: Element,
        g3: Element,
        pb: Element,
        qb: Element,
        question: bool,
    },
    /// Alice: SMP3 sent.
    Expect4 {
        a3: Exponent,
        g3b: Element,
        pab: Element,
        qab: Element,
        question: bool,
    },
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::AwaitingSecret { .. } => "AwaitingSecret",
            State::Expect2 { .. } => "Expect2",
            State::Expect3 { .. } => "Expect3",
            State::Expect4 { .. } => "Expect4",
        }
    }

    /// libotr clears trust when the final message of a run is refused: SMP3 at a responder
    /// who was not asked a question, SMP4 at the initiator.
    fn clears_trust_on_refusal(&self, tlv_type: u16) -> bool {
        match (self, tlv_type) {
            (State::Expect3 { question, .. }, TLV_SMP3) => !question,
            (State::Expect4 { .. }, TLV_SMP4) => true,
            _ => false,
        }
    }
}

/// One side of OTR's Socialist Millionaires' Protocol for one OTR session.
///
/// Secret exponents are [`Exponent`]s, wiped when the run ends, aborts or restarts, or when the
/// `OtrSmp` is dropped. Not `Clone`, and `Debug` shows only the state's name. Rate-limiting
/// attempts and warning about guessable secrets are the caller's job: each failed run lets the
/// peer test one guess.
pub struct OtrSmp {
    state: State,
}

impl fmt::Debug for OtrSmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtrSmp").field("state", &self.state.name()).finish()
    }
}

impl Default for OtrSmp {
    fn default() -> Self {
        Self::new()
    }
}

/// `a / b` in the group (`b` is a checked, hence invertible, element).
fn divide(a: &Element, b: &Element) -> Result<Element, OtrSmpError> {
    let inverse = b.invert().ok_or(OtrSmpError::Degenerate)?;
    let quotient = a.mul(&inverse);
    if quotient == Element::from_be_bytes(&[1])? {
        return Err(OtrSmpError::Degenerate);
    }
    Ok(quotient)
}

/// Equality of two group elements in constant time (over their 192-byte forms).
fn same_element(a: &Element, b: &Element) -> bool {
    let fixed = |e: &Element| {
        let minimal = e.to_minimal_bytes();
        let mut out = [0u8; ELEMENT_LEN];
        // An element is below p, so its minimal form is at most ELEMENT_LEN bytes.
        if let Some(dst) = ELEMENT_LEN.checked_sub(minimal.len()).and_then(|start| out.get_mut(start..)) {
            dst.copy_from_slice(&minimal);
        }
        out
    };
    bool::from(fixed(a).ct_eq(&fixed(b)))
}

fn result(same: bool, role: SmpRole, question: bool) -> OtrSmpEvent {
    if same {
        OtrSmpEvent::Succeeded { role, question }
    } else {
        OtrSmpEvent::Failed { role, question }
    }
}

fn trust(same: bool) -> SmpTrust {
    if same {
        SmpTrust::Verified
    } else {
        SmpTrust::Cleared
    }
}

impl OtrSmp {
    /// An idle SMP.
    pub fn new() -> Self {
        OtrSmp { state: State::Idle }
    }

    /// Whether a run is under way (including a received SMP1 waiting for our secret).
    pub fn is_in_progress(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// Whether a received SMP1 waits for [`OtrSmp::respond`].
    pub fn is_awaiting_secret(&self) -> bool {
        matches!(self.state, State::AwaitingSecret { .. })
    }

    /// Whether any secret exponent is held (for tests and audits).
    pub fn holds_secrets(&self) -> bool {
        matches!(self.state, State::Expect2 { .. } | State::Expect3 { .. } | State::Expect4 { .. })
    }

    /// Starts a run as the initiator and returns the TLVs to send, **each in its own data
    /// message, in order**: an abort first if a run was in progress (a libotr peer in the middle
    /// of a run would otherwise treat our SMP1 as out of order), then SMP1, or SMP1Q when
    /// `question` is `Some` and not empty (an empty question is sent as none). On `Err` nothing
    /// changed.
    pub fn start(
        &mut self,
        secret: &[u8],
        question: Option<&str>,
        ctx: &OtrSmpContext,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<OtrSmpTlv>, OtrSmpError> {
        let question = question.filter(|q| !q.is_empty());
        if let Some(q) = question {
            super::messages::check_question(q)?;
        }
        let x = derive_secret(&ctx.our_fingerprint, &ctx.their_fingerprint, &ctx.ssid, secret)?;
        let a2 = Exponent::random(RANDOM_BITS, rng)?;
        let a3 = Exponent::random(RANDOM_BITS, rng)?;
        let smp1 = Smp1 {
            g2a: a2.public(RANDOM_BITS),
            proof2: LogProof::prove(VERSION_G2A, &a2, rng)?,
            g3a: a3.public(RANDOM_BITS),
            proof3: LogProof::prove(VERSION_G3A, &a3, rng)?,
        }
        .to_bytes();
        let tlv = match question {
            Some(q) => OtrSmpTlv { tlv_type: TLV_SMP1Q, payload: join_question(q, &smp1)? },
            None => OtrSmpTlv { tlv_type: TLV_SMP1, payload: smp1 },
        };
        let mut out = Vec::with_capacity(2);
        if self.is_in_progress() {
            out.push(OtrSmpTlv::abort());
        }
        out.push(tlv);
        self.state = State::Expect2 { x, a2, a3, question: question.is_some() };
        Ok(out)
    }

    /// Answers the pending SMP1 as the responder and returns SMP2. Fails with
    /// [`OtrSmpError::NotAwaitingSecret`] if none is pending; on `Err` nothing changed.
    pub fn respond(
        &mut self,
        secret: &[u8],
        ctx: &OtrSmpContext,
        rng: &mut dyn RandomSource,
    ) -> Result<OtrSmpTlv, OtrSmpError> {
        let State::AwaitingSecret { g2a, g3a, question } = &self.state else {
            return Err(OtrSmpError::NotAwaitingSecret);
        };
        // The peer started this run: its fingerprint comes first.
        let y = derive_secret(&ctx.their_fingerprint, &ctx.our_fingerprint, &ctx.ssid, secret)?;
        let b2 = Exponent::random(RANDOM_BITS, rng)?;
        let b3 = Exponent::random(RANDOM_BITS, rng)?;
        let g2 = g2a.pow(&b2, RANDOM_BITS);
        let g3 = g3a.pow(&b3, RANDOM_BITS);
        let r = Exponent::random(RANDOM_BITS, rng)?;
        let pb = g3.pow(&r, RANDOM_BITS);
        let qb = r.public(RANDOM_BITS).mul(&g2.pow(&y, SECRET_BITS));
        let smp2 = Smp2 {
            g2b: b2.public(RANDOM_BITS),
            proof2: LogProof::prove(VERSION_G2B, &b2, rng)?,
            g3b: b3.public(RANDOM_BITS),
            proof3: LogProof::prove(VERSION_G3B, &b3, rng)?,
            proof_pq: CoordsProof::prove(VERSION_PQ_B, &g2, &g3, &r, &y, rng)?,
            pb: pb.clone(),
            qb: qb.clone(),
        };
        let (g3a, question) = (g3a.clone(), *question);
        self.state = State::Expect3 { b3, g3a, g2, g3, pb, qb, question };
        Ok(OtrSmpTlv { tlv_type: TLV_SMP2, payload: smp2.to_bytes() })
    }

    /// Ends any run (wiping its secrets) and returns the abort TLV to send. Like libotr's
    /// `otrl_message_abort_smp`, this works (and sends) in every state.
    pub fn abort(&mut self) -> OtrSmpTlv {
        self.state = State::Idle;
        OtrSmpTlv::abort()
    }

    /// Handles a received TLV. Types other than 2..=7 are not SMP's: empty step, nothing
    /// changes. An abort (6) resets us without reply and reports [`OtrSmpEvent::Aborted`] if a
    /// run was in progress (libotr reports it even when idle). Every other problem ends the run:
    /// we reply with an abort, report [`OtrSmpEvent::Cheated`], [`OtrSmpEvent::WrongState`] or
    /// [`OtrSmpEvent::Aborted`], and hold no secret afterwards.
    pub fn receive(&mut self, tlv_type: u16, payload: &[u8], rng: &mut dyn RandomSource) -> OtrSmpStep {
        match tlv_type {
            TLV_SMP_ABORT => {
                let was_running = self.is_in_progress();
                self.state = State::Idle;
                OtrSmpStep {
                    event: was_running.then_some(OtrSmpEvent::Aborted),
                    error: was_running.then_some(OtrSmpError::PeerAborted),
                    ..OtrSmpStep::default()
                }
            }
            TLV_SMP1..=TLV_SMP4 | TLV_SMP1Q => {
                // Whatever happens the old state goes: an error leaves us idle and the old
                // secrets are dropped, hence wiped, at the end of this call.
                let state = core::mem::replace(&mut self.state, State::Idle);
                let clears_trust = state.clears_trust_on_refusal(tlv_type);
                match self.advance(state, tlv_type, payload, rng) {
                    Ok(step) => step,
                    Err(error) => {
                        let event = match error {
                            OtrSmpError::UnexpectedMessage { .. } => OtrSmpEvent::WrongState,
                            ref e if e.is_cheating() => OtrSmpEvent::Cheated,
                            _ => OtrSmpEvent::Aborted,
                        };
                        OtrSmpStep {
                            reply: Some(OtrSmpTlv::abort()),
                            event: Some(event),
                            trust: clears_trust.then_some(SmpTrust::Cleared),
                            error: Some(error),
                        }
                    }
                }
            }
            _ => OtrSmpStep::default(),
        }
    }

    fn advance(
        &mut self,
        state: State,
        tlv_type: u16,
        payload: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<OtrSmpStep, OtrSmpError> {
        match (state, tlv_type) {
            (State::Idle | State::AwaitingSecret { .. }, TLV_SMP1 | TLV_SMP1Q) => {
                let (question, value) = if tlv_type == TLV_SMP1Q {
                    let (question, value) = split_question(payload)?;
                    (Some(String::from_utf8_lossy(question).into_owned()), value)
                } else {
                    (None, payload)
                };
                let msg = Smp1::parse(value)?;
                msg.proof2.verify(VERSION_G2A, &msg.g2a)?;
                msg.proof3.verify(VERSION_G3A, &msg.g3a)?;
                self.state = State::AwaitingSecret { g2a: msg.g2a, g3a: msg.g3a, question: question.is_some() };
                Ok(OtrSmpStep { event: Some(OtrSmpEvent::AskedForSecret { question }), ..OtrSmpStep::default() })
            }
            (State::Expect2 { x, a2, a3, question }, TLV_SMP2) => {
                let msg = Smp2::parse(payload)?;
                msg.proof2.verify(VERSION_G2B, &msg.g2b)?;
                msg.proof3.verify(VERSION_G3B, &msg.g3b)?;
                let g2 = msg.g2b.pow(&a2, RANDOM_BITS);
                let g3 = msg.g3b.pow(&a3, RANDOM_BITS);
                msg.proof_pq.verify(VERSION_PQ_B, CoordsStatement { g2: &g2, g3: &g3, p: &msg.pb, q: &msg.qb })?;

                let r = Exponent::random(RANDOM_BITS, rng)?;
                let pa = g3.pow(&r, RANDOM_BITS);
                let qa = r.public(RANDOM_BITS).mul(&g2.pow(&x, SECRET_BITS));
                let proof_pq = CoordsProof::prove(VERSION_PQ_A, &g2, &g3, &r, &x, rng)?;
                let pab = divide(&pa, &msg.pb)?;
                let qab = divide(&qa, &msg.qb)?;
                let ra = qab.pow(&a3, RANDOM_BITS);
                let proof_r = EqualLogsProof::prove(VERSION_R_A, &qab, &a3, rng)?;
                let smp3 = Smp3 { pa, qa, proof_pq, ra, proof_r }.to_bytes();
                self.state = State::Expect4 { a3, g3b: msg.g3b, pab, qab, question };
                Ok(OtrSmpStep {
                    reply: Some(OtrSmpTlv { tlv_type: TLV_SMP3, payload: smp3 }),
                    event: Some(OtrSmpEvent::InProgress),
                    ..OtrSmpStep::default()
                })
            }
            (State::Expect3 { b3, g3a, g2, g3, pb, qb, question }, TLV_SMP3) => {
                let msg = Smp3::parse(payload)?;
                msg.proof_pq.verify(VERSION_PQ_A, CoordsStatement { g2: &g2, g3: &g3, p: &msg.pa, q: &msg.qa })?;
                let pab = divide(&msg.pa, &pb)?;
                let qab = divide(&msg.qa, &qb)?;
                msg.proof_r.verify(VERSION_R_A, EqualLogsStatement { g3o: &g3a, qab: &qab, r: &msg.ra })?;

                let rb = qab.pow(&b3, RANDOM_BITS);
                let proof_r = EqualLogsProof::prove(VERSION_R_B, &qab, &b3, rng)?;
                let same = same_element(&msg.ra.pow(&b3, RANDOM_BITS), &pab);
                Ok(OtrSmpStep {
                    reply: Some(OtrSmpTlv { tlv_type: TLV_SMP4, payload: Smp4 { rb, proof_r }.to_bytes() }),
                    event: Some(result(same, SmpRole::Responder, question)),
                    trust: (!question).then_some(trust(same)),
                    error: None,
                })
            }
            (State::Expect4 { a3, g3b, pab, qab, question }, TLV_SMP4) => {
                let msg = Smp4::parse(payload)?;
                msg.proof_r.verify(VERSION_R_B, EqualLogsStatement { g3o: &g3b, qab: &qab, r: &msg.rb })?;
                let same = same_element(&msg.rb.pow(&a3, RANDOM_BITS), &pab);
                Ok(OtrSmpStep {
                    event: Some(result(same, SmpRole::Initiator, question)),
                    trust: Some(trust(same)),
                    ..OtrSmpStep::default()
                })
            }
            (_, tlv_type) => Err(OtrSmpError::UnexpectedMessage { tlv_type }),
        }
    }
}

#[cfg(test)]
#[path = "libotr_replay.rs"]
mod libotr_replay;
