//! The OTR authenticated key exchange (v3 spec, "Authenticated Key Exchange" and "The protocol
//! state machine"), for v3 and v2, as a pure object per remote instance: bytes in, "reply with
//! these bytes" / "established" / "ignored" out. No policy, no fragments, no text layer.
//!
//! One [`Ake`] serves one remote instance (or, for v2, the one peer). While it waits for a D-H
//! Key it can be cloned, so the conversation can answer D-H Keys from several instances of the
//! peer with the same commit (libotr's copy-on-key, brief P15): clone the waiting `Ake` for each
//! new sender and feed the clone.
//!
//! Every failure leaves the state as it was: a forged or corrupted message cannot end an
//! exchange in progress.

mod authenticator;
mod established;

pub use established::{EstablishedAke, SsidBoldHalf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::RandomSource;
use crate::otr::data::symmetric::{aes128_ctr, ct_eq};
use crate::otr::data::DhKeyPair;
use crate::otr::group::Element;
use crate::otr::identity::{DsaIdentity, IdentityError};
use crate::otr::kdf::AkeKeys;
use crate::otr::message::{
    parse_header, DhCommit, DhKey, Header, MessageError, MessageType, OtrVersion, RevealSignature, Signature,
};
use crate::otr::mpi;
use crate::wire::{InstanceTag, Reader};

use authenticator::BlockKeys;

/// The keyid libotr gives the AKE's DH key (and the one we send).
pub const AKE_KEYID: u32 = 1;

/// What to do after a message.
#[derive(Debug)]
pub enum AkeOutcome {
    /// Send these bytes (a binary OTR message) to the peer.
    Reply(Vec<u8>),
    /// The AKE succeeded; send `reply` if any (the Signature message), then start the data
    /// path from `session`.
    Established {
        /// The Signature message, when we received the Reveal Signature.
        reply: Option<Vec<u8>>,
        /// Everything the data path needs.
        session: Box<EstablishedAke>,
    },
    /// The message does not apply to this exchange; nothing changed.
    Ignored(IgnoreReason),
}

/// Why a well-formed message was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// The state machine ignores this message in the current state.
    WrongState,
    /// The message is of the other OTR version than this exchange.
    WrongVersion,
    /// The message is for another instance of ours (v3 receiver tag).
    NotForUs,
    /// The message comes from another instance of the peer than the one this exchange is with.
    OtherInstance,
    /// Our own DH value or commit came back: someone reflects our messages (libotr's
    /// `MSG_REFLECTED`).
    Reflected,
    /// A D-H Key with another value than the one we answered (libotr ignores it).
    OtherDhKey,
    /// Not an AKE message (a data message).
    NotAkeMessage,
}

/// Why a message was refused. The state is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AkeError {
    /// The bytes are not a well-formed OTR message of this kind.
    #[error("malformed AKE message: {0}")]
    Malformed(#[from] MessageError),
    /// The revealed g^x does not match the committed hash.
    #[error("revealed g^x does not match the commitment")]
    CommitmentMismatch,
    /// The revealed g^x is not a single MPI holding an acceptable group element.
    #[error("revealed g^x is not an acceptable DH value")]
    BadDhValue,
    /// The message MAC does not verify.
    #[error("bad AKE MAC")]
    BadMac,
    /// The decrypted block does not hold a keyid and a signature.
    #[error("malformed signature block")]
    MalformedBlock,
    /// The peer's public key is malformed or has unacceptable parameters.
    #[error("peer public key refused: {0}")]
    BadPublicKey(IdentityError),
    /// The peer's signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Our signature could not be made.
    #[error("signing failed")]
    Signing,
    /// The random source failed.
    #[error("random source failed")]
    Random,
}

/// One AKE with one remote instance.
#[derive(Clone)]
pub struct Ake {
    version: OtrVersion,
    our_tag: InstanceTag,
    their_tag: InstanceTag,
    state: State,
}

/// The authentication state (v3 spec, "Authentication state").
#[derive(Clone)]
enum State {
    None,
    /// We sent a D-H Commit.
    AwaitingDhKey(Box<Committed>),
    /// We answered a commit with a D-H Key.
    AwaitingRevealSignature(Box<Responding>),
    /// We answered a D-H Key with a Reveal Signature.
    AwaitingSignature(Box<Revealed>),
}

#[derive(Clone)]
struct Committed {
    our_dh: DhKeyPair,
    r: Zeroizing<[u8; 16]>,
    hashed_gx: [u8; 32],
    message: Vec<u8>,
}

