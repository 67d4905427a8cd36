package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSzegedyReport(t *testing.T) {
	zoo := t.TempDir()
	fakes := map[string]*brightness{}
	for _, n := range szegedyNets {
		p := filepath.Join(zoo, n.File+".onnx")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fakes[p] = &brightness{id: "-" + n.File}
	}
	if err := os.Rename(brightFolder(t, 3), filepath.Join(zoo, "samples")); err != nil {
		t.Fatal(err)
	}
	useFakes(t, fakes)
	out := filepath.Join(t.TempDir(), "docs", "szegedy.md")
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
		"1.64% or 1.46%: sources disagree, see paper",
		"| Gaussian noise, stddev=0.3 |",
		// Every fake network is the same brightness threshold, so every
		// adversarial set fools every network.
		"| FC10(1e-4) | **100.0%** (100%) | **100.0%** (11.7%) |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Count(doc, "\n- Examples crafted on") != 6 || strings.Count(doc, "\n- **Gaussian noise") != 2 {
		t.Errorf("want a sentence per Table 2 row:\n%s", doc)
	}
}

func TestSzegedyMissingZoo(t *testing.T) {
	code, _, stderr := runAdvlab("szegedy", "--zoo", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "lacks fc10-wd1e-4.onnx") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
