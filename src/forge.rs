//! The deniability API: what anyone holding a transcript can do once keys were revealed.
//!
//! After Bob reads a message from Alice he publishes the message key's GCM material (H and
//! E_K(J0)) in his next message. From then on anyone who captured the conversation and knows
//! (or guesses) a message's text can produce a different message that verifies under the same
//! key, so the transcript proves nothing about who wrote what. This module does exactly that,
//! like libotr's `otr_modify` and `otr_readforge` tools.

use zeroize::Zeroizing;

use crate::crypto::aead::{RevealedMaterial, REVEALED_LEN};
use crate::wire::data_message::DataMessage;
use crate::wire::{armour, TlvType};

/// Why forging failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// The text is not an armoured data message.
    #[error("not an armoured data message")]
    NotADataMessage,
    /// None of the revealed material belongs to this message's key.
    #[error("no revealed material matches this message")]
    NoMatchingReveal,
    /// The known text cannot be the message's text (its length does not fit the ciphertext).
    #[error("the known text does not fit this message")]
    KnownTextDoesNotFit,
    /// The new text does not fit the ciphertext's length (at most its length minus 4 bytes;
    /// and 1 to 3 bytes of slack cannot be filled).
    #[error("the new text does not fit this message's length")]
    NewTextDoesNotFit,
}

/// Parses an armoured data message as captured from the wire.
pub fn parse_captured(wire_text: &str) -> Result<DataMessage, ForgeError> {
    let bytes = armour::decode(wire_text.trim()).map_err(|_| ForgeError::NotADataMessage)?;
    DataMessage::parse(&bytes).map_err(|_| ForgeError::NotADataMessage)
}

/// Every piece of revealed material carried in a message's header.
pub fn revealed_in(message: &DataMessage) -> Vec<RevealedMaterial> {
    message.header.revealed.iter().map(RevealedMaterial::from_bytes).collect()
}

/// Finds, among revealed material, the one for `captured`'s key (the one whose tag verifies).
pub fn find_reveal<'a>(
    captured: &DataMessage,
    candidates: impl IntoIterator<Item = &'a [u8; REVEALED_LEN]>,
) -> Option<RevealedMaterial> {
    candidates
        .into_iter()
        .map(RevealedMaterial::from_bytes)
        .find(|m| m.verifies(&captured.header_bytes, &captured.ciphertext, &captured.tag))
}

/// The body our engine sends for a plain text message of this ciphertext length: the text,
/// then one padding TLV filling the rest (or nothing if it fits exactly).
fn standard_body(text: &[u8], body_len: usize) -> Option<Zeroizing<Vec<u8>>> {
    let used = 4usize.checked_add(text.len())?;
    let slack = body_len.checked_sub(used)?;
    let mut body = Zeroizing::new(Vec::with_capacity(body_len));
    body.extend_from_slice(&u32::try_from(text.len()).ok()?.to_be_bytes());
    body.extend_from_slice(text);
    match slack {
        0 => {}
        1..=3 => return None,
        _ => {
            body.extend_from_slice(&TlvType::PADDING.to_be_bytes());
            body.extend_from_slice(&u16::try_from(slack - 4).ok()?.to_be_bytes());
            body.resize(body_len, 0);
        }
    }
    Some(body)
}

/// Rewrites `captured` so it carries `new_text` instead of `known_text`, with a tag that
/// verifies under the original key. Nothing secret is needed: only the revealed material, which
/// the receiver published. The header (and so the associated data) stays the same.
pub fn forge(
    captured: &DataMessage,
    revealed: &RevealedMaterial,
    known_text: &[u8],
    new_text: &[u8],
) -> Result<DataMessage, ForgeError> {
    if !revealed.verifies(&captured.header_bytes, &captured.ciphertext, &captured.tag) {
        return Err(ForgeError::NoMatchingReveal);
    }
    let length = captured.ciphertext.len();
    let old_body = standard_body(known_text, length).ok_or(ForgeError::KnownTextDoesNotFit)?;
    let new_body = standard_body(new_text, length).ok_or(ForgeError::NewTextDoesNotFit)?;
    // CTR mode is malleable: C' = C ⊕ P ⊕ P'.
    let ciphertext: Vec<u8> =
        captured.ciphertext.iter().zip(old_body.iter().zip(new_body.iter())).map(|(c, (p, q))| c ^ p ^ q).collect();
    let tag = revealed.tag_for(&captured.header_bytes, &ciphertext);
    Ok(DataMessage { header: captured.header.clone(), header_bytes: captured.header_bytes.clone(), ciphertext, tag })
}

/// [`forge`] on wire text: finds the matching reveal among `later_messages` (the receiver's
/// later messages in the same transcript) and returns the forged armoured message.
pub fn forge_wire(
    captured: &str,
    later_messages: &[&str],
    known_text: &[u8],
    new_text: &[u8],
) -> Result<String, ForgeError> {
    let captured = parse_captured(captured)?;
    let mut reveals = Vec::new();
    for text in later_messages {
        if let Ok(message) = parse_captured(text) {
            reveals.extend(message.header.revealed);
        }
    }
    let revealed = find_reveal(&captured, reveals.iter()).ok_or(ForgeError::NoMatchingReveal)?;
    Ok(armour::encode(&forge(&captured, &revealed, known_text, new_text)?.to_bytes()))
}
