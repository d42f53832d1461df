//! `offrec import` and `offrec export`: moving an OTR key and trust between a store and the
//! files of libotr (Pidgin, irssi-otr) or python-potr (weechat-otr, Gajim). MIGRATING.md is
//! the guide. Everything is read and checked before the store is saved: a bad file changes
//! nothing.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use offrec::conversation::{Client, Settings};
use offrec::migrate::file_io::{read_existing, read_file, write_atomically};
use offrec::migrate::{AccountSelector, FileKind, MigrateError, OtrFileFormat};
use offrec::otr::identity::human_fingerprint;

use crate::args::{usage_error, ExportArgs, FormatChoice, ImportArgs};
use crate::keys::{self, Purpose};
use crate::{CliError, CliResult};

fn format_of(choice: FormatChoice) -> OtrFileFormat {
    match choice {
        FormatChoice::Libotr => OtrFileFormat::Libotr,
        FormatChoice::Potr => OtrFileFormat::Potr,
    }
}

/// What a migration error means to the user, and what to do.
fn explain(error: MigrateError) -> CliError {
    let hint = match &error {
        MigrateError::NoAccount { .. } | MigrateError::AmbiguousAccount { .. } => {
            " (name the account with --account-in-file NAME and --protocol-in-file ID as the file writes them)"
        }
        MigrateError::KeyExists { .. } => {
            " (add --replace-key to replace it; contacts who verified the old key will see a new one)"
        }
        MigrateError::InUse => " (import the instance tag into a store that has not chatted yet, or leave it out)",
        MigrateError::NoKey => " (the store has no OTR key: it makes one at its first OTR chat)",
        _ => "",
    };
    let message = format!("{error}{hint}");
    match error {
        MigrateError::Io { .. } | MigrateError::KeyExists { .. } | MigrateError::InUse | MigrateError::NoKey => {
            CliError::fail(message)
        }
        _ => CliError::input(message),
    }
}

/// The files found for one import, by kind.
#[derive(Default)]
struct Found {
    key: Option<(PathBuf, OtrFileFormat)>,
    fingerprints: Option<PathBuf>,
    instance_tags: Option<PathBuf>,
    /// For potr files: the NAME of NAME.key3 / NAME.fpr (the account they belong to).
    potr_name: Option<String>,
}

fn stem(path: &Path) -> Option<String> {
    path.file_stem().and_then(|s| s.to_str()).map(str::to_owned)
}

fn classify(path: &Path, found: &mut Found) -> Result<(), CliError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let slot = match name {
        "otr.private_key" | "otr.key" => {
            found.key = Some((path.to_owned(), OtrFileFormat::Libotr));
            return Ok(());
        }
        "otr.fingerprints" | "otr.fp" => &mut found.fingerprints,
        "otr.instance_tags" | "otr.instag" => &mut found.instance_tags,
        _ if name.ends_with(".key3") => {
            found.potr_name = stem(path);
            found.key = Some((path.to_owned(), OtrFileFormat::Potr));
            return Ok(());
        }
        _ if name.ends_with(".fpr") => {
            found.potr_name = found.potr_name.take().or_else(|| stem(path));
            &mut found.fingerprints
        }
        _ => {
            return Err(CliError::input(format!(
                "cannot tell what {} holds: name it as libotr or potr do (otr.private_key, otr.fingerprints, otr.instance_tags, NAME.key3, NAME.fpr)",
                path.display()
            )))
        }
    };
    *slot = Some(path.to_owned());
    Ok(())
}

