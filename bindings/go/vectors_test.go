package offrec

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The Go binding agrees byte for byte with the frozen vectors in tests/vectors/ (the C and
// Python bindings run the same checks).

func readVector(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

type silent struct{}

func (silent) Send(string, string)                      {}
func (silent) Deliver(string, uint32, []byte, Security) {}

func TestIdentitiesHaveTheRecordedFingerprints(t *testing.T) {
	var ake struct {
		Identities map[string]struct{ Secret, Fingerprint string } `json:"identities"`
	}
	readVector(t, "ake.json", &ake)
	for name, id := range ake.Identities {
		raw, err := hex.DecodeString(id.Secret)
		if err != nil || len(raw) != 32 {
			t.Fatalf("%s: bad secret", name)
		}
		var secret [32]byte
		copy(secret[:], raw)
		c, err := NewClientWithIdentity("vector", "net", PolicyManual, secret, 0x100, silent{})
		if err != nil {
			t.Fatal(err)
		}
		fp, err := c.Fingerprint()
		c.Close()
		if err != nil || fp.Hex() != id.Fingerprint {
			t.Fatalf("%s: fingerprint %s, want %s (%v)", name, fp.Hex(), id.Fingerprint, err)
		}
	}
}

func TestForgingTheRecordedTranscriptGivesTheRecordedBytes(t *testing.T) {
	var v struct {
		Captured, Known, New, Forged string
		Later                        []string
	}
	readVector(t, "forge.json", &v)
	forged, err := Forge(v.Captured, v.Later, []byte(v.Known), []byte(v.New))
	if err != nil {
		t.Fatal(err)
	}
	if forged != v.Forged {
		t.Fatalf("forged %q, want %q", forged, v.Forged)
	}
}
