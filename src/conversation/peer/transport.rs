//! The last hop of every binary message: the protocol's armour (`?OFR:` or `?OTR:`), then
//! fragments no longer than the transport's limit, each sent through the application. One
//! place decides whether a message can be carried at all and how ([`plan`]), before the
//! message is built, so a session can refuse a message before it advances.

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::error::ClientError;
use crate::conversation::protocol::Protocol;
use crate::wire::{armour, fragment, InstanceTag};

/// How a binary message will travel: the size check and the fragment count in one.
#[derive(Debug, Clone, Copy)]
pub(super) enum Plan {
    /// A modern message: `?OFR:` armour, `?OFR|` fragments.
    Modern(fragment::Plan),
}

/// Plans a binary message of `binary_len` bytes for `protocol` within `limit` characters per
/// transport message (0 = no limit): `MessageTooLarge` if it cannot be carried.
pub(super) fn plan(protocol: Protocol, binary_len: usize, limit: usize) -> Result<Plan, ClientError> {
    match protocol {
        Protocol::ModernV1 => fragment::plan(armour::encoded_len(binary_len), limit)
            .map(Plan::Modern)
            .map_err(|_| ClientError::MessageTooLarge),
        Protocol::OtrV3 | Protocol::OtrV2 => Err(ClientError::NoSession),
    }
}

impl Peer {
    /// Armours a modern binary message (a handshake message) and sends it, fragmented to the
    /// transport's limit.
    pub fn send_binary(&mut self, ctx: &mut Ctx<'_>, bytes: &[u8], receiver_tag: u32) -> Result<(), ClientError> {
        let plan = plan(Protocol::ModernV1, bytes.len(), self.transport_limit(ctx))?;
        self.send_planned(ctx, bytes, receiver_tag, plan)
    }

    /// Armours a binary message and sends it as `plan` says: whole, or in fragments.
    pub(super) fn send_planned(
        &mut self,
        ctx: &mut Ctx<'_>,
        bytes: &[u8],
        receiver_tag: u32,
        plan: Plan,
    ) -> Result<(), ClientError> {
        match plan {
            Plan::Modern(plan) => {
                let encoded = armour::encode(bytes);
                if plan.goes_whole(encoded.len()) {
                    ctx.send(&self.name, encoded);
                    return Ok(());
                }
                let mut id = [0u8; 4];
                ctx.rng.fill(&mut id)?;
                let pieces = plan
                    .pieces(&encoded, u32::from_be_bytes(id), InstanceTag(ctx.our_tag), InstanceTag(receiver_tag))
                    .map_err(|_| ClientError::MessageTooLarge)?;
                for piece in pieces {
                    ctx.send(&self.name, piece);
                }
                Ok(())
            }
        }
    }
}
