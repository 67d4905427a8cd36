package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// failingRuntime is the brightness model behind a runtime that fails once
// `after` runs have succeeded, with the kind of error ONNX Runtime returns
// when a node cannot run on a batch.
type failingRuntime struct {
	*brightness
	after, runs int
}

var errRuntime = errors.New("Error running model: Non-zero status code returned while running Conv node. Name:'conv_1' Status Message: failed to allocate memory")

func (f *failingRuntime) Logits(ctx context.Context, x []float32, n int) ([]float32, error) {
	if f.runs++; f.runs > f.after {
		return nil, errRuntime
	}
	return f.brightness.Logits(ctx, x, n)
}

func (f *failingRuntime) Gradient(ctx context.Context, loss engine.LossKind, x []float32, targets []int64) (engine.Gradients, error) {
	if f.runs++; f.runs > f.after {
		return engine.Gradients{}, errRuntime
	}
	return f.brightness.Gradient(ctx, loss, x, targets)
}

// TestPatchCommandsExitCodes checks that the patch commands tell a request
// the engine rejects (exit 2, a usage error) from a model failing while
// they run (exit 1, with the runtime's message), whichever step it fails at.
func TestPatchCommandsExitCodes(t *testing.T) {
	dir := brightFolder(t, 2)
	tmp := t.TempDir()
	saved := filepath.Join(tmp, "saved.png")
	if err := imgops.SavePatch(saved, imgops.NewGreyPatch(imgops.RectMask(4, 4)), imgops.PatchMeta{Target: "bright"}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "p.png")
	evalArgs := []string{"evalpatch", "--patch", saved, "--images", dir, "--scales", "0.2,0.4", "--placements", "1"}
	tests := []struct {
		name  string
		after int // successful runs before the model fails; -1 never fails
		args  []string
		code  int
		msg   string
	}{
		{"patch: fails at step 3", 2, brightPatchArgs(dir, out, "--steps", "5"), 1, "Non-zero status code"},
		{"patch: fails at the first step", 0, brightPatchArgs(dir, out, "--steps", "5"), 1, "Non-zero status code"},
		{"patch: unknown target", -1, append(brightPatchArgs(dir, out), "--target", "zebra"), 2, `"zebra" is not one of the model's classes`},
		{"evalpatch: fails mid-run", 1, evalArgs, 1, "Non-zero status code"},
		{"evalpatch: fails on the clean images", 0, evalArgs, 1, "Non-zero status code"},
		{"evalpatch: unknown target", -1, append(evalArgs, "--target", "zebra"), 2, `"zebra" is not one of the model's classes`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &failingRuntime{brightness: &brightness{}, after: tc.after}
			if tc.after < 0 {
				m.after = 1 << 30
			}
			old := openAttackModel
			openAttackModel = func(string) (attackModel, error) { return m, nil }
			t.Cleanup(func() { openAttackModel = old })
			code, _, stderr := runAdvlab(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, tc.code, tc.msg)
			}
			if tc.code == 1 && m.runs <= tc.after {
				t.Errorf("the model ran %d times; the failure was not reached", m.runs)
			}
		})
	}
}
