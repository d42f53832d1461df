//! The SMP state machine.
//!
//! Roles: the party who calls [`Smp::start`] is *Alice* (the initiator of this run), the party
//! who answers with [`Smp::respond`] is *Bob*. Either side may start; a side that is idle always
//! accepts an SMP1.
//!
//! ```text
//! Alice                                   Bob
//! start()        ── SMP1 ──▶  receive() → AskedForSecret{question}   (state AwaitingSecret)
//! (Expect2)                   respond()
//! receive() → InProgress ◀── SMP2 ──      (Expect3)
//! (Expect4)      ── SMP3 ──▶  receive() → Succeeded | Failed   (Bob learns here)
//! receive() → Succeeded | Failed ◀── SMP4 ──                    (Alice learns here)
//! ```
//!
//! Bob learns the result when SMP3 arrives, one message before Alice. After a result both sides
//! are idle again ([`Smp::is_in_progress`] is false) and a new run can start.
//!
//! Any malformed message, failed proof, degenerate value or message that the current state does
//! not expect aborts the run: [`Smp::receive`] replies `SMP_ABORT`, reports
//! [`SmpEvent::Cheated`] (a proof failed or an identity element was sent) or
//! [`SmpEvent::Aborted`] (anything else), and wipes every secret exponent.

use core::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::SmpError;
use super::group::{check_not_identity, random_scalar};
use super::messages::{
    check_question, Smp1, Smp2, Smp3, Smp4, SmpTlv, TLV_SMP1, TLV_SMP2, TLV_SMP3, TLV_SMP4, TLV_SMP_ABORT,
};
use super::proofs::{
    CoordsProof, CoordsStatement, EqualLogsProof, EqualLogsStatement, LogProof, TAG_G2A, TAG_G2B, TAG_G3A, TAG_G3B,
    TAG_PQ_A, TAG_PQ_B, TAG_R_A, TAG_R_B,
};
use super::secret::derive_secret;
use crate::crypto::random::RandomSource;

/// What the conversation layer tells SMP about the session it runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmpContext {
    /// The session identifier both sides derived from the AKE.
    pub ssid: [u8; 32],
    /// Our long-term key fingerprint.
    pub our_fingerprint: [u8; 32],
    /// The peer's long-term key fingerprint as we authenticated it.
    pub their_fingerprint: [u8; 32],
}

/// Something the user should learn about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmpEvent {
    /// The peer started SMP; answer with [`Smp::respond`] (or [`Smp::abort`]).
    AskedForSecret {
        /// The peer's question, if any.
        question: Option<String>,
    },
    /// The run advanced (Alice received SMP2).
    InProgress,
    /// Both sides used the same secret.
    Succeeded,
    /// The secrets differ (or someone in the middle changed them).
    Failed,
    /// The run was aborted: the peer sent `SMP_ABORT`, or a message was malformed or out of
    /// order.
    Aborted,
    /// A message carried a proof that does not verify, or an identity element: an active attack
    /// or a broken peer. The run was aborted.
    Cheated,
}

/// The outcome of [`Smp::receive`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmpStep {
    /// A TLV to send to the peer.
    pub reply: Option<SmpTlv>,
    /// Something to tell the user.
    pub event: Option<SmpEvent>,
    /// Why the run was aborted, for logs.
    pub error: Option<SmpError>,
}

// One `Smp` per session: a few hundred bytes inline are cheaper than a heap allocation.
#[allow(clippy::large_enum_variant)]
enum State {
    /// Idle.
    Expect1,
    /// Bob: SMP1 verified, waiting for the user's secret.
    AwaitingSecret { g2a: RistrettoPoint, g3a: RistrettoPoint },
    /// Alice: SMP1 sent.
    Expect2 { x: Zeroizing<Scalar>, a2: Zeroizing<Scalar>, a3: Zeroizing<Scalar> },
    /// Bob: SMP2 sent.
    Expect3 {
        b3: Zeroizing<Scalar>,
        g3a: RistrettoPoint,
        g2: RistrettoPoint,
        g3: RistrettoPoint,
        pb: RistrettoPoint,
        qb: RistrettoPoint,
    },
    /// Alice: SMP3 sent.
    Expect4 { a3: Zeroizing<Scalar>, g3b: RistrettoPoint, pa_minus_pb: RistrettoPoint, qa_minus_qb: RistrettoPoint },
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Expect1 => "Expect1",
            State::AwaitingSecret { .. } => "AwaitingSecret",
            State::Expect2 { .. } => "Expect2",
            State::Expect3 { .. } => "Expect3",
            State::Expect4 { .. } => "Expect4",
        }
    }
}

