package imgops

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestMaskShapes(t *testing.T) {
	tests := []struct {
		name     string
		mask     Mask
		area     float64 // the analytic area
		tol      float64
		inside   [][2]int
		outside  [][2]int
		wantSize [2]int
	}{
		{"circle", CircleMask(40), math.Pi * 20 * 20, 2, [][2]int{{20, 20}, {1, 20}}, [][2]int{{0, 0}, {39, 39}}, [2]int{40, 40}},
		{"ellipse", EllipseMask(60, 20), math.Pi * 30 * 10, 2, [][2]int{{30, 10}, {2, 10}}, [][2]int{{0, 0}, {59, 19}, {0, 19}}, [2]int{60, 20}},
		{"rect", RectMask(7, 3), 21, 0, [][2]int{{0, 0}, {6, 2}}, nil, [2]int{7, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.mask
			if m.W != tc.wantSize[0] || m.H != tc.wantSize[1] {
				t.Fatalf("size %d×%d, want %v", m.W, m.H, tc.wantSize)
			}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			if math.Abs(m.Area()-tc.area) > tc.tol {
				t.Errorf("area %v, want %v", m.Area(), tc.area)
			}
			for _, p := range tc.inside {
				if v := m.Pix[p[1]*m.W+p[0]]; v != 1 {
					t.Errorf("pixel %v = %v, want 1", p, v)
				}
			}
			for _, p := range tc.outside {
				if v := m.Pix[p[1]*m.W+p[0]]; v != 0 {
					t.Errorf("pixel %v = %v, want 0", p, v)
				}
			}
		})
	}
}

func TestMaskFromImage(t *testing.T) {
	// A 4×2 sticker: opaque left half, transparent right half; white top
	// row, black bottom row.
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for x := 0; x < 4; x++ {
		a := uint8(255)
		if x >= 2 {
			a = 0
		}
		img.Set(x, 0, color.NRGBA{255, 255, 255, a})
		img.Set(x, 1, color.NRGBA{0, 0, 0, a})
	}
	alpha := MaskFromAlpha(img, 4, 2)
	if alpha.Pix[0] != 1 || alpha.Pix[3] != 0 || alpha.Shape != "alpha" {
		t.Errorf("alpha mask %v, want opaque left, clear right", alpha.Pix)
	}
	// With transparency, MaskFromImage uses alpha too.
	if m := MaskFromImage(img, 4, 2); m.Pix[0] != 1 || m.Pix[3] != 0 {
		t.Errorf("MaskFromImage on a transparent image %v, want its alpha", m.Pix)
	}
	// An opaque picture gives its luminance: white 1, black 0.
	opaque := image.NewGray(image.Rect(0, 0, 2, 2))
	opaque.Pix = []uint8{255, 255, 0, 0}
	if m := MaskFromImage(opaque, 2, 2); m.Pix[0] != 1 || m.Pix[2] != 0 {
		t.Errorf("MaskFromImage on an opaque picture %v, want white 1 black 0", m.Pix)
	}
	// Resizing: a 100×100 disc as a 10×10 mask keeps its area fraction.
	disc := CircleMask(100)
	big := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for k, v := range disc.Pix {
		big.Pix[4*k+3] = uint8(v*255 + 0.5)
	}
	small := MaskFromAlpha(big, 10, 10)
	if got := small.Area() / 100; math.Abs(got-math.Pi/4) > 0.02 {
		t.Errorf("resized disc covers %v of the mask, want π/4", got)
	}
}

func TestPatchConstructors(t *testing.T) {
	m := EllipseMask(12, 8)
	grey := NewGreyPatch(m)
	if err := grey.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, v := range grey.Pix {
		if v != 0.5 {
			t.Fatalf("grey patch holds %v", v)
		}
	}
	a, b, c := NewNoisePatch(m, 1), NewNoisePatch(m, 1), NewNoisePatch(m, 2)
	var mean float64
	for k := range a.Pix {
		if a.Pix[k] != b.Pix[k] {
			t.Fatal("the same seed gave different noise")
		}
		if a.Pix[k] < 0 || a.Pix[k] > 1 {
			t.Fatalf("noise %v outside [0,1]", a.Pix[k])
		}
		mean += float64(a.Pix[k]) / float64(len(a.Pix))
	}
	if a.Pix[0] == c.Pix[0] && a.Pix[1] == c.Pix[1] {
		t.Error("different seeds gave the same noise")
	}
	if math.Abs(mean-0.5) > 0.1 {
		t.Errorf("noise mean %v, want about 0.5", mean)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 255, 128, 0, 255
	}
	fromImg := NewPatchFromImage(img, m)
	n := m.W * m.H
	if fromImg.W != 12 || math.Abs(float64(fromImg.Pix[0])-1) > 1e-3 ||
		math.Abs(float64(fromImg.Pix[n])-128.0/255) > 1e-3 || fromImg.Pix[2*n] != 0 {
		t.Errorf("patch from an orange image: %v %v %v", fromImg.Pix[0], fromImg.Pix[n], fromImg.Pix[2*n])
	}
	bad := []*Patch{
		nil,
		{W: 2, H: 2, Pix: make([]float32, 11), Mask: RectMask(2, 2)},
		{W: 2, H: 2, Pix: make([]float32, 12), Mask: RectMask(2, 3)},
		{W: 1, H: 1, Pix: make([]float32, 3), Mask: Mask{W: 1, H: 1, Pix: []float32{2}}},
	}
	for i, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("bad patch %d validated", i)
		}
	}
}

func TestPatchResize(t *testing.T) {
	// Colours under a transparent mask must not bleed into the edge: a red
	// opaque left half next to a green transparent right half stays red.
	p := NewGreyPatch(Mask{W: 4, H: 1, Pix: []float32{1, 1, 0, 0}})
	p.Pix = []float32{1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0}
	q := p.Resize(16, 4)
	n := q.W * q.H
	for k := 0; k < n; k++ {
		if q.Mask.Pix[k] > 0.01 {
			if r, g := q.Pix[k], q.Pix[n+k]; math.Abs(float64(r)-1) > 2e-3 || g > 2e-3 {
				t.Fatalf("texel %d (mask %v) is (%v, %v); want pure red", k, q.Mask.Pix[k], r, g)
			}
		}
	}
	if a := q.Mask.Area() / float64(n); math.Abs(a-0.5) > 0.02 {
		t.Errorf("resized mask covers %v, want 0.5", a)
	}
	c := p.Clone()
	c.Pix[0], c.Mask.Pix[0] = 7, 0
	if p.Pix[0] == 7 || p.Mask.Pix[0] == 0 {
		t.Error("Clone shares storage")
	}
	c.Clamp()
	if c.Pix[0] != 1 {
		t.Errorf("Clamp left %v", c.Pix[0])
	}
	if img := p.Image(); img.Pix[0] != 255 || img.Pix[3] != 255 || img.Pix[4*2+3] != 0 {
		t.Errorf("preview image %v", img.Pix[:12])
	}
}

func TestThumbnail(t *testing.T) {
	p := NewGreyPatch(RectMask(80, 40))
	th := p.Thumbnail(20)
	if b := th.Bounds(); b.Dx() != 20 || b.Dy() != 10 {
		t.Errorf("thumbnail is %v, want 20×10", b)
	}
	if c := th.NRGBAAt(10, 5); c != (color.NRGBA{128, 128, 128, 255}) {
		t.Errorf("thumbnail pixel %v, want opaque grey", c)
	}
}
