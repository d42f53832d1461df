package offrec

// #include "offrec.h"
import "C"

import (
	"errors"
	"fmt"
)

// Result is a result code of the C API (offrec_result). Numbers are stable and never reused;
// a library newer than this package may return codes it does not name.
type Result uint32

// Result codes, with the same numbers as include/offrec.h (checked at compile time in
// drift.go and against the header by TestHeaderDrift).
const (
	ResultOK                      Result = 0
	ResultNullArgument            Result = 1
	ResultInvalidArgument         Result = 2
	ResultBufferTooSmall          Result = 3
	ResultPanic                   Result = 4
	ResultInvalidUTF8             Result = 5
	ResultOutOfMemory             Result = 6
	ResultUnknownEnumValue        Result = 7
	ResultNoSession               Result = 100
	ResultNotEncrypted            Result = 101
	ResultSessionFinished         Result = 102
	ResultPolicyForbids           Result = 103
	ResultSMPInProgress           Result = 104
	ResultRandomFailed            Result = 105
	ResultStoreError              Result = 106
	ResultMessageTooLarge         Result = 107
	ResultUnknownPeer             Result = 108
	ResultQueueFull               Result = 109
	ResultSMPRateLimited          Result = 110
	ResultSMPError                Result = 111
	ResultInvalidPolicy           Result = 112
	ResultNotADataMessage         Result = 113
	ResultNoMatchingReveal        Result = 114
	ResultTextDoesNotFit          Result = 115
	ResultStoreNotFound           Result = 116
	ResultStoreWrongKey           Result = 117
	ResultStoreCorrupted          Result = 118
	ResultStoreUnsupportedVersion Result = 119
	ResultStoreWrongAccount       Result = 121
	ResultStoreNotAFile           Result = 122
	ResultNoOTRKey                Result = 123
	ResultImportMalformed         Result = 128
	ResultImportInvalidKey        Result = 129
	ResultImportNoAccount         Result = 130
	ResultImportIO                Result = 131
	ResultImportKeyExists         Result = 132
	ResultImportInUse             Result = 133
	ResultTLVTypeReserved         Result = 144 // an application TLV type below TLVAppFirst
	ResultTooManyTLVs             Result = 145 // more than MaxTLVs application TLVs
	ResultTLVsUnsupported         Result = 146 // the session (OTR v2) cannot carry application TLVs
	ResultKeyInUse                Result = 136
	ResultUnknownKey              Result = 137
	ResultSessionActive           Result = 138
	ResultInvalidText             Result = 139
)

