package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/imgops"
)

// brightPatchArgs train a square patch that turns dark images bright on the
// brightness model: it covers 30–50% of the image, so white is optimal.
func brightPatchArgs(dir, out string, extra ...string) []string {
	return append([]string{"patch", "--target", "bright", "--images", dir, "--out", out, "--size", "8", "--mask", "rect",
		"--scale-min", "0.3", "--scale-max", "0.5", "--steps", "60", "--lr", "0.05", "--batch", "4", "--seed", "3"}, extra...)
}

func TestPatchCommandWritesASelfDescribingPatch(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 4)
	out := filepath.Join(t.TempDir(), "p.png")
	code, stdout, stderr := runAdvlab(brightPatchArgs(dir, out, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep patchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if rep.Steps != 60 || rep.Target != "bright" || rep.Images != 8 || len(rep.Models) != 1 || rep.Models[0] != "brightness" {
		t.Fatalf("report %+v", rep)
	}
	p, meta, err := imgops.LoadPatch(out)
	if err != nil {
		t.Fatal(err)
	}
	var training map[string]any
	if err := json.Unmarshal(meta.Training, &training); err != nil {
		t.Fatal(err)
	}
	if meta.Target != "bright" || meta.TargetIndex == nil || *meta.TargetIndex != 1 || meta.MaskShape != "rect" ||
		training["steps"] != 60.0 || training["learning_rate"] != 0.05 || p.W != 8 || p.H != 8 {
		t.Fatalf("patch %d×%d, meta %+v, training %v", p.W, p.H, meta, training)
	}
	// Only brightening helps, and the patch lies in [0,1]: the colours end
	// at (or next to) white, in every channel since the model sees luminance.
	for i, v := range p.Pix {
		if v < 0.95 {
			t.Fatalf("colour %d is %v; the brightness model's optimum is white", i, v)
		}
	}
	if !strings.Contains(stderr, "step 60/60") {
		t.Fatalf("no progress lines on a non-terminal stderr: %q", stderr)
	}
}

func TestPatchCommandProgressBarOnATerminal(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 2)
	var out, errb bytes.Buffer
	code := Run(context.Background(), &Env{Stdout: &out, Stderr: &errb, Interactive: true},
		brightPatchArgs(dir, filepath.Join(t.TempDir(), "p.png"))[:])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if s := errb.String(); !strings.Contains(s, "\r[") || !strings.Contains(s, "ETA") || !strings.Contains(s, "success") {
		t.Fatalf("no progress bar: %q", s)
	}
}

func TestPatchCommandResumesBitForBit(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 4)
	tmp := t.TempDir()
	straight, resumed, ckpt := filepath.Join(tmp, "a.png"), filepath.Join(tmp, "b.png"), filepath.Join(tmp, "c.json")
	// A small rate keeps the colours off the [0,1]
	// bounds, so that the comparison sees every step.
	slow := []string{"--lr", "0.002", "--steps", "30"}
	if code, _, stderr := runAdvlab(brightPatchArgs(dir, straight, slow...)...); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runAdvlab(brightPatchArgs(dir, resumed, "--lr", "0.002", "--steps", "12", "--checkpoint", ckpt, "--checkpoint-every", "5")...); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runAdvlab(brightPatchArgs(dir, resumed, append(slow, "--checkpoint", ckpt, "--resume")...)...); code != 0 {
		t.Fatal(stderr)
	}
	a, _, err := imgops.LoadPatch(straight)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := imgops.LoadPatch(resumed)
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatalf("colour %d: %v uninterrupted, %v resumed", i, a.Pix[i], b.Pix[i])
		}
		changed = changed || a.Pix[i] != 0.5
	}
	if !changed {
		t.Fatal("the patch never moved; the comparison says nothing")
	}
}

func TestPatchCommandBadOptions(t *testing.T) {
	dir := brightFolder(t, 1)
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "p.png")
	cases := []struct {
		name   string
		args   []string
		want   string
		opened bool // the model is opened (to resolve the target) but never run
	}{
		{"no out", []string{"patch", "--target", "bright", "--images", dir}, "--out", false},
		{"no target", []string{"patch", "--images", dir, "--out", out}, "--target", false},
		{"both goals", []string{"patch", "--target", "bright", "--untargeted", "--images", dir, "--out", out}, "exclude", false},
		{"zero steps", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--steps", "0"}, "steps", false},
		{"bad size", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--size", "0x3"}, "--size", false},
		{"bad mask", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--mask", "star"}, "--mask", false},
		{"bad scale", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--scale-max", "2"}, "scale", false},
		{"bad scale mode", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--scale-mode", "volume"}, "--scale-mode", false},
		{"bad optimizer", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--optimizer", "sgd"}, "optimizer", false},
		{"resume without file", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--resume"}, "--checkpoint", false},
		{"empty folder", []string{"patch", "--target", "bright", "--images", empty, "--out", out}, "no images", false},
		{"unknown target", []string{"patch", "--target", "toaster", "--images", dir, "--out", out}, "toaster", true},
		// Bounded by the machine's memory before any work (a budget no
		// machine reaches: terabytes).
		{"batch beyond memory", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--batch", "100000000"}, "lower the batch size to", true},
		{"largest size beyond memory", []string{"patch", "--target", "bright", "--images", dir, "--out", out, "--size", "4096", "--batch", "100000"}, "a 4096×4096 patch at batch size 100000 needs about", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &brightness{}
			opened := useFake(t, b)
			code, _, stderr := runAdvlab(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want a one-line usage error about %q", code, stderr, tc.want)
			}
			if (*opened > 0) != tc.opened || b.calls != 0 {
				t.Fatalf("model opened %d times and run %d times", *opened, b.calls)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a patch was written")
			}
		})
	}
}
