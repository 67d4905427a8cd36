package imgops

import (
	"strings"
	"testing"
)

func TestParseLength(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"5cm", 50, ""},
		{"50mm", 50, ""},
		{"2in", 50.8, ""},
		{" 2.5 CM ", 25, ""},
		{"5xx", 0, `unknown unit "xx"; use cm, mm or in`},
		{"5", 0, "no unit"},
		{"cm", 0, "positive number"},
		{"0mm", 0, "positive number"},
		{"1.2.3cm", 0, "positive number"},
		{"-5cm", 0, "positive number"},
	}
	for _, tc := range tests {
		got, err := ParseLength(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLength(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLength(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePaper(t *testing.T) {
	for in, want := range map[string]Paper{"": A4, "A4": A4, "letter": Letter} {
		if got, err := ParsePaper(in); err != nil || got != want {
			t.Errorf("ParsePaper(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePaper("a3"); err == nil {
		t.Error("ParsePaper accepted a3")
	}
	if w, h := Letter.Size(); w != 215.9 || h != 279.4 {
		t.Errorf("letter is %v×%v mm", w, h)
	}
}
