package saliency

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
)

// kink is a two-class classifier on 1×4×4 images whose class-0 logit
// relu(w·x − c) bends once along any straight path from black: its
// gradient jumps from 0 to w where w·x crosses c, the way a ReLU network's
// does at each unit it switches. Class 1's logit is 0.
type kink struct {
	w         []float64
	c         float64
	gradients int
}

func (k *kink) Name() string     { return "kink" }
func (k *kink) Labels() []string { return []string{"bent", "flat"} }
func (k *kink) InputShape() engine.ImageShape {
	return engine.ImageShape{Channels: 1, Height: 4, Width: 4}
}
func (k *kink) pre(x []float32) (s float64) { return dot(k.w, x) - k.c }
func dot(w []float64, x []float32) (s float64) {
	for j, v := range x {
		s += w[j] * float64(v)
	}
	return s
}

func (k *kink) Logits(_ context.Context, images []float32, n int) ([]float32, error) {
	out := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		out = append(out, float32(max(k.pre(images[i*16:(i+1)*16]), 0)), 0)
	}
	return out, nil
}

func (k *kink) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	if loss != engine.Logit {
		return engine.Gradients{}, fmt.Errorf("kink: only the logit")
	}
	n := len(targets)
	k.gradients += n
	z, _ := k.Logits(ctx, images, n)
	g := engine.Gradients{Logits: z, Loss: make([]float32, n), Grad: make([]float32, len(images))}
	for i, t := range targets {
		g.Loss[i] = z[2*i+int(t)]
		if t == 0 && k.pre(images[i*16:(i+1)*16]) > 0 {
			for j, v := range k.w {
				g.Grad[i*16+j] = float32(v)
			}
		}
	}
	return g, nil
}

// TestIntegratedGradientsAdaptiveGrid: along the path from black the kink
// model's gradient is 0 up to α* = c/(w·x) and w after, so the exact
// attributions are (1 − α*)·w_j·x_j, summing to w·x − c. A uniform grid
// whose node misses α* is off by up to half an interval's share (5.5% for
// 8 intervals here); the adaptive grid bisects the interval holding α*,
// one gradient a round, until the gap is within the tolerance, and the
// attributions approach the closed form.
func TestIntegratedGradientsAdaptiveGrid(t *testing.T) {
	w := make([]float64, 16)
	for j := range w {
		w[j] = 0.5 + float64(j%5)*0.3
	}
	x := randomImages(11, 16)
	wx := dot(w, x)
	m := &kink{w: w, c: wx * 0.537} // α* = 0.537, off every dyadic node near it
	astar := m.c / wx
	want := make([]float64, 16)
	for j := range want {
		want[j] = (1 - astar) * w[j] * float64(x[j])
	}
	gap := wx - m.c
	for _, c := range []struct {
		name           string
		opt            Options
		tolerance      float64 // the completeness the run must reach
		refined        bool
		attributionTol float64
	}{
		{"uniform", Options{Steps: 8, MaxSteps: 1}, 0.1, false, 0.1},
		{"adaptive 1e-3", Options{Steps: 8}, 1e-3, true, 1e-3},
		{"adaptive 1e-5", Options{Steps: 8, Tolerance: 1e-5, MaxSteps: 200}, 1e-5, true, 1e-5},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.opt
			o.Method, o.Classes = IntegratedGradients, []int{0}
			r, err := Explain(context.Background(), m, x, 1, &o)
			if err != nil {
				t.Fatal(err)
			}
			var sum, dist, norm float64
			for j, a := range r.Attributions {
				sum += float64(a)
				dist += (float64(a) - want[j]) * (float64(a) - want[j])
				norm += want[j] * want[j]
			}
			scale := max(math.Abs(gap), 1)
			t.Logf("Σ %.7f, exact %.7f (gap %.2g), %d gradients, attributions off by rel L2 %.2g", sum, gap, math.Abs(sum-gap)/scale, r.PathSteps[0], math.Sqrt(dist/norm))
			if math.Abs(sum-gap) > c.tolerance*scale {
				t.Fatalf("Σ attributions %g; want w·x − c = %g within %g", sum, gap, c.tolerance*scale)
			}
			if !c.refined && math.Abs(sum-gap) < 0.01*scale {
				t.Fatal("the uniform grid is within 1% of the exact integral: its nodes meet the kink, and the test shows nothing")
			}
			if math.Abs(r.Completeness[0]-(sum-gap)) > 1e-6*scale {
				t.Fatalf("reported completeness error %g; measured %g", r.Completeness[0], sum-gap)
			}
			if refined := r.PathSteps[0] > o.Steps+1; refined != c.refined {
				t.Fatalf("%d gradients for a grid of %d intervals; refined %v, want %v", r.PathSteps[0], o.Steps, refined, c.refined)
			}
			if math.Sqrt(dist/norm) > c.attributionTol {
				t.Fatalf("attributions off the closed form (1 − α*)·w·x by rel L2 %g", math.Sqrt(dist/norm))
			}
		})
	}
}
