//! `offrec parse`: take any wire message apart and print every field.

mod otr;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use offrec::ake::message::{is_ake_message, AKE_HEADER_LEN};
use offrec::ake::{AkeKind, AkeMessage};
use offrec::crypto::aead::RevealedMaterial;
use offrec::wire::data_message::{DataMessage, FLAG_IGNORE_UNREADABLE};
use offrec::wire::{armour, classify, parse_fragment, Incoming, OtrKind, Versions, PROTOCOL_VERSION};

use crate::args::ParseArgs;
use crate::keys::to_hex;
use crate::tcp::{read_line_limited, MAX_LINE};
use crate::wire_log;
use crate::{CliError, CliResult};

/// Runs `offrec parse`.
pub fn run(args: &ParseArgs) -> CliResult {
    if let Some(log) = &args.log {
        return run_log(log);
    }
    let text = match args.text.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                CliError::input(format!("cannot read standard input: {e} (the message must be UTF-8 text)"))
            })?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        Some(text) => text.to_owned(),
    };
    for line in describe(&text)? {
        println!("{line}");
    }
    Ok(())
}

/// `offrec parse --log FILE`: every entry of a wire log (or, for a line that is not one, the
/// line itself as a message), each with a heading; a malformed message is reported in place.
fn run_log(path: &str) -> CliResult {
    let mut reader: Box<dyn BufRead> = if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = File::open(path).map_err(|e| CliError::fail(format!("cannot read the wire log {path}: {e}")))?;
        Box::new(BufReader::new(file))
    };
    let (mut number, mut malformed) = (0usize, 0usize);
    loop {
        let line = match read_line_limited(&mut reader, MAX_LINE + 256) {
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(why))) => {
                number += 1;
                println!("#{number}: {why}\n");
                malformed += 1;
                continue;
            }
            Ok(None) => break,
            Err(e) => return Err(CliError::fail(format!("reading the wire log {path} failed: {e}"))),
        };
        if line.trim().is_empty() {
            continue;
        }
        number += 1;
        let message = match wire_log::parse_entry(&line) {
            Some(entry) => {
                println!("#{number} {} {} {}", entry.time, entry.direction.word(), printable(entry.peer));
                entry.message
            }
            None => {
                println!("#{number}");
                line.as_str()
            }
        };
        match describe(message) {
            Ok(lines) => lines.iter().for_each(|l| println!("  {l}")),
            Err(e) => {
                println!("  {}", e.message);
                malformed += 1;
            }
        }
        println!();
    }
    println!("{number} messages, {malformed} malformed");
    if malformed > 0 {
        return Err(CliError::input(format!("{malformed} of the {number} messages in {path} are malformed")));
    }
    Ok(())
}

fn versions(v: Versions) -> String {
    if v.is_empty() {
        "none this program knows".to_owned()
    } else {
        v.chars().map(|c| format!("v{c}")).collect::<Vec<_>>().join(", ")
    }
}

/// Makes untrusted text safe to print on a terminal (no control characters).
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

/// Every line `parse` prints for `text`, or the reason it is malformed.
pub fn describe(text: &str) -> Result<Vec<String>, CliError> {
    let malformed = |what: &str, e: &dyn std::fmt::Display| CliError::input(format!("malformed {what}: {e}"));
    let mut out = Vec::new();
    if let offrec::otr::text::Classified::Otr(o) = offrec::otr::text::classify(text, true) {
        otr::describe(text, o, &mut out)?;
        return Ok(out);
    }
    match classify(text) {
        Incoming::Query(v) => {
            out.push("kind: query (asks for an encrypted session)".to_owned());
            out.push(format!("versions: {}", versions(v)));
        }
        Incoming::Plaintext { text, tag: Some(v) } => {
            out.push("kind: plaintext with whitespace tag (advertises offrec)".to_owned());
            out.push(format!("tag versions: {}", versions(v)));
            out.push(format!("text: {}", printable(&text)));
        }
        Incoming::Plaintext { text, tag: None } => {
            out.push("kind: plaintext (not an offrec message)".to_owned());
            out.push(format!("text: {}", printable(&text)));
        }
        Incoming::Error(message) => {
            out.push("kind: error message".to_owned());
            out.push(format!("error text: {}", printable(message.trim_start())));
        }
        Incoming::ForeignOtr(kind) => {
            let what = match kind {
                OtrKind::Data => "OTR encoded message",
                OtrKind::Fragment => "OTR fragment",
                OtrKind::Query => "OTR query",
                OtrKind::Error => "OTR error message",
                OtrKind::WhitespaceTag => "OTR whitespace tag",
                _ => "OTR message",
            };
            out.push(format!("kind: foreign ({what}; OTR, not offrec: offrec neither reads nor answers it)"));
        }
        Incoming::Fragment(message) => {
            let f = parse_fragment(message).map_err(|e| malformed("fragment", &e))?;
            out.push("kind: fragment".to_owned());
            out.push(format!("id: {:08x}", f.id));
            out.push(format!("sender instance: {:08x}", f.sender.0));
            out.push(format!(
                "receiver instance: {:08x}{}",
                f.receiver.0,
                if f.receiver.is_none() { " (none)" } else { "" }
            ));
            out.push(format!("piece: {} of {}", f.k, f.n));
            out.push(format!("piece length: {}", f.piece.len()));
        }
        Incoming::Encoded(message) => {
            let bytes = armour::decode(message).map_err(|e| malformed("armoured message", &e))?;
            if is_ake_message(&bytes) {
                describe_ake(&bytes, &mut out)?;
            } else if bytes.get(..2) == Some(&PROTOCOL_VERSION[..]) && bytes.get(2) == Some(&offrec::wire::MSG_DATA) {
                let m = DataMessage::parse(&bytes).map_err(|e| malformed("data message", &e))?;
                describe_data(&m, &mut out);
            } else if bytes.get(..2) != Some(&PROTOCOL_VERSION[..]) {
                return Err(CliError::input(format!(
                    "malformed armoured message: unknown protocol version {} (offrec 1 is 4f01)",
                    to_hex(&bytes[..bytes.len().min(2)])
                )));
            } else {
                return Err(CliError::input(format!(
                    "malformed armoured message: unknown message type {}",
                    bytes.get(2).map_or("(missing)".to_owned(), |b| format!("0x{b:02x}"))
                )));
            }
        }
        _ => out.push("kind: unknown".to_owned()),
    }
    Ok(out)
}

