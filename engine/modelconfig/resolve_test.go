package modelconfig

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float32) bool {
	return math.Abs(float64(a)-float64(b)) <= 1e-5*math.Max(1, math.Abs(float64(b)))
}

// TestPresetsClosedForm checks each preset's resolved map against its
// published formula on a few RGB pixels.
func TestPresetsClosedForm(t *testing.T) {
	pixels := [][]float32{{1, 0.5, 0}, {0, 0, 0}, {0.2, 0.7, 1}}
	tests := []struct {
		preset   string
		channels int
		want     func(rgb []float32) []float32
		crop     float32
	}{
		{"imagenet", 3, func(p []float32) []float32 {
			return []float32{(p[0] - 0.485) / 0.229, (p[1] - 0.456) / 0.224, (p[2] - 0.406) / 0.225}
		}, 0.875},
		{"imagenet-caffe", 3, func(p []float32) []float32 { // BGR, 0..255, mean in BGR order
			return []float32{255*p[2] - 103.939, 255*p[1] - 116.779, 255*p[0] - 123.68}
		}, 0.875},
		{"imagenet-tf", 3, func(p []float32) []float32 {
			return []float32{255*p[0]/127.5 - 1, 255*p[1]/127.5 - 1, 255*p[2]/127.5 - 1}
		}, 0.875},
		{"cifar10", 3, func(p []float32) []float32 {
			return []float32{(p[0] - 0.4914) / 0.2470, (p[1] - 0.4822) / 0.2435, (p[2] - 0.4465) / 0.2616}
		}, 0},
		{"mnist", 1, func(p []float32) []float32 { return []float32{(p[0] - 0.1307) / 0.3081} }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			p, err := Config{Preset: tt.preset}.Resolve(tt.channels)
			if err != nil {
				t.Fatal(err)
			}
			for _, px := range pixels {
				px = px[:tt.channels]
				got, want := p.Apply(px), tt.want(px)
				for c := range want {
					if !near(got[c], want[c]) {
						t.Errorf("pixel %v channel %d: %v, want %v", px, c, got[c], want[c])
					}
					scale, off := p.Affine(c)
					if v := px[p.SourceChannel(c)]*scale + off; !near(v, want[c]) {
						t.Errorf("Affine: pixel %v channel %d: %v, want %v", px, c, v, want[c])
					}
				}
			}
			if tt.crop != 0 && (p.Resize.Mode != CenterCrop || p.Resize.CropFraction != tt.crop) {
				t.Errorf("resize %+v, want centre crop %v", p.Resize, tt.crop)
			}
			if tt.crop == 0 && p.Resize.Mode != Stretch {
				t.Errorf("resize %+v, want stretch", p.Resize)
			}
		})
	}
}

func TestCaffePixelExample(t *testing.T) {
	p, err := Config{Preset: "imagenet-caffe"}.Resolve(3)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Apply([]float32{1, 0.5, 0})
	want := []float32{0 - 103.939, 127.5 - 116.779, 255 - 123.68}
	for c := range want {
		if !near(got[c], want[c]) {
			t.Errorf("channel %d: %v, want %v", c, got[c], want[c])
		}
	}
	d := p.Describe()
	if wantD := "BGR, 0..255 minus mean [103.9 116.8 123.7] (preset imagenet-caffe), centre crop 0.875 (preset imagenet-caffe)"; d != wantD {
		t.Errorf("Describe = %q, want %q", d, wantD)
	}
}

