package defense

import (
	"math"
	"testing"
)

// binomialUpperTail is P(Bin(n,p) ≥ k) summed term by term in log space,
// independently of the incomplete beta function.
func binomialUpperTail(k, n int, p float64) float64 {
	var s float64
	for i := k; i <= n; i++ {
		lc, _ := math.Lgamma(float64(n + 1))
		la, _ := math.Lgamma(float64(i + 1))
		lb, _ := math.Lgamma(float64(n - i + 1))
		s += math.Exp(lc - la - lb + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return s
}

func TestClopperPearsonLower(t *testing.T) {
	tests := []struct {
		k, n  int
		alpha float64
		want  float64 // < 0: check only that the tail at the bound is alpha
		tol   float64
	}{
		{0, 10, 0.001, 0, 0},
		{10, 10, 0.001, math.Pow(0.001, 0.1), 1e-9},      // k = n: alpha^(1/n)
		{1000, 1000, 0.001, math.Pow(0.001, 1e-3), 1e-9}, // the same at Cohen et al.'s scale
		{1, 50, 0.01, 1 - math.Pow(0.99, 1.0/50), 1e-9},  // k = 1: 1 − (1−alpha)^(1/n)
		{50, 100, 0.025, 0.3983, 1e-4},                   // the textbook exact 95% interval of 50/100 is [0.3983, 0.6017]
		{990, 1000, 0.001, -1, 0},
		{73, 120, 0.05, -1, 0},
		{9000, 10000, 0.001, -1, 0},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			got := ClopperPearsonLower(tc.k, tc.n, tc.alpha)
			if tc.want >= 0 {
				if math.Abs(got-tc.want) > tc.tol {
					t.Errorf("CP(%d/%d, %g) = %.10f, want %.10f", tc.k, tc.n, tc.alpha, got, tc.want)
				}
				return
			}
			if tail := binomialUpperTail(tc.k, tc.n, got); math.Abs(tail-tc.alpha) > 1e-6*math.Max(1, tc.alpha*1e3) {
				t.Errorf("CP(%d/%d, %g) = %g, where P(X ≥ k) = %g", tc.k, tc.n, tc.alpha, got, tail)
			}
			if got >= float64(tc.k)/float64(tc.n) {
				t.Errorf("lower bound %g above the estimate", got)
			}
		})
	}
}

func TestBinomialTestAndNormalQuantile(t *testing.T) {
	// Two-sided test against 1/2: 2·P(X ≥ 8) for 8 of 10 is 2·56/1024.
	if got := binomialTwoSidedHalf(8, 10); math.Abs(got-112.0/1024) > 1e-12 {
		t.Errorf("p-value of 8/10 is %g, want %g", got, 112.0/1024)
	}
	if got := binomialTwoSidedHalf(2, 10); math.Abs(got-112.0/1024) > 1e-12 {
		t.Errorf("p-value of 2/10 is %g", got)
	}
	if got := binomialTwoSidedHalf(5, 10); got != 1 {
		t.Errorf("p-value of 5/10 is %g, want 1", got)
	}
	for _, tc := range []struct{ p, z float64 }{{0.5, 0}, {0.975, 1.959963985}, {0.999, 3.090232306}, {0.1, -1.281551566}} {
		if got := NormalQuantile(tc.p); math.Abs(got-tc.z) > 1e-8 {
			t.Errorf("Φ⁻¹(%g) = %g, want %g", tc.p, got, tc.z)
		}
	}
}
