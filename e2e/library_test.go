package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// makeTeam makes the group #team of the users, the first its owner, and
// waits until every daemon knows every member.
func makeTeam(t *testing.T, us ...*user) {
	t.Helper()
	us[0].must(t, "group", "create", "team")
	for _, u := range us[1:] {
		us[0].must(t, "group", "invite", "team", u.name)
		u.must(t, "group", "join", "team")
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		var gm api.GroupMembers
		for _, u := range us {
			u.mustJSON(t, &gm, "group", "members", "team")
			if len(gm.Members) != len(us) {
				return false, fmt.Sprintf("%s sees %d members", u.name, len(gm.Members))
			}
		}
		return true, ""
	})
}

// waitShare waits until u's listing of #team has the item id and cond
// holds for it.
func (u *user) waitShare(t *testing.T, id string, cond func(api.Share) (bool, string)) api.Share {
	t.Helper()
	var got api.Share
	eventually(t, 20*time.Second, func() (bool, string) {
		var l api.ShareList
		u.mustJSON(t, &l, "share", "ls", "#team")
		i := slices.IndexFunc(l.Shares, func(s api.Share) bool { return s.ID == id })
		if i < 0 {
			return false, fmt.Sprintf("%s's library: %+v", u.name, l.Shares)
		}
		got = l.Shares[i]
		return cond(got)
	})
	return got
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestSharedLibrary shares a file with #team: bob and carol see it
// listed, bob fetches it from alice, and with alice stopped carol
// fetches it from bob; the files are alice's, byte for byte.
func TestSharedLibrary(t *testing.T) {
	_, us := startUsers(t, "alice", "bob", "carol")
	alice, bob, carol := us[0], us[1], us[2]
	makeTeam(t, alice, bob, carol)

	data := randomBytes(t, 3<<20+12345)
	src := filepath.Join(t.TempDir(), "plans.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var added api.ShareList
	alice.mustJSON(t, &added, "share", "add", "#team", src)
	if len(added.Shares) != 1 || added.Shares[0].Path != "plans.bin" || added.Shares[0].Size != int64(len(data)) {
		t.Fatalf("share add: %+v", added)
	}
	id := added.Shares[0].ID
	for _, u := range []*user{bob, carol} {
		s := u.waitShare(t, id, func(s api.Share) (bool, string) {
			return s.Available, fmt.Sprintf("not available: %+v", s)
		})
		if s.Sharer != "alice" || s.Holders != 1 || s.Path != "plans.bin" || s.SHA256 != added.Shares[0].SHA256 {
			t.Fatalf("%s's listing: %+v", u.name, s)
		}
	}
	// The plain listing names the file, its sharer and its copies.
	if out := carol.must(t, "share", "ls", "#team"); !strings.Contains(out, "plans.bin") || !strings.Contains(out, "alice") {
		t.Fatalf("share ls:\n%s", out)
	}

	bobDir := t.TempDir()
	var got api.ShareGetResult
	bob.mustJSON(t, &got, "share", "get", "#team", id[:8], "--to", bobDir)
	if got.From["alice"] != int64(len(data)) {
		t.Fatalf("bob's download came from %v, want all from alice", got.From)
	}
	mustSame(t, got.Path, data)
	// The listing is not in the timeline.
	for _, u := range []*user{alice, bob} {
		if ms := u.history(t, "#team"); len(ms) != 0 {
			t.Fatalf("%s's #team timeline: %+v", u.name, ms)
		}
	}

	// bob now holds a copy, and says so.
	carol.waitShare(t, id, func(s api.Share) (bool, string) {
		return s.Holders == 2, fmt.Sprintf("holders %d, want 2", s.Holders)
	})
	// share keep off takes bob's copy out of the holders; on puts it back.
	bob.must(t, "share", "keep", "off")
	carol.waitShare(t, id, func(s api.Share) (bool, string) {
		return s.Holders == 1, fmt.Sprintf("holders %d after keep off, want 1", s.Holders)
	})
	bob.must(t, "share", "keep", "on")
	carol.waitShare(t, id, func(s api.Share) (bool, string) {
		return s.Holders == 2, fmt.Sprintf("holders %d after keep on, want 2", s.Holders)
	})
	alice.stop(t)
	carolDir := t.TempDir()
	carol.mustJSON(t, &got, "share", "get", "#team", id, "--to", carolDir)
	if got.From["bob"] != int64(len(data)) {
		t.Fatalf("carol's download came from %v, want all from bob", got.From)
	}
	mustSame(t, got.Path, data)
}

// TestSharedFileChanged changes a shared file on alice's disk after
// sharing, keeping its size and time, so that alice still serves it:
// bob's hash check refuses it and marks it unavailable from alice. Then
// a change alice's daemon can see (its time) makes her stop serving it.
func TestSharedFileChanged(t *testing.T) {
	_, us := startUsers(t, "alice", "bob")
	alice, bob := us[0], us[1]
	makeTeam(t, alice, bob)

	data := randomBytes(t, 2<<20+7)
	src := filepath.Join(t.TempDir(), "notes.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var added api.ShareList
	alice.mustJSON(t, &added, "share", "add", "#team", src)
	id := added.Shares[0].ID
	bob.waitShare(t, id, func(s api.Share) (bool, string) { return s.Available, "not available" })

	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(data)
	changed[1<<20+5] ^= 0xff // in the second chunk
	if err := os.WriteFile(src, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(src, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	errs := bob.fails(t, "share", "get", "#team", id, "--to", dir)
	if !strings.Contains(errs, "match") {
		t.Fatalf("download of a changed file: %q", errs)
	}
	s := bob.waitShare(t, id, func(s api.Share) (bool, string) { return true, "" })
	if s.Available || !slices.Contains(s.Refused, "alice") {
		t.Fatalf("after a refused copy: %+v, want unavailable and refused from alice", s)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 && !strings.HasPrefix(entries[0].Name(), ".") {
		t.Fatalf("a file was placed: %v", entries)
	}

	// A change alice's daemon notices: she stops serving the file and
	// tells the group, and bob's listing has no holder for it.
	var again api.ShareList
	alice.mustJSON(t, &again, "share", "add", "#team", src)
	id2 := again.Shares[0].ID
	bob.waitShare(t, id2, func(s api.Share) (bool, string) { return s.Available, "not available" })
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(src, later, later)
	bob.fails(t, "share", "get", "#team", id2, "--to", t.TempDir())
	bob.waitShare(t, id2, func(s api.Share) (bool, string) {
		return s.Holders == 0 && !s.Available, fmt.Sprintf("after alice's copy changed: %+v", s)
	})

	// Only the sharer (or the owner, or a room's admin) withdraws.
	if errs := bob.fails(t, "share", "rm", "#team", id2); !strings.Contains(errs, "may withdraw") {
		t.Fatalf("bob withdrawing alice's file: %q", errs)
	}
	alice.must(t, "share", "rm", "#team", id2[:8])
	eventually(t, 20*time.Second, func() (bool, string) {
		var l api.ShareList
		bob.mustJSON(t, &l, "share", "ls", "#team")
		return !slices.ContainsFunc(l.Shares, func(s api.Share) bool { return s.ID == id2 }), fmt.Sprintf("bob's library: %+v", l.Shares)
	})
}

// mustSame checks the file at p holds want.
func mustSame(t *testing.T, p string, want []byte) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("%s: %d bytes differ from the shared file's %d", p, len(b), len(want))
	}
}
