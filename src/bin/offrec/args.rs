//! The command line, declared once for clap (derive): every command, flag and help text.
//! `offrec --help` and `offrec COMMAND --help` are generated from these declarations; usage
//! errors (unknown flags, missing values, a bad choice) exit 2 with the command's usage.

use std::path::PathBuf;

use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::CliError;

const EXIT_STATUS: &str = "Exit status: 0 success, 1 failure at run time, 2 usage error or malformed input.";

/// offrec: Off-the-Record messaging from the command line.
#[derive(Parser, Debug)]
#[command(
    name = "offrec",
    version,
    about = "offrec: Off-the-Record messaging from the command line",
    after_help = "Run `offrec COMMAND --help` for a command's options.\n\n\
                  Exit status: 0 success, 1 failure at run time, 2 usage error or malformed input.",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// create an identity (keys in a sealed store) or show its fingerprint and known peers
    #[command(subcommand_required = true, arg_required_else_help = true, after_help = EXIT_STATUS)]
    Identity {
        /// new or show.
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// print every field of a wire message (query, tag, error, fragment, handshake, data)
    Parse(ParseArgs),
    /// show deniability: rewrite a captured message using only material the receiver published
    Forge(ForgeArgs),
    /// encrypted terminal chat with one peer over TCP or IRC, with trust and SMP commands
    Chat(ChatArgs),
    /// take an OTR key and trusted fingerprints from Pidgin, irssi-otr or weechat-otr files
    Import(ImportArgs),
    /// write the OTR key and fingerprints back in those programs' formats
    Export(ExportArgs),
}

/// `offrec identity new|show`.
#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// create an identity key and instance tag, sealed in DIR/offrec.store
    #[command(long_about = "\
Creates an identity key and instance tag and saves them, sealed, in DIR/offrec.store (the
directory is created 0700, the file 0600). It refuses to replace an existing store unless
--force is given (the old identity and every session in it are then lost).")]
    New(IdentityNewArgs),
    /// print the account, instance tag and fingerprint, and each known peer's fingerprints
    #[command(long_about = "\
Prints the account, instance tag and fingerprint, and each known peer's fingerprints with
their trust.")]
    Show(IdentityShowArgs),
}

