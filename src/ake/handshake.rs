//! The authenticated key exchange (PROTOCOL.md §AKE): Noise XX wrapped in our framing.
//!
//! The party that sent the query (or whitespace tag) is the *responder*; the party that
//! answers with a `Start` message is the *initiator*. Three messages, then both hold the same
//! Double Ratchet root, session id and each other's identity key, and nothing was signed.
//!
//! The handshake seeds the ratchet without a DH of its own (PROTOCOL.md §4.6, §5.2): Split gives
//! the root and the initiator's first sending chain, under a fresh ratchet key the initiator
//! sends in `Finish`; the responder's first sending chain is its first DH step, on its first send.

use sha2::{Digest, Sha256};

use super::message::{header_bytes, AkeKind, AkeMessage};
use super::noise::{HandshakeState, NoiseError};
use crate::crypto::keys::is_usable_public_key;
use crate::crypto::{DhKeyPair, IdentityKey, RandomSource, SecretKey};
use crate::ratchet::{Ratchet, RatchetError};
use crate::wire::Versions;

/// The protocol versions we speak, as a bitmask (bit 0 = version 1, as in [`Versions`]).
pub const SUPPORTED_VERSIONS: u8 = Versions::SUPPORTED.bits();
/// The only handshake suite so far: Noise XX over X25519, AES-256-GCM, SHA-256.
pub const SUITE_NOISE_XX: u8 = 0;
/// Prologue label; the application's phi follows it.
pub const PROLOGUE_LABEL: &[u8] = b"offrec1 AKE";
/// Label of the phi commitment the initiator sends in `Start`.
pub const PHI_COMMITMENT_LABEL: &[u8] = b"offrec1 phi";
/// Length of the phi commitment.
pub const PHI_COMMITMENT_LEN: usize = 16;
/// Length of the `Start` payload: versions, offer echo, suite, phi commitment.
pub const START_PAYLOAD_LEN: usize = 3 + PHI_COMMITMENT_LEN;

/// `SHA-256("offrec1 phi" ‖ phi)`, first 16 bytes: sent in clear in `Start` (and hashed into
/// the transcript) so that the responder sees at once whether both sides bind the same phi,
/// instead of the mismatch surfacing later as an authentication failure.
pub fn phi_commitment(phi: &[u8]) -> [u8; PHI_COMMITMENT_LEN] {
    let digest = Sha256::new().chain_update(PHI_COMMITMENT_LABEL).chain_update(phi).finalize();
    let mut out = [0u8; PHI_COMMITMENT_LEN];
    out.copy_from_slice(&digest[..PHI_COMMITMENT_LEN]);
    out
}

/// Why a handshake failed. The handshake in progress is left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AkeError {
    /// The message is not a well-formed handshake message of the expected kind.
    #[error("malformed handshake message")]
    Malformed,
    /// The message names another instance of ours.
    #[error("handshake message for another instance")]
    WrongInstance,
    /// The offered or chosen versions do not match what was advertised (a downgrade attempt).
    #[error("protocol version mismatch or downgrade attempt")]
    VersionMismatch,
    /// A Noise check failed: bad tag, wrong prologue, tampered transcript.
    #[error("handshake authentication failed")]
    AuthenticationFailed,
    /// A Diffie-Hellman output was all zeros.
    #[error("non-contributory Diffie-Hellman key")]
    NonContributory,
    /// The random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// The initiator's phi commitment differs from ours: the two sides name the conversation
    /// differently (account names, network, or name-binding setting).
    #[error("the two sides bind different names (account names, network or name-binding setting)")]
    NamesDiffer,
}

impl From<NoiseError> for AkeError {
    fn from(error: NoiseError) -> Self {
        match error {
            NoiseError::NonContributory => Self::NonContributory,
            NoiseError::Random => Self::Random,
            NoiseError::WrongLength => Self::Malformed,
            _ => Self::AuthenticationFailed,
        }
    }
}

