package onnxmodel_test

import (
	"context"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// TestVariantsMatchPyTorch is the real-world issue's check on the forms
// downloaded classifiers come in (opsets 9–17, a fixed batch of 1, Softmax
// and LogSoftmax heads, NHWC, BGR 0..255, float16): loaded as a user would
// load them, with only the facts a user knows in the sidecar, every variant's
// logits, per-sample cross-entropy (of log p for a probability head) and
// gradient with respect to RGB [0,1] pixels agree with PyTorch autograd, and
// advlab finds the output kind by itself.
func TestVariantsMatchPyTorch(t *testing.T) {
	ctx := context.Background()
	for _, fx := range variantFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			m, err := onnxmodel.Load(fx.ModelPath())
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			r := fx.Ref
			info := m.Info()
			if string(info.Output) != r.ExpectedOutputKind {
				t.Errorf("output kind %q (%s); the model's head makes it %q", info.Output, info.OutputFrom, r.ExpectedOutputKind)
			}
			if m.NumClasses() != r.NumClasses {
				t.Fatalf("%d classes, want %d", m.NumClasses(), r.NumClasses)
			}
			// advlab computes a float16 model in float32; the reference is
			// the network with the file's float16 weights, in float64.
			tol := testkit.ArchTolerance
			logits, err := m.Logits(ctx, fx.Images, r.Batch)
			if err != nil {
				t.Fatal(err)
			}
			// A probability head gives logits up to a constant per image.
			k := m.NumClasses()
			if e := testkit.RelL2(centred(logits, k), centred(fx.Logits, k)); e > tol || math.IsNaN(e) {
				t.Errorf("Logits: relative error %.3g > %g", e, tol)
			}
			g, err := m.Gradient(ctx, engine.CrossEntropy, fx.Images, r.Targets)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want []float32
			}{
				{"loss", g.Loss, fx.Loss},
				{"grad", g.Grad, fx.Grad},
			} {
				e := testkit.RelL2(c.got, c.want)
				if e > tol || math.IsNaN(e) {
					t.Errorf("Gradient %s: relative error %.3g > %g", c.what, e, tol)
				}
				t.Logf("Gradient %s: relative error %.2e", c.what, e)
			}
			t.Logf("batching: %s; output: %s", info.Batching, info.OutputFrom)
		})
	}
}