/// The secret that opens a store (keys.rs turns it into a key).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Store secret (one of)")]
pub struct SecretArgs {
    /// read the passphrase from environment variable VAR (stretched with Argon2id). The
    /// passphrase is never taken as an argument: any user on the machine can read a process's
    /// arguments with `ps`. With neither option, $OFFREC_PASSPHRASE is used if set, or the
    /// passphrase is asked for on the terminal (not echoed)
    #[arg(long, value_name = "VAR", conflicts_with = "key_file")]
    pub passphrase_env: Option<String>,
    /// a 32-byte key, as 64 hex digits, in FILE (keep it mode 0600)
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

/// `offrec identity new`.
#[derive(Args, Debug)]
#[command(after_help = EXIT_STATUS)]
pub struct IdentityNewArgs {
    /// the store directory
    #[arg(long, value_name = "DIR")]
    pub store: String,
    /// your name on the network (your IRC nick, or any name for TCP); the peer must use the
    /// same name for you, since both names go into the handshake
    #[arg(long, value_name = "NAME")]
    pub account: String,
    /// the network's name, e.g. `irc` or `tcp`; both sides must use the same
    #[arg(long, value_name = "NET")]
    pub network: String,
    /// replace an existing store (its identity and sessions are lost)
    #[arg(long)]
    pub force: bool,
    /// The store secret.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// `offrec identity show`.
#[derive(Args, Debug)]
#[command(after_help = EXIT_STATUS)]
pub struct IdentityShowArgs {
    /// the store directory
    #[arg(long, value_name = "DIR")]
    pub store: String,
    /// The store secret.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// `offrec parse`.
#[derive(Args, Debug)]
#[command(
    long_about = "\
Reads one wire message (the argument, or standard input with `-` or no argument; one trailing
newline is removed) and prints its kind and every field. With --log, takes apart every message
of a wire log written by `offrec chat --log-wire`.",
    after_long_help = "\
What it recognises:
  query                the versions it advertises
  whitespace tag       the versions the tag advertises and the text without it
  error message        the peer's error text
  fragment             id, sender and receiver instance tags, k of n, piece length
  armoured handshake   kind, instance tags, ephemeral key, payload lengths
  armoured data        version, instance tags, flags, ratchet key, PN, N, each revealed
                       material (H and E_K(J0)), ciphertext length, tag
  OTR query            the OTR versions it asks for (and offrec's, in a combined query)
  OTR whitespace tag   the OTR (and offrec) versions advertised and the text without tags
  OTR error message    the peer's error text
  OTR fragment         form (v3 or v2), sender and receiver instance tags, k of n, length
  OTR encoded message  version, type, instance tags, then per type: D-H Commit (encrypted
                       g^x length, hash of g^x), D-H Key (g^y length and value), Reveal
                       Signature (r, encrypted signature length, MAC), Signature (encrypted
                       signature length, MAC), data (flags, keyids, next DH key, counter,
                       ciphertext length, MAC, revealed MAC keys)
  OTR v1 and OTRv4     identified as foreign (offrec does not speak them)
Anything else is plaintext.

A malformed offrec or OTR message is reported with what is wrong and exit status 2 (with
--log: reported in place, and the exit status is 2 if any was malformed).

Exit status: 0 success, 1 failure at run time, 2 usage error or malformed input."
)]
pub struct ParseArgs {
    /// the wire message; `-` or nothing reads it from standard input
    #[arg(value_name = "TEXT", conflicts_with = "log")]
    pub text: Option<String>,
    /// take apart every message in a wire log (`offrec chat --log-wire FILE`; `-` reads it from
    /// standard input)
    #[arg(long, value_name = "FILE")]
    pub log: Option<String>,
}

/// `offrec forge`.
#[derive(Args, Debug)]
#[command(
    long_about = "\
Why: offrec conversations are deniable. After Bob reads a message from Alice, his next message
publishes that message key's authentication material (the GCM key H and the mask E_K(J0)).
From then on the message's tag proves nothing: anyone holding the transcript can compute a
valid tag for any ciphertext under that key, and since the encryption is a stream cipher,
anyone who knows (or guesses) the text can change it. So a transcript cannot convince a third
party of who wrote what. Decrypting still needs the key itself, which is never revealed.

Modes:
  (default)  prints a forged armoured message: the captured one, carrying --new instead of
             --known, with a tag that verifies under the original key. Nothing secret is used.
  --read     like otr_readforge: shows which revealed material belongs to the captured message
             and that its tag verifies with public data only (no key).",
    after_help = EXIT_STATUS
)]
pub struct ForgeArgs {
    /// the captured data message (`?OFR:...`; reassemble fragments first)
    #[arg(long, value_name = "TEXT")]
    pub captured: String,
    /// the receiver's later messages from the same transcript (the ones it sent after reading
    /// the captured one); one or more, may be repeated
    #[arg(long, value_name = "TEXT", num_args = 1.., required = true, action = clap::ArgAction::Append)]
    pub reveal_from: Vec<String>,
    /// the captured message's text (known or guessed; a wrong guess cannot be detected without
    /// the key, and yields a garbled forgery)
    #[arg(long, value_name = "TEXT", required_unless_present = "read")]
    pub known: Option<String>,
    /// the replacement text; at most as long as the known text plus the padding (the header and
    /// so the length stay the same)
    #[arg(long, value_name = "TEXT", required_unless_present = "read", conflicts_with = "read")]
    pub new: Option<String>,
    /// only show which revealed material matches, and that the tag verifies with public data
    #[arg(long)]
    pub read: bool,
}

/// When to encrypt (`offrec chat --policy`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    /// never encrypt
    Never,
    /// encrypt when you /start or the peer asks
    Manual,
    /// also start when the peer's message shows it can encrypt
    Opportunistic,
    /// never send a message in the clear
    Always,
}

