//! The C test suite (tests/c) run from `cargo test`, so that mutation testing of the FFI layer
//! (`make mutants MUTANTS_MODULES=ffi`) judges each mutant by the tests that meet the C API the way
//! users do. cargo-mutants only runs `cargo test`; without this the ffi group's verdicts came from
//! the few Rust tests that call the exported functions directly.
//!
//! Ignored in plain `cargo test`: `make test` already runs these C programs three ways (plainly,
//! with sanitizers, under valgrind) against the release library. The `ffi` mutants group runs it
//! with `--include-ignored` (tests/mutants.mk).
//!
//! Each program listed in tests/c/c-tests.mk's `C_TESTS` is built with ASan and UBSan (as
//! `c-tests` does, so LeakSanitizer also catches a handle or buffer a mutant stops freeing) and
//! linked to the debug liboffrec.so that cargo built for this very test run, i.e. the mutated one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

#[test]
#[ignore = "the C suite is run by `make test` already; `make mutants MUTANTS_MODULES=ffi` runs it here"]
fn every_c_test_passes_against_this_build_of_the_library() {
    let source_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = built_shared_library();
    let work_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-suite");
    let link_dir = work_dir.join("lib");
    fs::create_dir_all(&link_dir).unwrap();
    link_under_soname(&library, &link_dir, &abi_version(source_dir));

    let mut failures = Vec::new();
    let mut tests: Vec<(String, &[&str])> =
        make_list(source_dir, "C_TESTS").into_iter().map(|name| (name, &[][..])).collect();
    assert!(tests.len() >= 10, "tests/c/c-tests.mk lists only {tests:?}");
    // The programs that drive the exported test hooks, when this build has them.
    if cfg!(feature = "test-hooks") {
        let hooked = make_list(source_dir, "C_HOOK_TESTS");
        tests.extend(hooked.into_iter().map(|name| (name, &["-DOFFREC_TEST_HOOKS"][..])));
    }
    for (name, defines) in &tests {
        let binary = work_dir.join(name);
        compile_if_stale(source_dir, name, defines, &binary, &link_dir);
        let output = Command::new(&binary)
            .current_dir(source_dir) // the programs read tests/vectors and fixtures relative to it
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        if !output.status.success() {
            let tail = |bytes: &[u8]| {
                let text = String::from_utf8_lossy(bytes).into_owned();
                text.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
            };
            failures.push(format!("{name}: {}\n{}\n{}", output.status, tail(&output.stdout), tail(&output.stderr)));
        }
    }
    assert!(failures.is_empty(), "{} of {} C tests failed:\n{}", failures.len(), tests.len(), failures.join("\n\n"));
}

/// The cdylib cargo built for this run, beside this test's own executable: the library target
/// is compiled with all its crate types, and a cdylib's file name carries no hash
/// (target/<profile>/deps/liboffrec.so; only `cargo build` copies it one level up).
fn built_shared_library() -> PathBuf {
    let executable = std::env::current_exe().unwrap();
    let library = executable.parent().unwrap().join("liboffrec.so");
    assert!(library.is_file(), "cargo did not leave {} beside the tests", library.display());
    library
}

/// The library's soname is liboffrec.so.<ABI>, which cargo does not create; the C programs link
/// through links with the names the dynamic loader will look for.
fn link_under_soname(library: &Path, link_dir: &Path, abi: &str) {
    for name in [format!("liboffrec.so.{abi}"), "liboffrec.so".to_owned()] {
        let link = link_dir.join(name);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(library, &link).unwrap();
    }
}

fn abi_version(source_dir: &Path) -> String {
    let header = fs::read_to_string(source_dir.join("include/offrec.h")).unwrap();
    header
        .lines()
        .find_map(|line| line.strip_prefix("#define OFFREC_ABI_VERSION "))
        .expect("include/offrec.h defines OFFREC_ABI_VERSION")
        .trim()
        .to_owned()
}

/// A list `make c-tests` uses (the programs, the compiler flags), read from its makefile so the
/// two cannot drift apart.
fn make_list(source_dir: &Path, variable: &str) -> Vec<String> {
    let makefile = fs::read_to_string(source_dir.join("tests/c/c-tests.mk")).unwrap();
    let line = makefile
        .lines()
        .find_map(|line| line.strip_prefix(variable)?.trim_start().strip_prefix(":="))
        .unwrap_or_else(|| panic!("tests/c/c-tests.mk has no `{variable} :=` line"));
    line.split_whitespace().map(str::to_owned).collect()
}

/// The programs link to the library dynamically, so a mutant does not change them: build each
/// once and again only when its sources, the header or the makefile (its flags) change.
fn compile_if_stale(source_dir: &Path, name: &str, defines: &[&str], binary: &Path, link_dir: &Path) {
    let source = source_dir.join("tests/c").join(format!("{name}.c"));
    let inputs = [
        source.clone(),
        source_dir.join("tests/c/harness.h"),
        source_dir.join("include/offrec.h"),
        source_dir.join("tests/c/c-tests.mk"),
    ];
    let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified()).ok();
    let newest_input = inputs.iter().filter_map(|p| modified(p)).max().unwrap_or(SystemTime::now());
    if modified(binary).is_some_and(|built| built >= newest_input) {
        return;
    }
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    // `make c-tests`' own flags (with its relative -Iinclude, hence the working directory).
    let status = Command::new(&compiler)
        .current_dir(source_dir)
        .args(make_list(source_dir, "C_TEST_CFLAGS"))
        .args(make_list(source_dir, "C_SAN_FLAGS"))
        .args(defines)
        .arg(&source)
        .arg("-o")
        .arg(binary)
        .arg(format!("-L{}", link_dir.display()))
        .arg(format!("-Wl,-rpath,{}", link_dir.display()))
        .args(["-loffrec", "-pthread"])
        .status()
        .unwrap_or_else(|error| panic!("cannot run the C compiler {compiler}: {error}"));
    assert!(status.success(), "{compiler} failed to build {}", source.display());
}
