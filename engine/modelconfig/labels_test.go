package modelconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeLabel(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "tench", "tench"},
		{"trim and collapse", "  great \t white\n\nshark ", "great white shark"},
		{"CSI colour", "\x1b[31;1mred\x1b[0m fox", "red fox"},
		{"CSI clear screen", "a\x1b[2J\x1b[Hb", "ab"},
		{"OSC title BEL", "\x1b]0;owned\x07cat", "cat"},
		{"OSC hyperlink ST", "\x1b]8;;http://x\x1b\\dog\x1b]8;;\x1b\\", "dog"},
		{"8-bit CSI", "a\u009b31mb", "ab"},
		{"two-char escape", "a\x1bcb", "ab"},
		{"charset escape", "a\x1b(Bb", "ab"},
		{"bell and backspace", "a\x07\x08b", "ab"},
		{"bidi override", "abc\u202edef", "abcdef"},
		{"invalid UTF-8", "a\xffb", "ab"},
		{"unicode kept", "Café señor 猫", "Café señor 猫"},
		{"lone ESC at end", "abc\x1b", "abc"},
		{"only controls", "\x1b[0m\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeLabel(tt.in); got != tt.want {
				t.Errorf("SanitizeLabel(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		got := SanitizeLabel(strings.Repeat("ab ", 500))
		if n := utf8.RuneCountInString(got); n > MaxLabelRunes || n < MaxLabelRunes-2 {
			t.Errorf("length %d runes, want about %d", n, MaxLabelRunes)
		}
	})
}

func TestParseLabels(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"plain", "cat\ndog\nbird\n", []string{"cat", "dog", "bird"}, ""},
		{"plain CRLF BOM trailing blanks", "\xef\xbb\xbfcat\r\ndog\r\n\r\n\n", []string{"cat", "dog"}, ""},
		{"plain numbers", "0\n1\n2\n", []string{"0", "1", "2"}, ""},
		{"plain empty line", "cat\n\ndog\n", nil, "line 2 is empty"},
		{"indexed", "0,tench, Tinca tinca\n1,goldfish\n", []string{"tench, Tinca tinca", "goldfish"}, ""},
		{"indexed with header", "index,label\n0,cat\n1,dog\n", []string{"cat", "dog"}, ""},
		{"indexed out of order quoted", "1, \"dog, hound\"\n0, cat\n", []string{"cat", "dog, hound"}, ""},
		{"indexed gap", "0,cat\n2,dog\n", nil, "index 2 is out of range"},
		{"indexed twice", "0,cat\n0,dog\n", nil, "index 0 is given twice"},
		{"indexed empty label", "0,cat\n1,\n", nil, "the label of class 1 is empty"},
		{"escape codes stripped", "\x1b[31mcat\x1b[0m\ndog\x1b]0;x\x07\n", []string{"cat", "dog"}, ""},
		{"empty", "\n\n", nil, "holds no labels"},
		{"single plain", "cat", []string{"cat"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLabels([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLabels error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLabels = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLabelsFileKey(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "labels.txt"), "index,name\n0,cat\n1,\x1b[1mdog\n")
	write(t, filepath.Join(dir, "sub", "l.txt"), "a\nb\n")
	write(t, filepath.Join(root, "outside.txt"), "x\ny\n")
	symlinkOK := os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(dir, "link.txt")) == nil
	tests := []struct {
		name, file string
		want       []string
		wantErr    string
	}{
		{"beside the model", "labels.txt", []string{"cat", "dog"}, ""},
		{"in a subfolder", "sub/l.txt", []string{"a", "b"}, ""},
		{"parent", "../outside.txt", nil, "leaves the model's folder"},
		{"absolute", filepath.Join(root, "outside.txt"), nil, "leaves the model's folder"},
		{"symlink out", "link.txt", nil, "links outside the model's folder"},
		{"missing", "nope.txt", nil, "reading labels file"},
		{"folder", "sub", nil, "is a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file == "link.txt" && !symlinkOK {
				t.Skip("no symlinks here")
			}
			c, err := Parse([]byte(`{"labels_file": "`+strings.ReplaceAll(tt.file, `\`, `\\`)+`"}`), dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `key "labels_file"`) {
					t.Fatalf("Parse error = %v, want one naming labels_file and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Labels, tt.want) || c.LabelsFile != tt.file {
				t.Errorf("labels %q from %q, want %q", c.Labels, c.LabelsFile, tt.want)
			}
		})
	}
	for _, js := range []string{`{"labels_file": "labels.txt", "labels": ["a", "b"]}`, `{"labels": ["a", "b"], "labels_file": "labels.txt"}`} {
		if _, err := Parse([]byte(js), dir); err == nil || !strings.Contains(err.Error(), `both "labels" and "labels_file"`) {
			t.Errorf("Parse(%s) error = %v, want both-keys error", js, err)
		}
	}
}
