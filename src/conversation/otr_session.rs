//! An OTR v3/v2 session with one remote instance, behind the same [`ProtocolSession`] interface
//! as a modern session: the peer routes, holds, reports and persists without knowing which
//! protocol a session speaks. The keys and the data path are `otr::data::DataSession`'s, SMP is
//! `otr::smp::OtrSmp`'s; this file maps them onto the interface (OTR's TLV numbers, its
//! `text NUL TLVs` body, its one extra key per key pair) and keeps the bookkeeping every
//! session keeps (times, heartbeat, SMP limits).
//!
//! OTR sessions are never stored (libotr does not store them either): a restart heals through
//! OTR's error message and a new AKE (PROTOCOL.md part B).

use zeroize::Zeroizing;

use super::app_tlv::is_app_tlv_type;
use super::error::ClientError;
use super::events::{MessageId, SessionState};
use super::protocol::{
    Control, Inbound, LengthCheck, OpenError, Opened, Protocol, ProtocolSession, ReceivedControl, Sealed,
};
use super::session::{OtrSessionInfo, SentLog, SessionInfo, SmpLimit};
use crate::crypto::{RandomSource, SecretKey};
use crate::otr::ake::{EstablishedAke, SsidBoldHalf};
use crate::otr::data::{DataError, DataSession, Decrypted};
use crate::otr::message::OtrVersion;
use crate::otr::smp::{OtrSmp, OtrSmpContext, OtrSmpError, OtrSmpEvent, OtrSmpTlv, SmpRole};
use crate::otr::tlv::{encode_tlvs, padding_record, split_plaintext_records, OtrTlv, OtrTlvType};
use crate::smp::{SmpError, SmpEvent, SmpStep, SmpTlv};
use crate::trust::{otr_key_id, TrustStore};
use crate::wire::unreadable_report::LostScope;

/// The private TLV of the upgrade probe (PROTOCOL.md part B): "OF". libotr and every OTR
/// implementation but python-potr ignore unknown TLV types; v2 sessions never send it.
pub const TLV_MODERN_OFFER: u16 = 0x4F46;
/// The probe's value starts with this.
const MODERN_OFFER_MAGIC: &[u8] = b"offrec";

/// The probe TLV's value: magic, the modern versions byte, the 32-byte modern fingerprint.
fn modern_offer_value(versions: u8, fingerprint: &[u8; 32]) -> Vec<u8> {
    let mut value = Vec::with_capacity(MODERN_OFFER_MAGIC.len() + 1 + 32);
    value.extend_from_slice(MODERN_OFFER_MAGIC);
    value.push(versions);
    value.extend_from_slice(fingerprint);
    value
}

/// Parses a probe value; `None` if it is not exactly one.
fn parse_modern_offer(value: &[u8]) -> Option<(u8, [u8; 32])> {
    let rest = value.strip_prefix(MODERN_OFFER_MAGIC)?;
    let (&versions, fingerprint) = rest.split_first()?;
    Some((versions, fingerprint.try_into().ok()?))
}

/// Whether `text` contains a NUL byte. Every byte is looked at, without an early exit, which
/// the compiler turns into vector compares: core's `memchr` (what `contains` calls) costs more
/// for a short text, 2 % of a 100-byte send.
fn has_nul(text: &[u8]) -> bool {
    text.iter().fold(false, |seen, &byte| seen | (byte == 0))
}

/// How many user messages repeat the upgrade probe after the session's first message.
const OFFER_REPEATS: u8 = 2;

/// Fixed bytes of an OTR data message around its ciphertext, at most: v3 header (11), flags,
/// two keyids, MPI next key (4 + 192), counter, ciphertext length, MAC, reveal length.
const DATA_MESSAGE_OVERHEAD: usize = 11 + 1 + 8 + 4 + 192 + 8 + 4 + 20 + 4;
/// Bytes of one revealed MAC key.
const REVEALED_KEY_LEN: usize = 20;
/// OTR reveals every pending key in the next message; the peer's parser caps them.
const REVEALS_PER_MESSAGE: usize = crate::otr::message::MAX_REVEALED_MAC_KEYS;

