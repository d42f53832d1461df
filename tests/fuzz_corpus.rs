//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the same harness the
//! cargo-fuzz targets run (`fuzz/src/lib.rs`, included here so the main crate does not depend
//! on the fuzz crate), so a stable `cargo test` catches regressions on every input the fuzzer
//! ever kept. `make fuzz` (fuzz/fuzz.mk) runs the targets themselves on nightly.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::fs;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_corpus_directory_has_a_target_and_every_target_a_corpus() {
    let targets: Vec<&str> = harness::TARGETS.iter().map(|(name, _)| *name).collect();
    for entry in fs::read_dir(corpus_dir()).expect("fuzz/corpus") {
        let name = entry.expect("dir entry").file_name().into_string().expect("UTF-8 name");
        assert!(targets.contains(&name.as_str()), "fuzz/corpus/{name} has no target");
    }
    for name in targets {
        let n = files(&corpus_dir().join(name)).len();
        assert!(n > 0, "fuzz/corpus/{name} is empty");
    }
}

fn replay(target: &str) {
    let (_, body) = harness::TARGETS.iter().find(|(name, _)| *name == target).expect("target");
    for path in files(&corpus_dir().join(target)) {
        let data = fs::read(&path).expect("read corpus file");
        let result = std::panic::catch_unwind(|| body(&data));
        assert!(result.is_ok(), "{target}: {} panicked", path.display());
    }
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name));
        }
    )*};
}

replay_tests!(
    wire_text,
    fragments,
    ake_messages,
    data_messages,
    tlv_body,
    smp_messages,
    store_load,
    client_receive,
    ffi_calls,
    otr_text,
    otr_messages,
    otr_client_receive,
    migrate_sexp,
    migrate_fingerprints,
    migrate_potr,
);

/// Writes the seed corpus from real runs of the fixtures. Run after changing the wire format
/// or the harness: `cargo test --test fuzz_corpus -- --ignored generate_seed_corpus`.
#[test]
#[ignore = "generator: rewrites fuzz/corpus/*/seed-*"]
fn generate_seed_corpus() {
    if std::env::var_os("OFFREC_WRITE_VECTORS").is_none() {
        eprintln!("not rewriting frozen files: set OFFREC_WRITE_VECTORS=1 to regenerate (TESTING.md)");
        return;
    }
    let mut counters = std::collections::BTreeMap::new();
    for (target, data) in harness::seeds() {
        let dir = corpus_dir().join(target);
        fs::create_dir_all(&dir).expect("mkdir");
        let n = counters.entry(target).or_insert(0usize);
        fs::write(dir.join(format!("seed-{n:02}")), data).expect("write seed");
        *n += 1;
    }
}
