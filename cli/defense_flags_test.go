package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefenseFlagsRejectBadSpecs runs every command that takes --defense
// with each bad spec: each is a one-line usage error (exit 2), given before
// the model runs a single batch.
func TestDefenseFlagsRejectBadSpecs(t *testing.T) {
	dir := brightFolder(t, 1)
	tmp := t.TempDir()
	patchPNG := filepath.Join(tmp, "patch.png")
	f, err := os.Create(patchPNG)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewNRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	commands := map[string][]string{
		"attack":    {"attack", "--method", "pgd", "--images", dir},
		"classify":  {"classify", dir},
		"transfer":  {"transfer", "--models", "a.onnx,b.onnx", "--method", "fgsm", "--images", dir},
		"patch":     {"patch", "--target", "dark", "--images", dir, "--size", "4", "--steps", "1", "--out", filepath.Join(tmp, "out.png")},
		"evalpatch": {"evalpatch", "--patch", patchPNG, "--images", dir},
		"defenses":  {"defenses", "--images", dir, "--patch-size", "4"},
	}
	bad := []struct {
		name string
		args []string
		want string // in the message
	}{
		{"unknown defense", []string{"--defense", "nope"}, "unknown defense"},
		{"unknown parameter", []string{"--defense", "jpeg:q=5"}, "takes no parameter"},
		{"not k=v", []string{"--defense", "bits:3"}, "not k=v"},
		{"quality out of range", []string{"--defense", "jpeg:quality=101"}, "quality"},
		{"sigma zero", []string{"--defense", "smooth:sigma=0"}, "sigma"},
		{"blur sigma negative", []string{"--defense", "blur:sigma=-1"}, "sigma"},
		{"no votes", []string{"--defense", "smooth:n=0"}, "n"},
		{"patch larger than the image", []string{"--defense", "cleanser:size=100"}, "cleanser"},
		{"non-adaptive alone", []string{"--non-adaptive"}, "--non-adaptive"},
	}
	for cmd, base := range commands {
		for _, b := range bad {
			t.Run(cmd+"/"+b.name, func(t *testing.T) {
				fake := &brightness{}
				useFake(t, fake)
				code, _, stderr := runAdvlab(append(append([]string(nil), base...), b.args...)...)
				if b.name == "non-adaptive alone" && (cmd == "classify" || cmd == "evalpatch" || cmd == "defenses") {
					if code != 2 || !strings.Contains(stderr, "non-adaptive") {
						t.Errorf("exit %d, stderr %q; want the unknown flag refused", code, stderr)
					}
					return
				}
				msg := strings.TrimSpace(stderr)
				if code != 2 || strings.Count(msg, "\n") > 0 || !strings.Contains(msg, b.want) {
					t.Errorf("exit %d, stderr %q; want one usage line naming %q", code, msg, b.want)
				}
				if fake.calls != 0 { // classify opens the demo model, not the fake: its 64-pixel side holds no 100-pixel mask either
					t.Errorf("the model ran %d times before the spec was refused", fake.calls)
				}
			})
		}
	}
}

// TestDefenseRepeatedWhereOneIsTaken: attack and classify take one defense.
func TestDefenseRepeatedWhereOneIsTaken(t *testing.T) {
	dir := brightFolder(t, 1)
	useFake(t, &brightness{})
	code, _, stderr := runAdvlab("attack", "--method", "fgsm", "--images", dir, "--defense", "bits", "--defense", "jpeg")
	if code != 2 || !strings.Contains(stderr, "takes one") {
		t.Errorf("exit %d, stderr %q; want a usage error", code, stderr)
	}
}

