//! Sending application TLVs (`conversation::app_tlv`) to a peer: only over an encrypted
//! session a plain send may use, never held, never in the clear.

use super::super::app_tlv::AppTlv;
use super::super::context::Ctx;
use super::super::error::ClientError;
use super::super::events::{MessageId, PERSIST_SENT_LOG};
use super::super::protocol::{Control, Protocol};
use super::{Peer, Route};

impl Peer {
    /// Sends `text` and `tlvs` to the session plain sends use (after any held messages), with
    /// our upgrade probe when an OTR session still repeats it. `NoSession` without one: a
    /// message with TLVs is not held (they are often about the moment, such as "typing").
    pub fn send_app_tlvs(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        text: &[u8],
        tlvs: &[AppTlv<'_>],
    ) -> Result<(), ClientError> {
        let Route::To(tag) = self.route(ctx.trust, None)? else { return Err(ClientError::NoSession) };
        // python-potr, OTR v2's main implementation, fails on TLV types it does not know
        // (otr-compat-brief P14): a message with ours would be lost, text and all.
        if !tlvs.is_empty() && self.sessions.get(&tag).is_some_and(|s| s.protocol() == Protocol::OtrV2) {
            return Err(ClientError::TlvsUnsupported);
        }
        self.flush_held(ctx, tag);
        let mut controls: Vec<Control<'_>> =
            tlvs.iter().map(|t| Control::App { kind: t.kind, value: t.value }).collect();
        controls.extend(self.modern_offer_for_user_message(ctx, tag));
        let sent = self.encrypt_to(ctx, tag, text, &controls, 0)?;
        if let Some(session) = self.sessions.get_mut(&tag) {
            session.record_sent(&sent, id);
            if sent.log_marker.is_some() {
                ctx.changed(PERSIST_SENT_LOG);
            }
        }
        Ok(())
    }
}
