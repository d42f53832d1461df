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

/// Every `extern "C"` function of src/ffi, read from the sources (independently of the
/// generator in build_support/fn_typedefs.rs), with whether it is a test hook.
fn exported_functions() -> Vec<(String, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = read(&entry.unwrap().path());
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(at) = line.find("extern \"C\" fn ") else { continue };
            if !line.trim_start().starts_with("pub") {
                continue;
            }
            let rest = &line[at + "extern \"C\" fn ".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let hook = lines[..i].iter().rev().take(4).any(|l| l.contains("feature = \"test-hooks\""));
            found.push((name, hook));
        }
    }
    found
}

#[test]
fn every_function_has_a_function_pointer_typedef() {
    let h = committed();
    let functions = exported_functions();
    assert!(functions.len() > 60, "the source scan found only {functions:?}");
    for (name, _) in &functions {
        let typedef = format!("(*{name}_fn)(");
        assert!(h.contains(&typedef), "include/offrec.h has no typedef {name}_fn: run `make header`");
        let declared = h.contains(&format!(" {name}(")) || h.contains(&format!("*{name}("));
        assert!(declared, "include/offrec.h does not declare {name}");
    }
    // And nothing else: one typedef per function.
    assert_eq!(h.matches("_fn)(").count(), functions.len());
    // The test hooks' typedefs are guarded like their declarations.
    for (name, hook) in functions {
        if hook {
            let at = h.find(&format!("(*{name}_fn)(")).unwrap();
            let before = &h[..at];
            assert!(before.rfind("#if defined(OFFREC_TEST_HOOKS)") > before.rfind("#endif"), "{name}_fn unguarded");
        }
    }
}

#[test]
fn every_enum_constant_has_its_name() {
    use offrec::ffi::names::*;
    type NameFn = extern "C" fn(u32) -> *const std::ffi::c_char;
    let tables: [(&str, NameFn); 8] = [
        ("OFFREC_EVENT_CODE_", offrec_event_name),
        ("OFFREC_SESSION_STATE_", offrec_state_name),
        ("OFFREC_TRUST_", offrec_trust_name),
        ("OFFREC_HANDSHAKE_FAILURE_", offrec_handshake_failure_name),
        ("OFFREC_NOT_SENT_REASON_", offrec_not_sent_reason_name),
        ("OFFREC_PROTOCOL_", offrec_protocol_name),
        ("OFFREC_KEY_KIND_", offrec_key_kind_name),
        ("OFFREC_MESSAGE_KIND_", offrec_message_kind_name),
    ];
    let h = committed();
    for (prefix, name_of) in tables {
        let mut seen = 0;
        for line in h.lines() {
            let Some(rest) = line.trim().strip_prefix(prefix) else { continue };
            let Some((constant, value)) = rest.split_once(" = ") else { continue };
            let value: u32 = value.trim_end_matches(',').parse().unwrap();
            // SAFETY: the name functions return static NUL-terminated strings.
            let name = unsafe { std::ffi::CStr::from_ptr(name_of(value)) }.to_str().unwrap();
            assert_eq!(name, constant.to_ascii_lowercase(), "{prefix}{constant} = {value}");
            seen += 1;
        }
        assert!(seen >= 2, "no {prefix} constants found");
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(name_of(9999)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown");
    }
}
