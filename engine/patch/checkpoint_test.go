package patch

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
)

// TestPatchCheckpointRoundTripIsExact writes awkward floats (thirds,
// subnormals, the largest values) and reads back the same bits.
func TestPatchCheckpointRoundTripIsExact(t *testing.T) {
	f32 := []float32{1.0 / 3, 0.1, math.SmallestNonzeroFloat32, math.MaxFloat32, 0, 1 - 1e-7}
	f64 := []float64{1.0 / 3, 0.1, math.SmallestNonzeroFloat64, math.MaxFloat64, math.Copysign(0, -1), 1e-300}
	cp := &Checkpoint{Format: CheckpointFormat, Options: []byte(`{"steps":3}`), Models: []string{"a"}, Step: 2,
		W: 2, H: 1, Pix: f32, Mask: []float32{1, 0.5}, AdamM: f64, AdamV: f64, Loss: 1.0 / 7,
		Window: successWindow{Hits: []int{1}, Trials: []int{2}}}
	path := filepath.Join(t.TempDir(), "c.json")
	if err := cp.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !samePix(back.Pix, f32) || back.Loss != cp.Loss || back.Step != 2 {
		t.Fatalf("read back %+v", back)
	}
	for i := range f64 {
		if math.Float64bits(back.AdamM[i]) != math.Float64bits(f64[i]) {
			t.Fatalf("moment %d: %v, want %v", i, back.AdamM[i], f64[i])
		}
	}
}

func TestLoadPatchCheckpointRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "not json",
		"other.json":   `{"format":"advlab-patch/1"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "not a patch checkpoint") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("a missing file loaded")
	}
}

// TestPatchResumeRefusesAnotherRun: a checkpoint of one ensemble or mask
// does not continue another.
func TestPatchResumeRefusesAnotherRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	if _, err := trainLinear(t, context.Background(), func(o *Options) { o.Steps, o.CheckpointPath = 4, path }, nil); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	ds := smoothImages(2, 16, 4, fourLabels)
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.BatchSize, o.Steps, o.Seed = "2", 8, 8, 6, 30, 42
	o.Transforms = jitterOptions()
	o.TVWeight, o.NPSWeight = 0.05, 0.05
	o.Resume = cp
	two := []engine.Classifier{newLinearRGB(1, 4, 16, 1), newLinearRGB(2, 4, 16, 1)}
	if _, err := Train(context.Background(), two, ds, o, nil); err == nil || !strings.Contains(err.Error(), "trained against") {
		t.Errorf("another ensemble: error %v", err)
	}
	o.Shape = "rect"
	if _, err := Train(context.Background(), two[:1], ds, o, nil); err == nil || !strings.Contains(err.Error(), "options differ") {
		t.Errorf("another mask: error %v", err)
	}
	o.Shape, o.Steps = "circle", 3
	if _, err := Train(context.Background(), two[:1], ds, o, nil); err == nil || !strings.Contains(err.Error(), "stop at 3") {
		t.Errorf("fewer steps than done: error %v", err)
	}
}

// TestFreshRunRefusesTakenCheckpoint: a run that does not resume refuses a
// checkpoint file that holds anything, before any step, leaving it as it
// was, unless OverwriteCheckpoint is set.
func TestFreshRunRefusesTakenCheckpoint(t *testing.T) {
	dir := t.TempDir()
	earlier := filepath.Join(dir, "earlier.json")
	if _, err := trainLinear(t, context.Background(), func(o *Options) { o.Steps, o.CheckpointPath = 4, earlier }, nil); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("my notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		overwrite bool
		want      string // "" means accepted
	}{
		{"checkpoint of an earlier run", earlier, false, "holds step 4 of a run against"},
		{"another file", other, false, "is not a patch checkpoint"},
		{"a folder", dir, false, "is not a regular file"},
		{"nothing there", filepath.Join(dir, "new.json"), false, ""},
		{"replaced on purpose", other, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			steps := 0
			_, err := trainLinear(t, context.Background(), func(o *Options) {
				o.Steps, o.CheckpointPath, o.OverwriteCheckpoint = 2, tt.path, tt.overwrite
			}, func(Progress) { steps++ })
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				cp, err := LoadCheckpoint(tt.path)
				if err != nil || cp.Step != 2 {
					t.Fatalf("checkpoint not written: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCheckpointExists) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want ErrCheckpointExists with %q", err, tt.want)
			}
			if steps != 0 {
				t.Errorf("%d steps trained before the refusal", steps)
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Errorf("%s changed", tt.path)
			}
		})
	}
}
