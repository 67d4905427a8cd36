package attack

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// checkInvariants asserts what every attack output must satisfy: pixels in
// [0,1]; within the ε-ball when eps > 0; reported norms equal to the actual
// ones; reported predictions equal to the classifier's on the output; and
// success consistent with the goal.
func checkInvariants(t *testing.T, c engine.Classifier, x0 []float32, res Result, eps float64, norm Norm) {
	t.Helper()
	d := c.InputShape().Size()
	n := len(res.Samples)
	if len(res.Adversarial) != n*d || len(x0) < n*d {
		t.Fatalf("%d adversarial floats for %d samples of %d", len(res.Adversarial), n, d)
	}
	for i, v := range res.Adversarial {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("pixel %d of image %d = %g outside [0,1]", i%d, i/d, v)
		}
	}
	z, err := c.Logits(context.Background(), res.Adversarial, n)
	if err != nil {
		t.Fatal(err)
	}
	k := len(c.Labels())
	for i, r := range res.Samples {
		l2, linf := distance(res.Adversarial[i*d:(i+1)*d], x0[i*d:(i+1)*d])
		if math.Abs(l2-r.L2) > 1e-6 || math.Abs(linf-r.Linf) > 1e-6 {
			t.Fatalf("image %d: reported L2 %g L∞ %g, actual %g %g", i, r.L2, r.Linf, l2, linf)
		}
		if eps > 0 {
			if got := map[Norm]float64{LInf: linf, L2: l2}[norm]; got > eps+1e-6 {
				t.Fatalf("image %d: %v distance %g outside ε = %g", i, norm, got, eps)
			}
		}
		if p := engine.Argmax(z[i*k : (i+1)*k]); p != r.Pred {
			t.Fatalf("image %d: reported prediction %d, classifier says %d", i, r.Pred, p)
		}
		want := r.Pred != r.Label
		if r.Target >= 0 {
			want = r.Pred == r.Target
		}
		if r.Success && !want {
			t.Fatalf("image %d: success reported with prediction %d, label %d, target %d", i, r.Pred, r.Label, r.Target)
		}
		if r.Skipped && (l2 != 0 || !r.Success) {
			t.Fatalf("image %d: skipped but L2 %g, success %v", i, l2, r.Success)
		}
	}
}

func TestFGSMClosedForm(t *testing.T) {
	l := testkit.NewLinear(1, 2, 0.5)
	x, labels := testkit.MidImages(l, 2, 8)
	const eps = 0.05
	a, err := NewFGSM(&FGSMOptions{Eps: eps, Norm: LInf})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), l, x, labels, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, l, x, res, eps, LInf)
	d := l.Shape.Size()
	for i, y := range labels {
		o := 1 - y
		for p := 0; p < d; p++ {
			want := x[i*d+p] + float32(eps*math.Copysign(1, l.W[o][p]-l.W[y][p]))
			if got := res.Adversarial[i*d+p]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("image %d pixel %d: %g, want x + ε·sign(w_o − w_y) = %g", i, p, got, want)
			}
		}
		if q := res.Samples[i].Queries; q != 3 {
			t.Errorf("image %d: %d queries, want 3 (clean, gradient, final)", i, q)
		}
	}
}

// TestEpsAttacksAtTheAnalyticRadius checks ε-bounded attacks against the
// linear model's exact robustness radius: for a binary affine classifier the
// smallest ℓ∞ perturbation is m/‖Δw‖₁ and the smallest ℓ2 one m/‖Δw‖₂. Just
// inside the radius no attack may succeed; just outside, PGD and FGSM must.
func TestEpsAttacksAtTheAnalyticRadius(t *testing.T) {
	l := testkit.NewLinear(3, 2, 0.5)
	x, labels := testkit.MidImages(l, 4, 6)
	d := l.Shape.Size()
	for _, norm := range []Norm{LInf, L2} {
		for _, method := range []string{"fgsm", "pgd"} {
			for _, f := range []float64{0.98, 1.02} {
				for i, y := range labels {
					m, n2 := l.Margin(x[i*d:(i+1)*d], y, 1-y)
					var n1 float64
					for p := range l.W[0] {
						n1 += math.Abs(l.W[0][p] - l.W[1][p])
					}
					radius := m / n2
					if norm == LInf {
						radius = m / n1
					}
					eps := f * radius
					if norm == LInf && eps+0.7 > 1 {
						t.Fatalf("test set-up: ε %g would clip", eps)
					}
					var a Attack
					var err error
					if method == "fgsm" {
						a, err = NewFGSM(&FGSMOptions{Eps: eps, Norm: norm})
					} else {
						a, err = NewPGD(&PGDOptions{Eps: eps, Norm: norm, Steps: 20, Restarts: 2, RandomStart: true, Seed: 5})
					}
					if err != nil {
						t.Fatal(err)
					}
					xi := x[i*d : (i+1)*d]
					res, err := a.Run(context.Background(), l, xi, []int{y}, -1, nil)
					if err != nil {
						t.Fatal(err)
					}
					checkInvariants(t, l, xi, res, eps, norm)
					if got, want := res.Samples[0].Success, f > 1; got != want {
						t.Errorf("%s %v ε = %.3f×radius, image %d: success %v, want %v", method, norm, f, i, got, want)
					}
				}
			}
		}
	}
}

func TestPGDTargeted(t *testing.T) {
	l := testkit.NewLinear(5, 4, 0.5)
	x, labels := testkit.MidImages(l, 6, 16)
	a, err := NewPGD(&PGDOptions{Eps: 0.3, Norm: LInf, Steps: 30, Restarts: 1, RandomStart: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), l, x, labels, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, l, x, res, 0.3, LInf)
	attacked := 0
	for i, r := range res.Samples {
		if !r.Success || r.Pred != 2 {
			t.Errorf("image %d: prediction %d, success %v; want target 2", i, r.Pred, r.Success)
		}
		if !r.Skipped {
			attacked++
		}
	}
	if attacked < 8 {
		t.Errorf("test set-up: only %d of 16 images are not of the target class already", attacked)
	}
}

