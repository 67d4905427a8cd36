package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// labelsCSV writes a GTSRB-style manifest beside the class folders of dir,
// labelling each image by its folder, or by the other class when swap.
func labelsCSV(t *testing.T, dir string, perClass int, swap bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("Width,Height,ClassId,Path\n")
	for c, name := range []string{"dark", "bright"} {
		label := c // the brightness model's classes are dark, bright
		if swap {
			label = 1 - c
		}
		for i := 0; i < perClass; i++ {
			fmt.Fprintf(&b, "8,8,%d,%s/%d.png\n", label, name, i)
		}
	}
	p := filepath.Join(dir, "Test.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAttackLabelsCSV checks that a manifest's labels are the truth: the
// same images labelled as their folders give the folder's clean accuracy,
// and with the labels swapped its complement.
func TestAttackLabelsCSV(t *testing.T) {
	useFake(t, &brightness{})
	dir := brightFolder(t, 3)
	run := func(args ...string) map[string]any {
		t.Helper()
		code, stdout, stderr := runAdvlab(append([]string{"attack", "--method", "fgsm", "--eps", "0.001", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	folder := run("--images", dir)
	tests := []struct {
		name string
		swap bool
		want func(float64) float64
	}{
		{"labels as the folders", false, func(a float64) float64 { return a }},
		{"labels swapped", true, func(a float64) float64 { return 1 - a }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := run("--labels-csv", labelsCSV(t, dir, 3, tc.swap))
			got, want := rep["clean_accuracy"].(float64), tc.want(folder["clean_accuracy"].(float64))
			if rep["images"].(float64) != 6 || got < want-1e-9 || got > want+1e-9 {
				t.Errorf("%v images, clean accuracy %v; want 6 and %v", rep["images"], got, want)
			}
		})
	}
}

// flatFolder copies the images of brightFolder into one folder without
// class folders, as photos come.
func flatFolder(t *testing.T, perClass int) string {
	t.Helper()
	src, dst := brightFolder(t, perClass), t.TempDir()
	for _, c := range []string{"dark", "bright"} {
		for i := 0; i < perClass; i++ {
			data, err := os.ReadFile(filepath.Join(src, c, fmt.Sprintf("%d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, fmt.Sprintf("%s-%d.png", c, i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// TestUnlabelledImageSets checks that a folder of photos works for every
// job that needs no true label, says so, and is refused where one is needed.
func TestUnlabelledImageSets(t *testing.T) {
	useFake(t, &brightness{})
	dir := flatFolder(t, 2)
	out := filepath.Join(t.TempDir(), "p.png")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"untargeted attack", []string{"attack", "--method", "fgsm", "--eps", "0.3", "--images", dir, "--json"}, 0, "no true labels for the 4 images"},
		{"targeted attack", []string{"attack", "--method", "pgd", "--eps", "0.3", "--steps", "5", "--target", "bright", "--images", dir}, 0, "measured against the model's clean predictions"},
		{"targeted patch", brightPatchArgs(dir, out, "--steps", "3"), 0, "no true labels"},
		{"untargeted patch", []string{"patch", "--untargeted", "--images", dir, "--out", filepath.Join(t.TempDir(), "u.png"), "--steps", "3"}, 2, "untargeted training needs the true class"},
		{"both sets", []string{"attack", "--method", "fgsm", "--images", dir, "--labels-csv", filepath.Join(dir, "x.csv")}, 2, "exclude each other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runAdvlab(tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d saying %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if tc.name == "untargeted attack" {
				var rep map[string]any
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatal(err)
				}
				// Against the clean predictions FGSM at ε=0.3 flips the
				// brightness model on every image, and there is no accuracy.
				if rep["clean_accuracy"] != nil || rep["attack_success_rate"].(float64) != 1 {
					t.Errorf("clean accuracy %v, success %v; want null and 1", rep["clean_accuracy"], rep["attack_success_rate"])
				}
			}
		})
	}
}
