//! Upgrading from OTR to the modern protocol (PROTOCOL.md part B, "Negotiation and
//! downgrade"). A man in the middle can strip `?OFRv1?` from a query so that two offrec users
//! fall back to OTR v3. With `DOWNGRADE_GUARD`, every OTR v3 session opens with an
//! authenticated probe ("I run offrec, with this modern identity"); the side that reads it
//! starts a modern handshake at once, the modern session replaces the OTR one
//! (`ProtocolUpgraded`), and if it never completes the UI is told (`DowngradeSuspected`).
//! v2 sessions never carry the probe: python-potr raises on unknown TLVs.

use super::super::context::Ctx;
use super::super::events::Event;
use super::super::protocol::Control;
use super::Peer;
use crate::conversation::Policy;
use crate::wire::data_message::FLAG_IGNORE_UNREADABLE;
use crate::wire::Versions;

/// An upgrade asked for and not yet completed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingUpgrade {
    /// When the probe was read.
    since: u64,
    /// The OTR session's instance.
    instance: u32,
    /// The modern identity the probe announced (authenticated by the OTR session).
    fingerprint: [u8; 32],
    /// Whether `DowngradeSuspected` was already reported for it.
    reported: bool,
}

impl Peer {
    /// Sends our probe as the first data message of a new OTR v3 session, if the policy guards
    /// against downgrades.
    pub(super) fn send_modern_offer(&mut self, ctx: &mut Ctx<'_>, instance: u32) {
        if !ctx.policy.has(Policy::DOWNGRADE_GUARD) {
            return;
        }
        let offer = Control::ModernOffer { versions: Versions::SUPPORTED.bits(), fingerprint: ctx.our_fingerprint };
        // Best effort: a transport too small for it carries no OTR data message either.
        let _ = self.encrypt_to(ctx, instance, &[], &[offer], FLAG_IGNORE_UNREADABLE);
    }

    /// The probe again, for one of the first user messages of an OTR v3 session (the first
    /// probe travels alone and may have been lost like any message).
    pub(super) fn modern_offer_for_user_message(&mut self, ctx: &Ctx<'_>, tag: u32) -> Option<Control<'static>> {
        if !ctx.policy.has(Policy::DOWNGRADE_GUARD) {
            return None;
        }
        let session = self.sessions.get_mut(&tag)?;
        session
            .repeat_modern_offer()
            .then_some(Control::ModernOffer { versions: Versions::SUPPORTED.bits(), fingerprint: ctx.our_fingerprint })
    }

    /// The peer's probe arrived on the OTR session `instance`: it runs offrec. Start the
    /// modern handshake (crossed starts from both sides converge as usual).
    pub(super) fn modern_offered(&mut self, ctx: &mut Ctx<'_>, instance: u32, versions: u8, fingerprint: [u8; 32]) {
        let legacy = self.sessions.get(&instance).is_some_and(|s| s.protocol().is_legacy());
        let common = Versions::from_bits(versions).intersection(Versions::SUPPORTED);
        if !legacy || !ctx.policy.has(Policy::DOWNGRADE_GUARD) || common.is_empty() {
            return;
        }
        if self.upgrade.is_none() {
            self.upgrade = Some(PendingUpgrade { since: ctx.now, instance, fingerprint, reported: false });
        }
        self.start_handshake(ctx, versions);
    }

    /// A modern session with key `fingerprint` was installed for `instance`, replacing an OTR
    /// one if `replaced_legacy`. A key other than the one the probe announced is suspicious:
    /// the probe came over the authenticated OTR session, the handshake did not.
    pub(super) fn upgrade_completed(
        &mut self,
        ctx: &mut Ctx<'_>,
        instance: u32,
        fingerprint: [u8; 32],
        replaced_legacy: bool,
    ) {
        if replaced_legacy {
            ctx.event(&self.name, instance, Event::ProtocolUpgraded);
        }
        if let Some(pending) = self.upgrade.filter(|u| u.instance == instance) {
            self.upgrade = None;
            if pending.fingerprint != fingerprint {
                ctx.event(&self.name, instance, Event::DowngradeSuspected);
            }
        }
    }

    /// Reports, once, an upgrade that did not complete within `timeout` seconds: someone may be
    /// blocking the modern protocol between two offrec users.
    pub(super) fn check_upgrade(&mut self, ctx: &mut Ctx<'_>, timeout: u64) {
        let Some(pending) = self.upgrade.as_mut() else { return };
        let still_legacy = self.sessions.get(&pending.instance).is_some_and(|s| s.protocol().is_legacy());
        if !still_legacy {
            self.upgrade = None;
            return;
        }
        if !pending.reported && ctx.now >= pending.since.saturating_add(timeout) {
            pending.reported = true;
            let instance = pending.instance;
            ctx.event(&self.name, instance, Event::DowngradeSuspected);
        }
    }
}
