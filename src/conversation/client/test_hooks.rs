//! Test-only seams of a client, compiled only with the `test-hooks` cargo feature (never in
//! release packages): what the C, Python and Go tests need to replay libotr's frozen vectors
//! through the public calls (a recorded DSA key, libotr's DH secrets) and to put SMP values no
//! honest client sends on an OTR session's wire. Nothing here is reachable in a normal build.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::Client;
use crate::conversation::error::ClientError;
use crate::conversation::events::Action;
use crate::conversation::protocol::Control;
use crate::crypto::{OsRandom, RandomError, RandomSource};
use crate::otr::identity::DsaIdentity;
use crate::otr::smp::{TLV_SMP1, TLV_SMP1Q};
use crate::smp::SmpTlv;
use crate::wire::data_message::FLAG_IGNORE_UNREADABLE;

/// At most this many queued chunks, each at most `MAX_CHUNK_LEN` (4096) bytes: a test queues a few
/// DH secrets, never more.
pub const MAX_QUEUED_CHUNKS: usize = 256;
/// The largest queued chunk (an SMP exponent is 192 bytes, a DSA nonce seed less).
pub const MAX_CHUNK_LEN: usize = 4096;

/// Chunks a test queued for a client's random source, shared between the client (which counts
/// and appends) and the source installed in it (which hands them out).
#[derive(Default, Clone)]
pub(crate) struct QueuedChunks {
    chunks: Arc<Mutex<VecDeque<Zeroizing<Vec<u8>>>>>,
    installed: bool,
}

/// The client's own source with the queue in front: a draw of exactly the size of the oldest
/// queued chunk takes that chunk; any other draw (and every draw once the queue is empty) comes
/// from the client's own source. So a test can hand libotr's DH secrets (40 bytes) and r (16
/// bytes) to the OTR handshake in the order libotr drew them while everything else stays random;
/// a draw in another order than libotr's shows up as different bytes on the wire.
struct QueuedRandom {
    chunks: Arc<Mutex<VecDeque<Zeroizing<Vec<u8>>>>>,
    inner: Box<dyn RandomSource>,
}

impl RandomSource for QueuedRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        let chunk = match self.chunks.lock() {
            Ok(mut queue) if queue.front().is_some_and(|c| c.len() == out.len()) => queue.pop_front(),
            _ => None,
        };
        match chunk {
            Some(chunk) => {
                out.copy_from_slice(&chunk);
                Ok(())
            }
            None => self.inner.fill(out),
        }
    }
}

impl Client {
    /// Test hook: replaces the client's OTR DSA identity with the one given by its components
    /// (big-endian magnitudes, as libotr's key files and the vectors hold them). The actions
    /// ask for a save, as any new key does.
    pub fn test_set_otr_key(
        &mut self,
        p: &[u8],
        q: &[u8],
        g: &[u8],
        y: &[u8],
        x: &[u8],
    ) -> Result<Vec<Action>, ClientError> {
        let identity = DsaIdentity::from_components(p, q, g, y, x)
            .map_err(|_| ClientError::InvalidArgument("not a valid DSA-1024 key"))?;
        self.set_otr_identity(Some(identity));
        Ok(self.finish_call(Vec::new()))
    }

    /// Test hook: queues `chunks` in front of the client's random source (`QueuedRandom`).
    /// Refuses (changing nothing) more than `MAX_QUEUED_CHUNKS` (256) in all, an empty chunk or one
    /// over `MAX_CHUNK_LEN` (4096) bytes.
    pub fn test_queue_random(&mut self, chunks: Vec<Zeroizing<Vec<u8>>>) -> Result<(), ClientError> {
        if chunks.iter().any(|c| c.is_empty() || c.len() > MAX_CHUNK_LEN) {
            return Err(ClientError::InvalidArgument("a queued chunk is empty or too long"));
        }
        let mut queue = self.test_random.chunks.lock().map_err(|_| ClientError::Random)?;
        if queue.len().saturating_add(chunks.len()) > MAX_QUEUED_CHUNKS {
            return Err(ClientError::InvalidArgument("too many queued chunks"));
        }
        queue.extend(chunks);
        drop(queue);
        if !self.test_random.installed {
            let inner = std::mem::replace(&mut self.rng, Box::new(OsRandom));
            self.rng = Box::new(QueuedRandom { chunks: Arc::clone(&self.test_random.chunks), inner });
            self.test_random.installed = true;
        }
        Ok(())
    }

