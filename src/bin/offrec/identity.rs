//! `offrec identity new|show`.

use offrec::conversation::{Client, Settings};
use offrec::store::FileStore;
use offrec::trust::{format_fingerprint, Trust};

use crate::args::{IdentityCommand, IdentityNewArgs, IdentityShowArgs};
use crate::keys::{self, Purpose};
use crate::{CliError, CliResult};

/// Runs `offrec identity ...`.
pub fn run(command: IdentityCommand) -> CliResult {
    match command {
        IdentityCommand::New(args) => new(&args),
        IdentityCommand::Show(args) => show(&args),
    }
}

fn new(args: &IdentityNewArgs) -> CliResult {
    let dir = args.store.as_str();
    let store = FileStore::open_dir(dir).map_err(|e| CliError::fail(keys::explain(&e, dir)))?;
    if store.exists() && !args.force {
        return Err(CliError::fail(format!(
            "a store already exists at {dir}: use `offrec identity show --store {dir}` to see it, or add --force to replace it (its identity and sessions are lost)"
        )));
    }
    let client = Client::new(&args.account, &args.network, Settings::default()).map_err(|e| {
        CliError::input(format!("cannot create the identity: {e} (account and network must be 1 to 1024 bytes)"))
    })?;
    let key = keys::store_key(&args.secret, dir, Purpose::Create)?;
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

fn show(args: &IdentityShowArgs) -> CliResult {
    let dir = args.store.as_str();
    let key = keys::store_key(&args.secret, dir, Purpose::Open)?;
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
