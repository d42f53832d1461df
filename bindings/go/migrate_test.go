package offrec

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Frozen files libotr 4.1.1 wrote (tests/migrate/make_fixtures.c).
const (
	fixtureDir = "../../tests/migrate/fixtures/"
	aliceOTRFP = "982DEAE9 CE05DE82 BD900150 E6031B4C 2FE568C4"
	bobOTRFP   = "DFB5982D A8225668 30386702 1367C864 C1CE9F44"
)

func migrationClient(t *testing.T, account, network string) (*party, *Client) {
	t.Helper()
	p := &party{name: account, net: newNetwork()}
	c, err := NewClient(account, network, PolicyManual, p)
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return p, c
}

func otrKeyID(t *testing.T, hexFP string) Fingerprint {
	t.Helper()
	raw, err := hex.DecodeString(hexFP)
	must(t, err)
	var f OTRFingerprint
	copy(f[:], raw)
	return f.KeyID()
}

func TestImportLibotrKeyAndTrust(t *testing.T) {
	p, alice := migrationClient(t, "alice@example.org/laptop", "xmpp")
	fp, err := alice.ImportOTRKey(fixtureDir+"otr.private_key", OTRFileLibotr, OTRAccount{}, false)
	must(t, err)
	if fp.String() != aliceOTRFP {
		t.Fatalf("fingerprint %s, libotr says %s", fp, aliceOTRFP)
	}
	if p.count(EventPersistNeeded) == 0 {
		t.Error("no PersistNeeded after an import")
	}
	n, err := alice.ImportOTRFingerprints(fixtureDir+"otr.fingerprints", OTRFileLibotr, OTRAccount{})
	must(t, err)
	if n != 5 {
		t.Errorf("imported %d keys, want 5", n)
	}
	for _, tc := range []struct {
		peer, fp string
		want     Trust
	}{
		{"carol@example.org", "a01111111111111111111111111111111111114b", TrustUnverified},
		{"dave@example.org", "a022222222222222222222222222222222222278", TrustVerifiedSMP},
		{"erin@example.org", "a033333333333333333333333333333333333369", TrustVerifiedManual},
		{"frank@example.org", "a04444444444444444444444444444444444441e", TrustVerifiedManual},
	} {
		got, err := alice.Trust(tc.peer, otrKeyID(t, tc.fp))
		must(t, err)
		if got != tc.want {
			t.Errorf("%s: trust %v, want %v", tc.peer, got, tc.want)
		}
	}
}

func TestImportErrorsChangeNothing(t *testing.T) {
	_, carol := migrationClient(t, "carol", "irc")
	_, err := carol.ImportOTRKey(fixtureDir+"otr.private_key", OTRFileLibotr, OTRAccount{}, false)
	if !errors.Is(err, ErrImportNoAccount) {
		t.Fatalf("want ErrImportNoAccount, got %v", err)
	}
	if _, err := carol.OTRFingerprint(); !errors.Is(err, ErrNoOTRKey) {
		t.Fatalf("a failed import left a key: %v", err)
	}
	dir := t.TempDir()
	data, err := os.ReadFile(fixtureDir + "otr.private_key")
	must(t, err)
	cut := filepath.Join(dir, "cut")
	must(t, os.WriteFile(cut, data[:len(data)/2], 0o600))
	if _, err := carol.ImportOTRKey(cut, OTRFileLibotr, OTRAccount{Name: "bob"}, false); !errors.Is(err, ErrImportMalformed) {
		t.Errorf("cut file: %v", err)
	}
	if _, err := carol.ImportOTRKey(filepath.Join(dir, "missing"), OTRFileLibotr, OTRAccount{}, false); !errors.Is(err, ErrImportIO) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := carol.ImportOTRKey(cut, OTRFileFormat(9), OTRAccount{}, false); !errors.Is(err, ErrUnknownEnumValue) {
		t.Errorf("bad format: %v", err)
	}
	fp, err := carol.ImportOTRKey(fixtureDir+"otr.private_key", OTRFileLibotr, OTRAccount{Name: "bob", Protocol: "IRC"}, false)
	must(t, err)
	if fp.String() != bobOTRFP {
		t.Errorf("bob's key: %s", fp)
	}
	_, err = carol.ImportOTRKey(fixtureDir+"otr.private_key", OTRFileLibotr, OTRAccount{Name: "alice@example.org", Protocol: "prpl-jabber"}, false)
	if !errors.Is(err, ErrImportKeyExists) {
		t.Errorf("want ErrImportKeyExists, got %v", err)
	}
	if now, _ := carol.OTRFingerprint(); now != fp {
		t.Error("refused import replaced the key")
	}
}

