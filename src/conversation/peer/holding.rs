//! Holding, in one place: messages the user typed that wait for an encrypted session (or
//! for the application's consent to a key), sent once one may take them, failed otherwise.

use zeroize::Zeroizing;

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::error::ClientError;
use crate::conversation::events::{Event, MessageId, NotSentReason, PERSIST_HELD_MESSAGES};
use crate::conversation::held::Held;

impl Peer {
    /// Holds a message the user typed; `QueueFull` if the queue is.
    pub fn hold(&mut self, ctx: &mut Ctx<'_>, id: MessageId, text: &[u8]) -> Result<(), ClientError> {
        let held = Held { id, text: Zeroizing::new(text.to_vec()), queued_at: ctx.now };
        if !self.held.push(held) {
            return Err(ClientError::QueueFull);
        }
        ctx.changed(PERSIST_HELD_MESSAGES);
        Ok(())
    }

    /// Sends every held message to session `tag`, each reported as sent or not sent; nothing
    /// while `tag` is an OTR session held for an upgrade (`upgrade.rs`).
    pub fn flush_held(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        if self.held.is_empty() || self.held_for_upgrade(tag) {
            return;
        }
        ctx.changed(PERSIST_HELD_MESSAGES);
        for held in self.held.take_all() {
            match self.encrypt_user_message(ctx, tag, held.id, &held.text) {
                Ok(()) => ctx.event(&self.name, tag, Event::HeldMessageSent { message: held.id }),
                Err(_) => ctx.event(
                    &self.name,
                    tag,
                    Event::MessageNotSent { message: held.id, reason: NotSentReason::TooLarge },
                ),
            }
        }
    }

    /// Fails every held message with `reason`.
    pub fn fail_held(&mut self, ctx: &mut Ctx<'_>, reason: NotSentReason) {
        for held in self.held.take_all() {
            ctx.changed(PERSIST_HELD_MESSAGES);
            ctx.event(&self.name, 0, Event::MessageNotSent { message: held.id, reason });
        }
    }

    /// Fails, with `reason`, the messages held since before `deadline`.
    pub fn expire_held(&mut self, ctx: &mut Ctx<'_>, deadline: u64, reason: NotSentReason) {
        for held in self.held.take_older_than(deadline) {
            ctx.changed(PERSIST_HELD_MESSAGES);
            ctx.event(&self.name, 0, Event::MessageNotSent { message: held.id, reason });
        }
    }
}