impl From<RatchetError> for AkeError {
    fn from(error: RatchetError) -> Self {
        match error {
            RatchetError::NonContributory => Self::NonContributory,
            RatchetError::Random => Self::Random,
            _ => Self::AuthenticationFailed,
        }
    }
}

impl From<crate::crypto::CryptoError> for AkeError {
    fn from(error: crate::crypto::CryptoError) -> Self {
        AkeError::from(RatchetError::from(error))
    }
}

/// What each side brings to a handshake.
#[derive(Clone, Copy, Debug)]
pub struct AkeConfig<'a> {
    /// Our long-term identity.
    pub identity: &'a IdentityKey,
    /// Our instance tag.
    pub our_tag: u32,
    /// The application's shared session state ("phi"): both sides must supply the same bytes,
    /// e.g. both account names (sorted) and the network. Binding it stops misbinding attacks.
    pub phi: &'a [u8],
}

/// An established session's keys and facts.
#[derive(Debug)]
pub struct Established {
    /// The Double Ratchet, ready to send and receive.
    pub ratchet: Ratchet,
    /// The session id: the Noise handshake hash (show 8 bytes of it to users).
    pub ssid: [u8; 32],
    /// The peer's identity public key (fingerprint it to compare).
    pub their_identity: [u8; 32],
    /// The peer's instance tag.
    pub their_tag: u32,
    /// The negotiated protocol version.
    pub version: u8,
    /// Whether we were the initiator.
    pub we_initiated: bool,
}

/// The initiator, after sending `Start`, waiting for `Reply`.
#[derive(Clone, Debug)]
pub struct Initiator {
    noise: HandshakeState,
    our_tag: u32,
    ephemeral_hash: [u8; 32],
    ephemeral_prefix: [u8; 8],
}

/// The responder, after sending `Reply`, waiting for `Finish`.
#[derive(Clone, Debug)]
pub struct Responder {
    noise: HandshakeState,
    our_tag: u32,
    their_tag: u32,
    version: u8,
}

fn prologue(phi: &[u8]) -> Vec<u8> {
    let mut out = PROLOGUE_LABEL.to_vec();
    out.extend_from_slice(&(phi.len() as u32).to_be_bytes());
    out.extend_from_slice(phi);
    out
}

/// The highest version both support (bit b means version b + 1).
fn chosen_version(ours: u8, theirs: u8) -> Option<u8> {
    let common = ours & theirs;
    (0..8u8).rev().find(|bit| common & (1 << bit) != 0).map(|bit| bit + 1)
}

/// The first 8 bytes of a `Start`'s ephemeral key (its Noise bytes begin with it).
pub fn start_ephemeral_prefix(noise: &[u8]) -> Option<[u8; 8]> {
    noise.get(..8)?.try_into().ok()
}

