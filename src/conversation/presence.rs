//! Whether a peer is online, as the application's `is_logged_in` answers it for one call
//! (libotr's callback of that name): messages that only inform the peer (heartbeats, the
//! message that ends a session) are not sent to a peer reported offline, where they would
//! bounce or queue on the server. Nothing is stored: the answer holds for that call only.

use std::collections::BTreeSet;

use super::client::Client;

impl Client {
    /// Runs `f` with `offline` as the peers the application reported offline for this call
    /// only; nothing is stored.
    pub fn with_offline_peers<R>(&mut self, offline: BTreeSet<String>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.call_offline = offline;
        let result = f(self);
        self.call_offline.clear();
        result
    }
}
