package onnxmodel_test

import (
	"context"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/internal/zootest"
)

// TestArchitecturesMatchPyTorch checks issue 2's "what must hold" on real
// architectures: the gradient graph's logits, per-sample cross-entropy and
// input gradient, and the forward pass's logits, agree with PyTorch autograd
// (normalisation inside PyTorch's computation, folded into advlab's graphs).
func TestArchitecturesMatchPyTorch(t *testing.T) {
	ctx := context.Background()
	for _, fx := range testkit.ArchFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			m := zootest.LoadArch(t, fx)
			r := fx.Ref
			if got := m.InputShape(); got != (engine.ImageShape{Channels: r.InputShape[0], Height: r.InputShape[1], Width: r.InputShape[2]}) || m.NumClasses() != r.NumClasses {
				t.Fatalf("model takes %+v with %d classes; the reference has %v with %d", got, m.NumClasses(), r.InputShape, r.NumClasses)
			}
			if m.Preprocess().IsIdentity() {
				t.Fatalf("preprocessing %+v is the identity; the sidecar's mean/std were not read", m.Preprocess())
			}

			logits, err := m.Logits(ctx, fx.Images, r.Batch)
			if err != nil {
				t.Fatal(err)
			}
			if e := testkit.RelL2(logits, fx.Logits); e > testkit.ArchTolerance || math.IsNaN(e) {
				t.Errorf("Logits: relative error %.3g > %g", e, testkit.ArchTolerance)
			} else {
				t.Logf("Logits: relative error %.2e", e)
			}

			g, err := m.Gradient(ctx, engine.CrossEntropy, fx.Images, r.Targets)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want []float32
			}{
				{"logits", g.Logits, fx.Logits},
				{"loss", g.Loss, fx.Loss},
				{"grad", g.Grad, fx.Grad},
			} {
				e := testkit.RelL2(c.got, c.want)
				if e > testkit.ArchTolerance {
					t.Errorf("Gradient %s: relative error %.3g > %g", c.what, e, testkit.ArchTolerance)
				}
				t.Logf("Gradient %s: relative error %.2e (worst sample %.2e)", c.what, e, testkit.WorstSampleRelL2(c.got, c.want, r.Batch))
			}
		})
	}
}

// TestRelL2 pins the error measure the architecture checks rely on.
func TestRelL2(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want []float32
		rel       float64
	}{
		{"equal", []float32{1, 2, 3}, []float32{1, 2, 3}, 0},
		{"scaled", []float32{1.001, 0, 0}, []float32{1, 0, 0}, 1e-3},
		{"zero reference", []float32{0, 0}, []float32{0, 0}, 0},
		{"nonzero against zero", []float32{3, 4}, []float32{0, 0}, 5},
		{"length mismatch", []float32{1}, []float32{1, 2}, math.Inf(1)},
		{"NaN", []float32{float32(math.NaN())}, []float32{1}, math.Inf(1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testkit.RelL2(c.got, c.want); math.Abs(got-c.rel) > 1e-6 && got != c.rel {
				t.Errorf("relL2 = %g, want %g", got, c.rel)
			}
		})
	}
}
