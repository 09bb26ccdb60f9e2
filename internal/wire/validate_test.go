package wire

import (
	"reflect"
	"strings"
	"testing"
)

// checkInvalid reports whether err is a validation error naming field.
func checkInvalid(t *testing.T, what string, err *Error, field string) {
	t.Helper()
	if err.Code != CodeInvalid || err.Field != field {
		t.Errorf("%s: error %+v, want code %s and field %s", what, err, CodeInvalid, field)
	}
}

func TestNormalizeUsername(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" means refused
	}{
		{"bob", "bob"},
		{"Bob", "bob"},
		{"ALICE.Smith_2-x", "alice.smith_2-x"},
		{"a1_", "a1_"},
		{"...", "..."},
		{strings.Repeat("a", 32), strings.Repeat("a", 32)},
		{strings.Repeat("Z", 32), strings.Repeat("z", 32)},
		{"", ""},
		{"bo", ""},
		{strings.Repeat("a", 33), ""},
		{"bob smith", ""},
		{"bob@home", ""},
		{"bob/..", ""},
		{"bob\x00", ""},
		{"bøb", ""},       // 4 bytes, 3 characters: not ASCII
		{"éé", ""},        // 4 bytes
		{"ｂｏｂ", ""},       // full-width letters
		{"İbo", ""},       // would lower-case to a different length
		{"bob\u200b", ""}, // zero-width space
		{"\xff\xfe\xfd", ""},
	} {
		got, err := NormalizeUsername("username", tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeUsername(%q) = %q, want error", tt.in, got)
			} else {
				checkInvalid(t, "NormalizeUsername("+tt.in+")", err, "username")
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeGroupName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"a", "a"},
		{"Team-A", "team-a"},
		{"dev.ops_2", "dev.ops_2"},
		{strings.Repeat("G", 32), strings.Repeat("g", 32)},
		{"", ""},
		{strings.Repeat("g", 33), ""},
		{"team a", ""},
		{"équipe", ""},
	} {
		got, err := NormalizeGroupName("group", tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeGroupName(%q) = %q, want error", tt.in, got)
			} else {
				checkInvalid(t, "NormalizeGroupName", err, "group")
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeGroupName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password string
		username string
		ok       bool
	}{
		{"ordinary", "correct horse", "bob", true},
		{"8 characters", "kq3!vz9w", "bob", true},
		{"8 characters, the most common", "12345678", "bob", false},
		{"common, in other case", "PassWord1", "bob", false},
		{"common", "iloveyou", "bob", false},
		{"7 characters", "1234567", "bob", false},
		{"empty", "", "bob", false},
		{"8 two-byte characters", strings.Repeat("é", 8), "bob", true},
		{"7 two-byte characters, 14 bytes", strings.Repeat("é", 7), "bob", false},
		{"1024 bytes", strings.Repeat("xy", 512), "bob", true},
		{"1025 bytes", strings.Repeat("x", 1025), "bob", false},
		{"1024 bytes of two-byte characters", strings.Repeat("é", 512), "bob", true},
		{"1026 bytes of two-byte characters", strings.Repeat("é", 513), "bob", false},
		{"equals username", "alice.smith", "alice.smith", false},
		{"equals username in other case", "Alice.Smith", "alice.smith", false},
		{"contains username", "alice.smith!", "alice.smith", true},
		{"invalid UTF-8", strings.Repeat("\xff", 8), "bob", false},
		{"spaces count", "        ", "bob", true},
	} {
		err := CheckPassword("password", tt.password, tt.username)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil {
			checkInvalid(t, tt.name, err, "password")
			if strings.Contains(err.Error(), tt.password) && tt.password != "" {
				t.Errorf("%s: error %q repeats the password", tt.name, err)
			}
		}
	}
}

func TestCheckDisplayName(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", true},
		{"ordinary", "Bob Smith", true},
		{"unicode", "Zoë 李小龍", true},
		{"emoji", "Bob 🙂", true},
		{"punctuation", "O'Neil-Smith (ops) #1", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"64 two-byte characters", strings.Repeat("é", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"tab", "Bob\tSmith", false},
		{"newline", "Bob\nSmith", false},
		{"NUL", "Bob\x00", false},
		{"escape", "\x1b[31mred", false},
		{"DEL", "Bob\x7f", false},
		{"C1 control", "Bob\u0085", false},
		{"right-to-left override", "Bob\u202egnp.exe", false},
		{"zero-width joiner emoji", "Ana \U0001F469\u200d\U0001F4BB", true},
		{"no-break space", "Bob\u00a0Smith", true},
		{"bidi override", "evil\u202egnp.exe", false},
		{"line separator", "a\u2028b", false},
		{"line separator", "Bob\u2028", false},
		{"invalid UTF-8", "Bob\xff", false},
	} {
		err := CheckDisplayName("display_name", tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil {
			checkInvalid(t, tt.name, err, "display_name")
		}
	}
}

func TestCheckEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254 bytes
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"a@b.example", true},
		{"first.last+tag@mail.example.com", true},
		{"o'neil@example.org", true},
		{long, true},
		{"a" + long, false},
		{"a@b", false},
		{"a@", false},
		{"@b.com", false},
		{"a", false},
		{"a@@b.com", false},
		{"a@b..com", false},
		{"a@b.com.", false},
		{".a@b.com", false},
		{"a b@c.com", false},
		{`"a b"@c.com`, false},
		{"Bob <bob@example.com>", false},
		{"<bob@example.com>", false},
		{" bob@example.com", false},
		{"bob@example.com ", false},
		{"bob@example.com\n", false},
		{"bob@example.com (Bob)", false},
		{"bob@[10.0.0.1]", false},
		{"a@b.com,c@d.com", false},
	} {
		err := CheckEmail("email", tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("CheckEmail(%q): err = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil {
			checkInvalid(t, "CheckEmail", err, "email")
		}
	}
}

