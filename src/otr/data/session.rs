//! The OTR data path of one established session: encrypting and decrypting data messages with
//! libotr 4.1.1's rules (v3 spec, "Data Message"; libotr `proto.c`):
//!
//! - send under (our previous key, their current key), announcing our current key as next_dh;
//!   the counter's top half goes 1, 2, 3… per key pair; the MAC covers the header through
//!   DATA(ciphertext); the used receiving MAC keys of discarded pairs ride along and are then
//!   forgotten;
//! - receive only under keyids we hold, checking the MAC (constant time) first, then that the
//!   counter increased, then decrypting — and only then rotating: their keyid was our current
//!   one → new key of ours; their sender keyid was their current one → their next_dh becomes
//!   their current key (range- and subgroup-checked, which libotr omits).
//!
//! Every failure leaves the session exactly as it was.

use zeroize::Zeroizing;

use crate::crypto::RandomSource;
use crate::otr::ake::EstablishedAke;
use crate::otr::group::Element;
use crate::otr::identity::{DsaPublicKey, Fingerprint};
use crate::otr::message::{
    DataMessage, DataMessageView, DataPrefix, Header, MessageType, OtrVersion, MAX_CIPHERTEXT_LEN,
};
use crate::wire::InstanceTag;

use super::key_ring::{KeyRing, Ours, Theirs};
use super::symmetric::ct_eq;
use super::{DataError, DhKeyPair, UnreadableReason};

/// A decrypted data message.
pub struct Decrypted {
    /// The message flags.
    pub flags: u8,
    /// `text ‖ NUL ‖ TLVs` (see `otr::tlv::decode_plaintext`). Wiped on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The extra symmetric key of the key pair this message used (for a TLV 8 in it).
    pub extra_key: Zeroizing<[u8; 32]>,
    /// The MAC keys the peer revealed in this message (public information, for transcripts).
    pub revealed_mac_keys: Vec<[u8; 20]>,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("flags", &self.flags)
            .field("plaintext_len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// An established OTR session's keys and data path.
pub struct DataSession {
    version: OtrVersion,
    our_tag: InstanceTag,
    their_tag: InstanceTag,
    ssid: [u8; 8],
    their_public_key: DsaPublicKey,
    their_fingerprint: Fingerprint,
    keys: KeyRing,
    /// Every receiving MAC key was revealed ([`DataSession::reveal_all`]): anyone could forge
    /// a message under them now, so nothing is decrypted any more.
    revealed: bool,
    /// The start of the last message we sent, kept for the next one.
    sent_prefix: SentPrefix,
}

/// The bytes a sent message starts with (header, flags, keyids, our next D-H value: public)
/// and the (flags, sender keyid, recipient keyid) they were written for. The session's version
/// and tags never change, and the sender keyid names our next key (its keyid is one higher),
/// so the same three fields mean the same bytes: written once per key pair, not per message.
#[derive(Default)]
struct SentPrefix {
    fields: Option<(u8, u32, u32)>,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for DataSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSession")
            .field("version", &self.version)
            .field("our_tag", &self.our_tag)
            .field("their_tag", &self.their_tag)
            .field("our_keyid", &self.keys.our_keyid)
            .field("their_keyid", &self.keys.their_keyid)
            .finish_non_exhaustive()
    }
}

impl DataSession {
    /// The session an AKE established: our AKE key becomes our previous key, a fresh one our
    /// current (libotr's `go_encrypted`), so our first message announces it.
    pub fn new(ake: EstablishedAke, rng: &mut dyn RandomSource) -> Result<DataSession, DataError> {
        let next = DhKeyPair::generate(rng).map_err(|_| DataError::Random)?;
        let EstablishedAke {
            version,
            our_tag,
            their_tag,
            ssid,
            bold_half: _,
            their_public_key,
            their_fingerprint,
            our_dh,
            our_keyid,
            their_dh,
            their_keyid,
        } = ake;
        let keys = KeyRing::new(our_dh, our_keyid, next, their_dh, their_keyid).ok_or(DataError::Exhausted)?;
        Ok(DataSession {
            version,
            our_tag,
            their_tag,
            ssid,
            their_public_key,
            their_fingerprint,
            keys,
            revealed: false,
            sent_prefix: SentPrefix::default(),
        })
    }

