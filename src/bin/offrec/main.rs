//! `offrec`: the command-line face of the offrec engine.
//!
//! - `offrec identity new|show`: create an identity in a sealed store, show fingerprints;
//! - `offrec parse`: take any wire message apart;
//! - `offrec forge`: demonstrate deniability on a captured data message;
//! - `offrec chat`: a terminal chat over TCP or IRC;
//! - `offrec import|export`: move an OTR key and trust from and to libotr or potr files.
//!
//! Exit codes: 0 success, 1 a failure at run time (network, store...), 2 a usage error or
//! malformed input.

mod args;
mod chat;
mod forge;
mod identity;
mod irc;
mod keys;
mod migrate;
mod parse;
mod tcp;
mod terminal;

use std::process::ExitCode;

const USAGE: &str = "\
offrec: Off-the-Record messaging from the command line

Usage:
  offrec identity new --store DIR --account NAME --network NET [--passphrase-env VAR | --key-file FILE] [--force]
  offrec identity show --store DIR [--passphrase-env VAR | --key-file FILE]
  offrec parse [TEXT | -]
  offrec forge --captured TEXT --reveal-from TEXT... --known TEXT --new TEXT
  offrec forge --read --captured TEXT --reveal-from TEXT...
  offrec chat --store DIR (--tcp-listen [ADDR:]PORT | --tcp-connect HOST:PORT | --irc HOST:PORT [--nick NICK]) --peer NAME [options]
  offrec import --store DIR [--format libotr|potr] [options] PATH...
  offrec export --store DIR [--format libotr|potr] [options] OUTDIR

Commands:
  identity   create an identity (keys in a sealed store) or show its fingerprint and known peers
  parse      print every field of a wire message (query, tag, error, fragment, handshake, data)
  forge      show deniability: rewrite a captured message using only material the receiver published
  chat       encrypted terminal chat with one peer over TCP or IRC, with trust and SMP commands
  import     take an OTR key and trusted fingerprints from Pidgin, irssi-otr or weechat-otr files
  export     write the OTR key and fingerprints back in those programs' formats

Run `offrec COMMAND --help` for a command's options.

Exit status: 0 success, 1 failure at run time, 2 usage error or malformed input.
";

/// Why a command failed: the message says what went wrong and what to do.
#[derive(Debug)]
pub struct CliError {
    /// What to print.
    pub message: String,
    /// The exit code.
    pub code: u8,
    /// The usage text to print after the message, for usage errors.
    pub usage: Option<String>,
}

impl CliError {
    /// A run-time failure (exit 1).
    pub fn fail(message: impl Into<String>) -> Self {
        CliError { message: message.into(), code: 1, usage: None }
    }

    /// Malformed input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        CliError { message: message.into(), code: 2, usage: None }
    }

    /// A usage error (exit 2), printed with the command's usage.
    pub fn usage(message: impl Into<String>, usage: &str) -> Self {
        CliError { message: message.into(), code: 2, usage: Some(usage.to_owned()) }
    }
}

/// What a command returns.
pub type CliResult = Result<(), CliError>;

fn run(args: &[String]) -> CliResult {
    let Some(command) = args.first() else {
        return Err(CliError::usage("no command given", USAGE));
    };
    let rest = &args[1..];
    match command.as_str() {
        "--help" | "-h" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        "--version" | "-V" => {
            println!("offrec {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "identity" => identity::run(rest),
        "parse" => parse::run(rest),
        "forge" => forge::run(rest),
        "chat" => chat::run(rest),
        "import" => migrate::import(rest),
        "export" => migrate::export(rest),
        other => Err(CliError::usage(format!("unknown command {other:?}"), USAGE)),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("offrec: {}", error.message);
            if let Some(usage) = error.usage {
                eprintln!();
                eprint!("{usage}");
            }
            ExitCode::from(error.code)
        }
    }
}
