package attack

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

func TestDLRLossClosedForm(t *testing.T) {
	z := []float32{3, 1, 2, 0.5, -1}
	tests := []struct {
		y, t int
		want float64
	}{
		{0, 0, -(3.0 - 2) / (3 - 1)},            // untargeted, correct: −(z_y − z_2nd)/(z_π1 − z_π3)
		{2, 2, -(2.0 - 3) / (3 - 1)},            // untargeted, already wrong: positive
		{0, 3, -(3.0 - 0.5) / (3 - (1+0.5)/2)},  // targeted: −(z_y − z_t)/(z_π1 − (z_π3+z_π4)/2)
		{1, 4, -(1.0 - (-1)) / (3 - (1+0.5)/2)}, // targeted at the last class
		{0, 2, -(3.0 - 2) / (3 - (1.0+0.5)/2)},  // targeted at the runner-up
	}
	for _, tc := range tests {
		if got := dlrLoss(z, tc.y, tc.t); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("DLR(y=%d, t=%d) = %g, want %g", tc.y, tc.t, got, tc.want)
		}
	}
	// Shift and scale invariance, the reason for the ratio.
	w := make([]float32, len(z))
	for i, v := range z {
		w[i] = 7*v - 4
	}
	if a, b := dlrLoss(z, 0, 3), dlrLoss(w, 0, 3); math.Abs(a-b) > 1e-6 {
		t.Errorf("DLR changed under an affine map of the logits: %g → %g", a, b)
	}
}

// TestDLRGradientMatchesFiniteDifferences checks APGD's DLR gradient,
// assembled from logit gradients, against central differences of the loss.
func TestDLRGradientMatchesFiniteDifferences(t *testing.T) {
	lin := testkit.NewLinear(21, 5, 1)
	x, labels := testkit.MidImages(lin, 22, 4)
	for _, targeted := range []bool{false, true} {
		s, err := newAttackState(context.Background(), "apgd", lin, x, labels, -1, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := NewAPGD(&APGDOptions{Eps: 0.1, Norm: LInf, Steps: 10, Restarts: 1, Loss: APGDDLR, Rho: 0.75})
		ims := make([]*apgdImage, 4)
		for i := range ims {
			ims[i] = &apgdImage{i: i, t: labels[i], x: append([]float32(nil), s.image(x, i)...)}
			if targeted {
				ims[i].t = (labels[i] + 2) % 5
			}
		}
		f, g, _, err := a.objective(context.Background(), s, ims)
		if err != nil {
			t.Fatal(err)
		}
		for j, im := range ims {
			loss := func(v []float32) float64 {
				z := lin.RawLogits(v)
				f := make([]float32, len(z))
				for i, x := range z {
					f[i] = float32(x)
				}
				return dlrLoss(f, labels[j], im.t)
			}
			if math.Abs(f[j]-loss(im.x)) > 1e-5 {
				t.Errorf("loss %g, want %g", f[j], loss(im.x))
			}
			const h = 1e-3
			for p := range im.x {
				v := im.x[p]
				im.x[p] = v + h
				up := loss(im.x)
				im.x[p] = v - h
				down := loss(im.x)
				im.x[p] = v
				fd := (up - down) / (2 * h)
				if got := float64(g[j*s.size+p]); math.Abs(got-fd) > 1e-2*(1+math.Abs(fd)) {
					t.Errorf("targeted %v image %d pixel %d: gradient %g, finite difference %g", targeted, j, p, got, fd)
				}
			}
		}
	}
}

// minimalDistance is the analytic distance, in norm, from x to the nearest
// boundary of its linear class region: min_j m_j/‖w_y − w_j‖_dual.
func minimalDistance(l *testkit.Linear, x []float32, y int, norm Norm) float64 {
	z := l.RawLogits(x)
	best := math.Inf(1)
	for j := range l.W {
		if j == y {
			continue
		}
		var dual float64
		for p := range l.W[j] {
			d := l.W[y][p] - l.W[j][p]
			if norm == LInf {
				dual += math.Abs(d)
			} else {
				dual += d * d
			}
		}
		if norm == L2 {
			dual = math.Sqrt(dual)
		}
		best = math.Min(best, (z[y]-z[j])/dual)
	}
	return best
}

// TestAPGDReachesTheAnalyticBoundary: with a budget just above an image's
// distance to the nearest boundary APGD must fool it; just below, no attack
// can.
//
// The cross-entropy's ascent direction is the boundary's normal only with
// two classes, so it runs on two; APGD-T aims at each class in turn and
// so finds the nearest boundary among four.
func TestAPGDReachesTheAnalyticBoundary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		classes int
		opts    APGDOptions
	}{
		{"ce-linf", 2, APGDOptions{Norm: LInf, Loss: APGDCE}},
		{"ce-l2", 2, APGDOptions{Norm: L2, Loss: APGDCE}},
		{"dlr-t-linf", 4, APGDOptions{Norm: LInf, Loss: APGDDLR, TargetClasses: 3}},
		{"dlr-t-l2", 4, APGDOptions{Norm: L2, Loss: APGDDLR, TargetClasses: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lin := testkit.NewLinear(31, tc.classes, 1)
			x, labels := testkit.MidImages(lin, 32, 8)
			size := lin.Shape.Size()
			for i := range labels {
				img := x[i*size : (i+1)*size]
				d := minimalDistance(lin, img, labels[i], tc.opts.Norm)
				if d > 0.25 {
					continue // the box would bind
				}
				for _, f := range []float64{1.03, 0.97} {
					o := tc.opts
					o.Eps, o.Steps, o.Restarts, o.Rho = f*d, 100, 1, 0.75
					a, err := NewAPGD(&o)
					if err != nil {
						t.Fatal(err)
					}
					r, err := a.Run(context.Background(), lin, img, labels[i:i+1], -1, nil)
					if err != nil {
						t.Fatal(err)
					}
					s := r.Samples[0]
					if s.Success != (f > 1) {
						t.Errorf("image %d at %g× its distance %.4f: success %v", i, f, d, s.Success)
					}
					bound := s.Linf
					if o.Norm == L2 {
						bound = s.L2
					}
					if bound > o.Eps+1e-6 { // float32 pixels
						t.Errorf("image %d: perturbation %g beyond ε %g", i, bound, o.Eps)
					}
				}
			}
		})
	}
}

