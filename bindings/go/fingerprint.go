package offrec

// #include "offrec.h"
import "C"

import (
	"encoding/hex"
	"unsafe"
)

// FingerprintLen is the length in bytes of a fingerprint, a session id and an extra key.
const FingerprintLen = C.OFFREC_FINGERPRINT_LEN

// Fingerprint identifies a long-term identity key (32 bytes).
type Fingerprint [FingerprintLen]byte

// String formats the fingerprint as eight groups of eight upper-case hex digits, the way the
// library shows it (offrec_fingerprint_format), for comparing out of band.
func (f Fingerprint) String() string {
	var buf [C.OFFREC_FINGERPRINT_TEXT_SIZE]C.char
	var n C.size_t
	r := C.offrec_fingerprint_format((*C.uint8_t)(unsafe.Pointer(&f[0])), &buf[0], C.size_t(len(buf)), &n)
	if r != C.OFFREC_RESULT_OK || n == 0 {
		return hex.EncodeToString(f[:])
	}
	return C.GoStringN(&buf[0], C.int(n-1))
}

// Hex returns the fingerprint as 64 lower-case hex digits, no spaces.
func (f Fingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// ParseFingerprint accepts 64 hex digits, with or without spaces, in either case.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	clean := make([]byte, 0, 64)
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			clean = append(clean, s[i])
		}
	}
	if len(clean) != 2*FingerprintLen {
		return f, &Error{Code: ResultInvalidArgument, Message: "a fingerprint is 64 hex digits", Op: "ParseFingerprint"}
	}
	if _, err := hex.Decode(f[:], clean); err != nil {
		return f, &Error{Code: ResultInvalidArgument, Message: err.Error(), Op: "ParseFingerprint"}
	}
	return f, nil
}

// SSID is a session id (32 bytes); both ends of a session see the same one.
type SSID [FingerprintLen]byte

// String formats the session id for reading aloud: the first 8 bytes as two groups of eight
// lower-case hex digits (offrec_ssid_format).
func (s SSID) String() string {
	var buf [C.OFFREC_SSID_TEXT_SIZE]C.char
	var n C.size_t
	r := C.offrec_ssid_format((*C.uint8_t)(unsafe.Pointer(&s[0])), &buf[0], C.size_t(len(buf)), &n)
	if r != C.OFFREC_RESULT_OK || n == 0 {
		return hex.EncodeToString(s[:8])
	}
	return C.GoStringN(&buf[0], C.int(n-1))
}
