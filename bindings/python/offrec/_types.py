"""ctypes mirrors of the C structs and callback types in include/offrec.h.

Pointer fields and callback pointer arguments are ``c_void_p`` on purpose: texts may contain
NUL bytes and always come with a length, so they are copied out with ``ctypes.string_at``
(``c_char_p`` would stop at the first NUL). ``tests/test_header.py`` checks every struct and
callback here against the header, field by field.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int32,
    c_size_t,
    c_uint16,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)


class offrec_buffer(Structure):
    """A library-allocated byte buffer; release it with ``offrec_buffer_free``."""

    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class offrec_event(Structure):
    """An event as the C callback sees it: every pointer is borrowed for the callback only."""

    _fields_ = [
        ("code", c_uint32),
        ("peer", c_void_p),
        ("peer_len", c_size_t),
        ("instance", c_uint32),
        ("message_id", c_uint64),
        ("reason", c_uint32),
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("fingerprint", c_void_p),
        ("old_fingerprint", c_void_p),
        ("old_was_verified", c_bool),
        ("usage", c_uint32),
        ("context", c_void_p),
        ("context_len", c_size_t),
        ("key", c_void_p),
    ]


# Callback types, in the order of the struct offrec_callbacks fields.
SEND_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t)
DELIVER_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_uint32, c_void_p, c_size_t, c_uint32)
STATE_CHANGED_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_uint32, c_uint32)
EVENT_FN = CFUNCTYPE(None, c_void_p, POINTER(offrec_event))
MAX_MESSAGE_SIZE_FN = CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_size_t)
NOW_FN = CFUNCTYPE(c_uint64, c_void_p)
IS_LOGGED_IN_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t)


class offrec_callbacks(Structure):
    """The application's callbacks; NULL (None) entries are optional ones left out."""

    _fields_ = [
        ("send", SEND_FN),
        ("deliver", DELIVER_FN),
        ("state_changed", STATE_CHANGED_FN),
        ("event", EVENT_FN),
        ("max_message_size", MAX_MESSAGE_SIZE_FN),
        ("now", NOW_FN),
        ("is_logged_in", IS_LOGGED_IN_FN),
    ]


class offrec_session_info(Structure):
    """What ``offrec_client_session_info`` fills in."""

    _fields_ = [
        ("instance", c_uint32),
        ("state", c_uint32),
        ("their_fingerprint", c_uint8 * 32),
        ("ssid", c_uint8 * 32),
        ("we_initiated", c_bool),
        ("smp_in_progress", c_bool),
    ]


class offrec_session_protocol(Structure):
    """What ``offrec_client_session_protocol`` fills in."""

    _fields_ = [
        ("instance", c_uint32),
        ("protocol", c_uint32),
        ("strength", c_uint32),
        ("has_otr_fingerprint", c_bool),
        ("their_otr_fingerprint", c_uint8 * 20),
        ("otr_ssid", c_uint8 * 8),
        ("otr_ssid_first_half_bold", c_bool),
    ]


class offrec_tlv(Structure):
    """One application TLV for ``offrec_client_send_tlvs`` (borrowed by the call only)."""

    _fields_ = [("type", c_uint16), ("data", c_void_p), ("len", c_size_t)]


class offrec_wire_messages(Structure):
    """Wire messages from ``offrec_client_send_inplace``; free with ``offrec_wire_messages_free``."""

    _fields_ = [("messages", POINTER(offrec_buffer)), ("count", c_size_t)]


class offrec_incoming(Structure):
    """What ``offrec_client_receive_inplace`` says about a line; ``text`` is freed with
    ``offrec_buffer_free``."""

    _fields_ = [("ignore", c_bool), ("text", offrec_buffer), ("instance", c_uint32), ("security", c_uint32)]


class offrec_known_key(Structure):
    """What ``offrec_client_known_key_info`` fills in."""

    _fields_ = [
        ("key_id", c_uint8 * 32),
        ("trust", c_uint32),
        ("kind", c_uint32),
        ("fingerprint", c_uint8 * 32),
        ("fingerprint_len", c_size_t),
    ]


