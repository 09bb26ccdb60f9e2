package daemon

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestSafetyNumberSymmetric(t *testing.T) {
	ka, kb := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ab := safetyNumber("alice", ka, "bob", kb)
	ba := safetyNumber("bob", kb, "alice", ka)
	if ab != ba {
		t.Fatalf("not symmetric: %q vs %q", ab, ba)
	}
	if !regexp.MustCompile(`^(\d{5} ){11}\d{5}$`).MatchString(ab) {
		t.Fatalf("bad shape %q", ab)
	}
	kc := bytes.Repeat([]byte{3}, 32)
	if safetyNumber("alice", ka, "bob", kc) == ab {
		t.Fatal("a changed key gives the same safety number")
	}
}

func TestParseFingerprint(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	fp := keyFingerprint(key)
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q: want 64 hex digits", fp)
	}
	spaced := regexp.MustCompile(`(.{4})`).ReplaceAllString(strings.ToUpper(fp), "$1 ")
	for _, in := range []string{fp, spaced, strings.Join(regexp.MustCompile(`..`).FindAllString(fp, -1), ":")} {
		if got, ok := parseFingerprint(in); !ok || got != fp {
			t.Errorf("parseFingerprint(%q) = %q, %v; want %q", in, got, ok, fp)
		}
	}
	for _, in := range []string{"", fp[:63], fp + "0", fp[:62] + "zz", fp[:16]} {
		if got, ok := parseFingerprint(in); ok {
			t.Errorf("parseFingerprint(%q) = %q, accepted", in, got)
		}
	}
}
