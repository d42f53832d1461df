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
mod line_editor;
mod migrate;
mod parse;
mod quoting;
mod sent_messages;
mod tcp;
mod terminal;
mod wire_log;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

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

    /// A usage error (exit 2), printed with the command's usage (see `args::usage_error`).
    pub fn usage(message: impl Into<String>, usage: &str) -> Self {
        CliError { message: message.into(), code: 2, usage: Some(usage.to_owned()) }
    }
}

/// What a command returns.
pub type CliResult = Result<(), CliError>;

fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Identity { command } => identity::run(command),
        Command::Parse(args) => parse::run(&args),
        Command::Forge(args) => forge::run(&args),
        Command::Chat(args) => chat::run(args),
        Command::Import(args) => migrate::import(&args),
        Command::Export(args) => migrate::export(&args),
    }
}

fn main() -> ExitCode {
    // Usage errors exit 2 with the command's usage; --help and --version exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return args::report_parse_error(&error),
    };
    match run(cli) {
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
