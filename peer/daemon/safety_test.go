package daemon

import (
	"bytes"
	"regexp"
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
