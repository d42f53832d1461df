//! One encrypted session with one remote instance of a peer.

use crate::ake::Established;
use crate::crypto::keys::fingerprint;
use crate::ratchet::Ratchet;
use crate::smp::{Smp, SmpContext};

/// A session's live state. Replaced whole when a new handshake with the same instance
/// completes; the old one keeps working until then.
#[derive(Debug)]
pub(crate) struct Session {
    pub their_tag: u32,
    pub ratchet: Ratchet,
    pub ssid: [u8; 32],
    pub their_fingerprint: [u8; 32],
    pub we_initiated: bool,
    /// The peer ended it (TLV 1); nothing more is sent until the user ends or restarts it.
    pub finished: bool,
    pub last_received: u64,
    pub last_sent: u64,
    /// When we first received something we have not answered yet (heartbeat trigger).
    pub unanswered_since: Option<u64>,
    pub smp: Smp,
    pub smp_last_started: Option<u64>,
    pub smp_failures: u32,
}

impl Session {
    pub fn new(established: Established, our_fingerprint: [u8; 32], now: u64) -> Self {
        let their_fingerprint = fingerprint(&established.their_identity);
        let smp = Smp::new(SmpContext { ssid: established.ssid, our_fingerprint, their_fingerprint });
        Session {
            their_tag: established.their_tag,
            ratchet: established.ratchet,
            ssid: established.ssid,
            their_fingerprint,
            we_initiated: established.we_initiated,
            finished: false,
            last_received: now,
            last_sent: now,
            unanswered_since: None,
            smp,
            smp_last_started: None,
            smp_failures: 0,
        }
    }

    /// When anything last happened in either direction.
    pub fn last_activity(&self) -> u64 {
        self.last_received.max(self.last_sent)
    }
}
