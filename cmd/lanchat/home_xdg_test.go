//go:build unix && !darwin

package main

import "testing"

func TestDataHomeXDG(t *testing.T) {
	checkDataHome(t, []homeCase{
		{"XDG_DATA_HOME", "", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/home/u"}, "/x/lanchat"},
		{"relative XDG ignored", "", map[string]string{"XDG_DATA_HOME": "x", "HOME": "/home/u"}, "/home/u/.local/share/lanchat"},
		{"HOME", "", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/lanchat"},
	})
}