/// `offrec chat`.
#[derive(Args, Debug)]
#[command(
    group(ArgGroup::new("transport").required(true).args(["tcp_listen", "tcp_connect", "irc"])),
    long_about = "\
A terminal chat with one peer. Type a line to send it; the prompt shows the conversation's
state, e.g. `[encrypted-unverified] bob> `. Incoming messages show how they were protected:
[plaintext], [encrypted-unverified] or [encrypted-verified]. On a terminal, lines can be edited
(arrows, Home/End, Ctrl-A/E/W/U), Up and Down recall earlier lines (kept in memory only, never
written to disk), and incoming messages appear above the line you are typing without
disturbing it. Type /help in the chat for the commands.",
    after_long_help = crate::chat::long_help()
)]
pub struct ChatArgs {
    /// the store made by `offrec identity new` (saved on exit and whenever the library reports a
    /// change worth keeping: keys, trust, queued messages; after a restart each session is
    /// restarted with a new handshake, never resumed)
    #[arg(long, value_name = "DIR")]
    pub store: String,
    /// the peer's account name (their IRC nick on IRC)
    #[arg(long, value_name = "NAME")]
    pub peer: String,
    /// wait for the peer to connect: on 127.0.0.1 (this machine only) when only a PORT is
    /// given; give ADDR:PORT (e.g. 0.0.0.0:PORT) to accept connections from other machines
    #[arg(long, value_name = "[ADDR:]PORT", help_heading = "Transport (one of)")]
    pub tcp_listen: Option<String>,
    /// connect to a peer that listens (retries for 10 seconds)
    #[arg(long, value_name = "HOST:PORT", help_heading = "Transport (one of)")]
    pub tcp_connect: Option<String>,
    /// a plain-text IRC server; messages go as private messages to the peer's nick (--peer), no
    /// channel is joined. Wire messages are fragmented to fit IRC's 512-byte lines
    #[arg(long, value_name = "HOST:PORT", help_heading = "Transport (one of)")]
    pub irc: Option<String>,
    /// your IRC nick (default: the store's account name, which the peer must use as --peer:
    /// both names are bound into the handshake)
    #[arg(long, value_name = "NICK", help_heading = "Transport (one of)")]
    pub nick: Option<String>,
    /// no channel is joined on IRC (the only mode; may be given for clarity)
    #[arg(long, help_heading = "Transport (one of)")]
    pub channel_less: bool,
    /// when to encrypt
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = PolicyChoice::Opportunistic)]
    pub policy: PolicyChoice,
    /// largest wire line to send, in bytes (0 = unlimited; on IRC the default is computed from
    /// the 512-byte line limit)
    #[arg(long, value_name = "N")]
    pub max_message_size: Option<usize>,
    /// append every wire message in and out to FILE (created 0600), one per line: time, in or
    /// out, peer, the raw message; `offrec parse --log FILE` takes them apart
    #[arg(long, value_name = "FILE")]
    pub log_wire: Option<PathBuf>,
    /// The store secret.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// The OTR programs' file formats (`import`/`export --format`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatChoice {
    /// libotr's files: Pidgin, irssi-otr
    Libotr,
    /// python-potr's files: weechat-otr, Gajim
    Potr,
}

/// The options import and export share.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// the store (offrec identity new made it)
    #[arg(long, value_name = "DIR")]
    pub store: String,
    /// the files' format
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = FormatChoice::Libotr)]
    pub format: FormatChoice,
    /// the account as the files write it, if it is not the store's account (irssi-otr and
    /// weechat-otr write nick@server; potr files default to their NAME)
    #[arg(long, value_name = "NAME")]
    pub account_in_file: Option<String>,
    /// the protocol as the files write it (prpl-jabber, prpl-irc, IRC, irc), if it does not
    /// name the store's network
    #[arg(long, value_name = "ID")]
    pub protocol_in_file: Option<String>,
    /// also take (import) or write (export, libotr only) the instance tag: only when one
    /// program replaces the other on this same computer, before the store has chatted
    #[arg(long)]
    pub instance_tag: bool,
    /// The store secret.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// `offrec import`.
#[derive(Args, Debug)]
#[command(
    long_about = "\
Imports an OTR key and the fingerprints you trust into the store, from the files of libotr
(Pidgin: ~/.purple; irssi-otr: ~/.irssi/otr) or python-potr (weechat-otr: ~/.weechat/otr or
~/.local/share/weechat/otr; Gajim). PATH is a directory holding them, or the files themselves:
  libotr  otr.private_key (irssi-otr: otr.key), otr.fingerprints (otr.fp),
          otr.instance_tags (otr.instag, only with --instance-tag)
  potr    NAME.key3 and NAME.fpr (NAME is the account, such as nick@server)
Everything is checked before the store is saved: a damaged file changes nothing.",
    after_help = EXIT_STATUS
)]
pub struct ImportArgs {
    /// Options shared with export.
    #[command(flatten)]
    pub common: MigrateArgs,
    /// replace the store's OTR key if it already has another one (contacts who verified the old
    /// key will see a new one)
    #[arg(long)]
    pub replace_key: bool,
    /// the directory or files to import
    #[arg(value_name = "PATH", required = true, num_args = 1..=64)]
    pub paths: Vec<PathBuf>,
}

