package attack

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// nearBoundary returns a K-class affine classifier and one image of class 0
// whose distance to the class-j boundary is d·(1 + 1.5·(j−1)) for j ≥ 1, so
// that the minimal ℓ2 perturbation is exactly d, towards class 1, and stays
// well inside [0,1] (pixels start in [0.3,0.7], move by at most d).
func nearBoundary(seed uint64, k int, d float64) (*testkit.Linear, []float32) {
	l := testkit.NewLinear(seed, k, 1)
	r := rand.New(rand.NewPCG(seed, 13))
	x := make([]float32, l.Shape.Size())
	for i := range x {
		x[i] = float32(0.3 + 0.4*r.Float64())
	}
	l.B[0] = 0
	for j := 1; j < k; j++ {
		l.B[j] = 0
		m, n := l.Margin(x, 0, j)
		want := d * (1 + 1.5*float64(j-1)) * n
		l.B[j] = m - want // z_0 − z_j = want
	}
	return l, x
}

func mustAttack(t *testing.T, a Attack, err error) Attack {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMinimalAttacksFindTheAnalyticDistance checks DeepFool, L-BFGS and C&W
// against the closed-form minimal ℓ2 perturbation of an affine classifier,
// |m|/‖w_y − w_t‖, and that each lands in the expected class.
func TestMinimalAttacksFindTheAnalyticDistance(t *testing.T) {
	df, err := NewDeepFool(&DeepFoolOptions{Steps: 10, Overshoot: 0, Candidates: 10, Norm: L2})
	lb, err2 := NewLBFGS(&LBFGSOptions{InitialConst: 1, SearchSteps: 20, MaxIterations: 200, Memory: 10})
	cw, err3 := NewCW(&CWOptions{Steps: 1000, BinarySteps: 9, LearningRate: 0.005, InitialConst: 0.1, AbortEarly: false})
	tests := []struct {
		name   string
		a      Attack
		k      int
		target int
		tol    float64
	}{
		{"deepfool, 2 classes", mustAttack(t, df, err), 2, -1, 0.01},
		{"deepfool, 3 classes", df, 3, -1, 0.01},
		{"deepfool, 10 classes", df, 10, -1, 0.01},
		{"lbfgs, targeted", mustAttack(t, lb, err2), 2, 1, 0.01},
		{"lbfgs, untargeted (the only wrong label)", lb, 2, -1, 0.01},
		{"cw, targeted", mustAttack(t, cw, err3), 2, 1, 0.03},
		{"cw, untargeted", cw, 2, -1, 0.03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				d := 0.02 + 0.03*float64(seed)
				l, x := nearBoundary(seed, tt.k, d)
				if want, cls := l.MinimalL2(x, 0); math.Abs(want-d) > 1e-9 || cls != 1 {
					t.Fatalf("test set-up: distance %g to class %d, want %g to 1", want, cls, d)
				}
				res, err := tt.a.Run(context.Background(), l, x, []int{0}, tt.target, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, l, x, res, 0, L2)
				r := res.Samples[0]
				if !r.Success || r.Pred != 1 {
					t.Fatalf("seed %d: success %v, prediction %d; want class 1", seed, r.Success, r.Pred)
				}
				if rel := (r.L2 - d) / d; rel < -1e-4 || rel > tt.tol {
					t.Errorf("seed %d: L2 %.6f, analytic minimum %.6f (%+.2f%%)", seed, r.L2, d, 100*rel)
				}
			}
		})
	}
}

func TestDeepFoolOvershootAndLInf(t *testing.T) {
	l, x := nearBoundary(4, 3, 0.1)
	a, err := NewDeepFool(nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), l, x, []int{0}, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, l, x, res, 0, L2)
	if r := res.Samples[0]; !r.Success || math.Abs(r.L2/0.1-1.02) > 0.002 {
		t.Errorf("overshoot 0.02: L2 %g, want 1.02 × 0.1", r.L2)
	}
	// The ℓ∞ variant: the minimal ℓ∞ distance of an affine boundary is
	// |m|/‖Δw‖₁, reached at x + ε·sign(Δw).
	a, _ = NewDeepFool(&DeepFoolOptions{Steps: 10, Overshoot: 0, Candidates: 2, Norm: LInf})
	res, err = a.Run(context.Background(), l, x, []int{0}, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, l, x, res, 0, LInf)
	m, _ := l.Margin(x, 0, 1)
	var n1 float64
	for p := range l.W[0] {
		n1 += math.Abs(l.W[0][p] - l.W[1][p])
	}
	if r := res.Samples[0]; !r.Success || math.Abs(r.Linf/(m/n1)-1) > 0.01 {
		t.Errorf("ℓ∞ DeepFool: L∞ %g, analytic %g", r.Linf, m/n1)
	}
	if _, err := a.Run(context.Background(), l, x, []int{0}, 1, nil); err == nil {
		t.Error("deepfool accepted a target")
	}
}