// resultNames maps every code to its name in the header (after OFFREC_RESULT_). The drift test
// fails when the header has a code missing here, or a different number.
var resultNames = map[Result]string{
	ResultOK:                      "OK",
	ResultNullArgument:            "NULL_ARGUMENT",
	ResultInvalidArgument:         "INVALID_ARGUMENT",
	ResultBufferTooSmall:          "BUFFER_TOO_SMALL",
	ResultPanic:                   "PANIC",
	ResultInvalidUTF8:             "INVALID_UTF8",
	ResultOutOfMemory:             "OUT_OF_MEMORY",
	ResultUnknownEnumValue:        "UNKNOWN_ENUM_VALUE",
	ResultNoSession:               "NO_SESSION",
	ResultNotEncrypted:            "NOT_ENCRYPTED",
	ResultSessionFinished:         "SESSION_FINISHED",
	ResultPolicyForbids:           "POLICY_FORBIDS",
	ResultSMPInProgress:           "SMP_IN_PROGRESS",
	ResultRandomFailed:            "RANDOM_FAILED",
	ResultStoreError:              "STORE_ERROR",
	ResultMessageTooLarge:         "MESSAGE_TOO_LARGE",
	ResultUnknownPeer:             "UNKNOWN_PEER",
	ResultQueueFull:               "QUEUE_FULL",
	ResultSMPRateLimited:          "SMP_RATE_LIMITED",
	ResultSMPError:                "SMP_ERROR",
	ResultInvalidPolicy:           "INVALID_POLICY",
	ResultNotADataMessage:         "NOT_A_DATA_MESSAGE",
	ResultNoMatchingReveal:        "NO_MATCHING_REVEAL",
	ResultTextDoesNotFit:          "TEXT_DOES_NOT_FIT",
	ResultStoreNotFound:           "STORE_NOT_FOUND",
	ResultStoreWrongKey:           "STORE_WRONG_KEY",
	ResultStoreCorrupted:          "STORE_CORRUPTED",
	ResultStoreUnsupportedVersion: "STORE_UNSUPPORTED_VERSION",
	ResultStoreWrongAccount:       "STORE_WRONG_ACCOUNT",
	ResultStoreNotAFile:           "STORE_NOT_A_FILE",
	ResultNoOTRKey:                "NO_OTR_KEY",
	ResultImportMalformed:         "IMPORT_MALFORMED",
	ResultImportInvalidKey:        "IMPORT_INVALID_KEY",
	ResultImportNoAccount:         "IMPORT_NO_ACCOUNT",
	ResultImportIO:                "IMPORT_IO",
	ResultImportKeyExists:         "IMPORT_KEY_EXISTS",
	ResultImportInUse:             "IMPORT_IN_USE",
	ResultTLVTypeReserved:         "TLV_TYPE_RESERVED",
	ResultTooManyTLVs:             "TOO_MANY_TLVS",
	ResultTLVsUnsupported:         "TLVS_UNSUPPORTED",
	ResultKeyInUse:                "KEY_IN_USE",
	ResultUnknownKey:              "UNKNOWN_KEY",
	ResultSessionActive:           "SESSION_ACTIVE",
	ResultInvalidText:             "INVALID_TEXT",
}

// String returns the header's name of the code, such as "NO_SESSION", or "Result(n)".
func (r Result) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Result(%d)", uint32(r))
}

// Message returns the library's English description of the code (offrec_result_message;
// "unknown result code" for numbers it does not know).
func (r Result) Message() string {
	return C.GoString(C.offrec_result_message(C.uint32_t(r)))
}

// Error is an error returned by the library: its result code, the library's description of it,
// and the operation (method name) that failed. Compare with errors.Is against the sentinels
// (ErrNoSession, ...): two *Error values match when their codes are equal.
type Error struct {
	Code    Result
	Message string
	Op      string
}

// Error returns "offrec: <Op>: <message> (<CODE>)", or without Op for sentinels.
func (e *Error) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("offrec: %s (%s)", e.Message, e.Code)
	}
	return fmt.Sprintf("offrec: %s: %s (%s)", e.Op, e.Message, e.Code)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

func sentinel(code Result) *Error { return &Error{Code: code, Message: code.Message()} }

