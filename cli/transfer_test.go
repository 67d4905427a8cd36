package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// useFakes makes the attack commands open a brightness classifier per
// model spec.
func useFakes(t *testing.T, models map[string]*brightness) {
	t.Helper()
	old := openAttackModel
	openAttackModel = func(spec string) (attackModel, error) { return models[spec], nil }
	t.Cleanup(func() { openAttackModel = old })
}

func TestTransferJSON(t *testing.T) {
	dir := brightFolder(t, 3)
	a, b := &brightness{id: "-a"}, &brightness{id: "-b", side: 16}
	useFakes(t, map[string]*brightness{"a.onnx": a, "b.onnx": b})
	code, stdout, stderr := runAdvlab("transfer", "--models", "a.onnx,b.onnx", "--method", "fgsm", "--eps", "0.3", "--images", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var tab transferTable
	if err := json.Unmarshal([]byte(stdout), &tab); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(tab.Rows) != 2 || len(tab.Models) != 2 || tab.Images != 6 {
		t.Fatalf("table %+v", tab)
	}
	for j, e := range tab.CleanError {
		if e != 0 {
			t.Errorf("clean error of %s = %v", tab.Models[j], e)
		}
	}
	// Both models threshold the mean brightness, so FGSM's examples
	// transfer completely, even through the 8×8 → 16×16 resize.
	for i, r := range tab.Rows {
		for j, e := range r.Errors {
			if e != 1 {
				t.Errorf("row %s column %s: error %v, want 1", r.Source, tab.Models[j], e)
			}
		}
		if want := []string{"brightness-a", "brightness-b"}[i]; r.Source != want {
			t.Errorf("row %d is %s", i, r.Source)
		}
		if r.RMSMean <= 0 || r.L2Mean <= r.RMSMean {
			t.Errorf("distortions L2 %v RMS %v", r.L2Mean, r.RMSMean)
		}
	}
	if len(tab.Notes) != 2 {
		t.Errorf("notes %q: want one per resize direction", tab.Notes)
	}
}

func TestTransferTable(t *testing.T) {
	dir := brightFolder(t, 1)
	useFakes(t, map[string]*brightness{"a": {id: "-a"}, "b": {id: "-b"}})
	code, stdout, stderr := runAdvlab("transfer", "--models", "a", "--models", "b", "--method", "deepfool", "--images", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"| crafted on \\ evaluated on | brightness-a | brightness-b |", "| clean error | 0.0% | 0.0% |", "| brightness-a | 100.0% | 100.0% | 100.0% |"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

// TestTransferPGDAllSteps checks that transfer crafts PGD's examples with
// every step (the most confident adversarials) unless told otherwise, and
// says so in the attack's description.
func TestTransferPGDAllSteps(t *testing.T) {
	dir := brightFolder(t, 1)
	for _, tt := range []struct {
		extra []string
		want  string
	}{
		{nil, "pgd (eps=0.3, all-steps=true)"},
		{[]string{"--all-steps=false"}, "pgd (eps=0.3, all-steps=false)"},
	} {
		useFakes(t, map[string]*brightness{"a": {id: "-a"}, "b": {id: "-b"}})
		args := append([]string{"transfer", "--models", "a,b", "--method", "pgd", "--eps", "0.3", "--images", dir, "--json"}, tt.extra...)
		code, stdout, stderr := runAdvlab(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.extra, code, stderr)
		}
		var tab transferTable
		if err := json.Unmarshal([]byte(stdout), &tab); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if tab.Attack != tt.want {
			t.Errorf("%v: attack %q, want %q", tt.extra, tab.Attack, tt.want)
		}
	}
}

// TestTransferBadOptions checks that bad options fail with exit status 2
// and a one-line reason before any model is evaluated.
func TestTransferBadOptions(t *testing.T) {
	dir := brightFolder(t, 1)
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "dark"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one model", []string{"--models", "a", "--method", "fgsm", "--images", dir}, "at least two models"},
		{"no method", []string{"--models", "a,b", "--images", dir}, "--method is required"},
		{"unknown method", []string{"--models", "a,b", "--method", "magic", "--images", dir}, `unknown method "magic"`},
		{"negative eps", []string{"--models", "a,b", "--method", "pgd", "--eps", "-0.1", "--images", dir}, "eps -0.1 must be positive"},
		{"eps for cw", []string{"--models", "a,b", "--method", "cw", "--eps", "1", "--images", dir}, "--eps is not taken"},
		{"target one model lacks", []string{"--models", "a,b", "--method", "pgd", "--target", "7", "--images", dir}, "--target for brightness-a"},
		{"empty folder", []string{"--models", "a,b", "--method", "fgsm", "--images", empty}, "no images in"},
		{"zero batch", []string{"--models", "a,b", "--method", "fgsm", "--batch", "0", "--images", dir}, "--batch 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := &brightness{id: "-a"}, &brightness{id: "-b"}
			useFakes(t, map[string]*brightness{"a": a, "b": b})
			code, stdout, stderr := runAdvlab(append([]string{"transfer"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("reason is not one line: %q", stderr)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
			if a.calls+b.calls > 0 {
				t.Error("a model was evaluated before the options were checked")
			}
		})
	}
}