func TestResolveOverridesAndDefaults(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		channels int
		pixel    []float32
		want     []float32
		describe []string
		crop     float32
	}{
		{"default identity", Config{}, 3, []float32{0.1, 0.2, 0.3}, []float32{0.1, 0.2, 0.3},
			[]string{"RGB, 0..1 (default), stretched to the input size (default)"}, 0},
		{"sidecar mean over preset", Config{Preset: "imagenet", Mean: []float32{0.5}}, 3, []float32{1, 1, 1},
			[]float32{0.5 / 0.229, 0.5 / 0.224, 0.5 / 0.225}, []string{"minus mean [0.5 0.5 0.5]", "(preset imagenet; mean from sidecar)"}, 0.875},
		{"metadata source", Config{Source: "metadata", InputRange: []float32{0, 255}}, 1, []float32{0.5}, []float32{127.5},
			[]string{"grey, 0..255 (metadata)"}, 0},
		{"crop_fraction implies centre crop", Config{CropFraction: 0.9}, 3, []float32{0, 0, 0}, []float32{0, 0, 0},
			[]string{"centre crop 0.9 (sidecar)"}, 0.9},
		{"resize stretch over preset", Config{Preset: "imagenet-tf", Resize: Stretch}, 3, []float32{0.5, 0, 1}, []float32{0, -1, 1},
			[]string{"RGB, -1..1 (preset imagenet-tf)", "stretched to the input size (sidecar)"}, 0},
		{"channel order over preset", Config{Preset: "imagenet-caffe", ChannelOrder: RGB}, 3, []float32{1, 0.5, 0},
			[]float32{255 - 103.939, 127.5 - 116.779, 0 - 123.68}, []string{"RGB, 0..255"}, 0.875},
		{"per-channel std", Config{Std: []float32{0.5, 0.25, 1}}, 3, []float32{1, 1, 1}, []float32{2, 4, 1},
			[]string{"divided by std [0.5 0.25 1]"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.Resolve(tt.channels)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Apply(tt.pixel)
			for c := range tt.want {
				if !near(got[c], tt.want[c]) {
					t.Errorf("channel %d: %v, want %v", c, got[c], tt.want[c])
				}
			}
			d := p.Describe()
			for _, s := range tt.describe {
				if !strings.Contains(d, s) {
					t.Errorf("Describe = %q, want it to contain %q", d, s)
				}
			}
			if p.Resize.CropFraction != tt.crop {
				t.Errorf("crop fraction %v, want %v", p.Resize.CropFraction, tt.crop)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		channels int
		wantErr  string
	}{
		{"mean length", Config{Mean: []float32{0.5, 0.5}}, 3, "mean [0.5 0.5] (sidecar) has 2 values but the model's input has 3 channels"},
		{"preset mean on grey", Config{Preset: "imagenet"}, 1, "(preset imagenet) has 3 values"},
		{"std zero", Config{Std: []float32{0}}, 3, "std [0 0 0] (sidecar)"},
		{"std NaN", Config{Std: []float32{float32(math.NaN())}}, 3, "std"},
		{"std 1e-45", Config{Std: []float32{1e-45}}, 3, "must be finite and at least 1e-06"},
		{"std tiny for 0..255", Config{InputRange: []float32{0, 255}, Std: []float32{1e-4}}, 3, "at least 0.000255"},
		{"mean Inf", Config{Mean: []float32{float32(math.Inf(1))}}, 3, "mean"},
		{"BGR grey", Config{ChannelOrder: BGR}, 1, "channel_order BGR (sidecar) needs a 3-channel input"},
		{"input_size channels", Config{InputSize: []int{3, 28, 28}}, 1, "input_size [3 28 28] says 3 channels"},
		{"channels", Config{}, 5, "has 5 channels"},
		{"image_shape channels", Config{ImageShape: []int{1, 28, 28}}, 3, "image_shape [1 28 28] says 1 channels"},
		{"unknown preset", Config{Preset: "x"}, 3, `preset "x" is unknown`},
		{"range", Config{InputRange: []float32{1, 1}}, 3, "high > low"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Resolve(tt.channels)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Resolve error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseThenResolve(t *testing.T) {
	c, err := Parse([]byte(`{"preset": "imagenet", "std": 0.5, "input_size": [3, 224, 224]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve(3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Apply([]float32{1, 1, 1})[2], float32((1-0.406)/0.5); !near(got, want) {
		t.Errorf("blue input %v, want %v", got, want)
	}
	if c.OutputKind() != Logits {
		t.Errorf("OutputKind = %q, want logits", c.OutputKind())
	}
}
