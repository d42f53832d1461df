//! Routing, in one place: which session a plain send, a send naming an instance, or an SMP
//! call goes to, and the application's consent to a new key.

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::error::ClientError;
use crate::conversation::protocol::ProtocolSession;
use crate::trust::{TrustStore, MAX_KEYS_PER_PEER};

/// Where a plain `send` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// To this session.
    To(u32),
    /// Nowhere yet: the live sessions use an unverified key while a key of this peer is
    /// verified; this is the most recent of them. Messages are held until the app consents.
    AwaitingConsent(u32),
    /// There is no live session.
    Nothing,
}

impl Peer {
    /// Whether a plain `send` may use this session: it can carry traffic (not finished, not
    /// restored from a store), and its key is verified, or no key of this peer is verified, or
    /// the application accepted the key. Routing therefore never moves from a verified key to
    /// an unverified one without the application's consent.
    pub fn routable(&self, trust: &TrustStore, session: &dyn ProtocolSession) -> bool {
        if !session.usable() {
            return false;
        }
        // One look-up of the peer's keys answers both trust questions (every send and every
        // received message asks this).
        let keys = trust.keys(&self.name);
        let fingerprint = session.their_fingerprint();
        keys.iter().find(|k| k.fingerprint == fingerprint).is_some_and(|k| k.trust.is_verified())
            || !keys.iter().any(|k| k.trust.is_verified())
            || self.accepted_keys.contains(&fingerprint)
    }

    /// Where a message goes. With `instance`: that session (whatever its key: naming it is
    /// the application's choice), unless it was restored from a store. Without: the preferred
    /// session if routable, else the routable one that most recently sent user text; else, if
    /// sessions that can carry traffic exist but await consent, the most recent of them
    /// ([`Route::AwaitingConsent`]). Sessions restored from a store never carry traffic (they
    /// are restarted instead): with nothing else, [`Route::Nothing`].
    pub fn route(&self, trust: &TrustStore, instance: Option<u32>) -> Result<Route, ClientError> {
        if let Some(tag) = instance {
            return match self.sessions.get(&tag) {
                Some(session) if session.is_finished() => Err(ClientError::SessionFinished),
                Some(session) if session.is_restored() => Ok(Route::Nothing),
                Some(_) => Ok(Route::To(tag)),
                None => Ok(Route::Nothing),
            };
        }
        let preferred =
            self.preferred.and_then(|tag| self.sessions.get(&tag)).filter(|s| self.routable(trust, s.as_ref()));
        if let Some(session) = preferred {
            return Ok(Route::To(session.their_tag()));
        }
        let live = || self.sessions.values().filter(|s| s.usable());
        if let Some(session) =
            live().filter(|s| self.routable(trust, s.as_ref())).max_by_key(|s| s.last_text_received())
        {
            return Ok(Route::To(session.their_tag()));
        }
        if let Some(session) = live().max_by_key(|s| s.last_text_received()) {
            return Ok(Route::AwaitingConsent(session.their_tag()));
        }
        if self.has_restored_session() {
            return Ok(Route::Nothing);
        }
        if self.sessions.values().any(|s| s.is_finished()) {
            return Err(ClientError::SessionFinished);
        }
        Ok(Route::Nothing)
    }

    /// The session a message goes to: the named instance, else a routable one (see
    /// [`Peer::route`]). `Ok(None)` if there is none that can carry traffic (none at all,
    /// only sessions restored from a store, which are restarted instead, or only sessions
    /// awaiting consent, which are reached only by naming their instance).
    pub fn choose_session(&self, trust: &TrustStore, instance: Option<u32>) -> Result<Option<u32>, ClientError> {
        Ok(match self.route(trust, instance)? {
            Route::To(tag) => Some(tag),
            Route::AwaitingConsent(_) | Route::Nothing => None,
        })
    }

    /// The application's consent to the key of session `tag`: plain sends may use it (the key
    /// stays unverified in the trust store), it becomes the preferred session, and messages
    /// held for this peer are sent to it. For a session restored from a store only the key is
    /// accepted: the restarted session with that key will take the sends.
    pub fn accept_key(&mut self, ctx: &mut Ctx<'_>, tag: u32) -> Result<(), ClientError> {
        let session = self.sessions.get(&tag).ok_or(ClientError::NoSession)?;
        if session.is_finished() {
            return Err(ClientError::SessionFinished);
        }
        let fingerprint = session.their_fingerprint();
        let restored = session.is_restored();
        if !self.accepted_keys.contains(&fingerprint) {
            if self.accepted_keys.len() >= MAX_KEYS_PER_PEER {
                self.accepted_keys.remove(0);
            }
            self.accepted_keys.push(fingerprint);
        }
        if !restored {
            self.preferred = Some(tag);
            self.flush_held(ctx, tag);
        }
        Ok(())
    }

    /// The session an SMP call acts on. SMP is how a new key gets verified, so unlike plain
    /// sends it may use a session awaiting consent (it carries no user text): without an
    /// instance, the session whose run matches `pick` (a request waiting for our secret, a run
    /// in progress), else the one a plain send would use, else the newest session awaiting
    /// consent.
    pub fn smp_route(
        &self,
        trust: &TrustStore,
        instance: Option<u32>,
        pick: fn(&dyn ProtocolSession) -> bool,
    ) -> Result<u32, ClientError> {
        if instance.is_none() {
            let running = self
                .sessions
                .values()
                .filter(|s| !s.is_finished() && pick(s.as_ref()))
                .max_by_key(|s| s.last_received());
            if let Some(session) = running {
                return Ok(session.their_tag());
            }
        }
        match self.route(trust, instance)? {
            Route::To(tag) | Route::AwaitingConsent(tag) => Ok(tag),
            Route::Nothing => Err(ClientError::NoSession),
        }
    }
}
