"""Drift checks against include/offrec.h, parsed with a few regular expressions.

* every function in the header has a prototype in offrec._types.PROTOTYPES (and nothing
  extra), whose argtypes/restype equal the header's C types, and the loaded library's
  functions carry exactly those;
* the structs and callback types match field by field;
* every OFFREC_RESULT_* has an exception class, every enum constant (event codes, states,
  security, trust, options, not-sent reasons, protocols, strengths) and policy flag and
  preset is mapped with the same number;
* every #define is self-contained: it names nothing the header does not define;
* limits and versions agree with the header and Cargo.toml.
"""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, c_bool, c_char, c_char_p, c_int32, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import Any, Dict, List, Tuple

import pytest

import offrec
from offrec import _ffi, _types as T
from offrec.errors import ERROR_CLASSES, Result
from offrec.events import (
    EventCode,
    HandshakeFailure,
    KeyKind,
    MessageKind,
    NotSentReason,
    Option,
    OtrFileFormat,
    PersistFlag,
    Policy,
    Protocol,
    Security,
    SessionState,
    Strength,
    Text,
    Trust,
)

from conftest import PKG_ROOT, REPO_ROOT, header_text

# --- parsing --------------------------------------------------------------------------------


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _split_param(p: str) -> Tuple[str, str]:
    """'const char *const *later' -> ('const char *const *', 'later')."""
    m = re.match(r"^(.*?)(\w+)\s*$", p.strip(), flags=re.S)
    assert m, p
    return _canon(m.group(1)), m.group(2)


def _canon(t: str) -> str:
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*\*", " *", t)
    t = t.replace("* *", "**").replace("* const", "*const")
    return re.sub(r"\s+", " ", t).strip()


def parse_functions(text: str) -> Dict[str, Tuple[str, List[str], bool]]:
    """name -> (return type, [param types], optional: inside #if defined(OFFREC_TEST_HOOKS))."""
    src = _strip_comments(text)
    hooks = set()
    for block in re.findall(r"#if defined\(OFFREC_TEST_HOOKS\)(.*?)#endif", src, flags=re.S):
        hooks.update(re.findall(r"\b(offrec_\w+)\s*\(", block))
    out = {}
    for ret, name, params in re.findall(
        r"^((?:const )?[\w ]+?\s*\**)\s*\b(offrec_\w+)\(([^;{]*?)\);", src, flags=re.M | re.S
    ):
        params = params.strip()
        types = [] if params in ("", "void") else [_split_param(p)[0] for p in params.split(",")]
        out[name] = (_canon(ret), types, name in hooks)
    return out


def parse_structs(text: str) -> Dict[str, List[Tuple[str, str, Any]]]:
    """struct name -> [(field name, kind, detail)]: kind 'plain' (type) or 'fn' ((ret, [types]))."""
    src = _strip_comments(text)
    out: Dict[str, List[Tuple[str, str, Any]]] = {}
    for name, body in re.findall(r"typedef struct (\w+) \{(.*?)\} \w+;", src, flags=re.S):
        fields: List[Tuple[str, str, Any]] = []
        for decl in [d.strip() for d in body.split(";") if d.strip()]:
            decl = re.sub(r"\s+", " ", decl)
            fn = re.match(r"^(.*?)\(\*(\w+)\)\((.*)\)$", decl)
            if fn:
                types = [_split_param(p)[0] for p in fn.group(3).split(",")]
                fields.append((fn.group(2), "fn", (_canon(fn.group(1)), types)))
                continue
            arr = re.match(r"^(.*?)(\w+)\[(\d+)\]$", decl)
            if arr:
                fields.append((arr.group(2), "plain", (_canon(arr.group(1)), int(arr.group(3)))))
                continue
            t, n = _split_param(decl)
            fields.append((n, "plain", (t, None)))
        out[name] = fields
    return out


def parse_enums(text: str) -> Dict[str, Dict[str, int]]:
    src = _strip_comments(text)
    out = {}
    for name, body in re.findall(r"enum (offrec_\w+)\s*(?:#if.*?#endif)?\s*\{(.*?)\};", src, flags=re.S):
        prefix = name.upper() + "_"
        out[name] = {k[len(prefix):]: int(v) for k, v in re.findall(r"(OFFREC_\w+) = (\d+)", body)}
    return out


