package offrec

// Moving from libotr or python-potr and back (MIGRATING.md): import the user's OTR DSA key,
// the fingerprints they trust and, on the same device only, their instance tag; export
// offrec's DSA key and OTR trust in the same formats. Imports are all or nothing: on any
// error the client is unchanged. Exports merge into an existing target (other accounts'
// entries are kept) and replace it atomically with a file of mode 0600.

// #include "offrec.h"
import "C"

import "unsafe"

// OTRFileFormat names which program's key and trust files (offrec_otr_file_format).
type OTRFileFormat uint32

const (
	// OTRFileLibotr: libotr's files, Pidgin's otr.private_key, otr.fingerprints and
	// otr.instance_tags, irssi-otr's otr.key, otr.fp and otr.instag.
	OTRFileLibotr OTRFileFormat = 1
	// OTRFilePotr: python-potr's files, weechat-otr's and Gajim's <account>.key3 and
	// <account>.fpr.
	OTRFilePotr OTRFileFormat = 2
)

var otrFileFormatNames = map[OTRFileFormat]string{
	OTRFileLibotr: "LIBOTR",
	OTRFilePotr:   "POTR",
}

// String returns the lower-case name, such as "libotr".
func (f OTRFileFormat) String() string { return lowerName(otrFileFormatNames, f, "OTRFileFormat") }

// OTRAccount names an account as a libotr or potr file writes it: Name such as
// "nick@irc.libera.chat" and Protocol such as "IRC" for irssi-otr, "prpl-jabber" for Pidgin's
// XMPP. Empty fields mean the client's own account and network, compared as the handshake
// compares names (case, an XMPP resource, "prpl-jabber" = "xmpp"). On export, an empty
// Protocol writes Pidgin's id for the client's network ("prpl-jabber", "prpl-<network>") in
// libotr files and the network itself in potr files.
type OTRAccount struct {
	Name     string
	Protocol string
}

// ImportOTRKey imports our OTR DSA key from a libotr key file (the account named, by default
// the client's own) or a potr .key3 file, after every DSA check, and returns its fingerprint:
// show it (OTRFingerprint.String) so the user can compare it with what Pidgin showed. If the
// client already has another OTR key, replace must be true (ErrImportKeyExists otherwise).
// Errors (errors.Is): ErrImportIO, ErrImportMalformed, ErrImportInvalidKey,
// ErrImportNoAccount, ErrImportKeyExists. Save the client afterwards.
func (c *Client) ImportOTRKey(path string, format OTRFileFormat, account OTRAccount, replace bool) (OTRFingerprint, error) {
	var f OTRFingerprint
	err := c.call("ImportOTRKey", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		ph, pl := cstr(path)
		a, al := cstr(account.Name)
		pr, prl := cstr(account.Protocol)
		return goImportOTRKey(frame, p, ph, pl, C.uint32_t(format), a, al, pr, prl, C.bool(replace),
			(*C.uint8_t)(unsafe.Pointer(&f[0])))
	})
	if err != nil {
		return OTRFingerprint{}, err
	}
	return f, nil
}

// ImportOTRFingerprints imports the trust of a libotr otr.fingerprints or potr .fpr file for
// the account named (by default the client's own) and returns how many of the account's keys
// are now in the trust store. An empty trust string is TrustUnverified, "smp"
// TrustVerifiedSMP, anything else ("verified", "manual") TrustVerifiedManual; trust is only
// raised, never lowered. Sessions whose key became verified report it through StateChanged.
func (c *Client) ImportOTRFingerprints(path string, format OTRFileFormat, account OTRAccount) (int, error) {
	var n C.size_t
	err := c.call("ImportOTRFingerprints", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		ph, pl := cstr(path)
		a, al := cstr(account.Name)
		pr, prl := cstr(account.Protocol)
		return goImportOTRFingerprints(frame, p, ph, pl, C.uint32_t(format), a, al, pr, prl, &n)
	})
	return int(n), err
}

// ImportOTRInstanceTag imports our instance tag from a libotr otr.instance_tags file and
// returns it. Only when offrec replaces that libotr client on the same device, and only into a
// client without conversations (ErrImportInUse otherwise): never copy a tag to another device.
func (c *Client) ImportOTRInstanceTag(path string, account OTRAccount) (uint32, error) {
	var tag C.uint32_t
	err := c.call("ImportOTRInstanceTag", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		ph, pl := cstr(path)
		a, al := cstr(account.Name)
		pr, prl := cstr(account.Protocol)
		return goImportOTRInstanceTag(frame, p, ph, pl, a, al, pr, prl, &tag)
	})
	return uint32(tag), err
}

// ExportOTRKey writes our OTR DSA key to path as a libotr key file (otrl_privkey_read loads
// it; other accounts of an existing file are kept) or a potr .key3 file, mode 0600, replaced
// atomically. ErrNoOTRKey if the client has no OTR key.
func (c *Client) ExportOTRKey(path string, format OTRFileFormat, account OTRAccount) error {
	return c.query("ExportOTRKey", func(p *C.offrec_client) C.offrec_result {
		ph, pl := cstr(path)
		a, al := cstr(account.Name)
		pr, prl := cstr(account.Protocol)
		return C.offrec_client_export_otr_key(p, ph, pl, C.uint32_t(format), a, al, pr, prl)
	})
}

// ExportOTRFingerprints writes the OTR keys of the trust store to path as a libotr
// otr.fingerprints or potr .fpr file (trust "smp", "verified" or empty; other accounts' lines
// of an existing file are kept) and returns the number of lines written. offrec's own keys are
// left out.
func (c *Client) ExportOTRFingerprints(path string, format OTRFileFormat, account OTRAccount) (int, error) {
	var n C.size_t
	err := c.query("ExportOTRFingerprints", func(p *C.offrec_client) C.offrec_result {
		ph, pl := cstr(path)
		a, al := cstr(account.Name)
		pr, prl := cstr(account.Protocol)
		return C.offrec_client_export_otr_fingerprints(p, ph, pl, C.uint32_t(format), a, al, pr, prl, &n)
	})
	return int(n), err
}