    /// Test hook: how many queued chunks no draw has taken yet.
    pub fn test_queued_random_left(&self) -> usize {
        self.test_random.chunks.lock().map_or(0, |queue| queue.len())
    }

    /// Test hook: sends one SMP TLV (`tlv_type` 2-7, OTR's SMP1..SMP_ABORT and SMP1Q, with any
    /// value) in an OTR data message on the OTR session with `instance` of `peer` (`None`: the
    /// session a plain send would use), as libotr sends SMP: empty text, IGNORE_UNREADABLE. The
    /// client's own SMP state is left as it was: this is how tests put values on the wire that
    /// an honest client never sends (libotr's recorded messages, malformed values).
    pub fn test_send_otr_smp(
        &mut self,
        peer: &str,
        instance: Option<u32>,
        tlv_type: u16,
        value: &[u8],
        now: u64,
    ) -> Result<Vec<Action>, ClientError> {
        if !(TLV_SMP1..=TLV_SMP1Q).contains(&tlv_type) {
            return Err(ClientError::InvalidArgument("not an OTR SMP TLV type"));
        }
        let tag = self.smp_session_tag(peer, instance, |_| false)?;
        let is_otr = self.peers.get(peer).is_some_and(|p| {
            p.session_infos(&self.trust).iter().any(|info| info.instance == tag && info.protocol.is_legacy())
        });
        if !is_otr {
            return Err(ClientError::NoSession);
        }
        let tlv = SmpTlv { tlv_type, payload: value.to_vec() };
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| {
            p.encrypt_to(ctx, tag, &[], &[Control::Smp(&tlv)], FLAG_IGNORE_UNREADABLE).map(|_| ())
        });
        self.finish_result(result.map(|()| actions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Settings;
    use crate::crypto::{DeterministicRandom, IdentityKey};

    fn client() -> Client {
        let mut rng = DeterministicRandom::new([7; 32]);
        let identity = IdentityKey::generate(&mut rng).unwrap();
        Client::with_parts("alice", "xmpp", identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
    }

    #[test]
    fn queued_chunks_go_to_draws_of_their_size_in_order() {
        let mut c = client();
        c.test_queue_random(vec![Zeroizing::new(vec![1; 40]), Zeroizing::new(vec![2; 16])]).unwrap();
        c.test_queue_random(vec![Zeroizing::new(vec![3; 40])]).unwrap();
        assert_eq!(c.test_queued_random_left(), 3);
        let mut other = [0u8; 32];
        c.rng.fill(&mut other).unwrap();
        assert_ne!(other, [1; 32], "another size comes from the client's own source");
        let mut a = [0u8; 40];
        c.rng.fill(&mut a).unwrap();
        assert_eq!(a, [1; 40]);
        let mut b = [0u8; 40];
        c.rng.fill(&mut b).unwrap();
        assert_ne!(b, [3; 40], "the 16-byte chunk is next: a 40-byte draw does not skip it");
        let mut r = [0u8; 16];
        c.rng.fill(&mut r).unwrap();
        assert_eq!(r, [2; 16]);
        c.rng.fill(&mut a).unwrap();
        assert_eq!(a, [3; 40]);
        assert_eq!(c.test_queued_random_left(), 0);
    }

    #[test]
    fn bad_queues_change_nothing() {
        let mut c = client();
        assert!(c.test_queue_random(vec![Zeroizing::new(Vec::new())]).is_err());
        assert!(c.test_queue_random(vec![Zeroizing::new(vec![0; MAX_CHUNK_LEN + 1])]).is_err());
        let many = (0..=MAX_QUEUED_CHUNKS).map(|_| Zeroizing::new(vec![0; 1])).collect();
        assert!(c.test_queue_random(many).is_err());
        assert_eq!(c.test_queued_random_left(), 0);
    }

    #[test]
    fn raw_smp_needs_an_otr_session_and_an_smp_type() {
        let mut c = client();
        assert!(matches!(c.test_send_otr_smp("bob", None, 1, &[], 0), Err(ClientError::InvalidArgument(_))));
        assert!(matches!(c.test_send_otr_smp("bob", None, 8, &[], 0), Err(ClientError::InvalidArgument(_))));
        assert!(matches!(c.test_send_otr_smp("bob", None, TLV_SMP1, &[], 0), Err(ClientError::NoSession)));
    }

    #[test]
    fn a_bad_key_is_refused() {
        let mut c = client();
        assert!(c.test_set_otr_key(&[1], &[1], &[1], &[1], &[1]).is_err());
        assert_eq!(c.otr_fingerprint(), None);
    }
}
