//! The ratchet state machine. Decryption works on borrowed state and temporaries and commits
//! only after the tag verifies, so a forged, replayed or out-of-window message leaves the state
//! exactly as it was.

use zeroize::Zeroizing;

use super::chain::{advance, ReceivingChain, SendingChain};
use super::pending_reveals::PendingReveals;
use super::skipped_keys::{SkippedKey, SkippedKeys};
use super::MAX_SKIP;
use crate::crypto::aead::{open_revealing, seal, RevealedMaterial, TAG_LEN};
use crate::crypto::kdf::{chain_step, extra_key_seed, message_key, root_step, ChainStep};
use crate::crypto::wipe::wipe;
use crate::crypto::{CryptoError, DhKeyPair, RandomSource, SecretKey};
use crate::wire::data_message::{DataHeader, DataMessage, OwnedDataMessage};

/// Why a message could not be sent or read. All of them leave the state unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RatchetError {
    /// The tag did not verify: forged, corrupted, or for another session.
    #[error("message failed authentication")]
    AuthenticationFailed,
    /// The message number was already used in this chain (a replay or duplicate).
    #[error("message already received (replay or duplicate)")]
    Duplicate,
    /// The message was skipped earlier and its stored key has since been discarded (the cap
    /// of stored keys, or their age): it arrived too late to be read.
    #[error("message key already discarded (arrived too late)")]
    KeyDiscarded,
    /// Reading it would mean skipping more than the cap of messages.
    #[error("too many skipped messages")]
    TooManySkipped,
    /// The peer's new ratchet key is a low-order point.
    #[error("peer ratchet key is not contributory")]
    NonContributory,
    /// A sending chain reached 2³² messages.
    #[error("sending chain exhausted")]
    ChainExhausted,
    /// The OS random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// The body handed to [`Ratchet::encrypt_with`] could not be built at the announced length.
    #[error("message body could not be built")]
    BodyTooLarge,
}

impl From<CryptoError> for RatchetError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::NonContributory => Self::NonContributory,
            CryptoError::Random(_) => Self::Random,
            _ => Self::AuthenticationFailed,
        }
    }
}

/// An encrypted outgoing message.
#[derive(Debug)]
pub struct Encrypted {
    /// The binary data message.
    pub bytes: Vec<u8>,
    /// Our ratchet key it was sent under.
    pub ratchet_key: [u8; 32],
    /// Its number in that chain.
    pub message_number: u32,
    /// The chain key of this message's step (for [`Encrypted::extra_key_seed`]).
    chain_key: SecretKey,
}

impl Encrypted {
    /// Seed of this message's extra symmetric keys (derived only when asked for).
    pub fn extra_key_seed(&self) -> SecretKey {
        extra_key_seed(&self.chain_key)
    }
}

/// A decrypted incoming message.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext body (wiped on drop).
    pub body: Zeroizing<Vec<u8>>,
    /// The message's flags.
    pub flags: u8,
    /// The chain key of this message's step (for [`Decrypted::extra_key_seed`]).
    chain_key: SecretKey,
}

impl Decrypted {
    /// Seed of this message's extra symmetric keys (derived only when asked for).
    pub fn extra_key_seed(&self) -> SecretKey {
        extra_key_seed(&self.chain_key)
    }
}

/// A message decrypted in place ([`Ratchet::decrypt_in_place`]): the plaintext is in the
/// message's buffer, where its ciphertext was.
#[derive(Debug)]
pub struct DecryptedInPlace {
    /// The message's flags.
    pub flags: u8,
    /// The chain key of this message's step (for [`DecryptedInPlace::extra_key_seed`]).
    chain_key: SecretKey,
}

impl DecryptedInPlace {
    /// Seed of this message's extra symmetric keys (derived only when asked for).
    pub fn extra_key_seed(&self) -> SecretKey {
        extra_key_seed(&self.chain_key)
    }
}