    /// The session's OTR version.
    pub fn version(&self) -> OtrVersion {
        self.version
    }

    /// Our instance tag and the peer's (v3).
    pub fn tags(&self) -> (InstanceTag, InstanceTag) {
        (self.our_tag, self.their_tag)
    }

    /// The secure session id.
    pub fn ssid(&self) -> [u8; 8] {
        self.ssid
    }

    /// The peer's long-term key and its fingerprint.
    pub fn their_identity(&self) -> (&DsaPublicKey, &Fingerprint) {
        (&self.their_public_key, &self.their_fingerprint)
    }

    /// Our current keyid and the peer's (libotr's `our_keyid` / `their_keyid`).
    pub fn keyids(&self) -> (u32, u32) {
        (self.keys.our_keyid, self.keys.their_keyid)
    }

    /// How many MAC keys the next message will reveal.
    pub fn pending_reveal_count(&self) -> usize {
        self.keys.pending_reveal_count()
    }

    /// The extra symmetric key the next message we send will be under (what libotr's
    /// `otrl_message_symkey` returns): send the TLV 8 in that message.
    pub fn sending_extra_key(&mut self) -> Zeroizing<[u8; 32]> {
        match self.keys.derived(Ours::Previous, Theirs::Current) {
            Some(keys) => Zeroizing::new(keys.extra_key),
            None => Zeroizing::new([0; 32]),
        }
    }

    /// Encrypts `plaintext` (already `text ‖ NUL ‖ TLVs`) into a binary data message.
    pub fn encrypt(&mut self, flags: u8, plaintext: &[u8]) -> Result<Vec<u8>, DataError> {
        self.encrypt_announcing(flags, &[plaintext], None)
    }

    /// [`DataSession::encrypt`] of the concatenation of `parts` (the plaintext is never
    /// assembled anywhere but in the message, where it is encrypted in place). Inlined, as
    /// are the functions it and [`DataSession::decrypt`] are built on, into the session's one
    /// caller per direction: their results (a message buffer, a parsed view, a decrypted
    /// message) then stay in registers, where returning them through memory had the caller
    /// read them back in other widths than they were written, a stalled copy per message.
    #[inline(always)]
    pub fn encrypt_parts(&mut self, flags: u8, parts: &[&[u8]]) -> Result<Vec<u8>, DataError> {
        self.encrypt_announcing(flags, parts, None)
    }

    /// [`DataSession::encrypt_parts`] announcing `forged_next_dh` instead of our current key
    /// when given (tests forge bad ones).
    #[inline(always)]
    fn encrypt_announcing(
        &mut self,
        flags: u8,
        parts: &[&[u8]],
        forged_next_dh: Option<&[u8]>,
    ) -> Result<Vec<u8>, DataError> {
        let plaintext_len = parts.iter().map(|part| part.len()).fold(0usize, usize::saturating_add);
        if plaintext_len > MAX_CIPHERTEXT_LEN {
            return Err(DataError::TooLong);
        }
        let sender_keyid = self.keys.our_keyid.checked_sub(1).ok_or(DataError::Exhausted)?;
        let fields = (flags, sender_keyid, self.keys.their_keyid);
        let prefix = |next_dh| DataPrefix {
            header: Header::new(self.version, MessageType::Data, self.our_tag, self.their_tag),
            flags,
            sender_keyid,
            recipient_keyid: self.keys.their_keyid,
            next_dh,
            counter: [0; 8],
        };
        let forged;
        let fixed: &[u8] = match forged_next_dh {
            Some(next_dh) => {
                forged = prefix(next_dh).fixed_part();
                &forged
            }
            None => {
                if self.sent_prefix.fields != Some(fields) {
                    self.sent_prefix = SentPrefix {
                        fields: Some(fields),
                        bytes: prefix(self.keys.our_current_minimal()).fixed_part(),
                    };
                }
                &self.sent_prefix.bytes
            }
        };
        let reveal_count = self.keys.pending_reveals().len();
        let keys = self.keys.derived(Ours::Previous, Theirs::Current).ok_or(DataError::Exhausted)?;
        let send_counter = keys.send_counter.checked_add(1).ok_or(DataError::Exhausted)?;
        let counter = send_counter.to_be_bytes();
        // One buffer: the authenticated prefix, the plaintext encrypted in place behind it, then
        // the MAC and the revealed keys (it is sized for all of it, so the plaintext is never
        // left behind in a reallocated buffer).
        let mut message = DataPrefix::write_after(fixed, &counter, plaintext_len, DataMessage::tail_len(reveal_count));
        let start = message.len();
        for part in parts {
            message.extend_from_slice(part);
        }
        keys.sending_aes.apply(&counter, message.get_mut(start..).unwrap_or_default());
        let mac = keys.sending_mac.mac(&message);
        keys.send_counter = send_counter;
        DataMessage::append_tail(&mut message, &mac, self.keys.pending_reveals());
        self.keys.clear_reveals();
        Ok(message)
    }

