package cli

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaliencyPatchShare runs `advlab saliency` with a patch on the
// brightness model, whose logit is 20·(mean − 0.5): its gradient is the same
// at every pixel, so the map is flat and the patch holds exactly its share of
// the area, which for an 8×8 patch at side 0.5 of an 8×8 image is 1/4. It
// writes one 8×8 overlay per image and a JSON with every image's share.
func TestSaliencyPatchShare(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 3)
	out := filepath.Join(t.TempDir(), "maps")
	code, stdout, stderr := runCLI("saliency", "--images", dir, "--patch", whitePatch(t, "bright"), "--scale", "0.5", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "ratio 1.00") {
		t.Errorf("summary %q lacks ratio 1.00", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "saliency.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Method string
		Images []struct {
			File, Explained, Overlay string
			Share                    struct{ Mass, Area, Ratio float64 }
		}
		MeanShare struct{ Mass, Area float64 } `json:"mean_share"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Method != "grad" || len(rep.Images) != 6 {
		t.Fatalf("report %s", b)
	}
	for _, im := range rep.Images {
		if math.Abs(im.Share.Mass-0.25) > 1e-6 || math.Abs(im.Share.Area-0.25) > 1e-6 {
			t.Fatalf("%s: share %+v; want mass = area = 0.25", im.File, im.Share)
		}
		f, err := os.Open(filepath.Join(out, filepath.FromSlash(im.Overlay)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 8 || img.Bounds().Dy() != 8 {
			t.Fatalf("%s: overlay %v, %v", im.Overlay, img.Bounds(), err)
		}
	}
	if math.Abs(rep.MeanShare.Mass-0.25) > 1e-6 {
		t.Fatalf("mean share %+v", rep.MeanShare)
	}
}

// TestSaliencyRejects checks bad requests: usage errors exit 2 before any
// model runs, and Grad-CAM on a model that cannot differentiate a feature
// map fails with the reason.
func TestSaliencyRejects(t *testing.T) {
	dir := brightFolder(t, 1)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"method", []string{"--method", "occlusion"}, 2, "unknown attribution method"},
		{"no output", nil, 2, "-o DIR is required"},
		{"scale", []string{"--scale", "2"}, 2, "--scale"},
		{"gradcam", []string{"--method", "gradcam"}, 1, "Grad-CAM needs an ONNX model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &brightness{}
			useFake(t, b)
			args := append([]string{"saliency", "--images", dir}, c.args...)
			if c.name != "no output" {
				args = append(args, "-o", filepath.Join(t.TempDir(), "o"))
			}
			code, _, stderr := runCLI(args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, %q; want %d and %q", code, stderr, c.code, c.want)
			}
			if c.code == 2 && b.calls != 0 {
				t.Fatalf("the model ran %d times before a usage error", b.calls)
			}
		})
	}
}

// TestSaliencyIntegratedGradients runs integrated gradients on the
// brightness model, affine in the pixels: the trapezoid rule is exact on
// its constant gradient, so every image's completeness error is zero (to
// float32 rounding) on the first grid of --steps intervals, which the
// adaptive refinement leaves as it is: --steps + 1 gradients per image.
func TestSaliencyIntegratedGradients(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 2)
	out := filepath.Join(t.TempDir(), "maps")
	code, stdout, stderr := runCLI("saliency", "--images", dir, "--method", "ig", "--steps", "5", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "completeness error at most") || !strings.Contains(stdout, "6 gradients per image") {
		t.Errorf("summary %q lacks the completeness line with 6 gradients per image", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "saliency.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Images []struct {
			Completeness *float64 `json:"completeness_error"`
			PathSteps    int      `json:"path_steps"`
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Images) != 4 {
		t.Fatalf("report %s, %v", b, err)
	}
	for i, im := range rep.Images {
		if im.Completeness == nil || math.Abs(*im.Completeness) > 1e-4 || im.PathSteps != 6 {
			t.Fatalf("image %d: completeness %v, %d gradients; want 0 and 6", i, im.Completeness, im.PathSteps)
		}
	}
	for _, bad := range [][]string{{"--tolerance", "0"}, {"--max-steps", "0"}} {
		if code, _, _ := runCLI(append([]string{"saliency", "--images", dir, "--method", "ig", "-o", out}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d; want 2", bad, code)
		}
	}
}
