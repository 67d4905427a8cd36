package modelconfig

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse and Resolve: they must return an
// error or a configuration, never panic, and a parsed configuration's labels
// must be clean.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"preset": "imagenet-caffe", "mean": [1, 2, 3]}`, `{"labels": ["a\u001b[31m", "b"], "std": 1e-45}`,
		`{"input_size": [3, 224, 224], "input_range": [0, 255], "crop_fraction": 0.9}`, `{"stdev": 1}`, `[`, `{"a":1,"a":2}`,
		`{"dataset": {"x": [1, {"y": null}]}, "weight_decay": [1e-5]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		for _, l := range c.Labels {
			if l != SanitizeLabel(l) || l == "" {
				t.Errorf("label %q is not sanitised", l)
			}
		}
		for ch := 1; ch <= 4; ch++ {
			if p, err := c.Resolve(ch); err == nil {
				_ = p.Describe()
				_ = p.Apply([]float32{0.5, 0.5, 0.5, 0.5}[:ch])
			}
		}
	})
}

// FuzzFromMetadata feeds arbitrary property values to FromMetadata.
func FuzzFromMetadata(f *testing.F) {
	for _, s := range [][2]string{
		{"mean", "0.5, 0.5, 0.5"}, {"std", "NaN"}, {"labels", `["a", "b"]`}, {"advlab", `{"preset": "mnist"}`},
		{"input_range", "[0,255]"}, {"layout", "nhwc"}, {"Std", "1"}, {"crop_fraction", "1e-300"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		c, err := FromMetadata(map[string]string{key: value})
		if err != nil {
			return
		}
		for ch := 1; ch <= 4; ch++ {
			if p, err := c.Resolve(ch); err == nil {
				_ = p.Describe()
			}
		}
	})
}

// FuzzSanitizeLabel checks that sanitised labels hold no control characters
// and stay bounded.
func FuzzSanitizeLabel(f *testing.F) {
	for _, s := range []string{"tench", "\x1b[31mred", "\x1b]0;t\x07x", "a\u009b1mb", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SanitizeLabel(s)
		if len([]rune(got)) > MaxLabelRunes {
			t.Errorf("%d runes", len([]rune(got)))
		}
		for _, r := range got {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || r == 0xfffd && !strings.ContainsRune(s, 0xfffd) {
				t.Errorf("SanitizeLabel(%q) = %q keeps %U", s, got, r)
			}
		}
		if SanitizeLabel(got) != got {
			t.Errorf("SanitizeLabel is not idempotent on %q", s)
		}
	})
}
