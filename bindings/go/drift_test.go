package offrec

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHeaderDrift fails when a code in the header (offrec.h) is missing from the Go mapping or has a
// different number there (drift.go checks the Go constants' numbers at compile time).
func TestHeaderDrift(t *testing.T) {
	header, err := os.ReadFile("offrec.h")
	if err != nil {
		t.Fatalf("reading the header: %v", err)
	}
	for _, p := range driftProblems(header) {
		t.Error(p)
	}
}

// The check itself catches a code added to the header, and a renumbered event.
func TestHeaderDriftDetects(t *testing.T) {
	header, err := os.ReadFile("offrec.h")
	if err != nil {
		t.Fatal(err)
	}
	added := strings.Replace(string(header), "    OFFREC_RESULT_OK = 0,", "    OFFREC_RESULT_OK = 0,\n    OFFREC_RESULT_BRAND_NEW = 120,", 1)
	renumbered := strings.Replace(string(header), "OFFREC_EVENT_CODE_SMP_CHEATED = 28,", "OFFREC_EVENT_CODE_SMP_CHEATED = 30,", 1)
	protocol := strings.Replace(string(header), "OFFREC_PROTOCOL_OTR_V2 = 3,", "OFFREC_PROTOCOL_OTR_V2 = 4,", 1)
	flag := strings.Replace(string(header), "#define OFFREC_POLICY_REQUIRE_MODERN 256", "#define OFFREC_POLICY_REQUIRE_MODERN 512", 1)
	for _, tc := range []struct{ header, want string }{
		{added, "OFFREC_RESULT_BRAND_NEW = 120 is in the header but missing"},
		{renumbered, "OFFREC_EVENT_CODE_SMP_CHEATED: header 30, Go 28"},
		{protocol, "OFFREC_PROTOCOL_OTR_V2: header 4, Go 3"},
		{flag, "OFFREC_POLICY_REQUIRE_MODERN = 512: Go has 256"},
	} {
		found := false
		for _, p := range driftProblems([]byte(tc.header)) {
			found = found || strings.Contains(p, tc.want)
		}
		if !found {
			t.Errorf("drift check missed %q", tc.want)
		}
	}
}

func driftProblems(header []byte) []string {
	var problems []string
	type table struct {
		prefix string
		names  map[string]uint32
	}
	invert := func(m map[uint32]string) map[string]uint32 {
		out := map[string]uint32{}
		for v, n := range m {
			out[n] = v
		}
		return out
	}
	conv := func(f func() map[uint32]string) map[string]uint32 { return invert(f()) }
	policies := map[string]uint32{}
	for _, f := range policyFlagNames {
		policies[f.name] = uint32(f.flag)
	}
	tables := []table{
		{"OFFREC_RESULT_", conv(func() map[uint32]string { return u32(resultNames) })},
		{"OFFREC_EVENT_CODE_", conv(func() map[uint32]string { return u32(eventNames) })},
		{"OFFREC_SESSION_STATE_", conv(func() map[uint32]string { return u32(sessionStateNames) })},
		{"OFFREC_SECURITY_", conv(func() map[uint32]string { return u32(securityNames) })},
		{"OFFREC_TRUST_", conv(func() map[uint32]string { return u32(trustNames) })},
		{"OFFREC_NOT_SENT_REASON_", conv(func() map[uint32]string { return u32(notSentNames) })},
		{"OFFREC_OPTION_", conv(func() map[uint32]string { return u32(optionNames) })},
		{"OFFREC_PERSIST_FLAG_", conv(func() map[uint32]string { return u32(persistFlagNames) })},
		{"OFFREC_HANDSHAKE_FAILURE_", conv(func() map[uint32]string { return u32(handshakeFailureNames) })},
		{"OFFREC_PROTOCOL_", conv(func() map[uint32]string { return u32(protocolNames) })},
		{"OFFREC_STRENGTH_", conv(func() map[uint32]string { return u32(strengthNames) })},
		{"OFFREC_OTR_FILE_FORMAT_", conv(func() map[uint32]string { return u32(otrFileFormatNames) })},
		{"OFFREC_KEY_KIND_", conv(func() map[uint32]string { return u32(keyKindNames) })},
		{"OFFREC_TEXT_", conv(func() map[uint32]string { return u32(textKindNames) })},
		{"OFFREC_MESSAGE_KIND_", conv(func() map[uint32]string { return u32(messageKindNames) })},
	}
	for _, tb := range tables {
		re := regexp.MustCompile(`(?m)^\s*` + tb.prefix + `([A-Z0-9_]+) = (\d+),`)
		found := re.FindAllSubmatch(header, -1)
		if len(found) == 0 {
			problems = append(problems, fmt.Sprintf("no %s* constants found in the header", tb.prefix))
		}
		seen := map[string]bool{}
		for _, m := range found {
			name := string(m[1])
			num, _ := strconv.ParseUint(string(m[2]), 10, 32)
			seen[name] = true
			got, ok := tb.names[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s%s = %d is in the header but missing from the Go mapping", tb.prefix, name, num))
			} else if uint64(got) != num {
				problems = append(problems, fmt.Sprintf("%s%s: header %d, Go %d", tb.prefix, name, num, got))
			}
		}
		for name := range tb.names {
			if !seen[name] {
				problems = append(problems, fmt.Sprintf("Go maps %s%s, which the header does not have", tb.prefix, name))
			}
		}
	}
	// Policy flags are #defines with a plain number (the presets, expressions, are checked in
	// drift.go at compile time).
	re := regexp.MustCompile(`(?m)^#define OFFREC_POLICY_([A-Z0-9_]+) (\d+)$`)
	seenFlags := map[string]bool{}
	for _, m := range re.FindAllSubmatch(header, -1) {
		name := string(m[1])
		num, _ := strconv.ParseUint(string(m[2]), 10, 32)
		if name == "NEVER" {
			continue // a preset, checked in drift.go
		}
		seenFlags[name] = true
		if got, ok := policies[name]; !ok || uint64(got) != num {
			problems = append(problems, fmt.Sprintf("OFFREC_POLICY_%s = %d: Go has %d (present: %v)", name, num, got, ok))
		}
	}
	for name := range policies {
		if !seenFlags[name] {
			problems = append(problems, fmt.Sprintf("Go maps OFFREC_POLICY_%s, which the header does not have", name))
		}
	}
	return problems
}

func u32[T ~uint32](m map[T]string) map[uint32]string {
	out := map[uint32]string{}
	for k, v := range m {
		out[uint32(k)] = v
	}
	return out
}
