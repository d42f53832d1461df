//! `offrec parse` for OTR v3/v2 traffic: queries, whitespace tags (OTR's and the combined
//! one), error messages, fragments and encoded messages, down to every field of the AKE and
//! data messages. Nothing in these is secret (keys on the wire are public values, revealed MAC
//! keys are published on purpose), so values are printed in hex.

use offrec::otr::message::{
    parse_header, DataMessage, DhCommit, DhKey, Header, MessageError, MessageType, OtrVersion, RevealSignature,
    Signature, FLAG_IGNORE_UNREADABLE,
};
use offrec::otr::text::armour::{self as otr_armour, EncodedVersion};
use offrec::otr::text::{parse_fragment, OtrIncoming, OtrVersions};
use offrec::wire::OtrKind;

use super::{printable, versions};
use crate::keys::to_hex;
use crate::CliError;

/// OTR versions as a list, naming the ones offrec does not speak.
fn otr_versions(v: OtrVersions) -> String {
    let names: Vec<&str> = [
        (OtrVersions::V1, "v1 (retired, never spoken)"),
        (OtrVersions::V2, "v2"),
        (OtrVersions::V3, "v3"),
        (OtrVersions::V4, "v4 (OTRv4, another protocol)"),
    ]
    .iter()
    .filter(|(bit, _)| v.contains(*bit))
    .map(|(_, name)| *name)
    .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn malformed(e: &dyn std::fmt::Display) -> CliError {
    CliError::input(format!("malformed OTR message: {e}"))
}

/// The lines for a message the OTR-aware classification says OTR is involved in.
pub fn describe(text: &str, o: OtrIncoming<'_>, out: &mut Vec<String>) -> Result<(), CliError> {
    match o {
        OtrIncoming::Query { otr, modern } => {
            match modern {
                Some(_) => out.push("kind: combined query (asks for an OTR or an offrec session)".to_owned()),
                None => out.push("kind: OTR query (asks for an OTR session)".to_owned()),
            }
            out.push(format!("OTR versions: {}", otr_versions(otr)));
            if let Some(modern) = modern {
                out.push(format!("offrec versions: {}", versions(modern)));
            }
        }
        OtrIncoming::Plaintext { text: shown, otr, modern } => {
            let kind = match (otr.is_some(), modern.is_some()) {
                (true, true) => "plaintext with combined whitespace tag (advertises OTR and offrec)",
                (true, false) => "plaintext with OTR whitespace tag (advertises OTR)",
                _ => "plaintext (mentions OTR, not an OTR message)",
            };
            out.push(format!("kind: {kind}"));
            if let Some(otr) = otr {
                out.push(format!("OTR tag versions: {}", otr_versions(otr)));
            }
            if let Some(modern) = modern {
                out.push(format!("offrec tag versions: {}", versions(modern)));
            }
            out.push(format!("text: {}", printable(&shown)));
        }
        OtrIncoming::Error(peer_text) => {
            out.push("kind: OTR error message".to_owned());
            out.push(format!("error text: {}", printable(peer_text.trim())));
        }
        OtrIncoming::Fragment { message, .. } => {
            let f = parse_fragment(message).map_err(|e| CliError::input(format!("malformed OTR fragment: {e}")))?;
            out.push(format!("kind: OTR fragment (v{} form)", f.version.number()));
            if f.version == OtrVersion::V3 {
                out.push(format!("sender instance: {:08x}", f.sender.0));
                out.push(format!(
                    "receiver instance: {:08x}{}",
                    f.receiver.0,
                    if f.receiver.0 == 0 { " (any)" } else { "" }
                ));
            }
            out.push(format!("piece: {} of {}", f.k, f.n));
            out.push(format!("piece length: {}", f.piece.len()));
        }
        OtrIncoming::Encoded { message, .. } => {
            let bytes = otr_armour::decode(message).map_err(|e| malformed(&e))?;
            describe_binary(&bytes, out)?;
        }
        OtrIncoming::Foreign(kind) => {
            let what = foreign_encoded(text).unwrap_or_else(|| foreign(kind));
            out.push(format!("kind: foreign ({what})"));
        }
        _ => out.push("kind: OTR message of an unknown kind".to_owned()),
    }
    Ok(())
}

fn foreign(kind: OtrKind) -> &'static str {
    match kind {
        OtrKind::Fragment => "an OTRv4 fragment: another protocol, never answered",
        OtrKind::Data => "an OTR encoded message of a version offrec does not speak (v1 or OTRv4)",
        _ => "OTR traffic offrec does not speak",
    }
}

