package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDataHomeWindows(t *testing.T) {
	checkDataHome(t, []homeCase{
		{"LOCALAPPDATA", "", map[string]string{"LOCALAPPDATA": `C:\Users\u\AppData\Local`, "HOME": "/home/u"}, `C:\Users\u\AppData\Local\lanchat`},
	})
	// Without the variable the known folder is asked.
	got, err := dataHome("", func(string) string { return "" })
	if err != nil || !filepath.IsAbs(got) || !strings.HasSuffix(got, `\lanchat`) {
		t.Errorf("known folder: dataHome = %q, %v", got, err)
	}
}
