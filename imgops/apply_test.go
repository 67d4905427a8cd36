package imgops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// onePlanePatch returns a w×h patch whose three planes all hold vals and
// whose mask is full.
func onePlanePatch(w, h int, vals []float32) *Patch {
	p := NewGreyPatch(RectMask(w, h))
	for c := 0; c < 3; c++ {
		copy(p.Pix[c*w*h:], vals)
	}
	return p
}

func TestApplyRotation90(t *testing.T) {
	// A 3×2 patch, values by row:  1 2 3 / 4 5 6. Turned a quarter turn
	// counter-clockwise on screen (numpy's rot90) it reads 3 6 / 2 5 / 1 4.
	// Centred at (3, 3.5) the rotated 2-wide, 3-tall patch covers pixels
	// x = 2..3, y = 2..4 exactly, pixel centres on patch pixel centres.
	p := onePlanePatch(3, 2, []float32{.1, .2, .3, .4, .5, .6})
	tests := []struct {
		name  string
		angle float64
		cx    float64
		cy    float64
		want  map[[2]int]float32 // (x, y) -> value
	}{
		{"ccw", math.Pi / 2, 3, 3.5, map[[2]int]float32{
			{2, 2}: .3, {3, 2}: .6, {2, 3}: .2, {3, 3}: .5, {2, 4}: .1, {3, 4}: .4}},
		{"cw", -math.Pi / 2, 3, 3.5, map[[2]int]float32{
			{2, 2}: .4, {3, 2}: .1, {2, 3}: .5, {3, 3}: .2, {2, 4}: .6, {3, 4}: .3}},
		{"none", 0, 3.5, 3, map[[2]int]float32{
			{2, 2}: .1, {3, 2}: .2, {4, 2}: .3, {2, 3}: .4, {3, 3}: .5, {4, 3}: .6}},
	}
	const w, h = 7, 7
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := make([]float32, 3*w*h)
			cp, err := Apply(p, img, 1, 3, h, w, []Transform{{AngleRad: tc.angle, Scale: 1, CX: tc.cx, CY: tc.cy}})
			if err != nil {
				t.Fatal(err)
			}
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					want := tc.want[[2]int{x, y}]
					for c := 0; c < 3; c++ {
						if got := cp.Images[c*w*h+y*w+x]; math.Abs(float64(got-want)) > 1e-5 {
							t.Errorf("pixel (%d,%d) channel %d = %v, want %v", x, y, c, got, want)
						}
					}
				}
			}
		})
	}
}

func TestApplyScale(t *testing.T) {
	// An 8×8 opaque white patch on black, centred on a pixel corner: at
	// scale s its side covers exactly 8s pixels.
	p := onePlanePatch(8, 8, ones(64))
	tests := []struct {
		scale float64
		side  int
	}{{0.5, 4}, {1, 8}, {2, 16}}
	const w, h = 32, 32
	for _, tc := range tests {
		img := make([]float32, w*h)
		cp, err := Apply(p, img, 1, 1, h, w, []Transform{{Scale: tc.scale, CX: 16, CY: 16}})
		if err != nil {
			t.Fatal(err)
		}
		rows, cols := 0, 0
		for k := 0; k < w; k++ {
			if cp.Images[16*w+k] > 0.5 {
				cols++
			}
			if cp.Images[k*w+16] > 0.5 {
				rows++
			}
		}
		if rows != tc.side || cols != tc.side {
			t.Errorf("scale %v: patch spans %d columns × %d rows, want %d × %d", tc.scale, cols, rows, tc.side, tc.side)
		}
	}
}