/// One OTR session.
pub(crate) struct OtrSession {
    data: DataSession,
    their_tag: u32,
    key_id: [u8; 32],
    their_dsa_fingerprint: [u8; 20],
    our_dsa_fingerprint: [u8; 20],
    first_half_bold: bool,
    smp: Option<Box<OtrSmp>>,
    /// The last SMP result was ours as the answerer of the peer's question (only the asker
    /// verifies, as libotr decides).
    answered_question: bool,
    smp_limit: SmpLimit,
    /// User messages that still carry the upgrade probe again (v3 only).
    offer_repeats: u8,
    finished: bool,
    last_received: u64,
    last_sent: u64,
    last_text_received: u64,
    unanswered_since: Option<u64>,
}

impl core::fmt::Debug for OtrSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OtrSession")
            .field("version", &self.data.version())
            .field("their_tag", &self.their_tag)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl OtrSession {
    /// The session an OTR AKE established. `their_tag` is the peer's instance tag, or for v2
    /// (which has none) the pseudo-instance the peer keeps v2 sessions under.
    pub fn new(
        established: EstablishedAke,
        their_tag: u32,
        our_dsa_fingerprint: [u8; 20],
        now: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<OtrSession, ClientError> {
        let their_dsa_fingerprint = established.their_fingerprint;
        let first_half_bold = established.bold_half == SsidBoldHalf::First;
        let data = DataSession::new(established, rng).map_err(|_| ClientError::Random)?;
        Ok(OtrSession {
            data,
            their_tag,
            key_id: otr_key_id(&their_dsa_fingerprint),
            their_dsa_fingerprint,
            our_dsa_fingerprint,
            first_half_bold,
            smp: None,
            answered_question: false,
            smp_limit: SmpLimit::default(),
            offer_repeats: OFFER_REPEATS,
            finished: false,
            last_received: now,
            last_sent: now,
            last_text_received: now,
            unanswered_since: None,
        })
    }

    /// The SMP context: both DSA fingerprints and the ssid.
    fn smp_context(&self) -> OtrSmpContext {
        OtrSmpContext {
            our_fingerprint: self.our_dsa_fingerprint,
            their_fingerprint: self.their_dsa_fingerprint,
            ssid: self.data.ssid(),
        }
    }

    fn smp(&mut self) -> &mut OtrSmp {
        self.smp.get_or_insert_with(|| Box::new(OtrSmp::new()))
    }
}

fn to_shared(tlv: OtrSmpTlv) -> SmpTlv {
    SmpTlv { tlv_type: tlv.tlv_type, payload: tlv.payload.clone() }
}

/// What a failed encryption tells the caller.
fn data_error(error: DataError) -> ClientError {
    match error {
        DataError::TooLong => ClientError::MessageTooLarge,
        DataError::Random => ClientError::Random,
        _ => ClientError::NoSession,
    }
}

fn smp_error(error: OtrSmpError) -> ClientError {
    match error {
        OtrSmpError::Random(e) => ClientError::Smp(SmpError::Random(e)),
        OtrSmpError::SecretTooLong { .. } => ClientError::MessageTooLarge,
        OtrSmpError::QuestionTooLong { .. } => ClientError::MessageTooLarge,
        OtrSmpError::QuestionHasNul => ClientError::InvalidArgument("an OTR SMP question cannot contain NUL"),
        _ => ClientError::InvalidArgument("SMP"),
    }
}

impl ProtocolSession for OtrSession {
    fn protocol(&self) -> Protocol {
        match self.data.version() {
            OtrVersion::V3 => Protocol::OtrV3,
            OtrVersion::V2 => Protocol::OtrV2,
        }
    }

    fn their_tag(&self) -> u32 {
        self.their_tag
    }

    fn their_fingerprint(&self) -> [u8; 32] {
        self.key_id
    }

    fn info(&self, trust: &TrustStore, peer: &str) -> SessionInfo {
        let ssid8 = self.data.ssid();
        let mut ssid = [0u8; 32];
        ssid[..8].copy_from_slice(&ssid8);
        SessionInfo {
            instance: self.their_tag,
            state: if self.finished {
                SessionState::Finished
            } else if trust.trust(peer, &self.key_id).is_verified() {
                SessionState::EncryptedVerified
            } else {
                SessionState::EncryptedUnverified
            },
            their_fingerprint: self.key_id,
            ssid,
            // The Reveal Signature's sender (OTR's initiator, who answered the query) shows
            // the first half bold.
            we_initiated: self.first_half_bold,
            smp_in_progress: self.smp_in_progress(),
            protocol: self.protocol(),
            otr: Some(OtrSessionInfo {
                their_fingerprint: self.their_dsa_fingerprint,
                ssid: ssid8,
                first_half_bold: self.first_half_bold,
            }),
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn is_restored(&self) -> bool {
        false
    }

    fn last_received(&self) -> u64 {
        self.last_received
    }

    fn last_text_received(&self) -> u64 {
        self.last_text_received
    }

    fn last_activity(&self) -> u64 {
        self.last_received.max(self.last_sent)
    }

    fn seal(
        &mut self,
        _our_tag: u32,
        flags: u8,
        text: &[u8],
        controls: &[Control<'_>],
        padding_block: usize,
        even_finished: bool,
        check: LengthCheck<'_>,
        now: u64,
        _rng: &mut dyn RandomSource,
    ) -> Result<Sealed, ClientError> {
        if self.finished && !even_finished {
            return Err(ClientError::SessionFinished);
        }
        // OTR's text ends at the first NUL: a NUL would cut the user's message short.
        if has_nul(text) {
            return Err(ClientError::InvalidArgument("an OTR message cannot contain NUL"));
        }
        // `check` plans the message from the size it will have, revealed keys included, and
        // refuses it (nothing changed yet) past the receivers' 128 KiB armoured cap, which is
        // far under the data layer's own ciphertext limit: no other size check is needed here.
        let reveals = self.data.pending_reveal_count().min(REVEALS_PER_MESSAGE);
        // A padding TLV (type 0, which every OTR implementation ignores) rounds the body up to
        // the block, so message lengths say less about the text.
        let padding_for = |unpadded: usize| {
            (padding_block > 0).then(|| (unpadded + 4).div_ceil(padding_block) * padding_block - unpadded - 4)
        };
        // Links travel inside modern sessions only (OTR's TLV 8 is the extra key): a message
        // whose controls are all links carries the text alone.
        if controls.iter().all(|control| matches!(control, Control::LinkedOtrKey { .. })) {
            if let Some((header, zeros)) = padding_for(text.len() + 1).and_then(padding_record) {
                // Text and padding only (most messages): nothing is encoded or allocated.
                let body_len = text.len() + 1 + header.len() + zeros.len();
                check(DATA_MESSAGE_OVERHEAD + body_len + REVEALED_KEY_LEN * reveals)?;
                let bytes = self.data.encrypt_parts(flags, &[text, &[0], &header, zeros]).map_err(data_error)?;
                self.last_sent = now;
                self.unanswered_since = None;
                return Ok(Sealed { bytes, extra_key: None, log_marker: None });
            }
        }
        let mut extra_key = None;
        let mut tlvs: Vec<OtrTlv> = Vec::with_capacity(controls.len());
        for control in controls {
            tlvs.push(match *control {
                Control::Disconnected => OtrTlv { kind: OtrTlvType::DISCONNECTED, value: Vec::new() },
                Control::Smp(smp) => OtrTlv { kind: smp.tlv_type, value: smp.payload.clone() },
                Control::ExtraKey { usage, context } => {
                    // OTR has one extra key per key pair, whatever the usage (libotr's
                    // otrl_message_symkey): the key the next message is sent under.
                    extra_key = Some(self.data.sending_extra_key());
                    OtrTlv::extra_symmetric_key(usage, context)
                }
                Control::ModernOffer { versions, fingerprint } => {
                    OtrTlv { kind: TLV_MODERN_OFFER, value: modern_offer_value(versions, &fingerprint) }
                }
                Control::LinkedOtrKey { .. } => continue,
                Control::App { kind, value } => OtrTlv::new(kind, value),
            });
        }
        let padding = padding_for(text.len() + 1 + tlvs.iter().map(|t| 4 + t.value.len()).sum::<usize>());
        // The TLV records only: the text is encrypted straight from the caller's buffer.
        let records = encode_tlvs(text.len(), &tlvs, padding).map_err(|_| ClientError::MessageTooLarge)?;
        let body_len = text.len() + 1 + records.len();
        check(DATA_MESSAGE_OVERHEAD + body_len + REVEALED_KEY_LEN * reveals)?;
        let bytes = self.data.encrypt_parts(flags, &[text, &[0], &records]).map_err(data_error)?;
        self.last_sent = now;
        self.unanswered_since = None;
        Ok(Sealed { bytes, extra_key, log_marker: None })
    }

    fn repeat_modern_offer(&mut self) -> bool {
        if self.data.version() != OtrVersion::V3 || self.offer_repeats == 0 {
            return false;
        }
        self.offer_repeats -= 1;
        true
    }

    fn record_sent(&mut self, _sent: &Sealed, _id: MessageId) {
        // OTR's error messages name no message: there is nothing to look up later.
    }

    fn open(&mut self, message: Inbound<'_>, now: u64, rng: &mut dyn RandomSource) -> Result<Opened, OpenError> {
        let Inbound::Otr(bytes) = message else { return Err(OpenError::Unreadable) };
        let Decrypted { plaintext, extra_key, .. } = self.data.decrypt(bytes, rng).map_err(|error| match error {
            DataError::Malformed(_) => OpenError::Malformed,
            _ => OpenError::Unreadable,
        })?;
        self.last_received = now;
        // The records are read in place: only what a control keeps is copied (never the
        // padding every message carries).
        let (text_len, records) = split_plaintext_records(&plaintext).map_err(|_| OpenError::Malformed)?;
        let mut controls = Vec::new();
        for (kind, value) in records {
            controls.push(match kind {
                OtrTlvType::PADDING => continue,
                OtrTlvType::DISCONNECTED => ReceivedControl::Disconnected,
                OtrTlvType::SMP1..=OtrTlvType::SMP1Q => {
                    ReceivedControl::Smp(SmpTlv { tlv_type: kind, payload: value.to_vec() })
                }
                OtrTlvType::EXTRA_SYMMETRIC_KEY => match OtrTlv::parse_extra_symmetric_key(value) {
                    Some((usage, context)) => ReceivedControl::ExtraKey {
                        usage,
                        context: context.to_vec(),
                        key: Box::new(SecretKey::from_bytes(*extra_key)),
                    },
                    None => ReceivedControl::Malformed,
                },
                TLV_MODERN_OFFER => match parse_modern_offer(value) {
                    Some((versions, fingerprint)) => ReceivedControl::ModernOffer { versions, fingerprint },
                    None => ReceivedControl::Other,
                },
                kind if is_app_tlv_type(kind) => ReceivedControl::App { kind, value: Zeroizing::new(value.to_vec()) },
                _ => ReceivedControl::Other,
            });
        }
        // The text is the start of the decrypted buffer: kept there, cut after it (what follows
        // stays in the buffer's spare room, wiped with it; the NUL's place is room for the C
        // API's terminator).
        let mut text = plaintext;
        text.truncate(text_len);
        Ok(Opened { text: text.into(), controls })
    }

    fn text_received(&mut self, now: u64) {
        self.last_text_received = now;
        // libotr's rule: a heartbeat is due only after a message with text.
        self.unanswered_since.get_or_insert(now);
    }

    fn take_lost(&mut self, _prefix: &[u8; 8], _number: u32, _scope: LostScope) -> Vec<MessageId> {
        Vec::new()
    }

    fn smp_start(
        &mut self,
        secret: &[u8],
        question: Option<&str>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<SmpTlv>, ClientError> {
        let ctx = self.smp_context();
        let messages = self.smp().start(secret, question, &ctx, rng).map_err(smp_error)?;
        Ok(messages.into_iter().map(to_shared).collect())
    }

    fn smp_respond(&mut self, secret: &[u8], rng: &mut dyn RandomSource) -> Result<SmpTlv, ClientError> {
        let ctx = self.smp_context();
        self.smp().respond(secret, &ctx, rng).map(to_shared).map_err(smp_error)
    }

    fn smp_receive(&mut self, message: &SmpTlv, rng: &mut dyn RandomSource) -> SmpStep {
        let step = self.smp().receive(message.tlv_type, &message.payload, rng);
        self.answered_question =
            matches!(step.event, Some(OtrSmpEvent::Succeeded { role: SmpRole::Responder, question: true }));
        let event = step.event.map(|event| match event {
            OtrSmpEvent::AskedForSecret { question } => SmpEvent::AskedForSecret { question },
            OtrSmpEvent::InProgress => SmpEvent::InProgress,
            OtrSmpEvent::Succeeded { .. } => SmpEvent::Succeeded,
            OtrSmpEvent::Failed { .. } => SmpEvent::Failed,
            OtrSmpEvent::Cheated => SmpEvent::Cheated,
            _ => SmpEvent::Aborted,
        });
        SmpStep { reply: step.reply.map(to_shared), event, error: None }
    }

    fn smp_abort(&mut self) -> SmpTlv {
        to_shared(self.smp().abort())
    }

    fn smp_answering_question(&self) -> bool {
        self.answered_question
    }

    fn smp_in_progress(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_in_progress())
    }

    fn smp_awaiting_secret(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_awaiting_secret())
    }

    fn smp_may_start(&self, now: u64) -> bool {
        self.smp_limit.may_start(now)
    }

    fn smp_started(&mut self, now: u64) {
        self.smp_limit.started(now);
    }

    fn smp_failed(&mut self) {
        self.smp_limit.failed();
    }

    fn expire(&mut self, _now: u64) {
        // OTR keeps no skipped keys: nothing ages out.
    }

    fn heartbeat_due(&self, now: u64, interval: u64) -> bool {
        self.unanswered_since.is_some_and(|since| now >= since.saturating_add(interval))
    }

    fn end_by_peer(&mut self) -> bool {
        if self.finished {
            return false;
        }
        self.finished = true;
        if let Some(smp) = self.smp.as_mut() {
            smp.abort();
        }
        true
    }

    fn reveal_everything(&mut self) {
        self.data.reveal_all();
    }

    fn pending_reveals(&self) -> usize {
        self.data.pending_reveal_count()
    }

    fn reveals_per_message(&self) -> usize {
        REVEALS_PER_MESSAGE
    }

    fn take_sent_log(&mut self) -> SentLog {
        SentLog::default()
    }
}

#[cfg(test)]
mod tests {
    use super::{has_nul, DATA_MESSAGE_OVERHEAD, REVEALED_KEY_LEN};
    use crate::otr::message::{DataMessage, DataMessageFields, Header, MessageType, OtrVersion};
    use crate::wire::InstanceTag;

    #[test]
    fn the_overhead_bound_is_exactly_a_v3_data_message_with_a_full_size_key() {
        // The length check before encrypting uses this bound: too small and a message that does
        // not fit the transport would be sent (and the ratchet advanced); too large and one that
        // fits would be refused.
        let fields = DataMessageFields {
            header: Header::new(OtrVersion::V3, MessageType::Data, InstanceTag(0x100), InstanceTag(0x101)),
            flags: 0,
            sender_keyid: 1,
            recipient_keyid: 1,
            next_dh: vec![0xff; 192],
            counter: [0; 8],
            ciphertext: vec![7; 33],
        };
        for reveals in [0usize, 1, 5] {
            let keys = vec![[9u8; 20]; reveals];
            let bytes = DataMessage::assemble(&fields.authenticated_bytes(), &[1; 20], &keys);
            assert_eq!(bytes.len(), DATA_MESSAGE_OVERHEAD + 33 + REVEALED_KEY_LEN * reveals, "{reveals} reveals");
        }
    }

    #[test]
    fn a_nul_anywhere_is_found() {
        assert!(!has_nul(b""));
        for len in [1usize, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
            let clean = vec![b'x'; len];
            assert!(!has_nul(&clean), "{len} bytes without NUL");
            for at in 0..len {
                let mut text = clean.clone();
                text[at] = 0;
                assert!(has_nul(&text), "{len} bytes, NUL at {at}");
                // Two NULs are found too (a fold that toggled instead of remembering would not).
                if let Some(second) = text.get_mut((at + 7) % len).filter(|_| len > 1 && 7 % len != 0) {
                    *second = 0;
                    assert!(has_nul(&text), "{len} bytes, NULs at {at} and {}", (at + 7) % len);
                }
            }
        }
    }
}
