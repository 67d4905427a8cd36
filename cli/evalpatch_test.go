package cli

import (
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/imgops"
)

// whitePatch writes a white square patch file aimed at "bright".
func whitePatch(t *testing.T, target string) string {
	t.Helper()
	p := imgops.NewGreyPatch(imgops.RectMask(8, 8))
	for i := range p.Pix {
		p.Pix[i] = 1
	}
	path := filepath.Join(t.TempDir(), "white.png")
	if err := imgops.SavePatch(path, p, imgops.PatchMeta{Target: target}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalPatchAgainstClosedForm measures a white patch on the brightness
// model, whose answer is known: a dark image of mean μ ≈ 0.35 turns bright
// when the white patch covers more than (0.5 − μ)/(1 − μ) ≈ 23% of it. At
// 10% of the area no image flips and at 50% every one does, while the noise
// control (mean 0.5) never lifts a dark image over 0.5. The target comes
// from the patch file.
func TestEvalPatchAgainstClosedForm(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 5)
	tmp := t.TempDir()
	csvPath, plotPath := filepath.Join(tmp, "c.csv"), filepath.Join(tmp, "p.png")
	code, stdout, stderr := runAdvlab("evalpatch", "--patch", whitePatch(t, "bright"), "--images", dir,
		"--scales", "0.1,0.5", "--placements", "3", "--json", "--csv", csvPath, "--plot", plotPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Target string `json:"target"`
		Curves []struct {
			Model  string `json:"model"`
			Points []struct {
				Scale              float64  `json:"scale"`
				AreaFraction       float64  `json:"area_fraction"`
				SuccessRate        *float64 `json:"success_rate"`
				ControlSuccessRate *float64 `json:"control_success_rate"`
				Trials             int      `json:"trials"`
			} `json:"points"`
		} `json:"curves"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if rep.Target != "bright" || len(rep.Curves) != 1 || len(rep.Curves[0].Points) != 2 {
		t.Fatalf("report %+v", rep)
	}
	want := []float64{0, 1}
	for i, pt := range rep.Curves[0].Points {
		if pt.SuccessRate == nil || *pt.SuccessRate != want[i] || pt.ControlSuccessRate == nil || *pt.ControlSuccessRate != 0 {
			t.Errorf("scale %v: success %v, control %v; want %v and 0", pt.Scale, pt.SuccessRate, pt.ControlSuccessRate, want[i])
		}
		if pt.Trials != 5*3 || math.Abs(pt.AreaFraction-pt.Scale) > 1e-9 {
			t.Errorf("scale %v: %d trials (want the 5 dark images × 3), area fraction %v", pt.Scale, pt.Trials, pt.AreaFraction)
		}
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || rows[0][0] != "model" || rows[2][6] != "1" {
		t.Fatalf("CSV %v, %v", rows, err)
	}
	pf, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if img, err := png.Decode(pf); err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("plot: %v", err)
	}
}

// TestEvalPatchUntargeted: a patch file without a target is measured by the
// untargeted error alone, and the targeted rates are null.
func TestEvalPatchUntargeted(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 5)
	code, stdout, stderr := runAdvlab("evalpatch", whitePatch(t, ""), "--images", dir, "--scales", "0.5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"success_rate": null`) || !strings.Contains(stdout, `"error": 0.5`) {
		t.Fatalf("want null targeted rates and the dark half misclassified: %s", stdout)
	}
}

func TestEvalPatchBadOptions(t *testing.T) {
	dir := brightFolder(t, 1)
	patch := whitePatch(t, "bright")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no patch", []string{"evalpatch", "--images", dir}, "--patch"},
		{"missing patch", []string{"evalpatch", "--patch", "/nonexistent.png", "--images", dir}, "--patch"},
		{"bad scale", []string{"evalpatch", "--patch", patch, "--images", dir, "--scales", "0.2,1.5"}, "--scales"},
		{"bad mode", []string{"evalpatch", "--patch", patch, "--images", dir, "--scale-mode", "px"}, "--scale-mode"},
		{"bad placements", []string{"evalpatch", "--patch", patch, "--images", dir, "--placements", "0"}, "--placements"},
		{"bad plot name", []string{"evalpatch", "--patch", patch, "--images", dir, "--plot", "x.svg"}, "--plot"},
		{"unknown target", []string{"evalpatch", "--patch", patch, "--images", dir, "--target", "toaster"}, "toaster"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &brightness{}
			useFake(t, b)
			code, _, stderr := runAdvlab(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want a one-line usage error about %q", code, stderr, tc.want)
			}
			if b.calls != 0 {
				t.Fatal("the model ran")
			}
		})
	}
}

// TestEvalPatchSweepBrightness: at half the area a white patch darkened by
// b leaves a dark image (μ ≈ 0.35) the mean 0.5μ + 0.5(1 + b), bright for
// b = 0 and dark for b = −0.7; the identity point equals the plain run.
func TestEvalPatchSweepBrightness(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 4)
	patchPath := whitePatch(t, "bright")
	type point struct {
		Value       *float64 `json:"value"`
		SuccessRate *float64 `json:"success_rate"`
	}
	run := func(args ...string) []point {
		code, stdout, stderr := runAdvlab(append([]string{"evalpatch", "--patch", patchPath, "--images", dir, "--scales", "0.5", "--placements", "2", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep struct {
			Sweep  string `json:"sweep"`
			Curves []struct {
				Points []point `json:"points"`
			} `json:"curves"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
		return rep.Curves[0].Points
	}
	plain := run()
	swept := run("--sweep", "brightness", "--sweep-values", "-0.7,0")
	if len(swept) != 2 || swept[0].Value == nil || *swept[0].Value != -0.7 || *swept[0].SuccessRate != 0 || *swept[1].SuccessRate != 1 {
		t.Fatalf("sweep points %+v", swept)
	}
	if *swept[1].SuccessRate != *plain[0].SuccessRate {
		t.Fatalf("identity %v; plain %v", *swept[1].SuccessRate, *plain[0].SuccessRate)
	}
	for _, bad := range [][]string{{"--sweep-values", "1"}, {"--sweep", "zoom"}, {"--sweep", "jpeg", "--sweep-values", "0"}} {
		if code, _, _ := runAdvlab(append([]string{"evalpatch", "--patch", patchPath, "--images", dir}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d; want 2", bad, code)
		}
	}
}
