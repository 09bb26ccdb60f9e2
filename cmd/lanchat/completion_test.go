package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	known := func() ([]string, []string) { return []string{"bob", "bea", "carol"}, []string{"team"} }
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"fr"}, []string{"friends", "friend"}},
		{[]string{"--home", "/x", "com"}, []string{"completion"}},
		{[]string{"friend", ""}, []string{"add", "accept", "reject", "remove", "requests"}},
		{[]string{"friend", "add", "b"}, []string{"bob", "bea"}},
		{[]string{"send", ""}, []string{"bob", "bea", "carol", "#team"}},
		{[]string{"chat", "#"}, []string{"#team"}},
		{[]string{"group", "members", ""}, []string{"team"}},
		{[]string{"group", "invite", "team", "c"}, []string{"carol"}},
		{[]string{"history", "bob", "--"}, []string{"--limit", "--search", "--ids", "--json", "--help"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
	}
	for _, tc := range tests {
		got := complete(tc.words, known)
		if !slices.Equal(got, tc.want) {
			t.Errorf("complete(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var out bytes.Buffer
		if err := runCompletion([]string{sh}, &out); err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		if !strings.Contains(out.String(), "lanchat __complete") {
			t.Errorf("%s script does not ask lanchat __complete:\n%s", sh, out.String())
		}
	}
	if err := runCompletion([]string{"tcsh"}, &bytes.Buffer{}); err == nil {
		t.Error("completion tcsh succeeded")
	}
}
