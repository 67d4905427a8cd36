package defense

import "math"

// ClopperPearsonLower returns the one-sided Clopper–Pearson lower
// confidence bound, at level 1−alpha, on the success probability of a
// binomial that gave k successes in n trials: the p at which
// P(Bin(n,p) ≥ k) = alpha, that is the alpha quantile of Beta(k, n−k+1).
// It is 0 for k = 0 and alpha^(1/n) for k = n.
func ClopperPearsonLower(k, n int, alpha float64) float64 {
	if k <= 0 || n <= 0 {
		return 0
	}
	k = min(k, n)
	// P(Bin(n,p) ≥ k) = I_p(k, n−k+1) rises with p: bisect.
	lo, hi := 0.0, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if regIncBeta(mid, float64(k), float64(n-k+1)) < alpha {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-15 {
			break
		}
	}
	return (lo + hi) / 2
}

// binomialTwoSidedHalf returns the two-sided p-value of k successes in n
// trials against p = 1/2: 2·P(X ≥ max(k, n−k)), at most 1.
func binomialTwoSidedHalf(k, n int) float64 {
	if n <= 0 {
		return 1
	}
	k = max(k, n-k)
	if 2*k == n {
		return 1
	}
	return math.Min(1, 2*regIncBeta(0.5, float64(k), float64(n-k+1)))
}

// NormalQuantile returns Φ⁻¹(p), the standard normal's p quantile.
func NormalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// regIncBeta returns the regularised incomplete beta function I_x(a, b),
// from its continued fraction (evaluated by the modified Lentz method), on
// the side of x where it converges fast.
func regIncBeta(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaFraction(1-x, b, a)/b
	}
	return front * betaFraction(x, a, b) / a
}

// betaFraction evaluates the continued fraction of I_x(a,b):
// 1/(1+ d1/(1+ d2/(1+ …))) with d_{2m+1} = −(a+m)(a+b+m)x/((a+2m)(a+2m+1))
// and d_{2m} = m(b−m)x/((a+2m−1)(a+2m)).
func betaFraction(x, a, b float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	f := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		for _, num := range [2]float64{
			fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)),
			-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)),
		} {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			f *= c * d
		}
		if math.Abs(c*d-1) < 1e-15 {
			break
		}
	}
	return f
}