/// One side's Double Ratchet state.
#[derive(Clone, Debug, PartialEq)]
pub struct Ratchet {
    pub(super) root_key: SecretKey,
    pub(super) sending: SendingChain,
    pub(super) receiving: Option<ReceivingChain>,
    pub(super) previous_chain_length: u32,
    pub(super) skipped: SkippedKeys,
    pub(super) receiving_dh_steps: u64,
    pub(super) pending_reveals: PendingReveals,
    /// The peer chain of the most recently discarded skipped key, and the highest number
    /// discarded on it: a number at or below it on that chain is a late message that was lost,
    /// not a duplicate of one read (memory only: a loaded session never decrypts).
    pub(super) discarded: Option<([u8; 32], u32)>,
    /// A responder's sending chain not derived yet (PROTOCOL.md, "The responder's first sending
    /// chain"): `root_key` is still the root before that step and `sending.chain_key` a
    /// placeholder. The step (one DH with the peer's current ratchet key) is taken the first
    /// time either is needed, with the same result as taking it at once.
    pub(super) sending_deferred: bool,
}

/// How to read a message, computed before anything is changed: its keys, and what a successful
/// decryption will change.
struct ReceivePlan {
    message_key: SecretKey,
    /// The chain key of the message's step (for its extra key seed).
    chain_key: SecretKey,
    changes: ReceiveChanges,
}

/// The state changes of a [`ReceivePlan`], applied once the message verified.
///
/// It holds no bare `[u8; 32]` (an alignment-1 array, copied at odd offsets with every move of
/// the plan, which stalled store forwarding on every message): the skipped keys' chain is the
/// message's ratchet key (`new_receiving.their_key`), and the old chain's is the current
/// receiving chain's.
struct ReceiveChanges {
    /// Skipped keys of the message's chain, before it.
    skipped: Vec<(u32, SecretKey)>,
    /// Skipped keys at the end of the current receiving chain (a new ratchet key arrived).
    old_chain_skipped: Vec<(u32, SecretKey)>,
    new_receiving: ReceivingChain,
    new_root_and_sending: Option<(SecretKey, SendingChain)>,
}

impl Ratchet {
    /// The handshake initiator's state (PROTOCOL.md §5.2): its first sending chain is the
    /// handshake's second Split output, under a fresh ratchet key pair sent in `Finish`; it can
    /// send at once, and takes its first DH step on the responder's first message.
    pub fn new_initiator(root_key: SecretKey, first_chain: SecretKey, our_ratchet: DhKeyPair) -> Self {
        Self {
            root_key,
            sending: SendingChain { key_pair: our_ratchet, chain_key: first_chain, next_number: 0 },
            receiving: None,
            previous_chain_length: 0,
            skipped: SkippedKeys::default(),
            receiving_dh_steps: 0,
            pending_reveals: PendingReveals::default(),
            discarded: None,
            sending_deferred: false,
        }
    }

    /// The handshake responder's state: it receives the initiator's first chain (the same Split
    /// output) under the initiator's ratchet key, and gets a new key of its own, so both can
    /// send at once.
    pub fn new_responder(
        root_key: SecretKey,
        their_first_chain: SecretKey,
        their_ratchet: &[u8; 32],
        rng: &mut dyn RandomSource,
    ) -> Result<Self, RatchetError> {
        let next = DhKeyPair::generate(rng)?;
        // The step to our own sending chain waits for our first message (or the peer's next
        // ratchet key): see `sending_deferred`.
        Ok(Self {
            root_key,
            sending: SendingChain { key_pair: next, chain_key: SecretKey::from_bytes([0; 32]), next_number: 0 },
            receiving: Some(ReceivingChain { their_key: *their_ratchet, chain_key: their_first_chain, next_number: 0 }),
            previous_chain_length: 0,
            skipped: SkippedKeys::default(),
            receiving_dh_steps: 0,
            pending_reveals: PendingReveals::default(),
            discarded: None,
            sending_deferred: true,
        })
    }

    /// The root key and our sending chain key as they are once a deferred step is taken
    /// (`sending_deferred`), without changing anything.
    pub(super) fn settled_keys(&self) -> Result<(SecretKey, SecretKey), RatchetError> {
        match (&self.receiving, self.sending_deferred) {
            (Some(chain), true) => {
                Ok(root_step(&self.root_key, &self.sending.key_pair.diffie_hellman(&chain.their_key)?))
            }
            _ => Ok((self.root_key.clone(), self.sending.chain_key.clone())),
        }
    }

    /// Takes a deferred step to our sending chain, if one is pending.
    fn settle(&mut self) -> Result<(), RatchetError> {
        if self.sending_deferred {
            let (root_key, chain_key) = self.settled_keys()?;
            self.root_key = root_key;
            self.sending.chain_key = chain_key;
            self.sending_deferred = false;
        }
        Ok(())
    }

