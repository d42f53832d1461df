//! Socialist Millionaires' Protocol runs inside a session: TLVs in, TLVs out, events for the
//! UI, and a verified fingerprint in the trust store on success: on both sides without a
//! question, only on the asker's side with one.

use super::super::context::Ctx;
use super::super::error::ClientError;
use super::super::events::{Event, SessionState, PERSIST_TRUST};
use super::Peer;
use crate::conversation::protocol::Control;
use crate::smp::{SmpEvent, SmpTlv};
use crate::trust::Trust;
use crate::wire::data_message::FLAG_IGNORE_UNREADABLE;

impl Peer {
    pub fn receive_smp(&mut self, ctx: &mut Ctx<'_>, tag: u32, message: &SmpTlv) {
        let Some(session) = self.sessions.get_mut(&tag) else { return };
        let step = session.smp_receive(message, ctx.rng);
        let answered_question = session.smp_answering_question();
        let fingerprint = session.their_fingerprint();
        if matches!(step.event, Some(SmpEvent::Failed | SmpEvent::Cheated)) {
            session.smp_failed();
        }
        if let Some(reply) = step.reply {
            // If the reply cannot be sent the peer's run times out on its side; ours is reset.
            let _ = self.encrypt_to(ctx, tag, &[], &[Control::Smp(&reply)], FLAG_IGNORE_UNREADABLE);
        }
        let Some(event) = step.event else { return };
        let event = match event {
            SmpEvent::AskedForSecret { question } => Event::SmpAskedForSecret { question },
            SmpEvent::InProgress => Event::SmpInProgress,
            // With a question only the asker learns something (it chose the question): the
            // answerer is told the peer verified it, and its trust store is left alone
            // (libotr's semantics).
            SmpEvent::Succeeded if answered_question => Event::SmpVerifiedByPeer,
            SmpEvent::Succeeded => {
                ctx.trust.set_trust(&self.name, fingerprint, Trust::VerifiedSmp);
                ctx.changed(PERSIST_TRUST);
                ctx.state(&self.name, tag, SessionState::EncryptedVerified);
                Event::SmpSucceeded
            }
            SmpEvent::Failed => Event::SmpFailed,
            SmpEvent::Cheated => Event::SmpCheated,
            _ => Event::SmpAborted,
        };
        ctx.event(&self.name, tag, event);
    }

    /// Starts an SMP run with the session `tag`, asking `question` if given.
    pub fn smp_start(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        secret: &[u8],
        question: Option<&str>,
    ) -> Result<(), ClientError> {
        let session = self.sessions.get_mut(&tag).filter(|s| s.usable()).ok_or(ClientError::NoSession)?;
        if !session.smp_may_start(ctx.now) {
            return Err(ClientError::SmpRateLimited);
        }
        let messages = session.smp_start(secret, question, ctx.rng)?;
        session.smp_started(ctx.now);
        // One message each (an abort of a run under way, then SMP1): OTR peers look TLVs up
        // by type, not in order, and would read the abort after the new SMP1.
        for message in &messages {
            self.encrypt_to(ctx, tag, &[], &[Control::Smp(message)], FLAG_IGNORE_UNREADABLE)?;
        }
        ctx.event(&self.name, tag, Event::SmpInProgress);
        Ok(())
    }

    /// Answers the peer's SMP question with our secret.
    pub fn smp_respond(&mut self, ctx: &mut Ctx<'_>, tag: u32, secret: &[u8]) -> Result<(), ClientError> {
        let session = self.sessions.get_mut(&tag).filter(|s| s.usable()).ok_or(ClientError::NoSession)?;
        let message = session.smp_respond(secret, ctx.rng)?;
        self.encrypt_to(ctx, tag, &[], &[Control::Smp(&message)], FLAG_IGNORE_UNREADABLE)?;
        ctx.event(&self.name, tag, Event::SmpInProgress);
        Ok(())
    }

    /// Aborts a run in progress and tells the peer.
    pub fn smp_abort(&mut self, ctx: &mut Ctx<'_>, tag: u32) -> Result<(), ClientError> {
        let session = self.sessions.get_mut(&tag).filter(|s| s.usable()).ok_or(ClientError::NoSession)?;
        let message = session.smp_abort();
        self.encrypt_to(ctx, tag, &[], &[Control::Smp(&message)], FLAG_IGNORE_UNREADABLE)?;
        ctx.event(&self.name, tag, Event::SmpAborted);
        Ok(())
    }
}