fn read_key(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

impl Initiator {
    /// Starts a handshake. `their_tag` is the peer's instance tag if known (else 0);
    /// `offer_seen` is the version bitmask we saw in the peer's query or tag (0 if we start
    /// unprompted): echoing it lets the responder detect a stripped offer.
    pub fn start(
        config: AkeConfig<'_>,
        their_tag: u32,
        offer_seen: u8,
        rng: &mut dyn RandomSource,
    ) -> Result<(Self, AkeMessage), AkeError> {
        let mut noise = HandshakeState::with_key_pair(true, &prologue(config.phi), config.identity.key_pair());
        noise.mix_hash(&header_bytes(AkeKind::Start, config.our_tag, their_tag));
        let mut payload = vec![SUPPORTED_VERSIONS, offer_seen, SUITE_NOISE_XX];
        payload.extend_from_slice(&phi_commitment(config.phi));
        let bytes = noise.write_message(&payload, rng)?;
        let ephemeral_hash = bytes.get(..32).map(|e| Sha256::digest(e).into()).ok_or(AkeError::Malformed)?;
        let ephemeral_prefix = start_ephemeral_prefix(&bytes).ok_or(AkeError::Malformed)?;
        let message =
            AkeMessage { kind: AkeKind::Start, sender_tag: config.our_tag, receiver_tag: their_tag, noise: bytes };
        Ok((Self { noise, our_tag: config.our_tag, ephemeral_hash, ephemeral_prefix }, message))
    }

    /// The first 8 bytes of our `Start`'s ephemeral key: a "names differ" error names it.
    pub fn ephemeral_prefix(&self) -> [u8; 8] {
        self.ephemeral_prefix
    }

    /// Crossed starts: both sides sent `Start`. The side whose ephemeral key hashes higher stays
    /// initiator; returns true if we should drop our handshake and answer theirs.
    pub fn should_yield_to(&self, their_start: &AkeMessage) -> bool {
        let theirs: [u8; 32] = match their_start.noise.get(..32) {
            Some(e) => Sha256::digest(e).into(),
            None => return false,
        };
        theirs > self.ephemeral_hash
    }

    /// Processes `Reply`; on success returns `Finish` and the established session. On error
    /// `self` is unchanged (a forged reply cannot break the handshake in progress).
    pub fn finish(
        &self,
        reply: &AkeMessage,
        rng: &mut dyn RandomSource,
    ) -> Result<(AkeMessage, Established), AkeError> {
        if reply.kind != AkeKind::Reply {
            return Err(AkeError::Malformed);
        }
        if reply.receiver_tag != self.our_tag {
            return Err(AkeError::WrongInstance);
        }
        if reply.sender_tag < 0x100 {
            return Err(AkeError::Malformed);
        }
        let mut noise = self.noise.clone();
        noise.mix_hash(&reply.header());
        let payload = noise.read_message(&reply.noise)?;
        let &[their_versions] = payload.as_slice() else {
            return Err(AkeError::Malformed);
        };
        let version = chosen_version(SUPPORTED_VERSIONS, their_versions).ok_or(AkeError::VersionMismatch)?;
        let their_identity = noise.remote_static().ok_or(AkeError::Malformed)?;

        let our_ratchet = DhKeyPair::generate(rng)?;
        noise.mix_hash(&header_bytes(AkeKind::Finish, self.our_tag, reply.sender_tag));
        let bytes = noise.write_message(our_ratchet.public(), rng)?;
        let (root, first_chain) = noise.chaining_key_split()?;
        let ratchet =
            Ratchet::new_initiator(SecretKey::from_bytes(*root), SecretKey::from_bytes(*first_chain), our_ratchet);
        let finish = AkeMessage {
            kind: AkeKind::Finish,
            sender_tag: self.our_tag,
            receiver_tag: reply.sender_tag,
            noise: bytes,
        };
        let established = Established {
            ratchet,
            ssid: noise.handshake_hash(),
            their_identity,
            their_tag: reply.sender_tag,
            version,
            we_initiated: true,
        };
        Ok((finish, established))
    }
}

impl Responder {
    /// Answers a `Start`. `advertised` is the version bitmask we put in our query or tag (0 if
    /// we sent none); if the initiator echoes an offer, it must be exactly that.
    pub fn respond(
        config: AkeConfig<'_>,
        start: &AkeMessage,
        advertised: u8,
        rng: &mut dyn RandomSource,
    ) -> Result<(Self, AkeMessage), AkeError> {
        if start.kind != AkeKind::Start {
            return Err(AkeError::Malformed);
        }
        if start.receiver_tag != 0 && start.receiver_tag != config.our_tag {
            return Err(AkeError::WrongInstance);
        }
        if start.sender_tag < 0x100 {
            return Err(AkeError::Malformed);
        }
        let mut noise = HandshakeState::with_key_pair(false, &prologue(config.phi), config.identity.key_pair());
        noise.mix_hash(&start.header());
        let payload = noise.read_message(&start.noise)?;
        if payload.len() != START_PAYLOAD_LEN {
            return Err(AkeError::Malformed);
        }
        let (their_versions, offer_seen, suite) = (payload[0], payload[1], payload[2]);
        if suite != SUITE_NOISE_XX {
            return Err(AkeError::Malformed);
        }
        // Public values (a hash of names both sides use on the transport anyway): a plain
        // comparison is fine.
        if payload[3..] != phi_commitment(config.phi) {
            return Err(AkeError::NamesDiffer);
        }
        if offer_seen != 0 && advertised != 0 && offer_seen != advertised {
            return Err(AkeError::VersionMismatch);
        }
        let version = chosen_version(SUPPORTED_VERSIONS, their_versions).ok_or(AkeError::VersionMismatch)?;

        noise.mix_hash(&header_bytes(AkeKind::Reply, config.our_tag, start.sender_tag));
        let bytes = noise.write_message(&[SUPPORTED_VERSIONS], rng)?;
        let reply = AkeMessage {
            kind: AkeKind::Reply,
            sender_tag: config.our_tag,
            receiver_tag: start.sender_tag,
            noise: bytes,
        };
        Ok((Self { noise, our_tag: config.our_tag, their_tag: start.sender_tag, version }, reply))
    }

    /// The initiator's instance tag.
    pub fn their_tag(&self) -> u32 {
        self.their_tag
    }

    /// Processes `Finish`. On error `self` is unchanged.
    pub fn finish(&self, finish: &AkeMessage, rng: &mut dyn RandomSource) -> Result<Established, AkeError> {
        if finish.kind != AkeKind::Finish {
            return Err(AkeError::Malformed);
        }
        if finish.receiver_tag != self.our_tag || finish.sender_tag != self.their_tag {
            return Err(AkeError::WrongInstance);
        }
        let mut noise = self.noise.clone();
        noise.mix_hash(&finish.header());
        let payload = noise.read_message(&finish.noise)?;
        let their_ratchet = read_key(&payload).ok_or(AkeError::Malformed)?;
        // Our first DH with it comes only with our first send: refuse a bad key now, as when
        // the handshake itself took a DH with it.
        if !is_usable_public_key(&their_ratchet) {
            return Err(AkeError::NonContributory);
        }
        let their_identity = noise.remote_static().ok_or(AkeError::Malformed)?;
        let (root, first_chain) = noise.chaining_key_split()?;
        let ratchet = Ratchet::new_responder(
            SecretKey::from_bytes(*root),
            SecretKey::from_bytes(*first_chain),
            &their_ratchet,
            rng,
        )?;
        Ok(Established {
            ratchet,
            ssid: noise.handshake_hash(),
            their_identity,
            their_tag: self.their_tag,
            version: self.version,
            we_initiated: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_common_version_is_chosen() {
        assert_eq!(chosen_version(0b1, 0b1), Some(1));
        assert_eq!(chosen_version(0b11, 0b10), Some(2));
        assert_eq!(chosen_version(0b111, 0b101), Some(3));
        assert_eq!(chosen_version(0b1000_0001, 0b1000_0000), Some(8));
        assert_eq!(chosen_version(0b01, 0b10), None);
        assert_eq!(chosen_version(SUPPORTED_VERSIONS, 0), None);
    }

    /// Errors from the layers below keep their meaning: a broken random source or a degenerate
    /// key is not reported as a forged message.
    #[test]
    fn lower_layer_errors_keep_their_kind() {
        assert_eq!(AkeError::from(NoiseError::Random), AkeError::Random);
        assert_eq!(AkeError::from(NoiseError::NonContributory), AkeError::NonContributory);
        assert_eq!(AkeError::from(NoiseError::WrongLength), AkeError::Malformed);
        assert_eq!(AkeError::from(RatchetError::Random), AkeError::Random);
        assert_eq!(AkeError::from(RatchetError::NonContributory), AkeError::NonContributory);
        assert_eq!(AkeError::from(crate::crypto::CryptoError::Random(crate::crypto::RandomError)), AkeError::Random);
    }
}