// TestDefenseFlagsWrapEveryModel checks what --defense does in each command
// on the brightness model (bright when the mean exceeds 0.5). bits:bits=1
// rounds every pixel of a dark image (0.35 ± 0.02) to 0, so a white patch
// must cover half the image to flip it, against 23% for the bare model.
func TestDefenseFlagsWrapEveryModel(t *testing.T) {
	dir := brightFolder(t, 3)
	t.Run("evalpatch", func(t *testing.T) {
		useFake(t, &brightness{})
		code, stdout, stderr := runAdvlab("evalpatch", "--patch", whitePatch(t, "bright"), "--images", dir, "--scales", "0.3",
			"--rotation", "0", "--placements", "2", "--defense", "bits:bits=1", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep struct {
			Curves []struct {
				Model  string
				Points []struct {
					SuccessRate float64 `json:"success_rate"`
				}
			}
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Curves) != 2 || rep.Curves[0].Model != "brightness" || rep.Curves[1].Model != "brightness+bits1" {
			t.Fatalf("curves %+v; want the bare model and brightness+bits1", rep.Curves)
		}
		if bare, def := rep.Curves[0].Points[0].SuccessRate, rep.Curves[1].Points[0].SuccessRate; bare != 1 || def != 0 {
			t.Errorf("success at 30%% of the area: bare %v, defended %v; want 1 and 0", bare, def)
		}
	})
	for _, nonAdaptive := range []bool{false, true} {
		t.Run(fmt.Sprintf("transfer non-adaptive=%v", nonAdaptive), func(t *testing.T) {
			useFakes(t, map[string]*brightness{"a": {id: "-a"}, "b": {id: "-b"}})
			args := []string{"transfer", "--models", "a,b", "--method", "fgsm", "--eps", "0.3", "--images", dir, "--defense", "bits:bits=1", "--json"}
			if nonAdaptive {
				args = append(args, "--non-adaptive")
			}
			code, stdout, stderr := runAdvlab(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var tab transferTable
			if err := json.Unmarshal([]byte(stdout), &tab); err != nil {
				t.Fatal(err)
			}
			wantModels := "brightness-a,brightness-a+bits1,brightness-b,brightness-b+bits1"
			wantRows := map[bool]string{false: wantModels, true: "brightness-a,brightness-b"}[nonAdaptive]
			var rows []string
			for _, r := range tab.Rows {
				rows = append(rows, r.Source)
				// FGSM at 0.3 takes a dark image to 0.65 and a bright one to
				// 0.35: every model, defended or not, errs on all of them.
				for j, e := range r.Errors {
					if e != 1 {
						t.Errorf("row %s column %s: error %v, want 1", r.Source, tab.Models[j], e)
					}
				}
			}
			if strings.Join(tab.Models, ",") != wantModels || strings.Join(rows, ",") != wantRows {
				t.Errorf("columns %q rows %q; want %q and %q", tab.Models, rows, wantModels, wantRows)
			}
		})
	}
	for _, nonAdaptive := range []bool{false, true} {
		t.Run(fmt.Sprintf("patch non-adaptive=%v", nonAdaptive), func(t *testing.T) {
			useFake(t, &brightness{})
			args := []string{"patch", "--target", "bright", "--images", dir, "--size", "4", "--steps", "2", "--batch", "2",
				"--out", filepath.Join(t.TempDir(), "p.png"), "--defense", "bits:bits=1", "--json"}
			if nonAdaptive {
				args = append(args, "--non-adaptive")
			}
			code, stdout, stderr := runAdvlab(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep patchReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{false: "brightness+bits1", true: "brightness"}[nonAdaptive]
			if strings.Join(rep.Models, ",") != want {
				t.Errorf("trained against %q; want %q", rep.Models, want)
			}
			if nonAdaptive != (len(rep.Transferred) == 1) || nonAdaptive && rep.Transferred[0].Model != "brightness+bits1" {
				t.Errorf("transferred %+v; want the defended model's success under --non-adaptive alone", rep.Transferred)
			}
		})
	}
}

// TestDefensesRowsPerModel runs the comparison on two models, and on the
// default with the zoo's robust model when no --model is given, with --plot.
func TestDefensesRowsPerModel(t *testing.T) {
	dir := brightFolder(t, 2)
	zooDir := t.TempDir()
	robust := filepath.Join(zooDir, "signs", "resnet-robust.onnx")
	if err := os.MkdirAll(filepath.Dir(robust), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(robust, []byte("opened by the fake"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := []string{"defenses", "--images", dir, "--steps", "2", "--queries", "4", "--patch-steps", "2", "--patch-size", "4",
		"--placements", "1", "--defense", "bits:bits=1", "--json"}
	tests := []struct {
		name string
		args []string
		want []string // models of the rows
	}{
		{"two models", []string{"--model", "a", "--model", "b"}, []string{"brightness-a", "brightness-a+bits1", "brightness-b", "brightness-b+bits1"}},
		{"zoo default", []string{"--zoo", zooDir}, []string{"brightness-demo", "brightness-demo+bits1", "brightness-robust", "brightness-robust+bits1"}},
		{"zoo without the robust model", []string{"--zoo", t.TempDir()}, []string{"brightness-demo", "brightness-demo+bits1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			useFakes(t, map[string]*brightness{"a": {id: "-a"}, "b": {id: "-b"}, "": {id: "-demo"}, robust: {id: "-robust"}})
			plotPath := filepath.Join(t.TempDir(), "bars.png")
			code, stdout, stderr := runAdvlab(append(append(append([]string(nil), small...), tc.args...), "--plot", plotPath)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep defensesReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rep.Rows {
				got = append(got, r.Model)
				if want := map[bool]string{true: "", false: "bits:bits=1"}[!strings.Contains(r.Model, "+")]; r.Defense != want {
					t.Errorf("row %s: defense %q, want %q", r.Model, r.Defense, want)
				}
				for name, v := range map[string]jsonFloat{"clean": r.CleanAccuracy, "robust": r.RobustAccuracy, "patch": r.PatchSuccess, "untargeted": r.UntargetedPatchSuccess} {
					if !inUnit(float64(v)) {
						t.Errorf("row %s: %s %v is not a rate", r.Model, name, v)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rows %q; want %q", got, tc.want)
			}
			f, err := os.Open(plotPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 400 {
				t.Errorf("the plot is not a PNG of the bars: %v", err)
			}
		})
	}
}