#[derive(Clone)]
struct Responding {
    our_dh: DhKeyPair,
    their_encrypted_gx: Vec<u8>,
    their_hashed_gx: [u8; 32],
    message: Vec<u8>,
}

#[derive(Clone)]
struct Revealed {
    our_dh: DhKeyPair,
    their_gy: Element,
    keys: AkeKeys,
    message: Vec<u8>,
}

/// The public state of an [`Ake`], for the conversation and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AkeState {
    /// No exchange in progress.
    None,
    /// We sent a D-H Commit and wait for a D-H Key.
    AwaitingDhKey,
    /// We sent a D-H Key and wait for a Reveal Signature.
    AwaitingRevealSignature,
    /// We sent a Reveal Signature and wait for a Signature.
    AwaitingSignature,
}

impl std::fmt::Debug for Ake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ake")
            .field("version", &self.version)
            .field("our_tag", &self.our_tag)
            .field("their_tag", &self.their_tag)
            .field("state", &self.state())
            .finish()
    }
}

impl Ake {
    /// An idle exchange of `version` between our instance and `their_tag` (`NONE` when not
    /// known yet: the tag of the first instance that answers is adopted; always `NONE` in v2).
    pub fn new(version: OtrVersion, our_tag: InstanceTag, their_tag: InstanceTag) -> Ake {
        let (our_tag, their_tag) = match version {
            OtrVersion::V2 => (InstanceTag::NONE, InstanceTag::NONE),
            OtrVersion::V3 => (our_tag, their_tag),
        };
        Ake { version, our_tag, their_tag, state: State::None }
    }

    /// The protocol version of this exchange.
    pub fn version(&self) -> OtrVersion {
        self.version
    }

    /// The peer instance this exchange is with (`NONE` until known, and in v2).
    pub fn their_tag(&self) -> InstanceTag {
        self.their_tag
    }

    /// Where the exchange stands.
    pub fn state(&self) -> AkeState {
        match self.state {
            State::None => AkeState::None,
            State::AwaitingDhKey(_) => AkeState::AwaitingDhKey,
            State::AwaitingRevealSignature(_) => AkeState::AwaitingRevealSignature,
            State::AwaitingSignature(_) => AkeState::AwaitingSignature,
        }
    }

    /// The last message we sent in the current exchange, for retransmission.
    pub fn last_message(&self) -> Option<&[u8]> {
        match &self.state {
            State::None => None,
            State::AwaitingDhKey(committed) => Some(&committed.message),
            State::AwaitingRevealSignature(responding) => Some(&responding.message),
            State::AwaitingSignature(revealed) => Some(&revealed.message),
        }
    }

    /// Abandons any exchange in progress.
    pub fn reset(&mut self) {
        self.state = State::None;
    }

    /// Starts a fresh exchange (whatever state we were in): a new DH key and r, and the D-H
    /// Commit to send.
    pub fn start(&mut self, rng: &mut dyn RandomSource) -> Result<Vec<u8>, AkeError> {
        let our_dh = DhKeyPair::generate(rng).map_err(|_| AkeError::Random)?;
        let mut r = Zeroizing::new([0u8; 16]);
        rng.fill(r.as_mut()).map_err(|_| AkeError::Random)?;
        let gx_mpi = mpi::encode(&our_dh.public().to_minimal_bytes());
        let hashed_gx: [u8; 32] = Sha256::digest(&gx_mpi).into();
        let mut encrypted_gx = gx_mpi;
        aes128_ctr(&r, &[0; 8], &mut encrypted_gx);
        let message =
            DhCommit { header: self.header(MessageType::DhCommit, self.their_tag), encrypted_gx, hashed_gx }.to_bytes();
        self.state = State::AwaitingDhKey(Box::new(Committed { our_dh, r, hashed_gx, message: message.clone() }));
        Ok(message)
    }