/// One side of the Socialist Millionaires' Protocol for one session.
///
/// Secret exponents live in [`Zeroizing`] values and are wiped when the run finishes, aborts,
/// restarts or the `Smp` is dropped. `Smp` is deliberately not `Clone`. Rate limiting of
/// attempts and warnings about low-entropy secrets are the caller's job: each failed run lets
/// the peer test one guess of the secret.
pub struct Smp {
    ctx: SmpContext,
    state: State,
    /// The current (or last) run was started by the peer with a non-empty question.
    answering_question: bool,
}

impl fmt::Debug for Smp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smp").field("state", &self.state.name()).finish_non_exhaustive()
    }
}

fn sub_not_identity(a: &RistrettoPoint, b: &RistrettoPoint) -> Result<RistrettoPoint, SmpError> {
    let d = a - b;
    check_not_identity(&d)?;
    Ok(d)
}

impl Smp {
    /// An idle SMP for the session described by `ctx`.
    pub fn new(ctx: SmpContext) -> Self {
        Self { ctx, state: State::Expect1, answering_question: false }
    }

    /// The session context.
    pub fn context(&self) -> &SmpContext {
        &self.ctx
    }

    /// Whether a run is under way (including a received SMP1 waiting for our secret).
    pub fn is_in_progress(&self) -> bool {
        !matches!(self.state, State::Expect1)
    }

    /// Whether a received SMP1 is waiting for [`Smp::respond`].
    pub fn is_awaiting_secret(&self) -> bool {
        matches!(self.state, State::AwaitingSecret { .. })
    }

    /// Whether the current (or last finished) run is one the peer started with a non-empty
    /// question, i.e. we are its answerer. With a question only the asker learns anything from
    /// a success (it chose the question); the conversation layer uses this to leave the
    /// answerer's trust unchanged.
    pub fn answering_question(&self) -> bool {
        self.answering_question
    }

    /// Whether any secret exponent is currently held (for tests and audits).
    pub fn holds_secrets(&self) -> bool {
        matches!(self.state, State::Expect2 { .. } | State::Expect3 { .. } | State::Expect4 { .. })
    }