    /// Checks and decrypts a binary data message, then rotates keys as it says (inlined: see
    /// [`DataSession::encrypt_parts`]).
    #[inline(always)]
    pub fn decrypt(&mut self, bytes: &[u8], rng: &mut dyn RandomSource) -> Result<Decrypted, DataError> {
        let message = DataMessageView::parse(bytes)?;
        if message.header.version != self.version
            || (self.version == OtrVersion::V3
                && (message.header.receiver_tag != self.our_tag || message.header.sender_tag != self.their_tag))
        {
            return Err(DataError::NotForThisSession);
        }
        let unreadable = |reason| DataError::Unreadable { reason, flags: message.flags };
        if self.revealed {
            return Err(unreadable(UnreadableReason::UnknownKeys));
        }
        let (ours, theirs) = self
            .keys
            .pair_for(message.sender_keyid, message.recipient_keyid)
            .ok_or(unreadable(UnreadableReason::UnknownKeys))?;
        let counter = u64::from_be_bytes(message.counter);
        {
            let keys = self.keys.derived(ours, theirs).ok_or(unreadable(UnreadableReason::UnknownKeys))?;
            if !ct_eq(&keys.receiving_mac.mac(message.authenticated), &message.mac) {
                return Err(unreadable(UnreadableReason::BadMac));
            }
            if counter <= keys.receive_counter {
                return Err(unreadable(UnreadableReason::CounterNotIncreasing));
            }
        }
        // Everything that can fail happens before the first change.
        let their_next = if theirs == Theirs::Current {
            let next = Element::from_peer(message.next_dh).map_err(|e| DataError::Malformed(e.into()))?;
            self.keys.their_keyid.checked_add(1).ok_or(DataError::Exhausted)?;
            Some(next)
        } else {
            None
        };
        let our_fresh = if ours == Ours::Current {
            self.keys.our_keyid.checked_add(1).ok_or(DataError::Exhausted)?;
            Some(DhKeyPair::generate(rng).map_err(|_| DataError::Random)?)
        } else {
            None
        };
        // The ciphertext's one copy, decrypted in place (sized exactly: never reallocated).
        let mut plaintext = Zeroizing::new(message.ciphertext.to_vec());
        let keys = self.keys.derived(ours, theirs).ok_or(DataError::Exhausted)?;
        keys.receiving_aes.apply(&message.counter, &mut plaintext);
        let extra_key = Zeroizing::new(keys.extra_key);
        keys.receive_counter = counter;
        keys.receive_mac_used = true;
        if let Some(fresh) = our_fresh {
            // Checked above: cannot fail.
            self.keys.rotate_ours(fresh).ok_or(DataError::Exhausted)?;
        }
        if let Some(next) = their_next {
            self.keys.rotate_theirs(next).ok_or(DataError::Exhausted)?;
        }
        Ok(Decrypted { flags: message.flags, plaintext, extra_key, revealed_mac_keys: message.old_mac_keys() })
    }

