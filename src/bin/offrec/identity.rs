//! `offrec identity new|show`.

use offrec::conversation::{Client, Settings};
use offrec::store::FileStore;
use offrec::trust::{format_fingerprint, Trust};

use crate::args::{self, Kind};
use crate::keys::{self, KEY_FLAGS, KEY_HELP};
use crate::{CliError, CliResult};

const USAGE: &str = "\
Usage:
  offrec identity new --store DIR --account NAME --network NET [--passphrase-env VAR | --key-file FILE] [--force]
  offrec identity show --store DIR [--passphrase-env VAR | --key-file FILE]

`new` creates an identity key and instance tag and saves them, sealed, in DIR/offrec.store
(the directory is created 0700, the file 0600). It refuses to replace an existing store
unless --force is given (the old identity and every session in it are then lost).
`show` prints the account, instance tag and fingerprint, and each known peer's fingerprints
with their trust.

  --store DIR       the store directory
  --account NAME    your name on the network (your IRC nick, or any name for TCP); the peer
                    must use the same name for you, since both names go into the handshake
  --network NET     the network's name, e.g. `irc` or `tcp`; both sides must use the same
  --force           replace an existing store
";

fn usage() -> String {
    format!("{USAGE}\n{KEY_HELP}")
}

/// Runs `offrec identity ...`.
pub fn run(args: &[String]) -> CliResult {
    let usage = usage();
    let Some(sub) = args.first() else {
        if args::wants_help(args) {
            print!("{usage}");
            return Ok(());
        }
        return Err(CliError::usage("identity needs a subcommand: new or show", &usage));
    };
    if args::wants_help(args) {
        print!("{usage}");
        return Ok(());
    }
    match sub.as_str() {
        "new" => new(&args[1..], &usage),
        "show" => show(&args[1..], &usage),
        other => Err(CliError::usage(format!("unknown identity subcommand {other:?}"), &usage)),
    }
}

fn new(args: &[String], usage: &str) -> CliResult {
    let mut spec = vec![
        ("--store", Kind::Value),
        ("--account", Kind::Value),
        ("--network", Kind::Value),
        ("--force", Kind::Switch),
    ];
    spec.extend(KEY_FLAGS);
    let parsed = args::parse(args, &spec, 0, usage)?;
    let dir = parsed.required("--store", usage)?;
    let account = parsed.required("--account", usage)?;
    let network = parsed.required("--network", usage)?;
    let key = keys::store_key(&parsed)?;
    let store = FileStore::open_dir(dir).map_err(|e| CliError::fail(keys::explain(&e, dir)))?;
    if store.exists() && !parsed.has("--force") {
        return Err(CliError::fail(format!(
            "a store already exists at {dir}: use `offrec identity show --store {dir}` to see it, or add --force to replace it (its identity and sessions are lost)"
        )));
    }
    let client = Client::new(account, network, Settings::default()).map_err(|e| {
        CliError::input(format!("cannot create the identity: {e} (account and network must be 1 to 1024 bytes)"))
    })?;
    store.save(&client, &key).map_err(|e| CliError::fail(keys::explain(&e, dir)))?;
    println!("created a new identity in {}", store.path().display());
    print_identity(&client);
    Ok(())
}

fn print_identity(client: &Client) {
    println!("account:      {}", client.account());
    println!("network:      {}", client.protocol());
    println!("instance tag: {:08x}", client.instance_tag());
    println!("fingerprint:  {}", format_fingerprint(&client.fingerprint()));
    if let Some(otr) = client.otr_fingerprint() {
        println!("OTR fingerprint: {}", offrec::otr::identity::human_fingerprint(&otr));
    }
}

/// How a trust level reads.
pub fn trust_words(trust: Trust) -> &'static str {
    match trust {
        Trust::Unverified => "unverified",
        Trust::VerifiedSmp => "verified (SMP)",
        Trust::VerifiedManual => "verified (by hand)",
    }
}

fn show(args: &[String], usage: &str) -> CliResult {
    let mut spec = vec![("--store", Kind::Value)];
    spec.extend(KEY_FLAGS);
    let parsed = args::parse(args, &spec, 0, usage)?;
    let dir = parsed.required("--store", usage)?;
    let key = keys::store_key(&parsed)?;
    let (_, client) = keys::load(dir, &key, Settings::default())?;
    print_identity(&client);
    let mut any = false;
    for (peer, known) in client.trust_store().peers() {
        if !any {
            println!("known peers:");
            any = true;
        }
        for key in known {
            println!("  {peer}  {}  {}", format_fingerprint(&key.fingerprint), trust_words(key.trust));
        }
    }
    if !any {
        println!("known peers:  none yet");
    }
    Ok(())
}