func TestCheckPhone(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"+41 44 668 18 00", true},
		{"(044) 668-1800", true},
		{"+1.202.555.0143", true},
		{"1234567", true},                            // 7 digits
		{"123456789012345", true},                    // 15 digits
		{"+" + strings.Repeat("1", 15), true},        // 16 characters, 15 digits
		{"1234567" + strings.Repeat(" ", 25), true},  // 32 bytes
		{"1234567" + strings.Repeat(" ", 26), false}, // 33 bytes
		{"123456", false},
		{"1234567890123456", false},
		{"+", false},
		{"+ - . ( )", false},
		{"12+34567", false},
		{"++1234567", false},
		{"1234567 ext 12", false},
		{"１２３４５６７", false}, // full-width digits
		{"1234567\n", false},
		{"٠١٢٣٤٥٦٧", false}, // Arabic-Indic digits
	} {
		err := CheckPhone("phone", tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("CheckPhone(%q): err = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil {
			checkInvalid(t, "CheckPhone", err, "phone")
		}
	}
}

func TestCheckMessageID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{strings.Repeat("0", 32), true},
		{strings.Repeat("f", 32), true},
		{"0123456789ABCDEF0123456789ABCDEF", false},
		{"0123456789abcdef0123456789abcdeF", false},
		{strings.Repeat("a", 31), false},
		{strings.Repeat("a", 33), false},
		{strings.Repeat("g", 32), false},
		{"", false},
		{strings.Repeat("é", 16), false}, // 32 bytes, not hex
		{"0123456789abcdef-0123456789abcde", false},
		{" 123456789abcdef0123456789abcdef", false},
	} {
		err := CheckMessageID("id", tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("CheckMessageID(%q): err = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil {
			checkInvalid(t, "CheckMessageID", err, "id")
		}
	}
}

func TestCheckEndpoints(t *testing.T) {
	good := []struct {
		in   []string
		want []string
	}{
		{nil, []string{}},
		{[]string{"192.168.1.10:9000"}, []string{"192.168.1.10:9000"}},
		{[]string{"[::1]:9000"}, []string{"[::1]:9000"}},
		{[]string{"127.0.0.1:1", "10.0.0.1:65535"}, []string{"127.0.0.1:1", "10.0.0.1:65535"}},
		{[]string{"[2001:DB8:0:0::1]:443"}, []string{"[2001:db8::1]:443"}},
		{[]string{"[::ffff:192.168.1.10]:9000"}, []string{"192.168.1.10:9000"}},
		{[]string{"[fe80::1]:9000"}, []string{"[fe80::1]:9000"}},
		{repeat("10.0.0.1:9000", MaxEndpoints), repeat("10.0.0.1:9000", MaxEndpoints)},
	}
	for _, tt := range good {
		got, err := CheckEndpoints("endpoints", tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CheckEndpoints(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}

	bad := [][]string{
		{"1.2.3.4:0"},
		{"[::1]:0"},
		{"1.2.3.4"},
		{"1.2.3.4:"},
		{":9000"},
		{"1.2.3.4:65536"},
		{"1.2.3.4:-1"},
		{"host.example:9000"},
		{"localhost:9000"},
		{"::1:9000"},
		{"0.0.0.0:9000"},
		{"[::]:9000"},
		{"[::ffff:0.0.0.0]:9000"},
		{"224.0.0.251:5353"},
		{"239.255.255.250:1900"},
		{"[ff02::fb]:5353"},
		{"[::ffff:224.0.0.1]:9000"},
		{"255.255.255.255:9000"},
		{"[::ffff:255.255.255.255]:9000"},
		{"[fe80::1%eth0]:9000"},
		{"1.2.3.4:9000 "},
		{""},
		{"10.0.0.1:9000", "bad"},
		repeat("10.0.0.1:9000", MaxEndpoints+1),
	}
	for _, in := range bad {
		got, err := CheckEndpoints("endpoints", in)
		if err == nil {
			t.Errorf("CheckEndpoints(%q) = %q, want error", in, got)
			continue
		}
		checkInvalid(t, "CheckEndpoints", err, "endpoints")
	}

	// A long bad endpoint is not echoed in full.
	_, err := CheckEndpoints("endpoints", []string{strings.Repeat("x", 10000)})
	if err == nil || len(err.Message) > 200 {
		t.Errorf("long endpoint: error %v", err)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
