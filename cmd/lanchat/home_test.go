package main

import (
	"os"
	"path/filepath"
	"testing"
)

// homeCase is one row of a data directory test: --home, the environment
// and the directory wanted (slash-separated, made absolute and native).
type homeCase struct {
	name string
	flag string
	env  map[string]string
	want string
}

func checkDataHome(t *testing.T, tests []homeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := filepath.Abs(filepath.FromSlash(tt.want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := dataHome(tt.flag, func(k string) string { return tt.env[k] })
			if err != nil || got != want {
				t.Errorf("dataHome = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestDataHome(t *testing.T) {
	checkDataHome(t, []homeCase{
		{"flag wins", "/a/b", map[string]string{"LANCHAT_HOME": "/c", "XDG_DATA_HOME": "/x", "HOME": "/home/u", "LOCALAPPDATA": "/l"}, "/a/b"},
		{"LANCHAT_HOME", "", map[string]string{"LANCHAT_HOME": "/c", "XDG_DATA_HOME": "/x", "HOME": "/home/u", "LOCALAPPDATA": "/l"}, "/c"},
		{"cleaned", "/a/../b/", nil, "/b"},
	})
	wd, _ := os.Getwd()
	if got, _ := dataHome("rel", noEnv); got != filepath.Join(wd, "rel") {
		t.Errorf("relative --home gave %q, want it made absolute", got)
	}
	if got := socketPath(filepath.FromSlash("/h")); got != filepath.FromSlash("/h/daemon.sock") {
		t.Errorf("socketPath = %q", got)
	}
}
