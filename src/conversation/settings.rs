//! Tunables of a client, with the defaults the protocol recommends.

use super::error::ClientError;
use super::names::NameBinding;
use super::policy::Policy;

/// A client's settings. All times are in seconds of the injected clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What the client may and must do.
    pub policy: Policy,
    /// Largest message the transport carries, for peers without their own limit (0 = no limit).
    pub max_message_size: usize,
    /// Send a heartbeat when we received but sent nothing for this long (0 = never). libotr
    /// uses 60 s; it moves the ratchet forward and flushes revealed material.
    pub heartbeat_interval: u64,
    /// Wipe a session with no traffic for this long, telling the peer (0 = never).
    pub session_expiry: u64,
    /// Messages held for encryption fail after this long.
    pub held_message_timeout: u64,
    /// A handshake that has not completed after this long is dropped.
    pub handshake_timeout: u64,
    /// Pad encrypted bodies to a multiple of this many bytes (0 = no padding), hiding exact
    /// lengths at some cost in bytes.
    pub padding_block: usize,
    /// The human-readable texts we send: the sentence after our query, the words of OTR error
    /// messages ([`super::Texts`], set by the application for its users' language).
    pub texts: super::texts::Texts,
    /// What the handshake binds about names (PROTOCOL.md §4.2): normalised account names and
    /// network (default), or the network only. Both sides must agree.
    pub name_binding: NameBinding,
    /// Bytes the whole client may hold for senders it has not authenticated: fragments of
    /// incomplete messages (bytes actually received), entries for peers the application never
    /// addressed ("strangers"), and handshakes in progress. Input that would go past it is
    /// dropped with [`super::Event::InputDropped`]. Default [`DEFAULT_UNAUTHENTICATED_BUDGET`].
    pub unauthenticated_budget: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            policy: Policy::default(),
            max_message_size: 0,
            heartbeat_interval: 60,
            session_expiry: 2 * 60 * 60,
            held_message_timeout: 120,
            handshake_timeout: 120,
            padding_block: 16,
            texts: super::texts::Texts::default(),
            name_binding: NameBinding::Normalised,
            unauthenticated_budget: DEFAULT_UNAUTHENTICATED_BUDGET,
        }
    }
}

impl Settings {
    /// Checks the ranges the options document: padding blocks of at most [`MAX_PADDING_BLOCK`]
    /// bytes, and a transport limit of 0 (none) or at least [`MIN_TRANSPORT_LIMIT`].
    pub fn check(&self) -> Result<(), ClientError> {
        if self.padding_block > MAX_PADDING_BLOCK {
            return Err(ClientError::InvalidArgument("padding block larger than 4096 bytes"));
        }
        check_transport_limit(self.max_message_size)
    }
}

/// A transport limit is 0 (none) or at least [`MIN_TRANSPORT_LIMIT`]: anything smaller could
/// not carry a fragment header and a useful piece.
pub fn check_transport_limit(size: usize) -> Result<(), ClientError> {
    if size != 0 && size < MIN_TRANSPORT_LIMIT {
        return Err(ClientError::InvalidArgument("transport limit below 64 bytes"));
    }
    Ok(())
}

/// The largest [`Settings::padding_block`].
pub const MAX_PADDING_BLOCK: usize = 4096;
/// The smallest non-zero transport limit ([`Settings::max_message_size`], per-peer limits).
pub const MIN_TRANSPORT_LIMIT: usize = 64;

/// The default [`Settings::unauthenticated_budget`]: 4 MiB. Room for 32 incomplete messages of
/// the largest size (128 KiB each) at once, or tens of thousands of strangers and handshakes,
/// far more than real traffic holds at a time, while a flood from any number of names and
/// instance tags costs at most this much memory.
pub const DEFAULT_UNAUTHENTICATED_BUDGET: usize = 4 * 1024 * 1024;
/// What one stranger's entry costs in the budget, besides its name's bytes.
pub const STRANGER_ENTRY_COST: usize = 512;
/// What one handshake in progress costs in the budget (its state and the map entry).
pub const PENDING_HANDSHAKE_COST: usize = 1024;

/// At most this many messages wait for encryption per peer.
pub const MAX_HELD_MESSAGES: usize = 100;
/// At most this many handshakes we are answering per peer (one per remote instance).
pub const MAX_PENDING_RESPONDERS: usize = 8;
/// At most this many remote instances per peer keep a session.
pub const MAX_INSTANCES_PER_PEER: usize = 16;
/// We send at most one error message per peer in this many seconds, so two broken engines
/// cannot ping-pong errors.
pub const ERROR_MESSAGE_INTERVAL: u64 = 10;
/// We start at most one SMP run per session in this many seconds...
pub const SMP_MIN_INTERVAL: u64 = 10;
/// ...and refuse more after this many failed runs in one session: each run is an online guess.
pub const SMP_MAX_FAILURES: u32 = 5;
/// Longest peer or account name.
pub const MAX_NAME_LEN: usize = 1024;