    /// Starts a run as Alice: returns the TLVs to send. If a run was in progress it is aborted
    /// first and the returned list begins with `SMP_ABORT`, then SMP1. An empty question is
    /// sent as no question. On `Err` nothing changed.
    pub fn start(
        &mut self,
        secret: &[u8],
        question: Option<&str>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<SmpTlv>, SmpError> {
        if let Some(q) = question {
            check_question(q)?;
        }
        let ctx = &self.ctx;
        let x = derive_secret(&ctx.our_fingerprint, &ctx.their_fingerprint, &ctx.ssid, secret)?;
        let a2 = random_scalar(rng)?;
        let a3 = random_scalar(rng)?;
        let g2a = RistrettoPoint::mul_base(&a2);
        let g3a = RistrettoPoint::mul_base(&a3);
        let proof2 = LogProof::prove(&ctx.ssid, TAG_G2A, &a2, &g2a, rng)?;
        let proof3 = LogProof::prove(&ctx.ssid, TAG_G3A, &a3, &g3a, rng)?;
        let question = question.filter(|q| !q.is_empty()).map(str::to_owned);
        let payload = Smp1 { question, g2a, proof2, g3a, proof3 }.to_bytes()?;

        let mut out = Vec::with_capacity(2);
        if self.is_in_progress() {
            out.push(SmpTlv::abort());
        }
        self.state = State::Expect2 { x, a2, a3 };
        self.answering_question = false;
        out.push(SmpTlv { tlv_type: TLV_SMP1, payload });
        Ok(out)
    }

    /// Answers a received SMP1 (after [`SmpEvent::AskedForSecret`]) as Bob: returns SMP2.
    /// Fails with [`SmpError::NotAwaitingSecret`] if no SMP1 is pending; on `Err` nothing
    /// changed.
    pub fn respond(&mut self, secret: &[u8], rng: &mut dyn RandomSource) -> Result<SmpTlv, SmpError> {
        let State::AwaitingSecret { g2a, g3a } = self.state else {
            return Err(SmpError::NotAwaitingSecret);
        };
        let ctx = &self.ctx;
        let ssid = &ctx.ssid;
        // The peer started this run, so its fingerprint comes first.
        let y = derive_secret(&ctx.their_fingerprint, &ctx.our_fingerprint, ssid, secret)?;
        let b2 = random_scalar(rng)?;
        let b3 = random_scalar(rng)?;
        let g2b = RistrettoPoint::mul_base(&b2);
        let g3b = RistrettoPoint::mul_base(&b3);
        let proof2 = LogProof::prove(ssid, TAG_G2B, &b2, &g2b, rng)?;
        let proof3 = LogProof::prove(ssid, TAG_G3B, &b3, &g3b, rng)?;
        let g2 = g2a * *b2;
        let g3 = g3a * *b3;
        let r4 = random_scalar(rng)?;
        let pb = g3 * *r4;
        let qb = RistrettoPoint::mul_base(&r4) + g2 * *y;
        let st = CoordsStatement { g2: &g2, g3: &g3, p: &pb, q: &qb };
        let proof_pq = CoordsProof::prove(ssid, TAG_PQ_B, st, &r4, &y, rng)?;
        let payload = Smp2 { g2b, proof2, g3b, proof3, pb, qb, proof_pq }.to_bytes();
        self.state = State::Expect3 { b3, g3a, g2, g3, pb, qb };
        Ok(SmpTlv { tlv_type: TLV_SMP2, payload })
    }

    /// Aborts any run (wiping its secrets) and returns the `SMP_ABORT` TLV to send.
    pub fn abort(&mut self) -> SmpTlv {
        self.state = State::Expect1;
        SmpTlv::abort()
    }

    /// Processes a received TLV. TLV types other than 2..=6 are not SMP's and are ignored (empty
    /// step). Never fails: every problem becomes an abort, see the module docs. Receiving
    /// `SMP_ABORT` resets the machine without a reply and reports [`SmpEvent::Aborted`] if a
    /// run was in progress.
    pub fn receive(&mut self, tlv_type: u16, payload: &[u8], rng: &mut dyn RandomSource) -> SmpStep {
        match tlv_type {
            TLV_SMP_ABORT => {
                let was_running = self.is_in_progress();
                self.state = State::Expect1;
                SmpStep {
                    reply: None,
                    event: was_running.then_some(SmpEvent::Aborted),
                    error: was_running.then_some(SmpError::PeerAborted),
                }
            }
            TLV_SMP1..=TLV_SMP4 => {
                // Take the state: whatever happens, an error leaves us idle and the old
                // secrets are dropped (and wiped) at the end of this call.
                let state = core::mem::replace(&mut self.state, State::Expect1);
                match self.advance(state, tlv_type, payload, rng) {
                    Ok(step) => step,
                    Err(error) => {
                        let event = match error {
                            SmpError::ProofFailed { .. } | SmpError::IdentityPoint => SmpEvent::Cheated,
                            _ => SmpEvent::Aborted,
                        };
                        SmpStep { reply: Some(SmpTlv::abort()), event: Some(event), error: Some(error) }
                    }
                }
            }
            _ => SmpStep::default(),
        }
    }

    fn advance(
        &mut self,
        state: State,
        tlv_type: u16,
        payload: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<SmpStep, SmpError> {
        let ssid = self.ctx.ssid;
        match (state, tlv_type) {
            (State::Expect1, TLV_SMP1) => {
                let msg = Smp1::parse(payload)?;
                msg.proof2.verify(&ssid, TAG_G2A, &msg.g2a)?;
                msg.proof3.verify(&ssid, TAG_G3A, &msg.g3a)?;
                self.state = State::AwaitingSecret { g2a: msg.g2a, g3a: msg.g3a };
                self.answering_question = msg.question.as_deref().is_some_and(|q| !q.is_empty());
                Ok(SmpStep {
                    reply: None,
                    event: Some(SmpEvent::AskedForSecret { question: msg.question }),
                    error: None,
                })
            }
            (State::Expect2 { x, a2, a3 }, TLV_SMP2) => {
                let msg = Smp2::parse(payload)?;
                msg.proof2.verify(&ssid, TAG_G2B, &msg.g2b)?;
                msg.proof3.verify(&ssid, TAG_G3B, &msg.g3b)?;
                let g2 = msg.g2b * *a2;
                let g3 = msg.g3b * *a3;
                let st_b = CoordsStatement { g2: &g2, g3: &g3, p: &msg.pb, q: &msg.qb };
                msg.proof_pq.verify(&ssid, TAG_PQ_B, st_b)?;

                let r4 = random_scalar(rng)?;
                let pa = g3 * *r4;
                let qa = RistrettoPoint::mul_base(&r4) + g2 * *x;
                let st_a = CoordsStatement { g2: &g2, g3: &g3, p: &pa, q: &qa };
                let proof_pq = CoordsProof::prove(&ssid, TAG_PQ_A, st_a, &r4, &x, rng)?;
                let pa_minus_pb = sub_not_identity(&pa, &msg.pb)?;
                let qa_minus_qb = sub_not_identity(&qa, &msg.qb)?;
                let ra = qa_minus_qb * *a3;
                let g3a = RistrettoPoint::mul_base(&a3);
                let st_r = EqualLogsStatement { g3x: &g3a, d: &qa_minus_qb, r: &ra };
                let proof_r = EqualLogsProof::prove(&ssid, TAG_R_A, st_r, &a3, rng)?;
                let payload = Smp3 { pa, qa, proof_pq, ra, proof_r }.to_bytes();
                self.state = State::Expect4 { a3, g3b: msg.g3b, pa_minus_pb, qa_minus_qb };
                Ok(SmpStep {
                    reply: Some(SmpTlv { tlv_type: TLV_SMP3, payload }),
                    event: Some(SmpEvent::InProgress),
                    error: None,
                })
            }
            (State::Expect3 { b3, g3a, g2, g3, pb, qb }, TLV_SMP3) => {
                let msg = Smp3::parse(payload)?;
                let st_a = CoordsStatement { g2: &g2, g3: &g3, p: &msg.pa, q: &msg.qa };
                msg.proof_pq.verify(&ssid, TAG_PQ_A, st_a)?;
                let pa_minus_pb = sub_not_identity(&msg.pa, &pb)?;
                let qa_minus_qb = sub_not_identity(&msg.qa, &qb)?;
                let st_ra = EqualLogsStatement { g3x: &g3a, d: &qa_minus_qb, r: &msg.ra };
                msg.proof_r.verify(&ssid, TAG_R_A, st_ra)?;

                let rb = qa_minus_qb * *b3;
                let g3b = RistrettoPoint::mul_base(&b3);
                let st_rb = EqualLogsStatement { g3x: &g3b, d: &qa_minus_qb, r: &rb };
                let proof_r = EqualLogsProof::prove(&ssid, TAG_R_B, st_rb, &b3, rng)?;
                let rab = msg.ra * *b3;
                let event = result_event(&rab, &pa_minus_pb);
                Ok(SmpStep {
                    reply: Some(SmpTlv { tlv_type: TLV_SMP4, payload: Smp4 { rb, proof_r }.to_bytes() }),
                    event: Some(event),
                    error: None,
                })
            }
            (State::Expect4 { a3, g3b, pa_minus_pb, qa_minus_qb }, TLV_SMP4) => {
                let msg = Smp4::parse(payload)?;
                let st = EqualLogsStatement { g3x: &g3b, d: &qa_minus_qb, r: &msg.rb };
                msg.proof_r.verify(&ssid, TAG_R_B, st)?;
                let rab = msg.rb * *a3;
                Ok(SmpStep { reply: None, event: Some(result_event(&rab, &pa_minus_pb)), error: None })
            }
            (_, tlv_type) => Err(SmpError::UnexpectedMessage { tlv_type }),
        }
    }
}

fn result_event(rab: &RistrettoPoint, pa_minus_pb: &RistrettoPoint) -> SmpEvent {
    if bool::from(rab.ct_eq(pa_minus_pb)) {
        SmpEvent::Succeeded
    } else {
        SmpEvent::Failed
    }
}