func TestApplyMaskAndLuminance(t *testing.T) {
	// A masked-out pixel leaves the image as it was; on a grayscale model
	// the patch enters as its luminance.
	p := NewGreyPatch(Mask{W: 2, H: 1, Pix: []float32{1, 0}})
	p.Pix = []float32{1, 1, 0, 0, 0, 0} // R plane 1 1, G 0 0, B 0 0
	img := []float32{0.25, 0.25}
	cp, err := Apply(p, img, 1, 1, 1, 2, []Transform{{Scale: 1, CX: 1, CY: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cp.Images[0]; math.Abs(float64(got)-lumR) > 1e-6 {
		t.Errorf("covered pixel = %v, want the red luminance %v", got, lumR)
	}
	if got := cp.Images[1]; got != 0.25 {
		t.Errorf("masked-out pixel = %v, want the image's 0.25", got)
	}
}

// randomBatch returns n images with values in [lo, hi).
func randomBatch(r *rand.Rand, n int, lo, hi float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = lo + (hi-lo)*r.Float32()
	}
	return x
}

func TestPullBackIsAdjoint(t *testing.T) {
	// The composite is affine in p: y(p) = y0 + A·p, so A·p = 2·(y(p) −
	// y(p/2)). With values chosen so that no clip is active, <A·p, g> must
	// equal <p, Aᵀ·g>, where Aᵀ·g is n times PullBack's batch average.
	circle := CircleMask(13)
	tests := []struct {
		name string
		c    int
		opts Options
	}{
		{"rgb", 3, DefaultOptions()},
		{"gray", 1, DefaultOptions()},
		{"perspective", 3, Options{MaxAngleDeg: 180, ScaleMin: 0.1, ScaleMax: 0.3, Perspective: 0.5}},
		{"jitter", 3, Options{MaxAngleDeg: 30, ScaleMin: 0.1, ScaleMax: 0.3, Brightness: 0.05, Contrast: 0.2, NoiseStd: 0.01}},
		{"blur", 3, Options{MaxAngleDeg: 30, ScaleMin: 0.1, ScaleMax: 0.3, BlurSigma: 2, Contrast: 0.2}},
		{"blur-gray-side", 1, Options{MaxAngleDeg: 30, ScaleMode: SideFraction, ScaleMin: 0.3, ScaleMax: 0.8, BlurSigma: 1.5, Perspective: 0.3}},
	}
	const n, h, w = 4, 40, 36
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			p := NewGreyPatch(circle)
			copy(p.Pix, randomBatch(r, len(p.Pix), 0.3, 0.7))
			half := p.Clone()
			for k := range half.Pix {
				half.Pix[k] /= 2
			}
			x := randomBatch(r, n*tc.c*h*w, 0.3, 0.7)
			g := randomBatch(r, n*tc.c*h*w, -1, 1)
			s, err := NewSampler(7, p, w, h, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ts := s.Sample(n)
			yp, err := Apply(p, x, n, tc.c, h, w, ts)
			if err != nil {
				t.Fatal(err)
			}
			yh, err := Apply(half, x, n, tc.c, h, w, ts)
			if err != nil {
				t.Fatal(err)
			}
			var lhs float64
			for k := range g {
				lhs += 2 * float64(yp.Images[k]-yh.Images[k]) * float64(g[k])
			}
			pb, err := yp.PullBack(g)
			if err != nil {
				t.Fatal(err)
			}
			var rhs float64
			for k := range pb {
				rhs += float64(p.Pix[k]) * float64(pb[k]) * n
			}
			if lhs == 0 || math.Abs(lhs-rhs) > 1e-4*math.Abs(lhs) {
				t.Errorf("<A p, g> = %v, <p, Aᵀ g> = %v (relative error %.2g)", lhs, rhs, math.Abs(lhs-rhs)/math.Abs(lhs))
			}
		})
	}
}

