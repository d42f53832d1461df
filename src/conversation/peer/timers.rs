//! Everything that happens because time passed, driven by `Client::tick(now)`: no hidden
//! threads, and tests run instantly with an injected clock.

use super::super::context::Ctx;
use super::super::events::{Event, NotSentReason};
use super::{Peer, Route};
use crate::wire::data_message::FLAG_IGNORE_UNREADABLE;

impl Peer {
    pub fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let settings = ctx.settings;
        self.reassembler.expire(now);

        // Held messages go out as soon as a session may take them (the app accepted a key, or
        // verified it with set_trust or SMP); those left too long fail, with KeyChanged if a
        // session exists but awaits the app's consent.
        let route = self.route(ctx.trust, None);
        match route {
            Ok(Route::To(tag)) if !self.held.is_empty() => self.flush_held(ctx, tag),
            _ => {}
        }
        let reason = match route {
            Ok(Route::AwaitingConsent(_)) => NotSentReason::KeyChanged,
            _ => NotSentReason::EncryptionTimeout,
        };
        let deadline = now.saturating_sub(settings.held_message_timeout);
        self.expire_held(ctx, deadline, reason);
        let handshake_deadline = now.saturating_sub(settings.handshake_timeout);
        if self.initiator.as_ref().is_some_and(|p| p.started_at < handshake_deadline) {
            self.initiator = None;
        }
        self.responders.retain(|_, r| r.started_at >= handshake_deadline);
        if let Some(otr) = self.otr.as_mut() {
            otr.expire(now, handshake_deadline);
        }
        self.check_upgrade(ctx, settings.handshake_timeout);

        let tags: Vec<u32> = self.sessions.keys().copied().collect();
        for tag in tags {
            let Some(session) = self.sessions.get_mut(&tag) else { continue };
            if session.is_finished() {
                continue;
            }
            if session.is_restored() {
                // Carries no traffic and holds no usable key (`Ratchet::retire`); kept until a
                // new session replaces it, so the reveals it still holds get published.
                continue;
            }
            session.expire(now);
            let idle_for = now.saturating_sub(session.last_activity());
            // Never for OTR sessions: libotr peers have no expiry, and a disconnect after a
            // silence would leave their users in a finished conversation.
            let expires = settings.session_expiry > 0 && !session.protocol().is_legacy();
            if expires && idle_for >= settings.session_expiry {
                self.close_session(ctx, tag);
                ctx.event(&self.name, tag, Event::SessionExpired);
                continue;
            }
            let heartbeat_due = session.heartbeat_due(now, settings.heartbeat_interval);
            // Not to a peer the application reports offline: it would bounce or queue.
            if settings.heartbeat_interval > 0 && heartbeat_due && !ctx.peer_offline {
                // An empty message: moves the ratchet on and publishes pending reveals.
                if self.encrypt_to(ctx, tag, &[], &[], FLAG_IGNORE_UNREADABLE).is_ok() {
                    ctx.event(&self.name, tag, Event::HeartbeatSent);
                }
            }
        }
    }
}