    /// Encrypts `body` as a data message between the given instance tags. Queued reveals ride
    /// in its header.
    pub fn encrypt(
        &mut self,
        sender_tag: u32,
        receiver_tag: u32,
        flags: u8,
        body: &[u8],
    ) -> Result<Encrypted, RatchetError> {
        self.encrypt_with(sender_tag, receiver_tag, flags, body.len(), |out| {
            out.extend_from_slice(body);
            Ok(())
        })
    }

    /// As [`Ratchet::encrypt`], the body written by `write_body` straight into the message's
    /// buffer, where it is encrypted in place: the plaintext is never copied. The buffer has
    /// room reserved for exactly `body_len` more bytes, and `write_body` must append exactly
    /// that many (more would reallocate, leaving a plaintext copy behind). If it fails or
    /// appends another length, the buffer is wiped, nothing changes, and its error (or
    /// [`RatchetError::BodyTooLarge`]) is returned.
    pub fn encrypt_with(
        &mut self,
        sender_tag: u32,
        receiver_tag: u32,
        flags: u8,
        body_len: usize,
        write_body: impl FnOnce(&mut Vec<u8>) -> Result<(), RatchetError>,
    ) -> Result<Encrypted, RatchetError> {
        let next_number = self.sending.next_number.checked_add(1).ok_or(RatchetError::ChainExhausted)?;
        self.settle()?;
        let step = chain_step(&self.sending.chain_key);
        let header = DataHeader {
            sender_tag,
            receiver_tag,
            flags,
            ratchet_key: *self.sending.key_pair.public(),
            previous_chain_length: self.previous_chain_length,
            message_number: self.sending.next_number,
            revealed: self.pending_reveals.peek_batch(),
        };
        let header_len = header.encoded_len();
        let message_len = header_len.checked_add(body_len).ok_or(RatchetError::BodyTooLarge)?;
        let mut bytes = Vec::with_capacity(message_len.saturating_add(TAG_LEN));
        header.encode_into(&mut bytes);
        let written = write_body(&mut bytes);
        let sealed = match written {
            Ok(()) if bytes.len() == message_len => {
                let (header_bytes, body) = bytes.split_at_mut(header_len);
                seal(&step.message_key, header_bytes, body).map_err(RatchetError::from)
            }
            Ok(()) => Err(RatchetError::BodyTooLarge),
            Err(error) => Err(error),
        };
        let tag = match sealed {
            Ok(tag) => tag,
            Err(error) => {
                wipe(&mut bytes);
                return Err(error);
            }
        };
        bytes.extend_from_slice(&tag);
        self.pending_reveals.consume(header.revealed.len());
        self.sending.next_number = next_number;
        // The old chain key moves into `Encrypted` (for the extra key seed). Taking the step's
        // keys apart instead of cloning the next one measured ~45 ns slower on this path
        // (bench/notes/modern6-r6.md), so the step is kept whole.
        let chain_key = std::mem::replace(&mut self.sending.chain_key, step.next_chain_key.clone());
        Ok(Encrypted { bytes, ratchet_key: header.ratchet_key, message_number: header.message_number, chain_key })
    }

