package clocale

import "testing"

func TestIsPOSIXWithCharset(t *testing.T) {
	for _, tc := range []struct {
		locale string
		want   bool
	}{
		{"C.UTF-8", true},
		{"C.utf8", true},
		{"POSIX.UTF-8", true},
		{"C@euro", true},
		{"C", false},
		{"POSIX", false},
		{"en_US.UTF-8", false},
		{"Ca_ES.UTF-8", false},
		{"", false},
	} {
		if got := isPOSIXWithCharset(tc.locale); got != tc.want {
			t.Errorf("isPOSIXWithCharset(%q) = %v, want %v", tc.locale, got, tc.want)
		}
	}
}
