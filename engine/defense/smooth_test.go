package defense

import (
	"context"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// halfSpaces is a two-class linear classifier, z0 − z1 = 2u·(x − 1/2) with
// a unit vector u, and images at signed distances d from its boundary:
// under N(0, σ²I) noise the smoothed classifier's P(class 0) is Φ(d/σ),
// and its exact certified radius |d|.
func halfSpaces(d []float64) (*testkit.Linear, []float32) {
	shape := engine.ImageShape{Channels: 1, Height: 4, Width: 4}
	u := make([]float64, shape.Size())
	var n float64
	for i := range u {
		u[i] = float64(i%5) - 2
		n += u[i] * u[i]
	}
	l := &testkit.Linear{Shape: shape, W: [][]float64{make([]float64, len(u)), make([]float64, len(u))}, B: []float64{0, 0}}
	x := make([]float32, 0, len(d)*len(u))
	for i := range u {
		u[i] /= math.Sqrt(n)
		l.W[0][i], l.W[1][i] = u[i], -u[i]
		l.B[0] -= u[i] / 2
		l.B[1] += u[i] / 2
	}
	for _, di := range d {
		for i := range u {
			x = append(x, float32(0.5+di*u[i]))
		}
	}
	return l, x
}

func TestCertifiedRadiusOfALinearClassifier(t *testing.T) {
	const sigma, n, alpha = 0.25, 20000, 0.001
	d := []float64{0.1, 0.3, 0.6, -0.2}
	lin, x := halfSpaces(d)
	s, err := NewSmoothed(lin, &SmoothOptions{Sigma: sigma, N: 100, EOT: 1, N0: 100, CertifyN: n, Alpha: alpha, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := s.Certify(context.Background(), x, len(d))
	if err != nil {
		t.Fatal(err)
	}
	for i, di := range d {
		pa := 0.5 + 0.5*math.Erf(math.Abs(di)/sigma/math.Sqrt2) // Φ(|d|/σ)
		// The radius of the count at ±4 standard deviations of Bin(n, pA).
		sd := math.Sqrt(float64(n) * pa * (1 - pa))
		radius := func(k float64) float64 {
			return sigma * NormalQuantile(ClopperPearsonLower(int(math.Round(k)), n, alpha))
		}
		lo, hi := radius(float64(n)*pa-4*sd), radius(math.Min(float64(n)*pa+4*sd, n))
		c := certs[i]
		wantClass := 0
		if di < 0 {
			wantClass = 1
		}
		if c.Class != wantClass || c.Radius < lo || c.Radius > hi {
			t.Errorf("d = %g: class %d radius %.4f; want class %d, radius in [%.4f, %.4f]", di, c.Class, c.Radius, wantClass, lo, hi)
		}
		if c.Radius > math.Abs(di) {
			t.Errorf("d = %g: certified %.4f, beyond the true distance to the boundary", di, c.Radius)
		}
	}
}

func TestSmoothedPredictAbstainsOnTheBoundary(t *testing.T) {
	lin, x := halfSpaces([]float64{0, 0.6, -0.6})
	s, err := NewSmoothed(lin, &SmoothOptions{Sigma: 0.25, N: 1000, EOT: 1, N0: 1, CertifyN: 1, Alpha: 0.001, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Predict(context.Background(), x, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != -1 || got[1] != 0 || got[2] != 1 {
		t.Errorf("predictions %v, want [-1 0 1]", got)
	}
	z, err := s.Logits(context.Background(), x, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Φ(0.6/0.25) = 0.9918: about 992 of 1000 votes.
	if p := math.Exp(float64(z[2])); math.Abs(p-992.0/1002) > 0.01 {
		t.Errorf("vote share of class 0 at d = 0.6 is %g, want about 0.99", p)
	}
}

// TestEOTGradientIsTheMeanOverTheNoise: a logit's gradient is the same at
// every noisy point, so its mean over the draws is exactly the weights.
func TestEOTGradientIsTheMeanOverTheNoise(t *testing.T) {
	lin, x := halfSpaces([]float64{0.2, -0.1})
	s, err := NewSmoothed(lin, &SmoothOptions{Sigma: 0.5, N: 10, EOT: 7, N0: 1, CertifyN: 1, Alpha: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Gradient(context.Background(), engine.Logit, x, []int64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	size := lin.Shape.Size()
	for i, tgt := range []int{0, 1} {
		for p := 0; p < size; p++ {
			if w := lin.W[tgt][p]; math.Abs(float64(g.Grad[i*size+p])-w) > 1e-6 {
				t.Fatalf("image %d pixel %d: gradient %g, want the weight %g", i, p, g.Grad[i*size+p], w)
			}
		}
	}
	if lin.Gradients != 14 {
		t.Errorf("%d noisy gradients for 2 images of 7 draws", lin.Gradients)
	}
}
