package modelconfig

import (
	"reflect"
	"strings"
	"testing"
)

func TestFromMetadata(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantErr string
		check   func(c Config) bool
	}{
		{"empty", map[string]string{}, "", func(c Config) bool { return reflect.DeepEqual(c, Config{Source: "metadata"}) }},
		{"advlab JSON", map[string]string{"advlab": `{"labels": ["a", "b"], "preset": "imagenet"}`, "producer": "x"}, "",
			func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"a", "b"}) && c.Preset == "imagenet" }},
		{"advlab strict", map[string]string{"advlab": `{"stdev": 1}`}, `unknown key "stdev" (did you mean "std"?)`, nil},
		{"advlab labels_file", map[string]string{"advlab": `{"labels_file": "l.txt"}`}, `no model folder`, nil},
		{"advlab and individual", map[string]string{"advlab": `{}`, "mean": "0.5"}, `"advlab" property and also mean`, nil},
		{"labels JSON", map[string]string{"labels": `["cat", "dog"]`}, "", func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"cat", "dog"}) }},
		{"labels comma", map[string]string{"labels": `cat, dog ,bird`}, "", func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"cat", "dog", "bird"}) }},
		{"labels escapes", map[string]string{"labels": "c\x1b[2Jat,dog"}, "", func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"cat", "dog"}) }},
		{"mean comma", map[string]string{"mean": "0.5, 0.4, 0.3"}, "", func(c Config) bool { return reflect.DeepEqual(c.Mean, []float32{0.5, 0.4, 0.3}) }},
		{"mean brackets", map[string]string{"mean": "[0.5, 0.4, 0.3]"}, "", func(c Config) bool { return reflect.DeepEqual(c.Mean, []float32{0.5, 0.4, 0.3}) }},
		{"std scalar", map[string]string{"std": "0.25"}, "", func(c Config) bool { return reflect.DeepEqual(c.Std, []float32{0.25}) }},
		{"std NaN", map[string]string{"std": "NaN"}, `"NaN", is not a finite number`, nil},
		{"std Inf in list", map[string]string{"std": "1, Inf, 1"}, `value 2, "Inf", is not a finite number`, nil},
		{"std huge", map[string]string{"std": "1e400"}, `out of range`, nil},
		{"std 1e-45", map[string]string{"std": "1e-45"}, `below 1e-06`, nil},
		{"input_range", map[string]string{"input_range": "0,255"}, "", func(c Config) bool { return reflect.DeepEqual(c.InputRange, []float32{0, 255}) }},
		{"input_range scalar", map[string]string{"input_range": "255"}, `want a list`, nil},
		{"layout plain", map[string]string{"layout": "nhwc"}, "", func(c Config) bool { return c.Layout == NHWC }},
		{"layout JSON", map[string]string{"layout": `"NCHW"`}, "", func(c Config) bool { return c.Layout == NCHW }},
		{"layout bad", map[string]string{"layout": "HWC"}, `metadata property: key "layout"`, nil},
		{"channel_order", map[string]string{"channel_order": "BGR"}, "", func(c Config) bool { return c.ChannelOrder == BGR }},
		{"preset", map[string]string{"preset": "imagenet-tf"}, "", func(c Config) bool { return c.Preset == "imagenet-tf" }},
		{"preset bad", map[string]string{"preset": "vgg"}, `key "preset"`, nil},
		{"output", map[string]string{"output": "probabilities"}, "", func(c Config) bool { return c.Output == Probabilities }},
		{"crop_fraction", map[string]string{"crop_fraction": "0.875"}, "", func(c Config) bool { return c.CropFraction == 0.875 }},
		{"crop_fraction text", map[string]string{"crop_fraction": "most"}, `not a finite number`, nil},
		{"misspelt key", map[string]string{"Std": "0.5"}, `"Std" is not one advlab reads (did you mean "std"?)`, nil},
		{"misspelt hyphen", map[string]string{"input-range": "0,1"}, `did you mean "input_range"?`, nil},
		{"foreign keys ignored", map[string]string{"producer": "pytorch", "author": "me", "description": "x", "version": "1"}, "",
			func(c Config) bool { return reflect.DeepEqual(c, Config{Source: "metadata"}) }},
		{"empty list", map[string]string{"mean": "[]"}, `key "mean": want 1 to 4 values, got 0`, nil},
		{"empty plain", map[string]string{"mean": " "}, `it is empty`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromMetadata(tt.props)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromMetadata(%v) error = %v, want one containing %q", tt.props, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromMetadata(%v): %v", tt.props, err)
			}
			if !tt.check(c) {
				t.Errorf("FromMetadata(%v) = %+v", tt.props, c)
			}
		})
	}
}

func TestMetadataDescribe(t *testing.T) {
	c, err := FromMetadata(map[string]string{"preset": "imagenet", "mean": "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve(3)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Describe(); !strings.Contains(d, "(preset imagenet; mean from metadata)") {
		t.Errorf("Describe = %q, want the mean attributed to the metadata", d)
	}
}