func TestAPGDCheckpoints(t *testing.T) {
	// p: 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 of 100 steps.
	got := apgdCheckpoints(100)
	var keys []int
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []int{22, 41, 57, 70, 80, 87, 93, 99}; !slices.Equal(keys, want) {
		t.Errorf("checkpoints %v, want %v", keys, want)
	}
}

// masked hides a classifier's gradients (returns zeros), as a defence
// that shatters gradients does, while its logits stay the model's.
type masked struct{ *testkit.Linear }

func (m masked) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	g, err := m.Linear.Gradient(ctx, loss, images, targets)
	clear(g.Grad)
	return g, err
}

func TestAutoAttackWorstCaseAndMaskingWarning(t *testing.T) {
	lin := testkit.NewLinear(41, 4, 1)
	x, labels := testkit.MidImages(lin, 42, 16)
	a, err := NewAutoAttack(&AutoAttackOptions{Eps: 0.1, Norm: LInf, Steps: 50, TargetClasses: 3, Queries: 300})
	if err != nil {
		t.Fatal(err)
	}
	size := lin.Shape.Size()
	robustAt := func(i int) bool { return minimalDistance(lin, x[i*size:(i+1)*size], labels[i], LInf) > 0.1 }
	for _, tc := range []struct {
		name string
		c    engine.Classifier
		warn bool
	}{{"white box works", lin, false}, {"gradients masked", masked{lin}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := a.Run(context.Background(), tc.c, x, labels, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			fooled := 0
			for i, s := range r.Samples {
				if s.Success {
					fooled++
					if robustAt(i) {
						t.Errorf("image %d fooled beyond its analytic distance", i)
					}
					if got := engine.Argmax(lin.RawLogits(r.Adversarial[i*size : (i+1)*size])); got == labels[i] {
						t.Errorf("image %d counted fooled but still classified %d", i, got)
					}
				} else if !tc.warn && !robustAt(i) {
					t.Errorf("image %d within reach (distance %.4f) not fooled", i, minimalDistance(lin, x[i*size:(i+1)*size], labels[i], LInf))
				}
			}
			if fooled == 0 {
				t.Fatal("nothing fooled; the test proves nothing")
			}
			if got := slices.Contains(r.Warnings, GradientMaskingWarning); got != tc.warn {
				t.Errorf("masking warning %v, want %v (warnings %q)", got, tc.warn, r.Warnings)
			}
		})
	}
}