/// The migration files in `dir` for `format`.
fn scan_dir(dir: &Path, format: OtrFileFormat, account: Option<&str>, found: &mut Found) -> Result<(), CliError> {
    let exists = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
    match format {
        OtrFileFormat::Libotr => {
            let key = exists("otr.private_key").or_else(|| exists("otr.key"));
            let fps = exists("otr.fingerprints").or_else(|| exists("otr.fp"));
            let tags = exists("otr.instance_tags").or_else(|| exists("otr.instag"));
            if key.is_none() && fps.is_none() {
                return Err(CliError::fail(format!(
                    "{} has neither otr.private_key nor otr.fingerprints (nor irssi-otr's otr.key, otr.fp); for weechat-otr's files add --format potr",
                    dir.display()
                )));
            }
            found.key = key.map(|k| (k, OtrFileFormat::Libotr)).or(found.key.take());
            found.fingerprints = fps.or(found.fingerprints.take());
            found.instance_tags = tags.or(found.instance_tags.take());
        }
        OtrFileFormat::Potr => {
            let name = match account {
                Some(name) => name.to_owned(),
                None => {
                    let entries = fs::read_dir(dir).map_err(|e| CliError::fail(format!("{}: {e}", dir.display())))?;
                    let mut names: Vec<String> = entries
                        .flatten()
                        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".key3")).map(str::to_owned))
                        .collect();
                    names.sort();
                    match names.as_slice() {
                        [one] => one.clone(),
                        [] => return Err(CliError::fail(format!("{} has no NAME.key3 file", dir.display()))),
                        several => {
                            return Err(CliError::input(format!(
                                "{} has keys for several accounts ({}): choose one with --account-in-file NAME",
                                dir.display(),
                                several.join(", ")
                            )))
                        }
                    }
                }
            };
            let key = exists(&format!("{name}.key3"));
            let fps = exists(&format!("{name}.fpr"));
            if key.is_none() && fps.is_none() {
                return Err(CliError::fail(format!("{} has neither {name}.key3 nor {name}.fpr", dir.display())));
            }
            found.key = key.map(|k| (k, OtrFileFormat::Potr)).or(found.key.take());
            found.fingerprints = fps.or(found.fingerprints.take());
            found.potr_name = Some(name);
        }
    }
    Ok(())
}

/// Runs `offrec import ...`.
pub fn import(args: &ImportArgs) -> CliResult {
    let common = &args.common;
    let dir = common.store.as_str();
    let format = format_of(common.format);
    let account = common.account_in_file.as_deref();
    let protocol = common.protocol_in_file.as_deref();
    let mut found = Found::default();
    for path in &args.paths {
        if path.is_dir() {
            scan_dir(path, format, account, &mut found)?;
        } else if path.exists() {
            classify(path, &mut found)?;
        } else {
            return Err(CliError::fail(format!("{} does not exist", path.display())));
        }
    }
    if common.instance_tag && found.instance_tags.is_none() {
        return Err(CliError::fail("--instance-tag: no otr.instance_tags (or otr.instag) among the paths"));
    }

    let key = keys::store_key(&common.secret, dir, Purpose::Open)?;
    let (store, mut client) = keys::load(dir, &key, Settings::default())?;
    let selector = AccountSelector::named(account, protocol);
    // potr files belong to the account in their name unless one was given.
    let potr_selector = AccountSelector::named(account.or(found.potr_name.as_deref()), protocol);

    if let Some((path, key_format)) = &found.key {
        let file = read_file(path, kind_of(*key_format)).map_err(explain)?;
        let (fp, _) =
            client.import_otr_key(&file, *key_format, &selector, args.replace_key).map_err(|e| explain_in(path, e))?;
        println!("OTR key from {}", path.display());
        println!("  OTR fingerprint: {}", human_fingerprint(&fp));
    }
    if let Some(path) = &found.fingerprints {
        let file = read_file(path, FileKind::Fingerprints).map_err(explain)?;
        let chosen = if path.extension().is_some_and(|e| e == "fpr") { &potr_selector } else { &selector };
        let (summary, _) = client.import_otr_fingerprints(&file, chosen).map_err(|e| explain_in(path, e))?;
        println!("fingerprints from {}", path.display());
        println!(
            "  {} keys ({} new, {} newly verified), {} lines of other accounts left alone",
            summary.imported, summary.added, summary.raised, summary.other_accounts
        );
        if summary.skipped_full > 0 {
            println!(
                "  {} unverified keys left out: those peers already have the most keys offrec keeps",
                summary.skipped_full
            );
        }
    }
    if common.instance_tag {
        if let Some(path) = &found.instance_tags {
            let file = read_file(path, FileKind::InstanceTags).map_err(explain)?;
            let (tag, _) = client.import_otr_instance_tag(&file, &selector).map_err(|e| explain_in(path, e))?;
            println!("instance tag {tag:08x} from {}", path.display());
        }
    }
    store.save(&client, &key).map_err(|e| CliError::fail(keys::explain(&e, dir)))?;
    println!("saved in {}", store.path().display());
    if let Some(fp) = client.otr_fingerprint() {
        println!(
            "check: your OTR fingerprint {} must be the one your old program showed for this account",
            human_fingerprint(&fp)
        );
    }
    Ok(())
}