// TestPGDCancelled checks that a cancelled run returns its best result so
// far, valid and in the ball, with the context's error.
func TestPGDCancelled(t *testing.T) {
	l := testkit.NewLinear(7, 3, 0.5)
	x, labels := testkit.MidImages(l, 8, 4)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := NewPGD(&PGDOptions{Eps: 0.001, Norm: LInf, Steps: 1000, Restarts: 1, RandomStart: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := a.Run(ctx, l, x, labels, -1, func(p Progress) {
		if calls++; calls == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(res.Samples) != 4 {
		t.Fatalf("%d samples after cancel", len(res.Samples))
	}
	checkInvariants(t, l, x, res, 0.001, LInf)
	if it := res.Samples[0].Iterations; it != 3 {
		t.Errorf("%d iterations before the cancel was seen, want 3", it)
	}
}

func TestAttackOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"fgsm negative eps", FGSMOptions{Eps: -0.1}.Validate()},
		{"fgsm NaN eps", FGSMOptions{Eps: math.NaN()}.Validate()},
		{"fgsm eps above 1", FGSMOptions{Eps: 1.5}.Validate()},
		{"pgd zero steps", PGDOptions{Eps: 0.1, Restarts: 1}.Validate()},
		{"pgd negative step", PGDOptions{Eps: 0.1, Steps: 3, Restarts: 1, StepSize: -1}.Validate()},
		{"pgd zero restarts", PGDOptions{Eps: 0.1, Steps: 3}.Validate()},
		{"pgd bad norm", PGDOptions{Eps: 0.1, Steps: 3, Restarts: 1, Norm: 7}.Validate()},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if err := DefaultPGDOptions().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := DefaultFGSMOptions().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestAttackRejectsBadBatches(t *testing.T) {
	l := testkit.NewLinear(1, 3, 0.5)
	x, labels := testkit.MidImages(l, 1, 2)
	a, _ := NewFGSM(nil)
	bad := append([]float32(nil), x...)
	bad[3] = 1.5
	tests := []struct {
		name   string
		x      []float32
		labels []int
		target int
	}{
		{"short batch", x[:10], labels, -1},
		{"no images", nil, nil, -1},
		{"label out of range", x, []int{0, 3}, -1},
		{"target out of range", x, labels, 3},
		{"pixel outside [0,1]", bad, labels, -1},
	}
	for _, tt := range tests {
		if _, err := a.Run(context.Background(), l, tt.x, tt.labels, tt.target, nil); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestRunBatchedMatchesOneBatch(t *testing.T) {
	l := testkit.NewLinear(9, 3, 0.5)
	x, labels := testkit.MidImages(l, 9, 10)
	a, _ := NewFGSM(&FGSMOptions{Eps: 0.05})
	whole, err := a.Run(context.Background(), l, x, labels, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	parts, err := RunBatched(context.Background(), a, l, x, labels, -1, 3, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if len(parts.Samples) != 10 || last.Batches != 4 || last.Fraction != 1 {
		t.Fatalf("%d samples, last progress %+v", len(parts.Samples), last)
	}
	for i := range whole.Adversarial {
		if whole.Adversarial[i] != parts.Adversarial[i] {
			t.Fatalf("value %d differs between one batch and batches of 3", i)
		}
	}
	for i := range whole.Samples {
		if whole.Samples[i] != parts.Samples[i] {
			t.Fatalf("sample %d: %+v vs %+v", i, whole.Samples[i], parts.Samples[i])
		}
	}
}

// TestPGDAllSteps checks that PGD with AllSteps keeps running after an image
// is fooled and keeps its most confident adversarial: on a two-class linear
// model the cross-entropy is highest at the corner of the ε-box along
// sign(w_other − w_label), which 20 steps of 2.5ε/20 reach from any start.
func TestPGDAllSteps(t *testing.T) {
	l := testkit.NewLinear(3, 2, 0.5)
	x, labels := testkit.MidImages(l, 4, 6)
	d := l.Shape.Size()
	const eps, steps = 0.3, 20
	run := func(all bool) Result {
		a, err := NewPGD(&PGDOptions{Eps: eps, Norm: LInf, Steps: steps, Restarts: 1, RandomStart: true, Seed: 2, AllSteps: all})
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Run(context.Background(), l, x, labels, -1, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, l, x, res, eps, LInf)
		return res
	}
	first, all := run(false), run(true)
	for i, y := range labels {
		r := all.Samples[i]
		if !r.Success || r.Iterations != steps {
			t.Errorf("image %d: success %v after %d iterations; want success after all %d", i, r.Success, r.Iterations, steps)
		}
		if first.Samples[i].Iterations >= steps {
			t.Errorf("image %d: the default run took all %d steps; the test wants one that stops early", i, steps)
		}
		o := 1 - y
		for p := 0; p < d; p++ {
			want := x[i*d+p] + float32(eps*math.Copysign(1, l.W[o][p]-l.W[y][p]))
			if got := all.Adversarial[i*d+p]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("image %d pixel %d: %g, want the corner %g", i, p, got, want)
			}
		}
		loss := func(res Result) float32 {
			z := l.RawLogits(res.Adversarial[i*d : (i+1)*d])
			z32 := []float32{float32(z[0]), float32(z[1])}
			return crossEntropy(z32, y)
		}
		if loss(all) <= loss(first) {
			t.Errorf("image %d: AllSteps loss %g is not above the first fooling iterate's %g", i, loss(all), loss(first))
		}
	}
}
