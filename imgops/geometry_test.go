package imgops

import (
	"math"
	"testing"
)

func TestSquareToQuad(t *testing.T) {
	tests := []struct {
		name string
		q    [4][2]float64
	}{
		{"affine", [4][2]float64{{1, 2}, {5, 2}, {6, 4}, {2, 4}}},
		{"projective", [4][2]float64{{0, 0}, {10, 1}, {8, 9}, {1, 7}}},
	}
	for _, tc := range tests {
		m := squareToQuad(tc.q)
		for k, s := range [4][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
			x, y, _ := m.apply(s[0], s[1])
			if math.Abs(x-tc.q[k][0]) > 1e-9 || math.Abs(y-tc.q[k][1]) > 1e-9 {
				t.Errorf("%s: corner %d maps to (%v, %v), want %v", tc.name, k, x, y, tc.q[k])
			}
		}
		inv, ok := m.inv()
		if !ok {
			t.Fatalf("%s: singular", tc.name)
		}
		id := m.mul(inv)
		for i, v := range identity3() {
			if math.Abs(id[i]/id[8]-v) > 1e-9 {
				t.Errorf("%s: m·m⁻¹ = %v", tc.name, id)
				break
			}
		}
	}
	if _, ok := (mat3{}).inv(); ok {
		t.Error("the zero matrix inverted")
	}
}

func TestForwardAndFootprint(t *testing.T) {
	// A 10×4 patch at scale 2, a quarter turn counter-clockwise about
	// (50, 30): its top-right corner (10, 0) lands up and left, at
	// (50 − 4, 30 − 10); the footprint is 8+2 wide and 20+2 tall
	// (half a patch pixel of bilinear reach, times 2, on each side).
	tr := Transform{AngleRad: math.Pi / 2, Scale: 2, CX: 50, CY: 30}
	x, y, _ := tr.forward(10, 4).apply(10, 0)
	if math.Abs(x-46) > 1e-9 || math.Abs(y-20) > 1e-9 {
		t.Errorf("top-right corner maps to (%v, %v), want (46, 20)", x, y)
	}
	x0, y0, x1, y1 := tr.Footprint(10, 4)
	want := [4]float64{45, 19, 55, 41}
	for i, v := range [4]float64{x0, y0, x1, y1} {
		if math.Abs(v-want[i]) > 1e-9 {
			t.Errorf("footprint = %v %v %v %v, want %v", x0, y0, x1, y1, want)
			break
		}
	}
	// Perspective: the displaced corners are where the patch corners land.
	tr = Transform{Scale: 1, CX: 5, CY: 2, Perspective: [4][2]float64{{0.2, 0.1}, {0, 0}, {-0.4, -0.5}, {0, 0}}}
	x, y, _ = tr.forward(10, 4).apply(10, 4)
	if math.Abs(x-(10-0.4*5)) > 1e-9 || math.Abs(y-(4-0.5*2)) > 1e-9 {
		t.Errorf("bottom-right corner maps to (%v, %v), want (8, 3)", x, y)
	}
}
