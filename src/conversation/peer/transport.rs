//! The last hop of every binary message: the protocol's armour (`?OFR:` or `?OTR:`), then
//! fragments no longer than the transport's limit, each sent through the application. One
//! place decides whether a message can be carried at all ([`fits`]), so a session can refuse a
//! message before it advances.

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::error::ClientError;
use crate::conversation::protocol::Protocol;
use crate::wire::{armour, fragment, InstanceTag};

/// Whether a binary message of `binary_len` bytes, armoured for `protocol`, can be carried
/// within `limit` characters per transport message (0 = no limit), whole or in fragments.
pub(super) fn fits(protocol: Protocol, binary_len: usize, limit: usize) -> Result<(), ClientError> {
    match protocol {
        Protocol::ModernV1 => {
            fragment::fits(armour::encoded_len(binary_len), limit).map_err(|_| ClientError::MessageTooLarge)
        }
        Protocol::OtrV3 | Protocol::OtrV2 => Err(ClientError::NoSession),
    }
}

impl Peer {
    /// Armours a modern binary message (a handshake message) and sends it, fragmented to the
    /// transport's limit.
    pub fn send_binary(&mut self, ctx: &mut Ctx<'_>, bytes: &[u8], receiver_tag: u32) -> Result<(), ClientError> {
        let limit = self.transport_limit(ctx);
        self.send_binary_within(ctx, Protocol::ModernV1, bytes, receiver_tag, limit)
    }

    /// Armours a binary message of `protocol` and sends it whole if it fits `limit` (0 = no
    /// limit), else in fragments of at most `limit`; `MessageTooLarge` if it cannot be carried
    /// (the check is [`fits`], which a sender makes before building the message).
    pub fn send_binary_within(
        &mut self,
        ctx: &mut Ctx<'_>,
        protocol: Protocol,
        bytes: &[u8],
        receiver_tag: u32,
        limit: usize,
    ) -> Result<(), ClientError> {
        if protocol != Protocol::ModernV1 {
            return Err(ClientError::NoSession);
        }
        let encoded = armour::encode(bytes);
        if encoded.len() > crate::wire::MAX_ENCODED_LEN {
            return Err(ClientError::MessageTooLarge);
        }
        if limit == 0 || encoded.len() <= limit {
            ctx.send(&self.name, encoded);
            return Ok(());
        }
        let mut id = [0u8; 4];
        ctx.rng.fill(&mut id)?;
        let pieces = fragment::split(
            &encoded,
            limit,
            u32::from_be_bytes(id),
            InstanceTag(ctx.our_tag),
            InstanceTag(receiver_tag),
        )
        .map_err(|_| ClientError::MessageTooLarge)?;
        for piece in pieces {
            ctx.send(&self.name, piece);
        }
        Ok(())
    }
}