# Opaque client handle: a plain address.
CLIENT_P = c_void_p
CLIENT_PP = POINTER(c_void_p)
BYTES_IN = c_char_p  # const uint8_t * / const char * inputs: bytes or None
U8_OUT = POINTER(c_uint8)  # uint8_t * outputs: (c_uint8 * N)()
CHAR_OUT = POINTER(ctypes.c_char)  # char * outputs: ctypes.create_string_buffer(N)
SIZE_P = POINTER(c_size_t)
U32_P = POINTER(c_uint32)
U64_P = POINTER(c_uint64)
BUFFER_P = POINTER(offrec_buffer)
CALLBACKS_P = POINTER(offrec_callbacks)
SESSION_INFO_P = POINTER(offrec_session_info)
SESSION_PROTOCOL_P = POINTER(offrec_session_protocol)
BOOL_P = POINTER(c_bool)
TLV_P = POINTER(offrec_tlv)
WIRE_MESSAGES_P = POINTER(offrec_wire_messages)
INCOMING_P = POINTER(offrec_incoming)
KNOWN_KEY_P = POINTER(offrec_known_key)
R = c_uint32  # offrec_result

# Every function of the header: name -> (restype, argtypes, optional). Optional functions are the
# test hooks (#if defined(OFFREC_TEST_HOOKS)), exported only by test builds of the library.
PROTOTYPES: dict[str, tuple[object, list[object], bool]] = {
    "offrec_buffer_free": (None, [BUFFER_P], False),
    "offrec_client_new": (
        R,
        [BYTES_IN, c_size_t, BYTES_IN, c_size_t, c_uint32, CALLBACKS_P, c_void_p, CLIENT_PP],
        False,
    ),
    "offrec_client_new_with_identity": (
        R,
        [
            BYTES_IN, c_size_t, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_uint32,
            CALLBACKS_P, c_void_p, CLIENT_PP,
        ],
        False,
    ),
    "offrec_client_free": (None, [CLIENT_P], False),
    "offrec_client_send": (R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, U64_P], False),
    "offrec_client_send_to_instance": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, U64_P], False,
    ),
    "offrec_client_receive": (R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t], False),
    "offrec_client_start_session": (R, [CLIENT_P, BYTES_IN, c_size_t], False),
    "offrec_client_end_session": (R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32], False),
    "offrec_client_accept_key": (R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32], False),
    "offrec_client_tick": (R, [CLIENT_P], False),
    "offrec_client_set_policy": (R, [CLIENT_P, c_uint32], False),
    "offrec_client_set_option": (R, [CLIENT_P, c_uint32, c_uint64], False),
    "offrec_client_set_max_message_size": (R, [CLIENT_P, BYTES_IN, c_size_t, c_size_t], False),
    "offrec_client_session_state": (R, [CLIENT_P, BYTES_IN, c_size_t, U32_P], False),
    "offrec_client_session_count": (R, [CLIENT_P, BYTES_IN, c_size_t, SIZE_P], False),
    "offrec_client_session_info": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_size_t, SESSION_INFO_P], False,
    ),
    "offrec_client_fingerprint": (R, [CLIENT_P, U8_OUT], False),
    "offrec_client_instance_tag": (R, [CLIENT_P, U32_P], False),
    "offrec_client_account": (R, [CLIENT_P, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_client_identity_secret": (R, [CLIENT_P, U8_OUT], False),
    "offrec_client_extra_symmetric_key": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, c_uint32, BYTES_IN, c_size_t, U8_OUT], False,
    ),
    "offrec_test_client_panic_next": (R, [CLIENT_P], True),
    "offrec_test_client_set_otr_key": (
        R,
        [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, c_size_t],
        True,
    ),
    "offrec_test_client_queue_random": (R, [CLIENT_P, BYTES_IN, c_size_t], True),
    "offrec_test_client_queued_random_left": (R, [CLIENT_P, SIZE_P], True),
    "offrec_test_client_send_otr_smp": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, c_uint32, BYTES_IN, c_size_t], True,
    ),
    "offrec_forge": (
        R,
        [
            BYTES_IN, c_size_t, POINTER(c_char_p), SIZE_P, c_size_t,
            BYTES_IN, c_size_t, BYTES_IN, c_size_t, BUFFER_P,
        ],
        False,
    ),
    "offrec_test_panic": (R, [], True),
    "offrec_result_message": (c_char_p, [c_uint32], False),
    "offrec_client_smp_start": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, BYTES_IN, c_size_t], False,
    ),
    "offrec_client_smp_respond": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t], False,
    ),
    "offrec_client_smp_abort": (R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32], False),
    "offrec_client_save": (R, [CLIENT_P, BYTES_IN, BYTES_IN, c_size_t, BUFFER_P], False),
    "offrec_client_load": (
        R,
        [BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, BYTES_IN, c_size_t, c_uint32, CALLBACKS_P, c_void_p, CLIENT_PP],
        False,
    ),
    "offrec_client_save_to_dir": (
        R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, BYTES_IN, c_size_t], False,
    ),
    "offrec_client_load_from_dir": (
        R,
        [BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, BYTES_IN, c_size_t, c_uint32, CALLBACKS_P, c_void_p, CLIENT_PP],
        False,
    ),
    "offrec_fingerprint_format": (R, [BYTES_IN, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_ssid_format": (R, [BYTES_IN, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_client_set_trust": (R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_uint32], False),
    "offrec_client_trust": (R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, U32_P], False),
    "offrec_client_known_key_count": (R, [CLIENT_P, BYTES_IN, c_size_t, SIZE_P], False),
    "offrec_client_known_key": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_size_t, U8_OUT, U32_P], False,
    ),
    "offrec_version": (c_char_p, [], False),
    "offrec_client_session_protocol": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_size_t, SESSION_PROTOCOL_P], False,
    ),
    "offrec_client_generate_otr_key": (R, [CLIENT_P, U8_OUT], False),
    "offrec_client_otr_fingerprint": (R, [CLIENT_P, U8_OUT], False),
    "offrec_otr_fingerprint_format": (R, [BYTES_IN, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_key_id_is_otr": (R, [BYTES_IN, U8_OUT, BOOL_P], False),
    "offrec_client_import_otr_key": (
        R,
        [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, BYTES_IN, c_size_t, c_bool, U8_OUT],
        False,
    ),
    "offrec_client_import_otr_fingerprints": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, BYTES_IN, c_size_t, SIZE_P], False,
    ),
    "offrec_client_import_otr_instance_tag": (
        R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, BYTES_IN, c_size_t, U32_P], False,
    ),
    "offrec_client_export_otr_key": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, BYTES_IN, c_size_t], False,
    ),
    "offrec_client_export_otr_fingerprints": (
        R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32, BYTES_IN, c_size_t, BYTES_IN, c_size_t, SIZE_P], False,
    ),
    "offrec_client_send_tlvs": (
        R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, TLV_P, c_size_t, U64_P], False,
    ),
    "offrec_client_send_inplace": (
        R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, WIRE_MESSAGES_P, U64_P], False,
    ),
    "offrec_client_receive_inplace": (
        R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN, c_size_t, INCOMING_P], False,
    ),
    "offrec_wire_messages_free": (None, [WIRE_MESSAGES_P], False),
    # Peers and keys, per-peer policies, texts, classification, names.
    "offrec_client_peer_count": (R, [CLIENT_P, SIZE_P], False),
    "offrec_client_peer": (R, [CLIENT_P, c_size_t, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_client_known_key_info": (R, [CLIENT_P, BYTES_IN, c_size_t, c_size_t, KNOWN_KEY_P], False),
    "offrec_client_forget_key": (R, [CLIENT_P, BYTES_IN, c_size_t, BYTES_IN], False),
    "offrec_client_forget_peer": (R, [CLIENT_P, BYTES_IN, c_size_t], False),
    "offrec_client_set_peer_policy": (R, [CLIENT_P, BYTES_IN, c_size_t, c_uint32], False),
    "offrec_client_clear_peer_policy": (R, [CLIENT_P, BYTES_IN, c_size_t], False),
    "offrec_client_peer_policy": (R, [CLIENT_P, BYTES_IN, c_size_t, U32_P, BOOL_P], False),
    "offrec_client_set_text": (R, [CLIENT_P, c_uint32, BYTES_IN, c_size_t], False),
    "offrec_client_text": (R, [CLIENT_P, c_uint32, CHAR_OUT, c_size_t, SIZE_P], False),
    "offrec_classify": (R, [BYTES_IN, c_size_t, U32_P], False),
    "offrec_event_name": (c_char_p, [c_uint32], False),
    "offrec_state_name": (c_char_p, [c_uint32], False),
    "offrec_trust_name": (c_char_p, [c_uint32], False),
    "offrec_handshake_failure_name": (c_char_p, [c_uint32], False),
    "offrec_not_sent_reason_name": (c_char_p, [c_uint32], False),
    "offrec_protocol_name": (c_char_p, [c_uint32], False),
    "offrec_key_kind_name": (c_char_p, [c_uint32], False),
    "offrec_message_kind_name": (c_char_p, [c_uint32], False),
}
