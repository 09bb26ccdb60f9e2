package main

import "testing"

func TestDataFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", ":7443", "--data", `C:\ProgramData\lanchat`}, `C:\ProgramData\lanchat`},
		{[]string{"-data=D:\\srv"}, `D:\srv`},
		{[]string{"--data"}, ""},
		{[]string{"--metadata", "x", "data", "y"}, ""},
		{nil, ""},
	} {
		if got := dataFlag(tc.args); got != tc.want {
			t.Errorf("dataFlag(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
