package imgops

import (
	"math"
	"testing"
)

func TestTotalVariationClosedForm(t *testing.T) {
	// One channel of a 2×2 patch: 0 1 / 0 1. Two horizontal steps of 1, no
	// vertical ones. The other channels are flat.
	p := NewGreyPatch(RectMask(2, 2))
	copy(p.Pix, []float32{0, 1, 0, 1})
	tests := []struct {
		kind TVKind
		want float64
	}{
		{TVL1, 2},
		{TVL2, 2},
		// Each of the two top-left-of-a-step pixels: sqrt(1+ε²)−ε; the
		// right-hand pixels have only a vertical difference of 0.
		{TVSmooth, 2 * (math.Sqrt(1+TVEpsilon*TVEpsilon) - TVEpsilon)},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			got, _ := TotalVariation(p, tc.kind)
			if math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("TV = %v, want %v", got, tc.want)
			}
		})
	}
	// Outside the mask nothing counts: mask out the right column.
	p.Mask = Mask{W: 2, H: 2, Pix: []float32{1, 0, 1, 0}}
	if got, _ := TotalVariation(p, TVL1); got != 0 {
		t.Errorf("TV across the mask's outline = %v, want 0", got)
	}
}

func TestTotalVariationGradient(t *testing.T) {
	for _, kind := range []TVKind{TVSmooth, TVL1, TVL2} {
		t.Run(kind.String(), func(t *testing.T) {
			p := NewNoisePatch(CircleMask(9), 4)
			checkGradient(t, p, func(q *Patch) (float64, []float32) { return TotalVariation(q, kind) })
		})
	}
}

func TestNPSClosedForm(t *testing.T) {
	pal := Palette{{0, 0, 0}, {1, 1, 1}}
	p := NewGreyPatch(RectMask(2, 1))
	// Pixel 0 is mid grey: 0.75 = (√0.75)². Pixel 1 is white: 0.
	p.Pix = []float32{0.5, 1, 0.5, 1, 0.5, 1}
	got, g := NPS(p, pal)
	if math.Abs(got-0.75) > 1e-6 {
		t.Errorf("NPS = %v, want 0.75", got)
	}
	// d/dp of |p−0|·|p−1| along one channel at grey: (p/|p|)·|p−1| +
	// |p|·(p−1)/|p−1| = 0.5 − 0.5 = 0.
	if math.Abs(float64(g[0])) > 1e-6 {
		t.Errorf("NPS gradient at the midpoint = %v, want 0", g[0])
	}
	if got, _ := NPS(p, nil); got != 0 {
		t.Errorf("NPS with an empty palette = %v, want 0", got)
	}
}

func TestNPSGradient(t *testing.T) {
	tests := []struct {
		name string
		pal  Palette
	}{
		{"default", DefaultPalette()},
		{"three", Palette{{0.1, 0.2, 0.3}, {0.9, 0.5, 0.1}, {0.4, 0.4, 0.9}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewNoisePatch(EllipseMask(6, 5), 8)
			checkGradient(t, p, func(q *Patch) (float64, []float32) { return NPS(q, tc.pal) })
		})
	}
}

// checkGradient compares f's gradient with central finite differences.
func checkGradient(t *testing.T, p *Patch, f func(*Patch) (float64, []float32)) {
	t.Helper()
	v0, g := f(p)
	if v0 == 0 {
		t.Fatal("the value is 0; the check would prove nothing")
	}
	const eps = 1e-4
	var worst float64
	for k := range p.Pix {
		q := p.Clone()
		q.Pix[k] += eps
		vp, _ := f(q)
		q.Pix[k] -= 2 * eps
		vm, _ := f(q)
		// The step actually taken, after rounding to float32.
		step := float64(p.Pix[k]+eps) - float64(p.Pix[k]-eps)
		fd := (vp - vm) / step
		scale := math.Max(math.Abs(fd), 1e-3*math.Abs(v0))
		if err := math.Abs(fd-float64(g[k])) / scale; err > worst {
			worst = err
		}
		if math.Abs(fd-float64(g[k])) > 1e-2*scale+1e-9 {
			t.Errorf("component %d: finite difference %v, gradient %v", k, fd, g[k])
		}
	}
	t.Logf("worst relative error %.2g", worst)
}