func TestExportRoundTripAndInstanceTag(t *testing.T) {
	_, alice := migrationClient(t, "alice@example.org", "xmpp")
	dir := t.TempDir()
	if err := alice.ExportOTRKey(filepath.Join(dir, "none"), OTRFileLibotr, OTRAccount{}); !errors.Is(err, ErrNoOTRKey) {
		t.Fatalf("export without a key: %v", err)
	}
	fp, err := alice.ImportOTRKey(fixtureDir+"otr.private_key", OTRFileLibotr, OTRAccount{}, false)
	must(t, err)
	_, err = alice.ImportOTRFingerprints(fixtureDir+"otr.fingerprints", OTRFileLibotr, OTRAccount{})
	must(t, err)
	for _, format := range []OTRFileFormat{OTRFileLibotr, OTRFilePotr} {
		keyPath := filepath.Join(dir, "key-"+format.String())
		fprPath := filepath.Join(dir, "fpr-"+format.String())
		must(t, alice.ExportOTRKey(keyPath, format, OTRAccount{}))
		info, err := os.Stat(keyPath)
		must(t, err)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s key file mode %o", format, info.Mode().Perm())
		}
		written, err := alice.ExportOTRFingerprints(fprPath, format, OTRAccount{})
		must(t, err)
		if written != 5 {
			t.Errorf("%s: wrote %d lines", format, written)
		}
		text, err := os.ReadFile(fprPath)
		must(t, err)
		wantProtocol := map[OTRFileFormat]string{OTRFileLibotr: "\tprpl-jabber\t", OTRFilePotr: "\txmpp\t"}[format]
		if !strings.Contains(string(text), "dave@example.org\talice@example.org"+wantProtocol+"a022222222222222222222222222222222222278\tsmp\n") {
			t.Errorf("%s fingerprints:\n%s", format, text)
		}
		_, again := migrationClient(t, "alice@example.org", "xmpp")
		got, err := again.ImportOTRKey(keyPath, format, OTRAccount{}, false)
		must(t, err)
		if got != fp {
			t.Errorf("%s: key came back as %s", format, got)
		}
		n, err := again.ImportOTRFingerprints(fprPath, format, OTRAccount{})
		must(t, err)
		if n != 5 {
			t.Errorf("%s: re-imported %d", format, n)
		}
		trust, err := again.Trust("erin@example.org", otrKeyID(t, "a033333333333333333333333333333333333369"))
		must(t, err)
		if trust != TrustVerifiedManual {
			t.Errorf("%s: erin's trust %v", format, trust)
		}
	}

	_, fresh := migrationClient(t, "alice@example.org", "xmpp")
	tag, err := fresh.ImportOTRInstanceTag(fixtureDir+"otr.instance_tags", OTRAccount{})
	must(t, err)
	if now, _ := fresh.InstanceTag(); tag != 0xcfc1f450 || now != tag {
		t.Errorf("instance tag %x, client has %x", tag, now)
	}
	_, busy := migrationClient(t, "alice@example.org", "xmpp")
	must(t, busy.StartSession("bob"))
	before, _ := busy.InstanceTag()
	if _, err := busy.ImportOTRInstanceTag(fixtureDir+"otr.instance_tags", OTRAccount{}); !errors.Is(err, ErrImportInUse) {
		t.Errorf("want ErrImportInUse, got %v", err)
	}
	if now, _ := busy.InstanceTag(); now != before {
		t.Error("refused import changed the tag")
	}
	if OTRFilePotr.String() != "potr" || ResultImportInUse.String() != "IMPORT_IN_USE" {
		t.Error("names")
	}
}
