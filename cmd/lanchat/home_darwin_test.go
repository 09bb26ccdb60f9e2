package main

import "testing"

func TestDataHomeMacOS(t *testing.T) {
	checkDataHome(t, []homeCase{
		{"HOME", "", map[string]string{"HOME": "/Users/u", "XDG_DATA_HOME": "/x"}, "/Users/u/Library/Application Support/lanchat"},
	})
}
