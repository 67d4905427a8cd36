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

// TestEvalPatchAttention runs `evalpatch --attention` on the brightness
// model, an affine classifier z = ±20·(mean − 0.5): the gradient of either
// logit is the same at every pixel, and so is SmoothGrad's mean of it, so
// the map is flat and any region holds exactly its share of the image:
// the attention mass inside the patch and inside the control equals the
// area they cover (ratio 1), which is the scale's area fraction up to the
// anti-aliasing of the 8×8 images' edge pixels. The text,
// JSON and CSV all carry the shares.
func TestEvalPatchAttention(t *testing.T) {
	for _, method := range []string{"gradient", "smoothgrad"} {
		t.Run(method, func(t *testing.T) {
			useFake(t, &brightness{})
			dir := brightFolder(t, 3)
			csvPath := filepath.Join(t.TempDir(), "c.csv")
			args := []string{"evalpatch", "--patch", whitePatch(t, "bright"), "--images", dir, "--scales", "0.25,0.5", "--placements", "2",
				"--rotation", "0", "--attention", method}
			code, stdout, stderr := runAdvlab(append(args, "--json", "--csv", csvPath)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep struct {
				Attention string `json:"attention"`
				Curves    []struct {
					Points []struct {
						AreaFraction     float64 `json:"area_fraction"`
						Attention        *struct{ Mass, Area, Ratio float64 }
						ControlAttention *struct{ Mass, Area, Ratio float64 } `json:"control_attention"`
					} `json:"points"`
				} `json:"curves"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			want := map[string]string{"gradient": "grad", "smoothgrad": "smoothgrad"}[method]
			if rep.Attention != want || len(rep.Curves) != 1 || len(rep.Curves[0].Points) != 2 {
				t.Fatalf("report %s", stdout)
			}
			for _, pt := range rep.Curves[0].Points {
				for _, a := range []*struct{ Mass, Area, Ratio float64 }{pt.Attention, pt.ControlAttention} {
					if a == nil || math.Abs(a.Mass-a.Area) > 1e-6 || math.Abs(a.Area-pt.AreaFraction) > 0.03*pt.AreaFraction || math.Abs(a.Ratio-1) > 1e-5 {
						t.Fatalf("area %v: attention %+v; want mass = area ≈ %v, ratio 1", pt.AreaFraction, a, pt.AreaFraction)
					}
				}
			}
			f, err := os.Open(csvPath)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil || len(rows) != 3 {
				t.Fatalf("CSV %v, %v", rows, err)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for _, h := range []string{"attention_mass", "attention_area", "attention_ratio", "control_attention_mass", "control_attention_ratio"} {
				if _, ok := col[h]; !ok {
					t.Fatalf("CSV header %v lacks %s", rows[0], h)
				}
			}
			if r := rows[2]; r[col["attention_mass"]] != r[col["attention_area"]] || r[col["attention_ratio"]] != "1" || r[col["control_attention_ratio"]] != "1" {
				t.Fatalf("CSV row %v: want attention mass = area, ratio 1", r)
			}
			code, stdout, stderr = runAdvlab(args...)
			if code != 0 || !strings.Contains(stdout, want+" in") || !strings.Contains(stdout, "(×1.00)") {
				t.Fatalf("exit %d, table %q (%s); want the attention columns with ratio ×1.00", code, stdout, stderr)
			}
		})
	}
}

// TestEvalPatchAttentionRejected: an unknown method, or Grad-CAM on a model
// without feature maps, is a one-line usage error before the model runs.
func TestEvalPatchAttentionRejected(t *testing.T) {
	dir := brightFolder(t, 1)
	p := whitePatch(t, "bright")
	for _, c := range []struct{ method, want string }{{"occlusion", "--attention"}, {"gradcam", "feature map"}} {
		t.Run(c.method, func(t *testing.T) {
			b := &brightness{}
			useFake(t, b)
			code, _, stderr := runAdvlab("evalpatch", "--patch", p, "--images", dir, "--attention", c.method)
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || b.calls != 0 {
				t.Fatalf("exit %d, stderr %q, %d model calls; want a one-line usage error about %q before any", code, stderr, b.calls, c.want)
			}
		})
	}
}

// TestEvalPatchCompare measures a white and a black patch together on the
// brightness model: at half the area the white one turns every dark image
// (μ ≈ 0.35) bright and the black one none, in one curve per patch, with
// the same placements; the JSON lists both reports, the CSV names each
// row's patch and the plot draws them.
func TestEvalPatchCompare(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 3)
	black := imgops.NewGreyPatch(imgops.RectMask(8, 8))
	for i := range black.Pix {
		black.Pix[i] = 0
	}
	blackPath := filepath.Join(t.TempDir(), "black.png")
	if err := imgops.SavePatch(blackPath, black, imgops.PatchMeta{Target: "bright"}); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	csvPath, plotPath := filepath.Join(tmp, "c.csv"), filepath.Join(tmp, "p.png")
	code, stdout, stderr := runAdvlab("evalpatch", "--patch", whitePatch(t, "bright"), "--compare-patch", blackPath, "--images", dir,
		"--scales", "0.5", "--placements", "2", "--json", "--csv", csvPath, "--plot", plotPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var cmp struct {
		Patches []struct {
			Patch  string `json:"patch"`
			Target string `json:"target"`
			Curves []struct {
				Points []struct {
					SuccessRate *float64 `json:"success_rate"`
				} `json:"points"`
			} `json:"curves"`
		} `json:"patches"`
	}
	if err := json.Unmarshal([]byte(stdout), &cmp); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if len(cmp.Patches) != 2 || cmp.Patches[1].Patch != blackPath || cmp.Patches[1].Target != "bright" {
		t.Fatalf("comparison %s", stdout)
	}
	for i, want := range []float64{1, 0} {
		if sr := cmp.Patches[i].Curves[0].Points[0].SuccessRate; sr == nil || *sr != want {
			t.Fatalf("patch %s: success %v; want %v", cmp.Patches[i].Patch, sr, want)
		}
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || rows[0][0] != "patch" || rows[2][0] != blackPath || rows[1][1] != "brightness" {
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
	code, stdout, _ = runAdvlab("evalpatch", "--patch", whitePatch(t, "bright")+","+blackPath, "--images", dir, "--scales", "0.5", "--placements", "2")
	if code != 0 || strings.Count(stdout, "brightness (clean accuracy") != 2 || !strings.Contains(stdout, blackPath) {
		t.Fatalf("exit %d; want one table per patch: %s", code, stdout)
	}

	// A sweep of both, one curve per patch: the white patch darkened by 0.7
	// leaves a dark image dark (mean 0.5μ + 0.15 < 0.5), and the black one
	// brightened by 0.7 turns it bright (0.5μ + 0.35 > 0.5).
	code, _, stderr = runAdvlab("evalpatch", "--patch", whitePatch(t, "bright"), "--patch", blackPath, "--images", dir, "--scales", "0.5",
		"--placements", "2", "--sweep", "brightness", "--sweep-values", "-0.7,0,0.7", "--csv", csvPath)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	f, err = os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1+2*3 {
		t.Fatalf("sweep CSV: %d rows (%v); want a header and 2 patches × 3 values", len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	want := []string{"0", "1", "1", "0", "0", "1"} // white at −0.7, 0, 0.7; black at −0.7, 0, 0.7
	for i, r := range rows[1:] {
		if r[col["success_rate"]] != want[i] || r[col["sweep"]] != "brightness" {
			t.Errorf("sweep CSV row %v: success %s; want %s", r, r[col["success_rate"]], want[i])
		}
	}
}
