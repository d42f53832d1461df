//! `offrec forge`: deniability, demonstrated (like libotr's otr_modify and otr_readforge).

use offrec::crypto::aead::RevealedMaterial;
use offrec::forge::{forge_wire, parse_captured, ForgeError};
use offrec::wire::data_message::DataMessage;

use crate::args::ForgeArgs;
use crate::keys::to_hex;
use crate::{CliError, CliResult};

fn load_data(what: &str, text: &str) -> Result<DataMessage, CliError> {
    parse_captured(text).map_err(|_| {
        CliError::input(format!("{what} is not an armoured data message: give the whole `?OFR:...` text (run `offrec parse` on it to see what it is)"))
    })
}

/// Runs `offrec forge`.
pub fn run(args: &ForgeArgs) -> CliResult {
    let captured_text = args.captured.trim();
    let later: Vec<&str> = args.reveal_from.iter().map(|s| s.trim()).collect();
    let captured = load_data("--captured", captured_text)?;
    let mut reveals = Vec::new();
    for (i, text) in later.iter().enumerate() {
        let message = load_data(&format!("--reveal-from value {}", i + 1), text)?;
        for (j, bytes) in message.header.revealed.iter().enumerate() {
            reveals.push((i + 1, j, RevealedMaterial::from_bytes(bytes)));
        }
    }
    if args.read {
        return read(&captured, &reveals, args.known.as_deref());
    }
    // clap requires both without --read.
    let (Some(known), Some(new)) = (&args.known, &args.new) else {
        return Err(crate::args::usage_error(&["forge"], "give --known and --new (or --read)"));
    };
    match forge_wire(captured_text, &later, known.as_bytes(), new.as_bytes()) {
        Ok(forged) => {
            println!("{forged}");
            Ok(())
        }
        Err(ForgeError::NoMatchingReveal) => Err(no_match()),
        Err(ForgeError::KnownTextDoesNotFit) => Err(CliError::input(format!(
            "the known text does not fit this message ({} bytes of ciphertext): check --known is exactly the message's text",
            captured.ciphertext.len()
        ))),
        Err(ForgeError::NewTextDoesNotFit) => Err(CliError::input(format!(
            "the new text does not fit: it can be at most {} bytes, and not 1 to 3 bytes shorter than that; shorten --new",
            captured.ciphertext.len().saturating_sub(4)
        ))),
        Err(e) => Err(CliError::input(e.to_string())),
    }
}

fn no_match() -> CliError {
    CliError::fail(
        "no revealed material matches the captured message: give the receiver's messages sent after it read the captured one \
         (reveals ride on its next messages, heartbeats included)",
    )
}

fn read(captured: &DataMessage, reveals: &[(usize, usize, RevealedMaterial)], known: Option<&str>) -> CliResult {
    println!(
        "captured: data message {:08x} -> {:08x}, N {}, {} bytes of ciphertext",
        captured.header.sender_tag,
        captured.header.receiver_tag,
        captured.header.message_number,
        captured.ciphertext.len()
    );
    println!("captured tag: {}", to_hex(&captured.tag));
    let mut found = None;
    for (message, index, material) in reveals {
        let matches = material.verifies(&captured.header_bytes, &captured.ciphertext, &captured.tag);
        println!(
            "reveal-from {message} revealed[{index}]: H {} E_K(J0) {}: {}",
            to_hex(&material.ghash_key),
            to_hex(&material.tag_mask),
            if matches { "MATCHES" } else { "other key" }
        );
        if matches && found.is_none() {
            found = Some(material);
        }
    }
    let Some(material) = found else { return Err(no_match()) };
    let recomputed = material.tag_for(&captured.header_bytes, &captured.ciphertext);
    println!("recomputed tag: {} (GHASH_H(header, ciphertext) xor E_K(J0))", to_hex(&recomputed));
    println!("the tag verifies with public data only: anyone holding this transcript could have made it");
    if let Some(known) = known {
        let room = captured.ciphertext.len().saturating_sub(4);
        if known.len() <= room {
            println!("with the known text ({} bytes), anyone can replace it by any text of up to {room} bytes: run without --read and give --new", known.len());
        } else {
            println!(
                "the known text is longer than this message can hold ({room} bytes): it is not this message's text"
            );
        }
    }
    Ok(())
}