class _Unresolved(Exception):
    """A #define names something the header does not define (C code using it cannot compile)."""


def parse_defines(text: str) -> Tuple[Dict[str, int], Dict[str, str]]:
    """(values of the numeric OFFREC_* defines, {name: expression} of those naming unknowns)."""
    raw = dict(re.findall(r"^#define (OFFREC_\w+) (.+)$", text, flags=re.M))
    values: Dict[str, int] = {}
    unresolved: Dict[str, str] = {}

    def ev(name: str) -> int:
        if name not in raw:
            raise _Unresolved(name)
        if name not in values:
            expr = raw[name].strip()
            assert re.fullmatch(r"[\w\s()|*+]+", expr), expr
            expr = re.sub(r"OFFREC_\w+", lambda m: str(ev(m.group(0))), expr)
            stray = re.search(r"[A-Za-z_]\w*", expr)
            if stray:
                raise _Unresolved(stray.group(0))
            values[name] = int(eval(expr))
        return values[name]

    for name, value in raw.items():
        if not value.startswith('"'):
            try:
                ev(name)
            except _Unresolved:
                unresolved[name] = value.strip()
    return values, unresolved


# --- C type -> ctypes -----------------------------------------------------------------------

ARG_TYPES: Dict[str, Any] = {
    "void": None,
    "offrec_result": c_uint32,
    "const char *": c_char_p,
    "const uint8_t *": c_char_p,
    "char *": POINTER(c_char),
    "uint8_t *": POINTER(c_uint8),
    "size_t": c_size_t,
    "size_t *": POINTER(c_size_t),
    "const size_t *": POINTER(c_size_t),
    "uint32_t": c_uint32,
    "uint32_t *": POINTER(c_uint32),
    "uint64_t": c_uint64,
    "uint64_t *": POINTER(c_uint64),
    "offrec_trust *": POINTER(c_uint32),
    "offrec_session_state *": POINTER(c_uint32),
    "bool": c_bool,
    "bool *": POINTER(c_bool),
    "struct offrec_client *": c_void_p,
    "const struct offrec_client *": c_void_p,
    "struct offrec_client **": POINTER(c_void_p),
    "struct offrec_buffer *": POINTER(T.offrec_buffer),
    "struct offrec_session_info *": POINTER(T.offrec_session_info),
    "struct offrec_session_protocol *": POINTER(T.offrec_session_protocol),
    "struct offrec_known_key *": POINTER(T.offrec_known_key),
    "const struct offrec_callbacks *": POINTER(T.offrec_callbacks),
    "const struct offrec_tlv *": POINTER(T.offrec_tlv),
    "struct offrec_wire_messages *": POINTER(T.offrec_wire_messages),
    "struct offrec_incoming *": POINTER(T.offrec_incoming),
    "void *": c_void_p,
    "const char *const *": POINTER(c_char_p),
}

# In structs and callback parameters every data pointer is c_void_p (texts come with lengths).
FIELD_TYPES: Dict[str, Any] = {
    "void": None,
    "uint32_t": c_uint32,
    "int32_t": c_int32,
    "uint64_t": c_uint64,
    "size_t": c_size_t,
    "bool": c_bool,
    "uint8_t": c_uint8,
    "uint16_t": ctypes.c_uint16,
    "offrec_security": c_uint32,
    "struct offrec_buffer": T.offrec_buffer,
    "struct offrec_buffer *": POINTER(T.offrec_buffer),
    "offrec_session_state": c_uint32,
    "const char *": c_void_p,
    "const uint8_t *": c_void_p,
    "uint8_t *": c_void_p,
    "void *": c_void_p,
    "const struct offrec_event *": POINTER(T.offrec_event),
}

HEADER = header_text()
FUNCTIONS = parse_functions(HEADER)
STRUCTS = parse_structs(HEADER)
ENUMS = parse_enums(HEADER)
DEFINES, UNRESOLVED_DEFINES = parse_defines(HEADER)