/// `offrec export`.
#[derive(Args, Debug)]
#[command(
    long_about = "\
Writes the store's OTR key and the OTR fingerprints it knows, with their trust, as libotr's or
python-potr's files into OUTDIR (created 0700 if missing; files are 0600 and replaced
atomically):
  libotr  OUTDIR/otr.private_key, OUTDIR/otr.fingerprints (and otr.instance_tags with
          --instance-tag); irssi-otr's otr.key, otr.fp, otr.instag where OUTDIR has those.
          Existing files are merged: other accounts' keys and lines are kept.
  potr    OUTDIR/NAME.key3 and OUTDIR/NAME.fpr
Trust is written as libotr writes it: smp, verified, or empty. offrec's own keys are not
written (OTR programs cannot use them). Without --account-in-file and --protocol-in-file the
names are written as OUTDIR's files already spell this account, else the store's account and
prpl-jabber for XMPP, prpl-NETWORK otherwise (Pidgin's; the network for potr; irssi-otr uses IRC).",
    after_help = EXIT_STATUS
)]
pub struct ExportArgs {
    /// Options shared with import.
    #[command(flatten)]
    pub common: MigrateArgs,
    /// the directory to write into
    #[arg(value_name = "OUTDIR")]
    pub out: PathBuf,
}

/// Prints a parse error (or the help or version asked for) as clap does, adding the usage of
/// the command the arguments name when clap's message has none (a missing value, an invalid
/// choice): every usage error shows how the command is used. Returns the exit code.
pub fn report_parse_error(error: &clap::Error) -> std::process::ExitCode {
    let _ = error.print();
    if error.use_stderr() && !error.render().to_string().contains("Usage:") {
        let arguments: Vec<String> = std::env::args().skip(1).collect();
        eprintln!("\n{}", usage_of(&command_path(&arguments)));
    }
    std::process::ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// The (sub)command names at the start of `arguments`, e.g. `["identity", "new"]`.
fn command_path(arguments: &[String]) -> Vec<&str> {
    let mut command = Cli::command();
    let mut path = Vec::new();
    for argument in arguments.iter().filter(|a| !a.starts_with('-')) {
        let Some(sub) = command.find_subcommand(argument).cloned() else { break };
        path.push(argument.as_str());
        command = sub;
    }
    path
}

/// A usage error found after parsing (a combination clap cannot express), printed with the
/// usage of the command `path` names (e.g. `["export"]`), as clap prints its own.
pub fn usage_error(path: &[&str], message: impl Into<String>) -> CliError {
    CliError::usage(message, &format!("{}\n\nFor more information, try '--help'.\n", usage_of(path)))
}

/// `Usage: offrec ...` of the command `path` names.
fn usage_of(path: &[&str]) -> String {
    let mut command = Cli::command();
    command.build();
    for name in path {
        let Some(sub) = command.find_subcommand(name).cloned() else { break };
        command = sub;
    }
    command.render_usage().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declarations_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_values_and_usage_errors() {
        let cli = Cli::try_parse_from([
            "offrec",
            "forge",
            "--captured",
            "c",
            "--reveal-from",
            "a",
            "b",
            "--reveal-from=z",
            "--known",
            "k",
            "--new=n",
        ])
        .unwrap();
        let Command::Forge(forge) = cli.command else { panic!("forge") };
        assert_eq!(forge.reveal_from, ["a", "b", "z"]);
        assert_eq!((forge.known.as_deref(), forge.new.as_deref()), (Some("k"), Some("n")));
        let chat =
            |args: &[&str]| Cli::try_parse_from(["offrec", "chat", "--store", "s", "--peer", "p"].iter().chain(args));
        assert!(chat(&["--tcp-listen", "1"]).is_ok());
        assert!(chat(&[]).is_err(), "a transport is required");
        assert!(chat(&["--tcp-listen", "1", "--irc", "h:1"]).is_err(), "only one transport");
        assert!(chat(&["--tcp-listen", "1", "--policy", "sometimes"]).is_err());
        assert!(chat(&["--tcp-listen", "1", "--passphrase-env", "A", "--key-file", "k"]).is_err());
        assert!(Cli::try_parse_from(["offrec", "parse", "a", "b"]).is_err());
        assert!(Cli::try_parse_from(["offrec", "parse", "-"]).is_ok());
        assert!(Cli::try_parse_from(["offrec", "identity"]).is_err());
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(command_path(&words(&["identity", "new", "--store", "x"])), ["identity", "new"]);
        assert_eq!(command_path(&words(&["forge", "--captured"])), ["forge"]);
        assert!(command_path(&words(&["frobnicate"])).is_empty());
        let error = usage_error(&["export"], "no");
        assert!(error.usage.is_some_and(|u| u.contains("Usage: offrec export")));
    }
}