    /// Decrypts a data message. `now` (seconds) timestamps skipped keys for expiry. On any error
    /// nothing in `self` has changed.
    pub fn decrypt(
        &mut self,
        message: &DataMessage,
        now: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<Decrypted, RatchetError> {
        let mut body = Zeroizing::new(message.ciphertext.clone());
        let opened = self.open_in_place(&message.header, &message.header_bytes, &mut body, &message.tag, now, rng)?;
        Ok(Decrypted { body, flags: message.header.flags, chain_key: opened.chain_key })
    }

    /// As [`Ratchet::decrypt`], in the buffer the message was decoded into: on success its
    /// ciphertext range holds the plaintext (the caller wipes the buffer when done); on any
    /// error neither `message` nor `self` has changed.
    pub fn decrypt_in_place(
        &mut self,
        message: &mut OwnedDataMessage,
        now: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<DecryptedInPlace, RatchetError> {
        let (header, header_bytes, ciphertext, tag) = message.parts_mut();
        self.open_in_place(header, header_bytes, ciphertext, tag, now, rng)
    }

    fn open_in_place(
        &mut self,
        header: &DataHeader,
        header_bytes: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
        now: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<DecryptedInPlace, RatchetError> {
        if let Some(index) = self.skipped.find(&header.ratchet_key, header.message_number) {
            let stored = self.skipped.get(index).ok_or(RatchetError::AuthenticationFailed)?;
            let key = message_key(&stored.chain_key);
            let material =
                open_revealing(&key, header_bytes, buffer, tag).map_err(|_| RatchetError::AuthenticationFailed)?;
            // Found at `index` just above: removing it cannot fail.
            let removed = self.skipped.remove(index).ok_or(RatchetError::AuthenticationFailed)?;
            self.pending_reveals.push(material);
            return Ok(DecryptedInPlace { flags: header.flags, chain_key: removed.chain_key });
        }
        let ReceivePlan { message_key, chain_key, changes } = self.plan_receive(header, rng)?;
        let material =
            open_revealing(&message_key, header_bytes, buffer, tag).map_err(|_| RatchetError::AuthenticationFailed)?;
        self.commit(changes, material, now);
        Ok(DecryptedInPlace { flags: header.flags, chain_key })
    }

    fn plan_receive(&self, header: &DataHeader, rng: &mut dyn RandomSource) -> Result<ReceivePlan, RatchetError> {
        let number = header.message_number;
        match &self.receiving {
            Some(chain) if chain.their_key == header.ratchet_key => {
                if number < chain.next_number {
                    let lost = self.discarded.is_some_and(|(key, upto)| key == chain.their_key && number <= upto);
                    return Err(if lost { RatchetError::KeyDiscarded } else { RatchetError::Duplicate });
                }
                if number - chain.next_number > MAX_SKIP {
                    return Err(RatchetError::TooManySkipped);
                }
                let (skipped, ChainStep { chain_key, next_chain_key, message_key }) =
                    advance(&chain.chain_key, chain.next_number, number);
                Ok(ReceivePlan {
                    message_key,
                    chain_key,
                    changes: ReceiveChanges {
                        skipped,
                        old_chain_skipped: Vec::new(),
                        new_receiving: ReceivingChain {
                            their_key: chain.their_key,
                            chain_key: next_chain_key,
                            next_number: number + 1,
                        },
                        new_root_and_sending: None,
                    },
                })
            }
            _ => {
                // A new ratchet key from the peer: first the rest of its old chain, then a DH step.
                if number > MAX_SKIP {
                    return Err(RatchetError::TooManySkipped);
                }
                let old_chain_skipped = match &self.receiving {
                    Some(old) if header.previous_chain_length > old.next_number => {
                        if header.previous_chain_length - old.next_number > MAX_SKIP {
                            return Err(RatchetError::TooManySkipped);
                        }
                        let (mut skipped, last) =
                            advance(&old.chain_key, old.next_number, header.previous_chain_length - 1);
                        skipped.push((header.previous_chain_length - 1, last.chain_key));
                        skipped
                    }
                    _ => Vec::new(),
                };
                // From the root a deferred step would have given (our sending chain then ends
                // unused, as it would have).
                let (settled_root, _) = self.settled_keys()?;
                let (root_key, receiving_chain_key) =
                    root_step(&settled_root, &self.sending.key_pair.diffie_hellman(&header.ratchet_key)?);
                let next_pair = DhKeyPair::generate(rng)?;
                let (root_key, sending_chain_key) =
                    root_step(&root_key, &next_pair.diffie_hellman(&header.ratchet_key)?);
                let (skipped, ChainStep { chain_key, next_chain_key, message_key }) =
                    advance(&receiving_chain_key, 0, number);
                Ok(ReceivePlan {
                    message_key,
                    chain_key,
                    changes: ReceiveChanges {
                        skipped,
                        old_chain_skipped,
                        new_receiving: ReceivingChain {
                            their_key: header.ratchet_key,
                            chain_key: next_chain_key,
                            next_number: number + 1,
                        },
                        new_root_and_sending: Some((
                            root_key,
                            SendingChain { key_pair: next_pair, chain_key: sending_chain_key, next_number: 0 },
                        )),
                    },
                })
            }
        }
    }

    /// Applies `plan`'s changes once its message verified; `material` is its key's, to reveal.
    fn commit(&mut self, plan: ReceiveChanges, material: RevealedMaterial, now: u64) {
        self.pending_reveals.push(material);
        // Only a new ratchet key ends the current receiving chain; its keys are that chain's.
        if let Some(old_key) = self.receiving.as_ref().map(|old| old.their_key) {
            if !plan.old_chain_skipped.is_empty() {
                self.store_skipped(old_key, plan.old_chain_skipped, now);
            }
        }
        if let Some((root_key, sending)) = plan.new_root_and_sending {
            self.receiving_dh_steps += 1;
            self.root_key = root_key;
            self.previous_chain_length = self.sending.next_number;
            self.sending = sending;
            self.sending_deferred = false;
        }
        self.store_skipped(plan.new_receiving.their_key, plan.skipped, now);
        self.receiving = Some(plan.new_receiving);
        self.expire_skipped(now);
    }

    fn store_skipped(&mut self, their_key: [u8; 32], steps: Vec<(u32, SecretKey)>, now: u64) {
        for (number, chain_key) in steps {
            let evicted = self.skipped.insert(SkippedKey {
                their_key,
                number,
                chain_key,
                dh_step: self.receiving_dh_steps,
                stored_at: now,
            });
            self.reveal_all(evicted);
        }
    }

    fn reveal_all(&mut self, keys: Vec<SkippedKey>) {
        for key in keys {
            self.discarded = match self.discarded {
                Some((chain, upto)) if chain == key.their_key => Some((chain, upto.max(key.number))),
                _ => Some((key.their_key, key.number)),
            };
            self.pending_reveals.push(RevealedMaterial::of_key(&message_key(&key.chain_key)));
        }
    }

    /// Drops skipped keys older than the limits (also done on every receive); their material is
    /// queued for revealing.
    pub fn expire_skipped(&mut self, now: u64) {
        let expired = self.skipped.expire(self.receiving_dh_steps, now);
        self.reveal_all(expired);
    }

    /// At session end (and when a loaded session retires): every stored key is discarded and
    /// its material queued, so the final messages can carry all remaining reveals. Nothing
    /// already queued is pushed out: the queue may exceed [`super::MAX_PENDING_REVEALS`] until
    /// the session is dropped or [`Ratchet::retire`] trims it.
    pub fn reveal_everything(&mut self) {
        for key in self.skipped.drain_all() {
            self.pending_reveals.push_uncapped(RevealedMaterial::of_key(&message_key(&key.chain_key)));
        }
    }

    /// When a new session replaces `old` (a refresh): everything `old` still had to reveal, its
    /// skipped keys included, is queued ahead of this state's own reveals, so our next messages
    /// publish it. At most [`super::MAX_INHERITED_REVEALS`] are kept (the newest), so repeated
    /// refreshes without writing cannot grow the queue.
    pub fn inherit_reveals(&mut self, old: &mut Ratchet) {
        old.reveal_everything();
        self.pending_reveals.inherit(&mut old.pending_reveals);
    }

    /// For a session that will never encrypt or decrypt again (restored from a store, which
    /// cannot be proven current): every stored skipped key is discarded and its material queued
    /// for revealing, and the root and chain keys are overwritten with zeros, so neither memory
    /// nor any later save holds a key that could still decrypt a message. What stays is the
    /// queue of reveals (for [`Ratchet::hand_over_reveals`]) and public values. The session
    /// stays in the client and is saved again, so its queue keeps the newest
    /// [`super::MAX_INHERITED_REVEALS`], what a store may hold.
    pub fn retire(&mut self) {
        self.reveal_everything();
        self.pending_reveals.keep_newest(super::MAX_INHERITED_REVEALS);
        self.root_key = SecretKey::from_bytes([0; 32]);
        self.sending.chain_key = SecretKey::from_bytes([0; 32]);
        self.sending_deferred = false;
        if let Some(chain) = self.receiving.as_mut() {
            chain.chain_key = SecretKey::from_bytes([0; 32]);
        }
    }

    /// Discards every stored key (queuing its material) and moves everything queued for
    /// revealing into `successor`'s queue, to ride in `successor`'s next headers. Used when a
    /// session that must never send again (restored from a store) is replaced, so restarting a
    /// session does not cost deniability.
    pub fn hand_over_reveals(&mut self, successor: &mut Ratchet) {
        successor.inherit_reveals(self);
    }

    /// Our current ratchet public key.
    pub fn our_ratchet_key(&self) -> &[u8; 32] {
        self.sending.key_pair.public()
    }

    /// How many skipped keys are stored.
    pub fn skipped_key_count(&self) -> usize {
        self.skipped.len()
    }

    /// How many reveals wait for our next message.
    pub fn pending_reveal_count(&self) -> usize {
        self.pending_reveals.len()
    }

    /// How many DH steps the receiving side has taken.
    pub fn receiving_dh_steps(&self) -> u64 {
        self.receiving_dh_steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;
    use crate::wire::data_message::DataMessage;

    /// A random source that has failed (the OS generator returned an error).
    struct BrokenRandom;

    impl RandomSource for BrokenRandom {
        fn fill(&mut self, _out: &mut [u8]) -> Result<(), crate::crypto::RandomError> {
            Err(crate::crypto::RandomError)
        }
    }

    #[test]
    fn a_failed_random_source_is_reported_as_such_and_changes_nothing() {
        let mut rng = DeterministicRandom::from_label("broken rng");
        let bob_first = DhKeyPair::generate(&mut rng).unwrap();
        let root = SecretKey::from_bytes([9; 32]);
        let mut bob = Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), bob_first.clone());
        let mut alice =
            Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), bob_first.public(), &mut rng).unwrap();
        // Alice's reply carries a new ratchet key: reading it draws Bob's next key pair.
        let first = DataMessage::parse(&bob.encrypt(1, 2, 0, b"hi").unwrap().bytes).unwrap();
        alice.decrypt(&first, 0, &mut rng).unwrap();
        let reply = DataMessage::parse(&alice.encrypt(2, 1, 0, b"hello").unwrap().bytes).unwrap();
        let before = bob.clone();
        assert_eq!(bob.decrypt(&reply, 0, &mut BrokenRandom).unwrap_err(), RatchetError::Random);
        assert_eq!(bob, before);
        assert_eq!(&bob.decrypt(&reply, 0, &mut rng).unwrap().body[..], b"hello");
    }