    /// Queues every used receiving MAC key for the next message (the end of the session).
    pub fn reveal_all(&mut self) {
        self.keys.reveal_all();
        self.revealed = true;
    }

    /// Ends the session with a last message (e.g. TLV 1, flagged IGNORE_UNREADABLE) that
    /// reveals every receiving MAC key that was used; the session's secrets are wiped.
    pub fn finish(mut self, flags: u8, plaintext: &[u8]) -> Result<Vec<u8>, DataError> {
        self.reveal_all();
        self.encrypt(flags, plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;
    use crate::otr::ake::SsidBoldHalf;
    use crate::otr::data::DataError;
    use crate::otr::group::GroupError;
    use crate::otr::identity::DsaIdentity;
    use crate::otr::message::MessageError;

    fn sessions() -> (DataSession, DataSession, DeterministicRandom) {
        let mut rng = DeterministicRandom::from_label("session unit");
        let identity = DsaIdentity::generate(&mut rng).unwrap();
        let a = DhKeyPair::generate(&mut rng).unwrap();
        let b = DhKeyPair::generate(&mut rng).unwrap();
        let established = |ours: &DhKeyPair, theirs: &DhKeyPair, our_tag, their_tag| EstablishedAke {
            version: OtrVersion::V3,
            our_tag: InstanceTag(our_tag),
            their_tag: InstanceTag(their_tag),
            ssid: [0; 8],
            bold_half: SsidBoldHalf::First,
            their_public_key: identity.public_key().clone(),
            their_fingerprint: identity.fingerprint(),
            our_dh: ours.clone(),
            our_keyid: 1,
            their_dh: theirs.public().clone(),
            their_keyid: 1,
        };
        let alice = DataSession::new(established(&a, &b, 0x100, 0x200), &mut rng).unwrap();
        let bob = DataSession::new(established(&b, &a, 0x200, 0x100), &mut rng).unwrap();
        (alice, bob, rng)
    }

    #[test]
    fn revealing_everything_keeps_the_counter_and_stops_decrypting() {
        let (mut alice, mut bob, mut rng) = sessions();
        let first = alice.encrypt(0, b"one\0").unwrap();
        bob.decrypt(&first, &mut rng).unwrap();
        let reply = bob.encrypt(0, b"two\0").unwrap();
        alice.decrypt(&reply, &mut rng).unwrap();
        let counter = |bytes: &[u8]| DataMessage::parse(bytes).unwrap().fields.counter;
        let before = alice.encrypt(0, b"three\0").unwrap();
        bob.decrypt(&before, &mut rng).unwrap();
        // The session ends: every used receiving MAC key is queued...
        alice.reveal_all();
        assert!(alice.pending_reveal_count() >= 1);
        // ...and the last message is sent under the next counter, never a repeated one (a
        // pair recomputed from scratch would restart at 1 and repeat the AES-CTR keystream).
        let last = alice.encrypt(FLAG_LAST, b"\0").unwrap();
        assert!(u64::from_be_bytes(counter(&last)) > u64::from_be_bytes(counter(&before)));
        assert_eq!(&*bob.decrypt(&last, &mut rng).unwrap().plaintext, b"\0", "the peer reads it");
        // Nothing is decrypted after the reveal: anyone can forge under revealed keys.
        let late = bob.encrypt(0, b"late\0").unwrap();
        assert!(matches!(alice.decrypt(&late, &mut rng), Err(DataError::Unreadable { .. })));
    }

    const FLAG_LAST: u8 = crate::otr::message::FLAG_IGNORE_UNREADABLE;

    #[test]
    fn the_kept_message_start_follows_flags_keyids_and_our_next_key() {
        let (mut alice, mut bob, mut rng) = sessions();
        // What a message must start with, written from scratch from the session's state now.
        let expected_start = |session: &DataSession, flags: u8| {
            DataPrefix {
                header: Header::new(session.version, MessageType::Data, session.our_tag, session.their_tag),
                flags,
                sender_keyid: session.keys.our_keyid - 1,
                recipient_keyid: session.keys.their_keyid,
                next_dh: session.keys.our_current_minimal(),
                counter: [0; 8],
            }
            .fixed_part()
        };
        let check = |alice: &mut DataSession, flags: u8| {
            let start = expected_start(alice, flags);
            let message = alice.encrypt(flags, b"x\0").unwrap();
            assert_eq!(&message[..start.len()], &start[..], "flags {flags}, keyids {:?}", alice.keyids());
            message
        };
        // Flags changing back and forth under one key pair.
        for flags in [0, FLAG_LAST, FLAG_LAST, 0] {
            check(&mut alice, flags);
        }
        // Bob answers: Alice's next message is under her next key and his new one; and again.
        for _ in 0..2 {
            let message = check(&mut alice, 0);
            bob.decrypt(&message, &mut rng).unwrap();
            let reply = bob.encrypt(0, b"y\0").unwrap();
            let before = alice.keyids();
            alice.decrypt(&reply, &mut rng).unwrap();
            assert_ne!(alice.keyids(), before, "the keys rotated");
            let message = check(&mut alice, 0);
            assert_eq!(&*bob.decrypt(&message, &mut rng).unwrap().plaintext, b"x\0");
        }
        // A forged next key is written as given, and is not kept for the next message.
        let forged = alice.encrypt_announcing(0, &[b"x\0"], Some(&[7; 192])).unwrap();
        let parsed = DataMessage::parse(&forged).unwrap();
        assert_eq!(parsed.fields.next_dh, vec![7; 192]);
        check(&mut alice, 0);
    }

    #[test]
    fn a_peer_that_keeps_rotating_cannot_grow_our_reveal_queue_without_bound() {
        let (mut alice, mut bob, mut rng) = sessions();
        // A malicious (authenticated) Bob announces a fresh key in every message while Alice
        // never answers: each one makes Alice discard a used pair and queue its MAC key.
        for _ in 0..(super::super::key_ring::MAX_PENDING_REVEALS + 50) {
            let message = bob.encrypt(0, b"x\0").unwrap();
            alice.decrypt(&message, &mut rng).unwrap();
            bob.keys.rotate_ours(DhKeyPair::generate(&mut rng).unwrap()).unwrap();
        }
        assert!(alice.pending_reveal_count() <= super::super::key_ring::MAX_PENDING_REVEALS);
        assert!(alice.pending_reveal_count() > crate::otr::message::MAX_REVEALED_MAC_KEYS);
        // One message carries at most what a receiver accepts; the rest waits for the next.
        let queued = alice.pending_reveal_count();
        let message = alice.encrypt(0, b"y\0").unwrap();
        let parsed = DataMessage::parse(&message).unwrap();
        assert_eq!(parsed.old_mac_keys.len(), crate::otr::message::MAX_REVEALED_MAC_KEYS);
        assert_eq!(alice.pending_reveal_count(), queued - crate::otr::message::MAX_REVEALED_MAC_KEYS);
    }

    #[test]
    fn an_authentic_message_with_a_bad_next_key_is_refused_and_changes_nothing() {
        let (mut alice, mut bob, mut rng) = sessions();
        let mut p_minus_two = crate::otr::group::prime_bytes();
        if let Some(last) = p_minus_two.last_mut() {
            *last -= 2;
        }
        for (next, expected) in [
            (vec![1u8], GroupError::OutOfRange),
            (p_minus_two, GroupError::NotInSubgroup),
            (vec![0xFF; 193], GroupError::TooLarge),
        ] {
            let message = alice.encrypt_announcing(0, &[b"x\0"], Some(&next)).unwrap();
            let before = bob.keyids();
            assert_eq!(
                bob.decrypt(&message, &mut rng).unwrap_err(),
                DataError::Malformed(MessageError::Group(expected))
            );
            assert_eq!(bob.keyids(), before);
        }
        // An honest message under the next counter still reads.
        let message = alice.encrypt(0, b"ok\0").unwrap();
        assert_eq!(&*bob.decrypt(&message, &mut rng).unwrap().plaintext, b"ok\0");
        assert_eq!(bob.keyids(), (2, 2), "their key rotated once, ours not yet");
    }
}
