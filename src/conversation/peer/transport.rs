//! The last hop of every binary message: the protocol's armour (`?OFR:` or `?OTR:`), then
//! fragments no longer than the transport's limit, each sent through the application. One
//! place decides whether a message can be carried at all and how ([`plan`]), before the
//! message is built, so a session can refuse a message before it advances.

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::error::ClientError;
use crate::conversation::protocol::Protocol;
use crate::otr::message::OtrVersion;
use crate::otr::text::{armour as otr_armour, fragment as otr_fragment};
use crate::wire::{armour, fragment, InstanceTag};

/// How a binary message will travel: the size check and the fragment count in one.
#[derive(Debug, Clone, Copy)]
pub(super) enum Plan {
    /// A modern message: `?OFR:` armour, `?OFR|` fragments.
    Modern(fragment::Plan),
    /// An OTR message of this version: `?OTR:` armour, then (`count` > 1) `?OTR|` (v3) or
    /// `?OTR,` (v2) fragments.
    Otr { version: OtrVersion, count: usize },
}

/// Plans a binary message of `binary_len` bytes for `protocol` within `limit` characters per
/// transport message (0 = no limit): `MessageTooLarge` if it cannot be carried.
#[inline(always)]
pub(super) fn plan(protocol: Protocol, binary_len: usize, limit: usize) -> Result<Plan, ClientError> {
    match protocol {
        Protocol::ModernV1 => fragment::plan(armour::encoded_len(binary_len), limit)
            .map(Plan::Modern)
            .map_err(|_| ClientError::MessageTooLarge),
        Protocol::OtrV3 => otr_plan(OtrVersion::V3, binary_len, limit),
        Protocol::OtrV2 => otr_plan(OtrVersion::V2, binary_len, limit),
    }
}

/// Plans an OTR message of `version` (see [`plan`]).
#[inline(always)]
pub(super) fn otr_plan(version: OtrVersion, binary_len: usize, limit: usize) -> Result<Plan, ClientError> {
    let count = otr_fragment::fragments_needed(otr_armour::encoded_len(binary_len), limit, version)
        .map_err(|_| ClientError::MessageTooLarge)?;
    Ok(Plan::Otr { version, count })
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
                let encoded = armour::encode_into(bytes, ctx.spares.take_wire());
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
            Plan::Otr { version, count } => {
                let encoded = otr_armour::encode_into(bytes, ctx.spares.take_wire());
                if count <= 1 {
                    ctx.send(&self.name, encoded);
                    return Ok(());
                }
                let limit = self.transport_limit(ctx);
                let pieces =
                    otr_fragment::split(&encoded, limit, version, InstanceTag(ctx.our_tag), InstanceTag(receiver_tag))
                        .map_err(|_| ClientError::MessageTooLarge)?;
                for piece in pieces {
                    ctx.send(&self.name, piece);
                }
                Ok(())
            }
        }
    }

    /// Armours an OTR binary message (an AKE message) of `version` and sends it, fragmented to
    /// the transport's limit.
    pub(super) fn send_otr_binary(
        &mut self,
        ctx: &mut Ctx<'_>,
        version: OtrVersion,
        bytes: &[u8],
        receiver_tag: u32,
    ) -> Result<(), ClientError> {
        let plan = otr_plan(version, bytes.len(), self.transport_limit(ctx))?;
        self.send_planned(ctx, bytes, receiver_tag, plan)
    }
}