def _arg(t: str) -> Any:
    assert t in ARG_TYPES, f"C type {t!r} has no ctypes mapping in the test: teach test_header.py"
    return ARG_TYPES[t]


def test_parser_sees_the_whole_api() -> None:
    assert len(FUNCTIONS) >= 38
    assert {"offrec_client_new", "offrec_forge", "offrec_version", "offrec_test_panic"} <= set(FUNCTIONS)
    assert FUNCTIONS["offrec_test_panic"][2] and not FUNCTIONS["offrec_client_new"][2]
    assert set(STRUCTS) == {
        "offrec_buffer", "offrec_event", "offrec_callbacks", "offrec_session_info", "offrec_session_protocol",
        "offrec_tlv", "offrec_wire_messages", "offrec_incoming",
        "offrec_known_key",
    }
    assert len(ENUMS["offrec_result"]) >= 28 and len(ENUMS["offrec_event_code"]) >= 28


def test_every_header_function_has_a_prototype() -> None:
    assert sorted(FUNCTIONS) == sorted(T.PROTOTYPES), "functions differ between header and _types.py"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_prototype_matches_header(name: str) -> None:
    ret, params, optional = FUNCTIONS[name]
    restype, argtypes, opt = T.PROTOTYPES[name]
    assert opt == optional
    assert restype is _arg(ret), f"{name}: restype"
    assert len(argtypes) == len(params), f"{name}: argument count"
    for i, (have, c_type) in enumerate(zip(argtypes, params)):
        assert have is _arg(c_type), f"{name} argument {i}: {c_type} -> {have}"
    # ... and the loaded library's function really carries them.
    lib = _ffi.lib()
    if optional and not hasattr(lib, name):
        return
    fn = getattr(lib, name)
    assert fn.restype is restype
    assert list(fn.argtypes) == list(argtypes)


def _field_ctype(detail: Tuple[str, Any]) -> Any:
    t, length = detail
    assert t in FIELD_TYPES, f"C field type {t!r} has no mapping in the test"
    base = FIELD_TYPES[t]
    return base * length if length else base


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_matches_header(name: str) -> None:
    cls = getattr(T, name)
    fields = STRUCTS[name]
    assert [f[0] for f in cls._fields_] == [f[0] for f in fields]
    for (fname, ftype), (_, kind, detail) in zip(cls._fields_, fields):
        if kind == "fn":
            ret, params = detail
            assert ftype._restype_ is _field_ctype((ret, None)), f"{name}.{fname} return"
            got = list(ftype._argtypes_)
            want = [_field_ctype((p, None)) for p in params]
            assert got == want, f"{name}.{fname} parameters"
        else:
            want = _field_ctype(detail)
            if detail[1]:
                assert ftype._type_ is want._type_ and ftype._length_ == want._length_
            else:
                assert ftype is want, f"{name}.{fname}"


# --- drift checks of codes and constants ----------------------------------------------------


def test_every_result_code_is_mapped() -> None:
    codes = ENUMS["offrec_result"]
    for name, value in codes.items():
        assert name in Result.__members__, f"OFFREC_RESULT_{name} missing from offrec.Result"
        assert Result[name] == value
        if value != 0:
            assert value in ERROR_CLASSES, f"OFFREC_RESULT_{name} ({value}) has no exception class"
            cls = ERROR_CLASSES[value]
            assert issubclass(cls, offrec.OffrecError) and cls is not offrec.OffrecError
    assert set(Result.__members__) == set(codes), "offrec.Result has codes the header lacks"
    assert len(set(ERROR_CLASSES.values())) == len(ERROR_CLASSES), "two codes share a class"


def test_result_messages_come_from_the_library() -> None:
    for value in ENUMS["offrec_result"].values():
        if value:
            err = offrec.errors.error_for(value)
            assert err.code == value and err.message and err.message != "unknown result code"


