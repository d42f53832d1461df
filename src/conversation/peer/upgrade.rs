//! Upgrading from OTR to the modern protocol (PROTOCOL.md part B, "Negotiation and
//! downgrade"). A man in the middle can strip `?OFRv1?` from a query so that two offrec users
//! fall back to OTR v3. With `DOWNGRADE_GUARD`, every OTR v3 session opens with an
//! authenticated probe ("I run offrec, with this modern identity"); the side that reads it
//! starts a modern handshake at once, the modern session replaces the OTR one
//! (`ProtocolUpgraded`), and if it never completes the UI is told (`DowngradeSuspected`).
//! v2 sessions never carry the probe: python-potr raises on unknown TLVs.
//!
//! The pins (`linking.rs`, [`crate::trust::ProtocolPins`]) act before any probe: an OTR
//! session (v3 or v2) whose DSA key is linked to a modern key of the peer is an offrec
//! installation talking OTR, so user text for it is held, a modern handshake starts at once and
//! `DowngradeDetected` is reported; an unlinked DSA key of a peer that had modern sessions
//! before is allowed, with `LegacyWithModernPeer`.

use super::super::context::Ctx;
use super::super::error::ClientError;
use super::super::events::{Event, MessageId, NotSentReason, SessionState};
use super::super::protocol::Control;
use super::otr::OTR_V2_INSTANCE;
use super::Peer;
use crate::conversation::Policy;
use crate::trust::otr_fingerprint;
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
    /// Whether user text for the OTR session is held until the upgrade (a pinned key link
    /// showed that the peer runs offrec); lifted when the upgrade completes or times out.
    hold: bool,
}

/// What the pins say about an OTR session that was just set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PinVerdict {
    /// Its DSA key is linked to a modern key of the peer: a downgrade.
    Linked,
    /// Its DSA key is not linked, but the peer had modern sessions before.
    ModernPeer,
    /// Nothing pinned, or no downgrade guard.
    Unpinned,
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
        if !legacy {
            return;
        }
        // The OTR session's DSA key claims this modern key: a key link, whatever our policy.
        self.modern_key_claimed(ctx, instance, fingerprint);
        let common = Versions::from_bits(versions).intersection(Versions::SUPPORTED);
        if !ctx.policy.has(Policy::DOWNGRADE_GUARD) || common.is_empty() {
            return;
        }
        match self.upgrade.as_mut() {
            // The probe is the DSA key's own current word: it replaces the key a pin expected.
            Some(pending) if pending.instance == instance => pending.fingerprint = fingerprint,
            Some(_) => {}
            None => {
                self.upgrade =
                    Some(PendingUpgrade { since: ctx.now, instance, fingerprint, reported: false, hold: false })
            }
        }
        self.start_handshake(ctx, versions);
    }

    /// Before the new OTR session with `instance` and DSA key id `key` is installed: what the
    /// pins say about it. A linked key puts user text for the session on hold at once, so that
    /// nothing held is flushed to it when it is installed.
    pub(super) fn check_pins(&mut self, ctx: &Ctx<'_>, instance: u32, key: &[u8; 32]) -> PinVerdict {
        let Some(dsa) = otr_fingerprint(key).filter(|_| ctx.policy.has(Policy::DOWNGRADE_GUARD)) else {
            return PinVerdict::Unpinned;
        };
        let linked = ctx.pins.modern_keys_of(&self.name, &dsa);
        // The modern key the upgrade should meet: a verified one if any, else the latest.
        let expected = linked.iter().find(|k| ctx.trust.trust(&self.name, k).is_verified()).or(linked.first());
        if let Some(&fingerprint) = expected {
            self.upgrade = Some(PendingUpgrade { since: ctx.now, instance, fingerprint, reported: false, hold: true });
            return PinVerdict::Linked;
        }
        if ctx.pins.last_modern_session(&self.name).is_some() {
            PinVerdict::ModernPeer
        } else {
            PinVerdict::Unpinned
        }
    }

    /// After the OTR session with `instance` is installed and reported: acts on what
    /// [`Peer::check_pins`] said.
    pub(super) fn act_on_pins(&mut self, ctx: &mut Ctx<'_>, instance: u32, verdict: PinVerdict) {
        match verdict {
            PinVerdict::Linked => {
                ctx.event(&self.name, instance, Event::DowngradeDetected);
                // No offer was seen (it was stripped): an echo of 0 asks the responder to
                // check nothing.
                self.start_handshake(ctx, 0);
            }
            PinVerdict::ModernPeer => ctx.event(&self.name, instance, Event::LegacyWithModernPeer),
            PinVerdict::Unpinned => {}
        }
    }

    /// Whether user text for session `tag` is held until the pending upgrade completes.
    pub(super) fn held_for_upgrade(&self, tag: u32) -> bool {
        self.upgrade.is_some_and(|u| u.hold && u.instance == tag)
    }

    /// Holds a message the user typed for an OTR session under a pin's hold: it goes out over
    /// the modern session, or fails, never over OTR.
    pub(super) fn hold_until_upgraded(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        id: MessageId,
        text: &[u8],
    ) -> Result<(), ClientError> {
        self.hold(ctx, id, text)?;
        ctx.event(&self.name, tag, Event::EncryptionRequired { message: id });
        Ok(())
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
        // A v2 session has no instance tag: the modern session of any instance replaces it.
        let matches = |u: &PendingUpgrade| u.instance == instance || u.instance == OTR_V2_INSTANCE;
        if let Some(pending) = self.upgrade.filter(matches) {
            self.upgrade = None;
            if pending.instance != instance
                && self.sessions.get(&pending.instance).is_some_and(|s| s.protocol().is_legacy())
            {
                self.retire_session(ctx, pending.instance);
                self.drop_session(pending.instance);
                if self.preferred == Some(pending.instance) {
                    self.preferred = None;
                }
                ctx.state(&self.name, pending.instance, SessionState::Plaintext);
                ctx.event(&self.name, instance, Event::ProtocolUpgraded);
            }
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
            let held = std::mem::replace(&mut pending.hold, false);
            ctx.event(&self.name, instance, Event::DowngradeSuspected);
            if held {
                // What was held for the upgrade fails rather than go over OTR after all; the
                // user has been warned, and what they send next uses the OTR session.
                self.fail_held(ctx, NotSentReason::EncryptionTimeout);
            }
        }
    }
}