/// What a foreign encoded message's prefix announces.
fn foreign_encoded(text: &str) -> Option<&'static str> {
    match otr_armour::encoded_version(text)? {
        EncodedVersion::V1 => Some("an OTR v1 encoded message: retired, never spoken"),
        EncodedVersion::V4 => Some("an OTRv4 encoded message: another protocol, never answered"),
        _ => None,
    }
}

fn type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::DhCommit => "D-H Commit (AKE 1: the initiator's encrypted g^x and its hash)",
        MessageType::DhKey => "D-H Key (AKE 2: the responder's g^y)",
        MessageType::RevealSignature => "Reveal Signature (AKE 3: r, the initiator's encrypted signature)",
        MessageType::Signature => "Signature (AKE 4: the responder's encrypted signature)",
        MessageType::Data => "data message",
    }
}

fn header_lines(h: &Header, out: &mut Vec<String>) {
    out.push(format!("kind: OTR {}", type_name(h.message_type)));
    out.push(format!("version: {}", h.version.number()));
    out.push(format!("type: 0x{:02x}", h.message_type.wire()));
    match h.version {
        OtrVersion::V3 => {
            out.push(format!("sender instance: {:08x}", h.sender_tag.0));
            out.push(format!(
                "receiver instance: {:08x}{}",
                h.receiver_tag.0,
                if h.receiver_tag.0 == 0 { " (any)" } else { "" }
            ));
        }
        OtrVersion::V2 => out.push("instance tags: none (v2)".to_owned()),
    }
}

/// The length field of the MPI or DATA at `at`, as received.
fn length_at(bytes: &[u8], at: usize) -> u32 {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes)
}

fn describe_binary(bytes: &[u8], out: &mut Vec<String>) -> Result<(), CliError> {
    let header = parse_header(bytes).map_err(|e| match e {
        MessageError::UnsupportedVersion => CliError::input(format!(
            "malformed OTR message: unsupported protocol version {}",
            to_hex(&bytes[..bytes.len().min(2)])
        )),
        e => malformed(&e),
    })?;
    let body = header.encoded_len();
    match header.message_type {
        MessageType::DhCommit => {
            let m = DhCommit::parse(bytes).map_err(|e| malformed(&e))?;
            header_lines(&m.header, out);
            out.push(format!("encrypted g^x length: {}", m.encrypted_gx.len()));
            out.push(format!("hash of g^x: {}", to_hex(&m.hashed_gx)));
        }
        MessageType::DhKey => {
            let m = DhKey::parse(bytes).map_err(|e| malformed(&e))?;
            header_lines(&m.header, out);
            out.push(format!("g^y length: {}", length_at(bytes, body)));
            out.push(format!("g^y: {}", to_hex(&m.gy.to_minimal_bytes())));
        }
        MessageType::RevealSignature => {
            let m = RevealSignature::parse(bytes).map_err(|e| malformed(&e))?;
            header_lines(&m.header, out);
            out.push(format!("r length: {}", m.r.len()));
            out.push(format!("r: {} (opens the D-H Commit)", to_hex(&m.r)));
            out.push(format!("encrypted signature length: {}", m.encrypted_signature.len()));
            out.push(format!("MAC: {}", to_hex(&m.mac)));
        }
        MessageType::Signature => {
            let m = Signature::parse(bytes).map_err(|e| malformed(&e))?;
            header_lines(&m.header, out);
            out.push(format!("encrypted signature length: {}", m.encrypted_signature.len()));
            out.push(format!("MAC: {}", to_hex(&m.mac)));
        }
        MessageType::Data => {
            let m = DataMessage::parse(bytes).map_err(|e| malformed(&e))?;
            let f = &m.fields;
            header_lines(&f.header, out);
            let mut flags = format!("flags: 0x{:02x}", f.flags);
            if f.flags & FLAG_IGNORE_UNREADABLE != 0 {
                flags.push_str(" (ignore-unreadable: a heartbeat, SMP or control message)");
            }
            out.push(flags);
            out.push(format!("sender keyid: {}", f.sender_keyid));
            out.push(format!("recipient keyid: {}", f.recipient_keyid));
            out.push(format!("next DH key length: {}", f.next_dh.len()));
            out.push(format!("next DH key: {}", to_hex(&f.next_dh)));
            out.push(format!("counter: {}", to_hex(&f.counter)));
            out.push(format!("ciphertext length: {}", f.ciphertext.len()));
            out.push(format!("MAC: {}", to_hex(&m.mac)));
            out.push(format!("authenticated length: {}", m.authenticated_len()));
            out.push(format!("revealed MAC keys: {}", m.old_mac_keys.len()));
            for (i, key) in m.old_mac_keys.iter().enumerate() {
                out.push(format!("revealed MAC key[{i}]: {}", to_hex(key)));
            }
        }
    }
    Ok(())
}
