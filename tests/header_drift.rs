//! The committed C header must match a fresh cbindgen run, and its macros must match Cargo.toml.
//!
//! build.rs writes the fresh header to `$OUT_DIR/offrec.h` and exports its path as
//! `OFFREC_GENERATED_HEADER`.

use std::path::Path;

const GENERATED: &str = env!("OFFREC_GENERATED_HEADER");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn committed() -> String {
    read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("include/offrec.h"))
}

/// The value of `#define NAME value` in the header.
fn define<'a>(header: &'a str, name: &str) -> &'a str {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("include/offrec.h has no #define {name}"))
        .trim()
}

#[test]
fn committed_header_matches_a_fresh_generation() {
    let fresh = read(Path::new(GENERATED));
    assert!(
        fresh == committed(),
        "include/offrec.h is out of date with src/ffi/: run `make header` and commit the result"
    );
}

#[test]
fn version_macros_match_cargo_toml() {
    let h = committed();
    assert_eq!(define(&h, "OFFREC_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(define(&h, "OFFREC_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(define(&h, "OFFREC_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(define(&h, "OFFREC_VERSION"), format!("\"{}\"", env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_result_code_is_in_the_header_with_its_number() {
    let h = committed();
    for r in offrec::ffi::OffrecResult::all() {
        // NullArgument -> NULL_ARGUMENT
        let mut name = String::new();
        for (i, c) in format!("{r:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                name.push('_');
            }
            name.push(c.to_ascii_uppercase());
        }
        let line = format!("OFFREC_RESULT_{name} = {},", *r as u32);
        assert!(h.contains(&line), "include/offrec.h lacks `{line}`");
    }
}

#[test]
fn no_rust_type_names_leak_into_the_header() {
    // C names are offrec_<object>; a CamelCase `Offrec...` name means a missing [export.rename].
    let h = committed();
    assert!(!h.contains("Offrec"), "a Rust type name leaked into include/offrec.h");
}