    /// Handles one binary OTR message from the peer. On any error the state is unchanged.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        identity: &DsaIdentity,
        rng: &mut dyn RandomSource,
    ) -> Result<AkeOutcome, AkeError> {
        let header = parse_header(bytes)?;
        if let Some(reason) = self.route(&header) {
            return Ok(AkeOutcome::Ignored(reason));
        }
        let outcome = match header.message_type {
            MessageType::DhCommit => self.receive_commit(DhCommit::parse(bytes)?, rng)?,
            MessageType::DhKey => self.receive_key(&DhKey::parse(bytes)?, identity)?,
            MessageType::RevealSignature => self.receive_reveal(&RevealSignature::parse(bytes)?, identity)?,
            MessageType::Signature => self.receive_signature(&Signature::parse(bytes)?)?,
            MessageType::Data => return Ok(AkeOutcome::Ignored(IgnoreReason::NotAkeMessage)),
        };
        Ok(outcome)
    }

    /// Version and instance checks before parsing the body.
    fn route(&self, header: &Header) -> Option<IgnoreReason> {
        if header.version != self.version {
            return Some(IgnoreReason::WrongVersion);
        }
        if self.version == OtrVersion::V3 {
            let to_anyone = header.receiver_tag.is_none() && header.message_type == MessageType::DhCommit;
            if header.receiver_tag != self.our_tag && !to_anyone {
                return Some(IgnoreReason::NotForUs);
            }
            if !self.their_tag.is_none() && header.sender_tag != self.their_tag {
                return Some(IgnoreReason::OtherInstance);
            }
        }
        None
    }

    /// A header for a message we send to `receiver`.
    fn header(&self, message_type: MessageType, receiver: InstanceTag) -> Header {
        Header::new(self.version, message_type, self.our_tag, receiver)
    }

    /// After a message was acted on: remember which instance we talk to.
    fn adopt_sender(&mut self, header: &Header) {
        if self.version == OtrVersion::V3 {
            self.their_tag = header.sender_tag;
        }
    }

    fn receive_commit(&mut self, commit: DhCommit, rng: &mut dyn RandomSource) -> Result<AkeOutcome, AkeError> {
        match &mut self.state {
            State::AwaitingDhKey(committed) => {
                // Crossed commits: the higher hash (as a 32-byte big-endian number) wins.
                match committed.hashed_gx.cmp(&commit.hashed_gx) {
                    std::cmp::Ordering::Greater => return Ok(AkeOutcome::Reply(committed.message.clone())),
                    std::cmp::Ordering::Equal => return Ok(AkeOutcome::Ignored(IgnoreReason::Reflected)),
                    std::cmp::Ordering::Less => {}
                }
            }
            State::AwaitingRevealSignature(responding) => {
                // Use the new commit, answer with the same D-H Key.
                responding.their_encrypted_gx = commit.encrypted_gx;
                responding.their_hashed_gx = commit.hashed_gx;
                let reply = responding.message.clone();
                self.adopt_sender(&commit.header);
                return Ok(AkeOutcome::Reply(reply));
            }
            State::None | State::AwaitingSignature(_) => {}
        }
        let our_dh = DhKeyPair::generate(rng).map_err(|_| AkeError::Random)?;
        let message =
            DhKey { header: self.header(MessageType::DhKey, commit.header.sender_tag), gy: our_dh.public().clone() }
                .to_bytes();
        self.adopt_sender(&commit.header);
        self.state = State::AwaitingRevealSignature(Box::new(Responding {
            our_dh,
            their_encrypted_gx: commit.encrypted_gx,
            their_hashed_gx: commit.hashed_gx,
            message: message.clone(),
        }));
        Ok(AkeOutcome::Reply(message))
    }

    fn receive_key(&mut self, key: &DhKey, identity: &DsaIdentity) -> Result<AkeOutcome, AkeError> {
        let committed = match &self.state {
            State::AwaitingDhKey(committed) => committed,
            State::AwaitingSignature(revealed) => {
                // A retransmitted D-H Key gets our Reveal Signature again.
                return Ok(if revealed.their_gy == key.gy {
                    AkeOutcome::Reply(revealed.message.clone())
                } else {
                    AkeOutcome::Ignored(IgnoreReason::OtherDhKey)
                });
            }
            State::None | State::AwaitingRevealSignature(_) => {
                return Ok(AkeOutcome::Ignored(IgnoreReason::WrongState))
            }
        };
        if key.gy == *committed.our_dh.public() {
            return Ok(AkeOutcome::Ignored(IgnoreReason::Reflected));
        }
        let secbytes = committed.our_dh.shared_secbytes(&key.gy);
        let keys = AkeKeys::derive(&secbytes);
        let block_keys = BlockKeys { encryption: &keys.c, signature_mac: &keys.m1, message_mac: &keys.m2 };
        let (encrypted_signature, mac) =
            authenticator::build(identity, committed.our_dh.public(), &key.gy, AKE_KEYID, &block_keys)?;
        let message = RevealSignature {
            header: self.header(MessageType::RevealSignature, key.header.sender_tag),
            r: *committed.r,
            encrypted_signature,
            mac,
        }
        .to_bytes();
        // The data path's first key pair needs the same secret: kept, not computed again.
        let our_dh = committed.our_dh.with_kept_secret(&key.gy, &secbytes);
        self.adopt_sender(&key.header);
        self.state = State::AwaitingSignature(Box::new(Revealed {
            our_dh,
            their_gy: key.gy.clone(),
            keys,
            message: message.clone(),
        }));
        Ok(AkeOutcome::Reply(message))
    }

    fn receive_reveal(&mut self, reveal: &RevealSignature, identity: &DsaIdentity) -> Result<AkeOutcome, AkeError> {
        let State::AwaitingRevealSignature(responding) = &self.state else {
            return Ok(AkeOutcome::Ignored(IgnoreReason::WrongState));
        };
        // Open the commitment: decrypt g^x with r and check it against the committed hash.
        let mut gx_mpi = Zeroizing::new(responding.their_encrypted_gx.clone());
        aes128_ctr(&reveal.r, &[0; 8], &mut gx_mpi);
        let hash: [u8; 32] = Sha256::digest(gx_mpi.as_slice()).into();
        if !ct_eq(&hash, &responding.their_hashed_gx) {
            return Err(AkeError::CommitmentMismatch);
        }
        let mut reader = Reader::new(&gx_mpi);
        let gx = mpi::read_element(&mut reader).map_err(|_| AkeError::BadDhValue)?;
        reader.finish().map_err(|_| AkeError::BadDhValue)?;
        if gx == *responding.our_dh.public() {
            return Ok(AkeOutcome::Ignored(IgnoreReason::Reflected));
        }
        let secbytes = responding.our_dh.shared_secbytes(&gx);
        let keys = AkeKeys::derive(&secbytes);
        let their_keys = BlockKeys { encryption: &keys.c, signature_mac: &keys.m1, message_mac: &keys.m2 };
        let (their_public_key, their_keyid) = authenticator::check(
            &reveal.encrypted_signature,
            &reveal.mac,
            &gx,
            responding.our_dh.public(),
            &their_keys,
        )?;
        let our_keys =
            BlockKeys { encryption: &keys.c_prime, signature_mac: &keys.m1_prime, message_mac: &keys.m2_prime };
        let (encrypted_signature, mac) =
            authenticator::build(identity, responding.our_dh.public(), &gx, AKE_KEYID, &our_keys)?;
        let reply = Signature {
            header: self.header(MessageType::Signature, reveal.header.sender_tag),
            encrypted_signature,
            mac,
        }
        .to_bytes();
        let session = EstablishedAke {
            version: self.version,
            our_tag: self.our_tag,
            their_tag: reveal.header.sender_tag,
            ssid: keys.ssid,
            bold_half: SsidBoldHalf::Second,
            their_fingerprint: their_public_key.fingerprint(),
            their_public_key,
            // The data path's first key pair needs the same secret: kept, not computed again.
            our_dh: responding.our_dh.with_kept_secret(&gx, &secbytes),
            our_keyid: AKE_KEYID,
            their_dh: gx,
            their_keyid,
        };
        self.adopt_sender(&reveal.header);
        self.state = State::None;
        Ok(AkeOutcome::Established { reply: Some(reply), session: Box::new(session) })
    }

    fn receive_signature(&mut self, signature: &Signature) -> Result<AkeOutcome, AkeError> {
        let State::AwaitingSignature(revealed) = &self.state else {
            return Ok(AkeOutcome::Ignored(IgnoreReason::WrongState));
        };
        let keys = &revealed.keys;
        let their_keys =
            BlockKeys { encryption: &keys.c_prime, signature_mac: &keys.m1_prime, message_mac: &keys.m2_prime };
        let (their_public_key, their_keyid) = authenticator::check(
            &signature.encrypted_signature,
            &signature.mac,
            &revealed.their_gy,
            revealed.our_dh.public(),
            &their_keys,
        )?;
        let session = EstablishedAke {
            version: self.version,
            our_tag: self.our_tag,
            their_tag: signature.header.sender_tag,
            ssid: keys.ssid,
            bold_half: SsidBoldHalf::First,
            their_fingerprint: their_public_key.fingerprint(),
            their_public_key,
            our_dh: revealed.our_dh.clone(),
            our_keyid: AKE_KEYID,
            their_dh: revealed.their_gy.clone(),
            their_keyid,
        };
        self.adopt_sender(&signature.header);
        self.state = State::None;
        Ok(AkeOutcome::Established { reply: None, session: Box::new(session) })
    }
}