fn describe_ake(bytes: &[u8], out: &mut Vec<String>) -> Result<(), CliError> {
    let m = AkeMessage::parse(bytes)
        .ok_or_else(|| CliError::input("malformed handshake message: too long or truncated header"))?;
    let (name, byte) = match m.kind {
        AkeKind::Start => ("Start (AKE 1: initiator's ephemeral key and offer)", 0x21),
        AkeKind::Reply => ("Reply (AKE 2: responder's ephemeral key, encrypted identity and ratchet key)", 0x22),
        AkeKind::Finish => ("Finish (AKE 3: initiator's encrypted identity and ratchet key)", 0x23),
    };
    out.push(format!("kind: handshake message {name}"));
    out.push(format!("version: {} (offrec 1)", to_hex(&PROTOCOL_VERSION)));
    out.push(format!("type: 0x{byte:02x}"));
    out.push(format!("sender instance: {:08x}", m.sender_tag));
    out.push(format!(
        "receiver instance: {:08x}{}",
        m.receiver_tag,
        if m.receiver_tag == 0 { " (not known yet)" } else { "" }
    ));
    out.push(format!("header length: {AKE_HEADER_LEN}"));
    out.push(format!("noise message length: {}", m.noise.len()));
    let truncated = || CliError::input("malformed handshake message: the Noise message is shorter than its tokens");
    const KEY: usize = 32;
    const SEALED_KEY: usize = 32 + 16;
    match m.kind {
        AkeKind::Start => {
            let e = m.noise.get(..KEY).ok_or_else(truncated)?;
            let payload = &m.noise[KEY..];
            out.push(format!("ephemeral key: {}", to_hex(e)));
            out.push(format!("payload length: {} (in the clear)", payload.len()));
            if let [ours, seen, suite] = payload {
                out.push(format!(
                    "payload: versions {ours:#04x}, offer seen {seen:#04x}, suite {suite} (0 = Noise XX)"
                ));
            }
        }
        AkeKind::Reply => {
            let e = m.noise.get(..KEY).ok_or_else(truncated)?;
            let rest = m.noise.get(KEY + SEALED_KEY..).ok_or_else(truncated)?;
            out.push(format!("ephemeral key: {}", to_hex(e)));
            out.push(format!("encrypted identity key length: {SEALED_KEY}"));
            out.push(format!("encrypted payload length: {} (versions, with tag)", rest.len()));
        }
        AkeKind::Finish => {
            let rest = m.noise.get(SEALED_KEY..).ok_or_else(truncated)?;
            out.push(format!("encrypted identity key length: {SEALED_KEY}"));
            out.push(format!("encrypted payload length: {} (first ratchet key, with tag)", rest.len()));
        }
    }
    Ok(())
}

fn describe_data(m: &DataMessage, out: &mut Vec<String>) {
    let h = &m.header;
    out.push("kind: data message".to_owned());
    out.push(format!("version: {} (offrec 1)", to_hex(&PROTOCOL_VERSION)));
    out.push("type: 0x03".to_owned());
    out.push(format!("sender instance: {:08x}", h.sender_tag));
    out.push(format!("receiver instance: {:08x}", h.receiver_tag));
    let mut flags = format!("flags: 0x{:02x}", h.flags);
    if h.flags & FLAG_IGNORE_UNREADABLE != 0 {
        flags.push_str(" (ignore-unreadable: a heartbeat or control message)");
    }
    out.push(flags);
    out.push(format!("ratchet key: {}", to_hex(&h.ratchet_key)));
    out.push(format!("PN: {}", h.previous_chain_length));
    out.push(format!("N: {}", h.message_number));
    out.push(format!("revealed: {}", h.revealed.len()));
    for (i, bytes) in h.revealed.iter().enumerate() {
        let r = RevealedMaterial::from_bytes(bytes);
        out.push(format!("revealed[{i}]: H {} E_K(J0) {}", to_hex(&r.ghash_key), to_hex(&r.tag_mask)));
    }
    out.push(format!("header length: {}", m.header_bytes.len()));
    out.push(format!("ciphertext length: {}", m.ciphertext.len()));
    out.push(format!("tag: {}", to_hex(&m.tag)));
}