@pytest.mark.parametrize(
    "c_enum, py_enum",
    [
        ("offrec_event_code", EventCode),
        ("offrec_security", Security),
        ("offrec_session_state", SessionState),
        ("offrec_trust", Trust),
        ("offrec_option", Option),
        ("offrec_not_sent_reason", NotSentReason),
        ("offrec_persist_flag", PersistFlag),
        ("offrec_handshake_failure", HandshakeFailure),
        ("offrec_protocol", Protocol),
        ("offrec_strength", Strength),
        ("offrec_otr_file_format", OtrFileFormat),
        ("offrec_key_kind", KeyKind),
        ("offrec_text", Text),
        ("offrec_message_kind", MessageKind),
    ],
)
def test_every_enum_constant_is_mapped(c_enum: str, py_enum: Any) -> None:
    values = ENUMS[c_enum]
    assert values, c_enum
    for name, value in values.items():
        assert name in py_enum.__members__, f"{c_enum} {name} missing from {py_enum.__name__}"
        assert py_enum[name] == value
    assert set(py_enum.__members__) == set(values)


def test_defines_name_only_what_the_header_defines() -> None:
    # A macro that expands to a name the header lacks breaks every C program that uses it.
    assert not UNRESOLVED_DEFINES, f"#defines naming something undefined: {UNRESOLVED_DEFINES}"


def test_parser_sees_unresolved_defines() -> None:
    values, unresolved = parse_defines("#define OFFREC_A 1\n#define OFFREC_B (OFFREC_A | HIDDEN)\n")
    assert values == {"OFFREC_A": 1} and unresolved == {"OFFREC_B": "(OFFREC_A | HIDDEN)"}


def test_policy_flags_and_presets() -> None:
    names = [k[len("OFFREC_POLICY_"):] for k in re.findall(r"^#define (OFFREC_POLICY_\w+) ", HEADER, flags=re.M)]
    assert len(names) >= 13 and {"ALLOW_OTR_V3", "ALLOW_OTR_V2", "DOWNGRADE_GUARD", "REQUIRE_MODERN"} <= set(names)
    assert set(names) == set(Policy.__members__), "offrec.Policy and the header name different flags"
    for name in names:
        assert int(Policy[name]) == DEFINES["OFFREC_POLICY_" + name], name
    # The encrypting presets carry OTR v3/v2 as fallback with the guard, as libotr's do.
    fallback = Policy.ALLOW_OTR_V3 | Policy.ALLOW_OTR_V2 | Policy.DOWNGRADE_GUARD
    for preset in (Policy.MANUAL, Policy.OPPORTUNISTIC, Policy.ALWAYS):
        assert preset & fallback == fallback and not preset & Policy.REQUIRE_MODERN


def test_limits_and_versions() -> None:
    for name in ("MAX_NAME_LEN", "MAX_TEXT_LEN", "MAX_SMP_SECRET_LEN", "MAX_SMP_QUESTION_LEN",
                 "MAX_CONTEXT_LEN", "MAX_PASSPHRASE_LEN", "MAX_PATH_LEN", "MAX_FORGE_LATER",
                 "MAX_STORE_LEN", "TLV_APP_FIRST", "MAX_TLVS", "MAX_TLV_BYTES", "MAX_CUSTOM_TEXT_LEN"):
        assert getattr(offrec, name) == DEFINES["OFFREC_" + name], name
    assert offrec.FINGERPRINT_LEN == DEFINES["OFFREC_FINGERPRINT_LEN"]
    assert _ffi.ABI_VERSION == DEFINES["OFFREC_ABI_VERSION"]
    header_version = re.search(r'#define OFFREC_VERSION "([^"]+)"', HEADER).group(1)  # type: ignore[union-attr]
    cargo_version = re.search(r'^version = "([^"]+)"', (REPO_ROOT / "Cargo.toml").read_text(), re.M).group(1)  # type: ignore[union-attr]
    # The package's version is its cdylib crate's (pyproject.toml: dynamic, from native/Cargo.toml).
    py_version = re.search(r'^version = "([^"]+)"', (PKG_ROOT / "native" / "Cargo.toml").read_text(), re.M).group(1)  # type: ignore[union-attr]
    assert offrec.version() == header_version == cargo_version == py_version == offrec.__version__