fn kind_of(format: OtrFileFormat) -> FileKind {
    match format {
        OtrFileFormat::Libotr => FileKind::LibotrKey,
        OtrFileFormat::Potr => FileKind::PotrKey,
    }
}

fn explain_in(path: &Path, error: MigrateError) -> CliError {
    let mut cli = explain(error);
    cli.message = format!("{}: {}", path.display(), cli.message);
    cli
}

/// Runs `offrec export ...`.
pub fn export(args: &ExportArgs) -> CliResult {
    let common = &args.common;
    let dir = common.store.as_str();
    let format = format_of(common.format);
    if common.instance_tag && format == OtrFileFormat::Potr {
        return Err(usage_error(&["export"], "--instance-tag: potr has no instance tags file"));
    }
    let key = keys::store_key(&common.secret, dir, Purpose::Open)?;
    let (_, client) = keys::load(dir, &key, Settings::default())?;
    let account = common.account_in_file.as_deref();
    let selector = AccountSelector::named(account, common.protocol_in_file.as_deref());
    let out = args.out.as_path();
    if !out.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(out)
            .map_err(|e| CliError::fail(format!("cannot create {}: {e}", out.display())))?;
    }
    // Into irssi-otr's directory, irssi-otr's names (otr.key, otr.fp, otr.instag) when it has them.
    let libotr_name = |pidgin: &str, irssi: &str| {
        if !out.join(pidgin).exists() && out.join(irssi).exists() {
            irssi.to_owned()
        } else {
            pidgin.to_owned()
        }
    };
    let (key_name, fpr_name) = match format {
        OtrFileFormat::Libotr => (libotr_name("otr.private_key", "otr.key"), libotr_name("otr.fingerprints", "otr.fp")),
        OtrFileFormat::Potr => {
            let name = account.unwrap_or(client.account());
            (format!("{name}.key3"), format!("{name}.fpr"))
        }
    };
    if client.otr_fingerprint().is_some() {
        export_key(&client, format, &selector, &out.join(key_name))?;
    } else {
        println!("the store has no OTR key yet (it makes one at its first OTR chat): only fingerprints are written");
    }
    let fpr_path = out.join(fpr_name);
    let existing = read_existing(&fpr_path, FileKind::Fingerprints).map_err(explain)?;
    let (bytes, summary) =
        client.export_otr_fingerprints(format, &selector, existing.as_deref().map(|e| &e[..])).map_err(explain)?;
    write_atomically(&fpr_path, &bytes).map_err(explain)?;
    println!("wrote {} ({} keys)", fpr_path.display(), summary.written);
    if summary.skipped > 0 {
        println!("  {} keys left out: their peers' names cannot be written in this format", summary.skipped);
    }
    if common.instance_tag {
        let path = out.join(libotr_name("otr.instance_tags", "otr.instag"));
        let existing = read_existing(&path, FileKind::InstanceTags).map_err(explain)?;
        let bytes = client.export_otr_instance_tag(&selector, existing.as_deref().map(|e| &e[..])).map_err(explain)?;
        write_atomically(&path, &bytes).map_err(explain)?;
        println!("wrote {} (instance tag {:08x})", path.display(), client.instance_tag());
    }
    Ok(())
}

fn export_key(client: &Client, format: OtrFileFormat, selector: &AccountSelector, path: &Path) -> CliResult {
    let existing = match format {
        OtrFileFormat::Libotr => read_existing(path, FileKind::LibotrKey).map_err(explain)?,
        OtrFileFormat::Potr => None,
    };
    let bytes = client.export_otr_key(format, selector, existing.as_deref().map(|e| &e[..])).map_err(explain)?;
    write_atomically(path, &bytes).map_err(explain)?;
    if let Some(fp) = client.otr_fingerprint() {
        println!("wrote {} (OTR fingerprint {})", path.display(), human_fingerprint(&fp));
    }
    Ok(())
}