func TestPullBackFiniteDifferences(t *testing.T) {
	// L = Σ ½·y² over the batch. Central differences on the patch colours
	// must match PullBack (times n, which PullBack averages away), including
	// the clip to [0,1] that strong contrast and brightness make active.
	tests := []struct {
		name string
		c    int
		opts Options
	}{
		{"brown", 3, DefaultOptions()},
		{"gray", 1, DefaultOptions()},
		{"clipping", 3, Options{MaxAngleDeg: 45, ScaleMin: 0.2, ScaleMax: 0.3, Brightness: 0.4, Contrast: 0.9}},
		{"everything", 3, Options{MaxAngleDeg: 45, ScaleMin: 0.2, ScaleMax: 0.3, Perspective: 0.4,
			Brightness: 0.2, Contrast: 0.5, NoiseStd: 0.05, BlurSigma: 1}},
	}
	const n, h, w = 3, 24, 24
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			p := NewNoisePatch(EllipseMask(9, 7), 11)
			x := randomBatch(r, n*tc.c*h*w, 0, 1)
			s, err := NewSampler(5, p, w, h, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ts := s.Sample(n)
			loss := func(q *Patch) float64 {
				cp, err := Apply(q, x, n, tc.c, h, w, ts)
				if err != nil {
					t.Fatal(err)
				}
				var l float64
				for _, v := range cp.Images {
					l += 0.5 * float64(v) * float64(v)
				}
				return l
			}
			cp, err := Apply(p, x, n, tc.c, h, w, ts)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := cp.PullBack(cp.Images) // dL/dy = y
			if err != nil {
				t.Fatal(err)
			}
			const eps = 1e-3
			checked := 0
			for k := 0; k < len(p.Pix); k += 7 {
				q := p.Clone()
				q.Pix[k] += eps
				lp := loss(q)
				q.Pix[k] -= 2 * eps
				lm := loss(q)
				fd := (lp - lm) / (2 * eps)
				an := float64(pb[k]) * n
				if math.Abs(fd-an) > 2e-3+0.02*math.Abs(fd) {
					t.Errorf("colour %d: finite difference %v, PullBack %v", k, fd, an)
				}
				if fd != 0 {
					checked++
				}
			}
			if checked < 5 {
				t.Errorf("only %d colours reach the images; the test checks nothing", checked)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	p := NewGreyPatch(RectMask(4, 4))
	img := make([]float32, 3*8*8)
	ok := []Transform{{Scale: 1, CX: 4, CY: 4}}
	tests := []struct {
		name       string
		c, h, w    int
		images     []float32
		transforms []Transform
	}{
		{"channels", 2, 8, 12, img, ok},
		{"length", 3, 8, 7, img, ok},
		{"transforms", 3, 8, 8, img, nil},
		{"scale", 3, 8, 8, img, []Transform{{CX: 4, CY: 4}}},
		{"blur", 3, 8, 8, img, []Transform{{Scale: 1, BlurSigma: 99}}},
	}
	for _, tc := range tests {
		if _, err := Apply(p, tc.images, 1, tc.c, tc.h, tc.w, tc.transforms); err == nil {
			t.Errorf("%s: Apply succeeded, want an error", tc.name)
		}
	}
	var cp Composition
	if _, err := cp.PullBack(img); err == nil {
		t.Error("PullBack before Apply succeeded, want an error")
	}
}

func TestApplyReuseMatchesFresh(t *testing.T) {
	p := NewNoisePatch(CircleMask(20), 1)
	r := rand.New(rand.NewPCG(9, 9))
	s, _ := NewSampler(1, p, 64, 64, &Options{MaxAngleDeg: 90, ScaleMin: 0.1, ScaleMax: 0.4, BlurSigma: 1})
	var cp Composition
	for step := 0; step < 3; step++ {
		x := randomBatch(r, 2*3*64*64, 0, 1)
		ts := s.Sample(2)
		if err := cp.Apply(p, x, 2, 3, 64, 64, ts); err != nil {
			t.Fatal(err)
		}
		fresh, _ := Apply(p, x, 2, 3, 64, 64, ts)
		for k := range x {
			if cp.Images[k] != fresh.Images[k] {
				t.Fatalf("step %d: reused composition differs at %d", step, k)
			}
		}
	}
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// BenchmarkApplyPullBack times one training step's patch work: Apply and
// PullBack for 16 images of 3×224×224 and a 50×50 circular patch, pasted at
// its own size (side50px), at Brown's default scales (5–25% of the image's
// area, so about twice its size), and with every jitter on.
func BenchmarkApplyPullBack(b *testing.B) {
	const n, c, h, w = 16, 3, 224, 224
	p := NewNoisePatch(CircleMask(50), 1)
	x := randomBatch(rand.New(rand.NewPCG(1, 1)), n*c*h*w, 0, 1)
	g := randomBatch(rand.New(rand.NewPCG(2, 2)), n*c*h*w, -1, 1)
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"side50px", Options{ScaleMode: SideFraction, ScaleMin: 50.0 / 224, ScaleMax: 50.0 / 224, MaxAngleDeg: 22.5}},
		{"brown", DefaultOptions()},
		{"jitter", Options{MaxAngleDeg: 22.5, ScaleMin: 0.05, ScaleMax: 0.25, Perspective: 0.3,
			Brightness: 0.1, Contrast: 0.1, NoiseStd: 0.02, BlurSigma: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewSampler(1, p, w, h, &bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			var cp Composition
			for b.Loop() {
				if err := cp.Apply(p, x, n, c, h, w, s.Sample(n)); err != nil {
					b.Fatal(err)
				}
				if _, err := cp.PullBack(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestFillSamplesMatchesEveryPixel(t *testing.T) {
	// The affine fast path finds the pixels reaching the patch row by row as
	// intervals; it must keep exactly the samples a test of every pixel keeps.
	p := NewGreyPatch(EllipseMask(17, 9))
	s, err := NewSampler(3, p, 64, 48, &Options{MaxAngleDeg: 180, ScaleMin: 0.02, ScaleMax: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	cp := &Composition{w: 64, h: 48, pw: p.W, ph: p.H}
	for trial := 0; trial < 200; trial++ {
		tr := s.Next()
		inv, _ := tr.forward(p.W, p.H).inv()
		rg := region{ex0: 0, ey0: 0, ex1: 64, ey1: 48}
		cp.fillSamples(&rg, inv, 0, 0, 64, 48)
		fast := rg.samples
		rg.samples = nil
		for y := 0; y < 48; y++ {
			for x := 0; x < 64; x++ {
				u, v, _ := inv.apply(float64(x)+0.5, float64(y)+0.5)
				cp.addSample(&rg, x, y, u-0.5, v-0.5, float64(p.W), float64(p.H))
			}
		}
		if len(fast) != len(rg.samples) {
			t.Fatalf("transform %+v: fast path keeps %d samples, every-pixel test %d", tr, len(fast), len(rg.samples))
		}
		for k := range fast {
			if fast[k].pix != rg.samples[k].pix || fast[k].q != rg.samples[k].q {
				t.Fatalf("transform %+v: sample %d differs", tr, k)
			}
		}
	}
}

func TestApplyJitter(t *testing.T) {
	// A mid-grey opaque 20×20 patch pasted at scale 1 on a black 40×40
	// image; the interior pixels [15, 25)² are beyond the blur's reach of
	// its edge.
	p := NewGreyPatch(RectMask(20, 20))
	const w, h = 40, 40
	at := Transform{Scale: 1, CX: 20, CY: 20}
	interior := func(img []float32, f func(v float32)) {
		for y := 15; y < 25; y++ {
			for x := 15; x < 25; x++ {
				f(img[y*w+x])
			}
		}
	}
	apply := func(tr Transform) *Composition {
		cp, err := Apply(p, make([]float32, w*h), 1, 1, h, w, []Transform{tr})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	tests := []struct {
		name string
		edit func(tr *Transform)
		want float32
	}{
		{"brightness adds", func(tr *Transform) { tr.Brightness = 0.1 }, 0.6},
		{"contrast scales", func(tr *Transform) { tr.Contrast = 0.2 }, 0.6},
		{"both", func(tr *Transform) { tr.Contrast, tr.Brightness = -0.5, -0.1 }, 0.15},
		{"blur keeps flat interiors", func(tr *Transform) { tr.BlurSigma = 1.5 }, 0.5},
	}
	for _, tc := range tests {
		tr := at
		tc.edit(&tr)
		interior(apply(tr).Images, func(v float32) {
			if math.Abs(float64(v-tc.want)) > 1e-5 {
				t.Fatalf("%s: interior pixel %v, want %v", tc.name, v, tc.want)
			}
		})
	}
	// Noise: zero mean, the requested deviation, reproducible from its seed.
	tr := at
	tr.NoiseStd, tr.NoiseSeed = 0.05, 7
	a, b := apply(tr), apply(tr)
	var sum, sq float64
	interior(a.Images, func(v float32) { d := float64(v) - 0.5; sum += d; sq += d * d })
	mean, std := sum/100, math.Sqrt(sq/100)
	if math.Abs(mean) > 0.01 || math.Abs(std-0.05) > 0.01 {
		t.Errorf("noise mean %v std %v, want 0 and 0.05", mean, std)
	}
	for k := range a.Images {
		if a.Images[k] != b.Images[k] {
			t.Fatal("the same noise seed gave different noise")
		}
	}
	// Blur spreads the patch's coverage without losing it: the image's
	// total stays that of the sharp composite.
	tr = at
	tr.BlurSigma = 2
	sharp, blurred := apply(at), apply(tr)
	var ms, mb float64
	for k := range sharp.Images {
		ms += float64(sharp.Images[k])
		mb += float64(blurred.Images[k])
	}
	if math.Abs(ms-mb) > 1e-3*ms || blurred.Images[20*w+9] <= 0 {
		t.Errorf("blurred total %v, sharp %v; pixel outside the patch %v", mb, ms, blurred.Images[20*w+9])
	}
	// A fully clipped patch passes no gradient.
	tr = at
	tr.Brightness = 1
	cp := apply(tr)
	g, err := cp.PullBack(ones(w * h))
	if err != nil {
		t.Fatal(err)
	}
	for y := 1; y < 19; y++ {
		for x := 1; x < 19; x++ {
			if v := g[y*20+x]; v != 0 {
				t.Fatalf("gradient %v through a clipped pixel (%d,%d)", v, x, y)
			}
		}
	}
}
