package boxmin

import (
	"math"
	"math/rand/v2"
	"testing"
)

// boxProblem is a function with a known constrained minimiser.
type boxProblem struct {
	name   string
	fn     func(x, g []float64) float64
	x0     []float64
	lo, hi []float64
	want   []float64
	tol    float64
}

func fill(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// scaledQuadratic is ½Σ a_i(x_i − c_i)²; over a box its minimiser w is c
// clipped to the box, coordinate by coordinate. It returns f(x) − f(w),
// computed as ½Σ a_i(x_i − w_i)(x_i + w_i − 2c_i), so that the tiny
// differences near the minimum are not lost to the constant part.
func scaledQuadratic(a, c, w []float64) func(x, g []float64) float64 {
	return func(x, g []float64) float64 {
		var f float64
		for i := range x {
			f += 0.5 * a[i] * (x[i] - w[i]) * (x[i] + w[i] - 2*c[i])
			g[i] = a[i] * (x[i] - c[i])
		}
		return f
	}
}

func rosenbrock(x, g []float64) float64 {
	a, b := 1-x[0], x[1]-x[0]*x[0]
	g[0] = -2*a - 400*x[0]*b
	g[1] = 200 * b
	return a*a + 100*b*b
}

func boxProblems() []boxProblem {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200
	a, c, want := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range a {
		a[i] = math.Pow(10, 3*r.Float64()) // condition number up to 1e3
		c[i] = 3*r.Float64() - 1           // a third of the centres outside [0,1]
		want[i] = clampF(c[i], 0, 1)
	}
	return []boxProblem{
		{"ill-conditioned quadratic, centre partly outside the box", scaledQuadratic(a, c, want), fill(n, 0.5), fill(n, 0), fill(n, 1), want, 1e-6},
		{"quadratic, start outside the box", scaledQuadratic(a, c, want), fill(n, 5), fill(n, 0), fill(n, 1), want, 1e-6},
		{"rosenbrock, loose box", rosenbrock, []float64{-1.2, 1}, []float64{-5, -5}, []float64{5, 5}, []float64{1, 1}, 1e-4},
		// For fixed x0 the best x1 is x0², leaving (1−x0)²: with x0 ≤ 0.5 the
		// minimiser is (0.5, 0.25).
		{"rosenbrock, active upper bound", rosenbrock, []float64{-1.2, 1}, []float64{-2, -2}, []float64{0.5, 2}, []float64{0.5, 0.25}, 1e-5},
		// x1 ≥ 1.5 forces x0 to the best x0 for x1 = 1.5: √1.5 ≈ 1.2247 is
		// not the answer because of the (1−x0)² term; the stationary x0 solves
		// −2(1−x0) − 400x0(1.5 − x0²) = 0.
		{"rosenbrock, active lower bound", rosenbrock, []float64{0, 2}, []float64{-2, 1.5}, []float64{2, 3}, []float64{rosenbrockX0(1.5), 1.5}, 1e-5},
	}
}

// rosenbrockX0 solves ∂f/∂x0 = 0 for fixed x1 by Newton's method near √x1.
func rosenbrockX0(x1 float64) float64 {
	x := math.Sqrt(x1)
	for range 50 {
		g := -2*(1-x) - 400*x*(x1-x*x)
		h := 2 - 400*x1 + 1200*x*x
		x -= g / h
	}
	return x
}

func TestMinimizeBox(t *testing.T) {
	for _, p := range boxProblems() {
		t.Run(p.name, func(t *testing.T) {
			x, f, st, err := Minimize(p.fn, p.x0, p.lo, p.hi, &Options{MaxIterations: 500, PGTol: 1e-9, FTol: 1e-20})
			if err != nil {
				t.Fatal(err)
			}
			if st == BoxMaxIterations {
				t.Errorf("status %v", st)
			}
			for i := range x {
				if x[i] < p.lo[i] || x[i] > p.hi[i] {
					t.Fatalf("x[%d] = %g outside [%g, %g]", i, x[i], p.lo[i], p.hi[i])
				}
				if math.Abs(x[i]-p.want[i]) > p.tol {
					t.Fatalf("x[%d] = %.9g, want %.9g (f = %g, %v)", i, x[i], p.want[i], f, st)
				}
			}
			// An independent optimality check: the projected gradient vanishes.
			g := make([]float64, len(x))
			p.fn(x, g)
			for i := range x {
				if pg := clampF(x[i]-g[i], p.lo[i], p.hi[i]) - x[i]; math.Abs(pg) > 1e-3 {
					t.Fatalf("projected gradient %g at %d", pg, i)
				}
			}
		})
	}
}

// TestBoxMinimizerLockstep runs several minimisers by reverse communication
// in lockstep, the way the L-BFGS attack batches images, and checks that
// each reaches the same answer as when run alone.
func TestBoxMinimizerLockstep(t *testing.T) {
	probs := boxProblems()
	ms := make([]*Minimizer, len(probs))
	for i, p := range probs {
		m, err := New(p.x0, p.lo, p.hi, nil)
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	for active := len(ms); active > 0; {
		active = 0
		for i, m := range ms {
			if m.Status() != BoxEvaluate {
				continue
			}
			g := make([]float64, len(probs[i].x0))
			if m.Tell(probs[i].fn(m.X(), g), g) == BoxEvaluate {
				active++
			}
		}
	}
	for i, p := range probs {
		alone, _, _, err := Minimize(p.fn, p.x0, p.lo, p.hi, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ms[i].Best()
		for j := range got {
			if got[j] != alone[j] {
				t.Fatalf("%s: lockstep x[%d] = %g, alone %g", p.name, j, got[j], alone[j])
			}
		}
	}
}

func TestBoxMinimizerEvaluationBudget(t *testing.T) {
	calls := 0
	fn := func(x, g []float64) float64 { calls++; return rosenbrock(x, g) }
	_, _, st, err := Minimize(fn, []float64{-1.2, 1}, fill(2, -5), fill(2, 5), &Options{MaxIterations: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st != BoxMaxIterations {
		t.Errorf("status %v, want %v", st, BoxMaxIterations)
	}
	if calls > 5*20 {
		t.Errorf("%d evaluations for 5 iterations", calls)
	}
}

func TestNewBoxMinimizerRejects(t *testing.T) {
	tests := []struct {
		name       string
		x0, lo, hi []float64
	}{
		{"empty", nil, nil, nil},
		{"lengths", []float64{0}, []float64{0, 0}, []float64{1}},
		{"empty interval", []float64{0}, []float64{1}, []float64{0}},
		{"NaN bound", []float64{0}, []float64{math.NaN()}, []float64{1}},
	}
	for _, tt := range tests {
		if _, err := New(tt.x0, tt.lo, tt.hi, nil); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestMinimizeBoxNonFiniteStart(t *testing.T) {
	fn := func(x, g []float64) float64 { return math.NaN() }
	if _, _, _, err := Minimize(fn, []float64{0}, []float64{0}, []float64{1}, nil); err == nil {
		t.Error("a NaN objective was accepted")
	}
}