    /// A responder and the same state with its deferred step taken at once (what
    /// `new_responder` computed before the step was deferred), plus the initiator.
    fn deferred_and_eager(label: &str) -> (Ratchet, Ratchet, Ratchet, DeterministicRandom) {
        let mut rng = DeterministicRandom::from_label(label);
        let initiator_first = DhKeyPair::generate(&mut rng).unwrap();
        let root = SecretKey::from_bytes([5; 32]);
        let initiator =
            Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), initiator_first.clone());
        let deferred =
            Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), initiator_first.public(), &mut rng)
                .unwrap();
        let mut eager = deferred.clone();
        eager.settle().unwrap();
        assert!(deferred.sending_deferred && !eager.sending_deferred);
        (initiator, deferred, eager, rng)
    }

    fn stored(ratchet: &Ratchet) -> Vec<u8> {
        let mut w = crate::wire::Writer::new();
        ratchet.write_state(&mut w);
        w.into_vec()
    }

    #[test]
    fn a_deferred_responder_sends_and_stores_as_an_eager_one() {
        let (mut initiator, mut deferred, mut eager, mut rng) = deferred_and_eager("deferred send");
        assert_eq!(stored(&deferred), stored(&eager), "a deferred step is stored as taken");
        let first = DataMessage::parse(&initiator.encrypt(1, 2, 0, b"hi").unwrap().bytes).unwrap();
        let same = || DeterministicRandom::from_label("same draws");
        assert_eq!(&deferred.decrypt(&first, 0, &mut same()).unwrap().body[..], b"hi");
        assert_eq!(&eager.decrypt(&first, 0, &mut same()).unwrap().body[..], b"hi");
        assert!(deferred.sending_deferred, "receiving on the same chain does not need the step");
        assert_eq!(stored(&deferred), stored(&eager));
        let (a, b) = (deferred.encrypt(2, 1, 0, b"hello").unwrap(), eager.encrypt(2, 1, 0, b"hello").unwrap());
        assert_eq!(a.bytes, b.bytes, "the same message, byte for byte");
        assert_eq!(deferred, eager, "the same state once the step is taken");
        let reply = DataMessage::parse(&a.bytes).unwrap();
        assert_eq!(&initiator.decrypt(&reply, 0, &mut rng).unwrap().body[..], b"hello");
    }

    #[test]
    fn a_deferred_responder_takes_a_new_peer_key_as_an_eager_one() {
        // A peer that moves to a new ratchet key before our first message (an honest one never
        // does): the new chain starts from the root the deferred step gives.
        let (_, mut deferred, mut eager, mut rng) = deferred_and_eager("deferred new key");
        let (settled_root, _) = deferred.settled_keys().unwrap();
        let next = DhKeyPair::generate(&mut rng).unwrap();
        // The peer's sending chain is its DH step from that root to the new key.
        let (peer_root, peer_chain) =
            root_step(&settled_root, &next.diffie_hellman(deferred.our_ratchet_key()).unwrap());
        let mut peer = Ratchet::new_initiator(peer_root, peer_chain, next);
        let message = DataMessage::parse(&peer.encrypt(1, 2, 0, b"new key").unwrap().bytes).unwrap();
        let same = || DeterministicRandom::from_label("same draws");
        assert_eq!(&deferred.decrypt(&message, 0, &mut same()).unwrap().body[..], b"new key");
        assert_eq!(&eager.decrypt(&message, 0, &mut same()).unwrap().body[..], b"new key");
        assert_eq!(deferred, eager);
        // And a forged one changes neither.
        let (_, deferred, eager, mut rng) = deferred_and_eager("deferred forged key");
        let stranger = DhKeyPair::generate(&mut rng).unwrap();
        let mut forger =
            Ratchet::new_initiator(SecretKey::from_bytes([1; 32]), SecretKey::from_bytes([0xC4; 32]), stranger);
        let forged = DataMessage::parse(&forger.encrypt(1, 2, 0, b"x").unwrap().bytes).unwrap();
        for mut state in [deferred, eager] {
            let before = state.clone();
            assert!(state.decrypt(&forged, 0, &mut rng).is_err());
            assert_eq!(state, before);
        }
    }

    #[test]
    fn states_with_different_ratchet_key_pairs_are_not_equal() {
        // The byte-for-byte "state unchanged" checks of the tests rest on this equality.
        let mut rng = DeterministicRandom::from_label("key pair equality");
        let a = DhKeyPair::generate(&mut rng).unwrap();
        let b = DhKeyPair::generate(&mut rng).unwrap();
        assert!(a == a.clone());
        assert!(a != b);
        // Same public key, different secret bytes: not equal either.
        let mut forged = a.secret_bytes().expose().to_owned();
        forged[31] ^= 0x80; // X25519 ignores this bit: the public key stays the same
        let twin = DhKeyPair::from_secret_bytes(forged);
        assert_eq!(twin.public(), a.public());
        assert!(a != twin);
    }

    #[test]
    fn a_retired_ratchet_holds_no_usable_key_and_keeps_its_reveals() {
        let mut rng = DeterministicRandom::from_label("retire");
        let alice_first = DhKeyPair::generate(&mut rng).unwrap();
        let root = SecretKey::from_bytes([7; 32]);
        let mut alice = Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), alice_first);
        let alice_key = *alice.our_ratchet_key();
        let mut bob = Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), &alice_key, &mut rng).unwrap();
        let messages: Vec<DataMessage> =
            (0..3).map(|i| DataMessage::parse(&alice.encrypt(1, 2, 0, &[i; 20]).unwrap().bytes).unwrap()).collect();
        bob.decrypt(&messages[2], 0, &mut rng).unwrap(); // 0 and 1 become skipped keys
        assert_eq!((bob.skipped_key_count(), bob.pending_reveal_count()), (2, 1));
        let mut retired = bob.clone();
        retired.retire();
        assert_eq!((retired.skipped_key_count(), retired.pending_reveal_count()), (0, 3));
        assert_eq!(retired.root_key.expose(), &[0; 32]);
        assert_eq!(retired.sending.chain_key.expose(), &[0; 32]);
        assert_eq!(retired.receiving.as_ref().unwrap().chain_key.expose(), &[0; 32]);
        for message in &messages[..2] {
            assert!(retired.clone().decrypt(message, 0, &mut rng).is_err());
            assert!(bob.clone().decrypt(message, 0, &mut rng).is_ok(), "the live ratchet could");
        }
        let mut successor = alice.clone();
        let before = successor.pending_reveal_count();
        retired.hand_over_reveals(&mut successor);
        assert_eq!((retired.pending_reveal_count(), successor.pending_reveal_count()), (0, before + 3));
    }
    fn a_pair(label: &str) -> (Ratchet, Ratchet, DeterministicRandom) {
        let mut rng = DeterministicRandom::from_label(label);
        let alice_first = DhKeyPair::generate(&mut rng).unwrap();
        let alice_public = *alice_first.public();
        let (root, first_chain) = (SecretKey::from_bytes([3; 32]), SecretKey::from_bytes([0xC4; 32]));
        let alice = Ratchet::new_initiator(root.clone(), first_chain.clone(), alice_first);
        let bob = Ratchet::new_responder(root, first_chain, &alice_public, &mut rng).unwrap();
        (alice, bob, rng)
    }

    #[test]
    fn in_place_decryption_reads_what_decrypt_reads_and_a_forgery_changes_nothing() {
        let (mut alice, mut bob, mut rng) = a_pair("in place");
        for (i, len) in [0usize, 1, 100, 4096].into_iter().enumerate() {
            let body = vec![i as u8 + 1; len];
            let bytes = alice.encrypt(1, 2, 0, &body).unwrap().bytes;
            let message = DataMessage::parse(&bytes).unwrap();
            let mut copying = bob.clone();
            let expected = copying.decrypt(&message, 0, &mut DeterministicRandom::from_label("copying")).unwrap();
            // Any byte changed (header, ciphertext or tag) or the message cut short: neither the
            // message nor the state changes.
            let header_len = message.header_bytes.len();
            let tampered = [0, header_len - 1, header_len, bytes.len() - TAG_LEN - 1, bytes.len() - 1];
            for at in tampered.into_iter().filter(|&at| at < bytes.len()) {
                let mut forged_bytes = bytes.clone();
                forged_bytes[at] ^= 1;
                let Ok(mut forged) = DataMessage::parse_owned(forged_bytes) else { continue };
                let before = (bob.clone(), forged.to_message());
                assert!(bob.decrypt_in_place(&mut forged, 0, &mut rng).is_err(), "byte {at}");
                assert_eq!((bob.clone(), forged.to_message()), before, "byte {at}");
            }
            match DataMessage::parse_owned(bytes[..bytes.len() - 1].to_vec()) {
                Ok(mut short) => {
                    let before = bob.clone();
                    assert_eq!(
                        bob.decrypt_in_place(&mut short, 0, &mut rng).unwrap_err(),
                        RatchetError::AuthenticationFailed
                    );
                    assert_eq!(bob, before);
                }
                Err(_) => assert_eq!(len, 0, "only an empty body leaves no byte to cut"),
            }
            let mut in_place = DataMessage::parse_owned(bytes).unwrap();
            let decrypted = bob.decrypt_in_place(&mut in_place, 0, &mut rng).unwrap();
            assert_eq!(in_place.ciphertext(), &expected.body[..]);
            assert_eq!(in_place.header_bytes(), &message.header_bytes[..], "the header is left as it was");
            assert_eq!(decrypted.extra_key_seed(), expected.extra_key_seed());
            assert_eq!(bob, copying, "the same state either way");
        }
    }

    #[test]
    fn encrypting_a_body_written_in_place_matches_encrypt_and_a_bad_body_changes_nothing() {
        let (mut alice, _, _) = a_pair("encrypt with");
        let mut twin = alice.clone();
        let body = b"written straight into the message";
        let built = alice
            .encrypt_with(1, 2, 0, body.len(), |out| {
                out.extend_from_slice(body);
                Ok(())
            })
            .unwrap();
        assert_eq!(built.bytes, twin.encrypt(1, 2, 0, body).unwrap().bytes);
        let before = alice.clone();
        let short = alice.encrypt_with(1, 2, 0, body.len(), |out| {
            out.extend_from_slice(&body[1..]);
            Ok(())
        });
        assert_eq!(short.unwrap_err(), RatchetError::BodyTooLarge);
        let failed = alice.encrypt_with(1, 2, 0, body.len(), |_| Err(RatchetError::BodyTooLarge));
        assert_eq!(failed.unwrap_err(), RatchetError::BodyTooLarge);
        assert_eq!(alice, before, "no message number or reveal used");
    }
}