func TestLBFGSRunnerUpAndRandomTargets(t *testing.T) {
	l := testkit.NewLinear(21, 5, 0.5)
	x, labels := testkit.MidImages(l, 22, 12)
	for _, choice := range []TargetChoice{RunnerUp, RandomWrongLabel} {
		a, err := NewLBFGS(&LBFGSOptions{InitialConst: 1, SearchSteps: 8, MaxIterations: 50, Memory: 5, Untargeted: choice, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Run(context.Background(), l, x, labels, -1, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, l, x, res, 0, L2)
		d := l.Shape.Size()
		seen := map[int]bool{}
		for i, r := range res.Samples {
			if r.Target == r.Label || r.Target < 0 {
				t.Fatalf("image %d: target %d for label %d", i, r.Target, r.Label)
			}
			if choice == RunnerUp {
				z := l.RawLogits(x[i*d : (i+1)*d])
				z[r.Label] = math.Inf(-1)
				if want := testkit.Argmax64(z); r.Target != want {
					t.Errorf("image %d: target %d, runner-up %d", i, r.Target, want)
				}
			}
			if !r.Success {
				t.Errorf("%v image %d: target %d not reached", choice, i, r.Target)
			}
			seen[r.Target] = true
		}
		if choice == RandomWrongLabel && len(seen) < 3 {
			t.Errorf("random targets cover only %v", seen)
		}
	}
}

// TestAttacksCancelled checks that every attack, cancelled at its first
// progress report, returns a valid best-so-far result with the context's error.
func TestAttacksCancelled(t *testing.T) {
	l := testkit.NewLinear(31, 3, 0.5)
	x, labels := testkit.MidImages(l, 32, 3)
	df, _ := NewDeepFool(&DeepFoolOptions{Steps: 50, Overshoot: 0.02, Candidates: 3, Norm: L2})
	lb, _ := NewLBFGS(nil)
	cw, _ := NewCW(nil)
	sq, _ := NewSquare(&SquareOptions{Eps: 0.001, Queries: 100, PInit: 0.05})
	pgd, _ := NewPGD(nil)
	for _, a := range []Attack{df, lb, cw, sq, pgd} {
		t.Run(a.Name(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := a.Run(ctx, l, x, labels, -1, func(Progress) { cancel() })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if len(res.Samples) != len(labels) {
				t.Fatalf("%d samples", len(res.Samples))
			}
			checkInvariants(t, l, x, res, 0, L2)
		})
	}
}

func TestSquareAtTheAnalyticRadius(t *testing.T) {
	l := testkit.NewLinear(41, 2, 0.5)
	x, labels := testkit.MidImages(l, 42, 4)
	d := l.Shape.Size()
	gradFree := &logitsOnly{l}
	for _, f := range []float64{0.95, 1.05} {
		for i, y := range labels {
			m, _ := l.Margin(x[i*d:(i+1)*d], y, 1-y)
			var n1 float64
			for p := range l.W[0] {
				n1 += math.Abs(l.W[0][p] - l.W[1][p])
			}
			eps := f * m / n1
			a, err := NewSquare(&SquareOptions{Eps: eps, Queries: 500, PInit: 0.3, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			xi := x[i*d : (i+1)*d]
			res, err := a.Run(context.Background(), gradFree, xi, []int{y}, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, l, xi, res, eps, LInf)
			r := res.Samples[0]
			if r.Success != (f > 1) {
				t.Errorf("ε = %.2f×radius, image %d: success %v after %d queries", f, i, r.Success, r.Queries)
			}
			if r.Queries > 2+500 || r.Queries != r.Iterations+2 {
				t.Errorf("image %d: %d queries for %d iterations", i, r.Queries, r.Iterations)
			}
		}
	}
}

// logitsOnly hides a classifier's gradients, to show an attack is black-box.
type logitsOnly struct{ *testkit.Linear }

func (l *logitsOnly) Gradient(context.Context, engine.LossKind, []float32, []int64) (engine.Gradients, error) {
	return engine.Gradients{}, errors.New("no gradients for a black-box attack")
}

func TestMoreOptionsValidate(t *testing.T) {
	bad := map[string]error{
		"deepfool zero steps":    DeepFoolOptions{Overshoot: 0.02, Candidates: 10}.Validate(),
		"deepfool negative over": DeepFoolOptions{Steps: 5, Overshoot: -1, Candidates: 10}.Validate(),
		"deepfool one candidate": DeepFoolOptions{Steps: 5, Candidates: 1}.Validate(),
		"cw negative confidence": CWOptions{Confidence: -1, Steps: 1, BinarySteps: 1, LearningRate: 1, InitialConst: 1}.Validate(),
		"cw zero learning rate":  CWOptions{Steps: 1, BinarySteps: 1, InitialConst: 1}.Validate(),
		"lbfgs zero const":       LBFGSOptions{SearchSteps: 1, MaxIterations: 1, Memory: 1}.Validate(),
		"lbfgs bad choice":       LBFGSOptions{InitialConst: 1, SearchSteps: 1, MaxIterations: 1, Memory: 1, Untargeted: 9}.Validate(),
		"square eps above 1":     SquareOptions{Eps: 2, Queries: 1, PInit: 0.1}.Validate(),
		"square negative eps":    SquareOptions{Eps: -0.1, Queries: 1, PInit: 0.1}.Validate(),
		"pgd negative eps":       PGDOptions{Eps: -0.3, Steps: 3, Restarts: 1}.Validate(),
		"pgd L2 infinite eps":    PGDOptions{Eps: math.Inf(1), Norm: L2, Steps: 3, Restarts: 1}.Validate(),
		"fgsm zero eps":          FGSMOptions{Eps: 0}.Validate(),
		"square zero queries":    SquareOptions{Eps: 0.1, PInit: 0.1}.Validate(),
		"square p_init above 1":  SquareOptions{Eps: 0.1, Queries: 1, PInit: 1.5}.Validate(),
	}
	for name, err := range bad {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, err := range map[string]error{
		"deepfool": DefaultDeepFoolOptions().Validate(), "cw": DefaultCWOptions().Validate(),
		"lbfgs": DefaultLBFGSOptions().Validate(), "square": DefaultSquareOptions().Validate(),
	} {
		if err != nil {
			t.Errorf("%s defaults: %v", name, err)
		}
	}
}
