package imgops

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGaussianKernel(t *testing.T) {
	for _, sigma := range []float64{0.3, 1, 2.5} {
		k := gaussianKernel(sigma)
		var sum float64
		for _, v := range k {
			sum += float64(v)
		}
		if len(k) != 2*blurRadius(sigma)+1 || math.Abs(sum-1) > 1e-6 {
			t.Errorf("σ=%v: %d taps summing to %v", sigma, len(k), sum)
		}
		r := len(k) / 2
		// Ratio of neighbouring taps is exp(−(2d+1)/(2σ²)).
		if got, want := float64(k[r+1]/k[r]), math.Exp(-1/(2*sigma*sigma)); math.Abs(got-want) > 1e-5 {
			t.Errorf("σ=%v: tap ratio %v, want %v", sigma, got, want)
		}
	}
}

func TestBlurPlaneIsSymmetric(t *testing.T) {
	// <B a, b> = <a, B b> for the zero-padded blur, which PullBack relies on.
	r := rand.New(rand.NewPCG(1, 2))
	const w, h = 13, 9
	a, b := randomBatch(r, w*h, -1, 1), randomBatch(r, w*h, -1, 1)
	ba, bb := append([]float32(nil), a...), append([]float32(nil), b...)
	k := gaussianKernel(1.7)
	tmp := make([]float32, w*h)
	blurPlane(ba, w, h, k, tmp)
	blurPlane(bb, w, h, k, tmp)
	var l, rr float64
	for i := range a {
		l += float64(ba[i]) * float64(b[i])
		rr += float64(a[i]) * float64(bb[i])
	}
	if math.Abs(l-rr) > 1e-5*math.Abs(l) {
		t.Errorf("<Ba,b> = %v, <a,Bb> = %v", l, rr)
	}
	// A unit impulse in the middle spreads into the outer product of the
	// kernel with itself.
	imp := make([]float32, w*h)
	imp[4*w+6] = 1
	blurPlane(imp, w, h, k, tmp)
	c := len(k) / 2
	if got, want := imp[(4+1)*w+6+2], k[c+1]*k[c+2]; math.Abs(float64(got-want)) > 1e-7 {
		t.Errorf("impulse response %v, want %v", got, want)
	}
}
