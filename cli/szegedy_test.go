package cli

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSzegedyReport(t *testing.T) {
	zoo := t.TempDir()
	fakes := szegedyFakes(t, zoo)
	if err := os.Rename(brightFolder(t, 3), filepath.Join(zoo, "samples")); err != nil {
		t.Fatal(err)
	}
	useFakes(t, fakes)
	out := filepath.Join(t.TempDir(), "szegedy.md") // its folder must exist, as for every output file
	code, stdout, stderr := runAdvlab("szegedy", "--zoo", zoo, "--limit", "4", "--steps", "30", "--search-steps", "6", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{
		"## Table 1", "## Table 2", "**4 images**",
		"| FC10(1e-4) | softmax regression, λ = 1e-4 | 6.7% | 7.4% | 0.062 |",
		"| FC100-100-10 | sigmoid network, λ = 1e-5, 1e-5, 1e-6 | 0% | 1.64% | 0.058 |",
		"| clean images (advlab only) |",
		"**Trends.**",
		"| Gaussian noise, stddev=0.3 |",
		// Every fake network is the same brightness threshold, so every
		// adversarial set fools every network.
		"| FC10(1e-4) | **100.0%** (100%) | **100.0%** (11.7%) |",
		"## Table 3: cross-training-set generalisation",
		"| crafted on \\ evaluated on | FC100-100-10 (P1) | FC123-456-10 (P1) | FC100-100-10' (P2) | av. distortion |",
		"| FC123-456-10 (P1) | **100.0%** | **100.0%** | **100.0%** |",
		"**Across architectures** (the same half P1): FC123-456-10 (P1) misclassifies 100.0% of the examples crafted on FC100-100-10 (P1)",
		"**Across training sets** (the same architecture): FC100-100-10' (P2) misclassifies 100.0%",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Count(doc, "\n- Examples crafted on") != 6 || strings.Count(doc, "\n- **Gaussian noise") != 2 {
		t.Errorf("want a sentence per Table 2 row:\n%s", doc)
	}
}

// szegedyFakes writes an empty file in zoo for every network the szegedy
// command opens, Tables 1–3, and returns a brightness fake for each.
func szegedyFakes(t *testing.T, zoo string) map[string]*brightness {
	t.Helper()
	var files []string
	for _, n := range szegedyNets {
		files = append(files, n.File)
	}
	for _, n := range szegedyTable3Nets {
		files = append(files, n.File)
	}
	fakes := map[string]*brightness{}
	for _, f := range files {
		p := filepath.Join(zoo, f+".onnx")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fakes[p] = &brightness{id: "-" + f}
	}
	return fakes
}

func TestSzegedyMissingZoo(t *testing.T) {
	code, _, stderr := runAdvlab("szegedy", "--zoo", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "lacks fc10-wd1e-4.onnx") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestMeanInterval(t *testing.T) {
	for _, tt := range []struct {
		v            []float64
		mean, lo, hi float64
	}{
		{[]float64{0.5}, 0.5, 0.5, 0.5},
		// s = sqrt(4/3), n = 4.
		{[]float64{1, 1, 3, 3}, 2, 2 - 1.96*math.Sqrt(4.0/3)/2, 2 + 1.96*math.Sqrt(4.0/3)/2},
	} {
		m, lo, hi := meanInterval(tt.v)
		if math.Abs(m-tt.mean) > 1e-12 || math.Abs(lo-tt.lo) > 1e-12 || math.Abs(hi-tt.hi) > 1e-12 {
			t.Errorf("meanInterval(%v) = %g, %g, %g; want %g, %g, %g", tt.v, m, lo, hi, tt.mean, tt.lo, tt.hi)
		}
	}
	if m, _, _ := meanInterval(nil); !math.IsNaN(m) {
		t.Errorf("meanInterval(nil) = %g, want NaN", m)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 8000: "8,000", 60000: "60,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSzegedyBadOptions checks that bad options fail with exit status 2 and
// a one-line reason before any network is evaluated.
func TestSzegedyBadOptions(t *testing.T) {
	zoo := t.TempDir()
	fakes := szegedyFakes(t, zoo)
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "dark"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"zero batch", []string{"--batch", "0"}, "--batch 0"},
		{"zero steps", []string{"--steps", "0"}, "iterations 0 must be positive"},
		{"zero search steps", []string{"--search-steps", "0"}, "search steps 0 must be positive"},
		{"negative limit", []string{"--limit", "-1"}, "--limit -1"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"empty folder", []string{"--images", empty}, "no images in"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			useFakes(t, fakes)
			code, stdout, stderr := runAdvlab(append([]string{"szegedy", "--zoo", zoo}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("reason is not one line: %q", stderr)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
			for _, f := range fakes {
				if f.calls > 0 {
					t.Fatalf("%s was evaluated before the options were checked", f.id)
				}
			}
		})
	}
}

// TestSzegedyMissingTable3 checks that a zoo without Table 3's networks
// names them and how to build them.
func TestSzegedyMissingTable3(t *testing.T) {
	zoo := t.TempDir()
	fakes := szegedyFakes(t, zoo)
	for _, n := range szegedyTable3Nets[1:] {
		p := filepath.Join(zoo, n.File+".onnx")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		delete(fakes, p)
	}
	useFakes(t, fakes)
	code, _, stderr := runAdvlab("szegedy", "--zoo", zoo)
	if code != 1 || !strings.Contains(stderr, "lacks fc123-456-10-p1.onnx, fc100-100-10-p2.onnx") || !strings.Contains(stderr, "--only table3") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
