//! Key linking (PROTOCOL.md part B, "Key links and pins"). Each side names its OTR DSA key once
//! inside every new modern session (modern TLV 8), and the upgrade probe inside OTR v3 sessions
//! names the modern key (B.12): either way one key's authenticated session claims the other
//! key for the same offrec installation. The claim is recorded as a link of this peer name
//! ([`crate::trust::ProtocolPins`]), which the downgrade guard consults after every OTR
//! handshake (`upgrade.rs`).
//!
//! Trust flows along a claim only from the side whose session carried it, and only if that
//! key is verified: a fingerprint is public, so anyone can claim one, and a claim made by an
//! unverified key proves nothing about the key it names. A claim never lowers trust.

use super::super::context::Ctx;
use super::super::events::{Event, PERSIST_TRUST};
use super::super::protocol::Control;
use super::Peer;
use crate::trust::{otr_fingerprint, otr_key_id};
use crate::wire::data_message::FLAG_IGNORE_UNREADABLE;

impl Peer {
    /// A new modern session with `tag` is installed: remember that this peer speaks offrec's
    /// protocol, and tell it which OTR DSA key is ours, if we have one (a key is never made
    /// for this).
    pub(super) fn modern_session_installed(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        ctx.pins.modern_session(&self.name, ctx.now);
        let Some(fingerprint) = ctx.otr_identity.as_ref().map(|identity| identity.fingerprint()) else { return };
        // Best effort, like the probe: a transport too small for it carries no user text either.
        let _ = self.encrypt_to(ctx, tag, &[], &[Control::LinkedOtrKey { fingerprint }], FLAG_IGNORE_UNREADABLE);
    }

    /// The modern session `tag` says the peer's OTR DSA key has fingerprint `dsa`. Only its
    /// first claim counts: a peer sends one per session, and more could only churn its links.
    pub(super) fn otr_key_claimed(&mut self, ctx: &mut Ctx<'_>, tag: u32, dsa: [u8; 20]) {
        let session = self.sessions.get_mut(&tag).filter(|s| !s.protocol().is_legacy());
        let Some(modern) = session.and_then(|s| s.first_link_claim().then(|| s.their_fingerprint())) else {
            return;
        };
        self.record_link(ctx, tag, modern, dsa, modern, otr_key_id(&dsa));
    }

    /// The OTR session `tag` carried the upgrade probe naming the peer's modern key `modern`.
    pub(super) fn modern_key_claimed(&mut self, ctx: &mut Ctx<'_>, tag: u32, modern: [u8; 32]) {
        let carrier = self.sessions.get(&tag).filter(|s| s.protocol().is_legacy()).map(|s| s.their_fingerprint());
        let Some((carrier, dsa)) = carrier.and_then(|key| Some((key, otr_fingerprint(&key)?))) else { return };
        self.record_link(ctx, tag, modern, dsa, carrier, modern);
    }

    /// Records the link (modern, dsa) claimed by the session `tag` with key `carrier` for the
    /// key `claimed`, and lets the carrier's trust flow to the claimed key if the carrier is
    /// verified and the claimed key is not.
    fn record_link(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        modern: [u8; 32],
        dsa: [u8; 20],
        carrier: [u8; 32],
        claimed: [u8; 32],
    ) {
        if ctx.pins.link(&self.name, modern, dsa, ctx.now) {
            ctx.changed(PERSIST_TRUST);
            ctx.event(&self.name, tag, Event::OtrKeyLinked { fingerprint: otr_key_id(&dsa) });
        }
        let vouching = ctx.trust.trust(&self.name, &carrier);
        if !vouching.is_verified() || ctx.trust.trust(&self.name, &claimed).is_verified() {
            return;
        }
        if !ctx.trust.keys(&self.name).iter().any(|k| k.fingerprint == claimed) {
            // Added the way a session adds a key, so the cap drops unverified keys first.
            ctx.trust.observe(&self.name, claimed);
        }
        // "Verified via link": the same level as the key that vouched for it.
        ctx.trust.set_trust(&self.name, claimed, vouching);
        ctx.changed(PERSIST_TRUST);
        let live: Vec<u32> = self
            .sessions
            .values()
            .filter(|s| s.usable() && s.their_fingerprint() == claimed)
            .map(|s| s.their_tag())
            .collect();
        for live in live {
            let state = ctx.encrypted_state(&self.name, &claimed);
            ctx.state(&self.name, live, state);
        }
    }
}