// Sentinel errors, one per result code, for errors.Is.
var (
	ErrNullArgument            = sentinel(ResultNullArgument)
	ErrInvalidArgument         = sentinel(ResultInvalidArgument)
	ErrBufferTooSmall          = sentinel(ResultBufferTooSmall)
	ErrPanic                   = sentinel(ResultPanic)
	ErrInvalidUTF8             = sentinel(ResultInvalidUTF8)
	ErrOutOfMemory             = sentinel(ResultOutOfMemory)
	ErrUnknownEnumValue        = sentinel(ResultUnknownEnumValue)
	ErrNoSession               = sentinel(ResultNoSession)
	ErrNotEncrypted            = sentinel(ResultNotEncrypted)
	ErrSessionFinished         = sentinel(ResultSessionFinished)
	ErrPolicyForbids           = sentinel(ResultPolicyForbids)
	ErrSMPInProgress           = sentinel(ResultSMPInProgress)
	ErrRandomFailed            = sentinel(ResultRandomFailed)
	ErrStoreError              = sentinel(ResultStoreError)
	ErrMessageTooLarge         = sentinel(ResultMessageTooLarge)
	ErrUnknownPeer             = sentinel(ResultUnknownPeer)
	ErrQueueFull               = sentinel(ResultQueueFull)
	ErrSMPRateLimited          = sentinel(ResultSMPRateLimited)
	ErrSMPError                = sentinel(ResultSMPError)
	ErrInvalidPolicy           = sentinel(ResultInvalidPolicy)
	ErrNotADataMessage         = sentinel(ResultNotADataMessage)
	ErrNoMatchingReveal        = sentinel(ResultNoMatchingReveal)
	ErrTextDoesNotFit          = sentinel(ResultTextDoesNotFit)
	ErrStoreNotFound           = sentinel(ResultStoreNotFound)
	ErrStoreWrongKey           = sentinel(ResultStoreWrongKey)
	ErrStoreCorrupted          = sentinel(ResultStoreCorrupted)
	ErrStoreUnsupportedVersion = sentinel(ResultStoreUnsupportedVersion)
	ErrStoreWrongAccount       = sentinel(ResultStoreWrongAccount)
	ErrStoreNotAFile           = sentinel(ResultStoreNotAFile)
	// ErrNoOTRKey: the client has no OTR DSA key yet (Client.GenerateOTRKey makes one).
	ErrNoOTRKey = sentinel(ResultNoOTRKey)
	// ErrImportMalformed: a libotr or potr file is malformed, truncated, too large or not of
	// the expected kind; nothing was imported.
	ErrImportMalformed = sentinel(ResultImportMalformed)
	// ErrImportInvalidKey: the key fails the DSA checks; nothing was imported.
	ErrImportInvalidKey = sentinel(ResultImportInvalidKey)
	// ErrImportNoAccount: the file has no single entry for the account; name it (OTRAccount).
	ErrImportNoAccount = sentinel(ResultImportNoAccount)
	// ErrImportIO: an OTR file could not be read or written.
	ErrImportIO = sentinel(ResultImportIO)
	// ErrImportKeyExists: the client already has another OTR key; pass replace to replace it.
	ErrImportKeyExists = sentinel(ResultImportKeyExists)
	// ErrImportInUse: an instance tag can only be imported into a client without conversations.
	ErrImportInUse = sentinel(ResultImportInUse)
	// ErrTLVTypeReserved: an application TLV's type is below TLVAppFirst (the protocols' own).
	ErrTLVTypeReserved = sentinel(ResultTLVTypeReserved)
	// ErrTooManyTLVs: more application TLVs in one message than MaxTLVs.
	ErrTooManyTLVs = sentinel(ResultTooManyTLVs)
	// ErrTLVsUnsupported: the session is OTR v2 (python-potr fails on unknown TLVs).
	ErrTLVsUnsupported = sentinel(ResultTLVsUnsupported)
	// ErrKeyInUse: a live encrypted session uses the key; end it before forgetting the key.
	ErrKeyInUse = sentinel(ResultKeyInUse)
	// ErrUnknownKey: the peer has no such key.
	ErrUnknownKey = sentinel(ResultUnknownKey)
	// ErrSessionActive: an encrypted session with the peer is live; end it before forgetting
	// the peer.
	ErrSessionActive = sentinel(ResultSessionActive)
	// ErrInvalidText: a text for SetText holds a control character (other than a line feed)
	// or a protocol marker (?OTR, ?OFR).
	ErrInvalidText = sentinel(ResultInvalidText)
)

// Errors of the binding itself (no library call was made).
var (
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("offrec: client is closed")
	// ErrCloseInCallback: Close was called from inside one of the client's own callbacks,
	// which would free it while the library is still using it.
	ErrCloseInCallback = errors.New("offrec: Close called from inside a callback of the same client")
)

// check turns a result code into nil or an *Error.
func check(op string, r C.offrec_result) error {
	if r == C.OFFREC_RESULT_OK {
		return nil
	}
	code := Result(r)
	return &Error{Code: code, Message: code.Message(), Op: op}
}
