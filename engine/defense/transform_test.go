package defense

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

func TestReduceBitsOnKnownValues(t *testing.T) {
	tests := []struct {
		bits int
		in   []float32
		want []float32
	}{
		{1, []float32{0, 0.2, 0.49, 0.5, 0.6, 1}, []float32{0, 0, 0, 1, 1, 1}},
		{2, []float32{0.1, 0.2, 0.5, 0.84, 0.9}, []float32{0, 1.0 / 3, 2.0 / 3, 1, 1}},
		{8, []float32{0.5, 10.2 / 255}, []float32{128.0 / 255, 10.0 / 255}},
		{3, []float32{-0.5, 1.5}, []float32{0, 1}},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			got := ReduceBits(tc.in, tc.bits)
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-7 {
					t.Errorf("%d bits of %g: %g, want %g", tc.bits, tc.in[i], got[i], tc.want[i])
				}
			}
		})
	}
}

func TestMedianFilterOnAHandMadeImage(t *testing.T) {
	// One 3×3 channel; a second channel checks that planes stay apart.
	shape := engine.ImageShape{Channels: 2, Height: 3, Width: 3}
	x := []float32{
		1, 9, 2,
		8, 5, 3,
		7, 4, 6,
		0, 0, 0,
		0, 1, 0,
		0, 0, 0,
	}
	tests := []struct {
		size int
		want []float32
	}{
		// 3×3, border replicated: the corner (0,0) sees 1,1,9,1,1,9,8,8,5.
		{3, []float32{5, 3, 3, 7, 5, 4, 7, 6, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// 2×2 over rows r−1..r, columns c−1..c: (0,0) sees 1,1,1,1; (1,1)
		// sees 1,9,8,5, whose middle two are 5 and 8; a lone bright pixel
		// is at most one of four and vanishes.
		{2, []float32{1, 5, 5.5, 4.5, 6.5, 4, 7.5, 6, 4.5, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			got := MedianFilter(x, shape, tc.size)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("size %d: %v, want %v", tc.size, got, tc.want)
				}
			}
		})
	}
}

// directBlur is an independent 2-D Gaussian blur: the outer product of the
// 1-D kernel applied at once, border replicated.
func directBlur(x []float32, shape engine.ImageShape, sigma float64) []float32 {
	r := max(1, int(math.Ceil(3*sigma)))
	var norm float64
	for d := -r; d <= r; d++ {
		norm += math.Exp(-float64(d*d) / (2 * sigma * sigma))
	}
	h, w := shape.Height, shape.Width
	out := make([]float32, len(x))
	for p := 0; p < len(x); p += h * w {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				var s float64
				for di := -r; di <= r; di++ {
					for dj := -r; dj <= r; dj++ {
						k := math.Exp(-float64(di*di+dj*dj)/(2*sigma*sigma)) / (norm * norm)
						ii, jj := min(max(i+di, 0), h-1), min(max(j+dj, 0), w-1)
						s += k * float64(x[p+ii*w+jj])
					}
				}
				out[p+i*w+j] = float32(s)
			}
		}
	}
	return out
}

func randomImages(seed uint64, n int, shape engine.ImageShape) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*shape.Size())
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

func TestGaussianBlurAndItsAdjoint(t *testing.T) {
	for _, tc := range []struct {
		shape engine.ImageShape
		sigma float64
	}{{engine.ImageShape{Channels: 1, Height: 5, Width: 7}, 1}, {engine.ImageShape{Channels: 3, Height: 6, Width: 4}, 0.6}, {engine.ImageShape{Channels: 2, Height: 4, Width: 4}, 2}} {
		t.Run("", func(t *testing.T) {
			x, y := randomImages(1, 2, tc.shape), randomImages(2, 2, tc.shape)
			got, want := GaussianBlur(x, tc.shape, tc.sigma), directBlur(x, tc.shape, tc.sigma)
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5 {
					t.Fatalf("blur[%d] = %g, want %g", i, got[i], want[i])
				}
			}
			// ⟨Bx, y⟩ = ⟨x, Bᵀy⟩ for any x, y.
			bty := BlurAdjoint(y, tc.shape, tc.sigma)
			var lhs, rhs float64
			for i := range x {
				lhs += float64(got[i]) * float64(y[i])
				rhs += float64(x[i]) * float64(bty[i])
			}
			if math.Abs(lhs-rhs) > 1e-4*math.Abs(lhs) {
				t.Errorf("<Bx,y> = %g but <x,Bᵀy> = %g", lhs, rhs)
			}
		})
	}
}

func wrapped(t *testing.T, spec string, c engine.Classifier) engine.Classifier {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Wrap(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBlurGradientMatchesFiniteDifferences differentiates the blurred
// model's cross-entropy numerically, in float64 through the reference blur.
func TestBlurGradientMatchesFiniteDifferences(t *testing.T) {
	lin := testkit.NewLinear(4, 3, 3)
	d := wrapped(t, "blur:sigma=0.8", lin)
	x, _ := testkit.MidImages(lin, 5, 2)
	targets := []int64{0, 2}
	g, err := d.Gradient(context.Background(), engine.CrossEntropy, x, targets)
	if err != nil {
		t.Fatal(err)
	}
	shape := lin.InputShape()
	size := shape.Size()
	loss := func(img []float32, t int) float64 {
		z := lin.RawLogits(directBlur(img, shape, 0.8))
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(v - m)
		}
		return m + math.Log(s) - z[t]
	}
	const h = 1e-3
	for i, tg := range targets {
		img := append([]float32(nil), x[i*size:(i+1)*size]...)
		for p := range img {
			v := img[p]
			img[p] = v + h
			up := loss(img, int(tg))
			img[p] = v - h
			down := loss(img, int(tg))
			img[p] = v
			fd := (up - down) / (2 * h)
			if got := float64(g.Grad[i*size+p]); math.Abs(got-fd) > 2e-3*(1+math.Abs(fd)) {
				t.Errorf("image %d pixel %d: gradient %g, finite difference %g", i, p, got, fd)
			}
		}
	}
}

// TestBPDAIsTheModelsGradientAtTheTransformedInput: straight-through
// defenses return the wrapped model's own gradient at T(x).
func TestBPDAIsTheModelsGradientAtTheTransformedInput(t *testing.T) {
	lin := testkit.NewLinear(6, 4, 2)
	lin.Shape = engine.ImageShape{Channels: 1, Height: 4, Width: 4}
	x, _ := testkit.MidImages(lin, 7, 3)
	shape := lin.InputShape()
	ref := map[string]func([]float32) []float32{
		"jpeg:quality=30": func(x []float32) []float32 { y, _ := JPEG(x, shape, 30); return y },
		"bits:bits=2":     func(x []float32) []float32 { return ReduceBits(x, 2) },
		"median:size=3":   func(x []float32) []float32 { return MedianFilter(x, shape, 3) },
	}
	targets := []int64{1, 0, 3}
	for spec, tr := range ref {
		t.Run(spec, func(t *testing.T) {
			d := wrapped(t, spec, lin)
			for _, loss := range []engine.LossKind{engine.CrossEntropy, engine.Margin} {
				got, err := d.Gradient(context.Background(), loss, x, targets)
				if err != nil {
					t.Fatal(err)
				}
				want, err := lin.Gradient(context.Background(), loss, tr(x), targets)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want.Grad {
					if got.Grad[i] != want.Grad[i] {
						t.Fatalf("%v: gradient[%d] %g, want the model's %g at T(x)", loss, i, got.Grad[i], want.Grad[i])
					}
				}
				for i := range want.Logits {
					if got.Logits[i] != want.Logits[i] {
						t.Fatalf("%v: logits[%d] %g, want %g", loss, i, got.Logits[i], want.Logits[i])
					}
				}
			}
			// And the transform does change the input, or the test proves nothing.
			if RelChange(tr(x), x) == 0 {
				t.Fatal("the transform left the images as they were")
			}
		})
	}
}

// RelChange is the largest absolute difference between a and b.
func RelChange(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

func TestJPEG(t *testing.T) {
	grey := engine.ImageShape{Channels: 1, Height: 16, Width: 16}
	rgb := engine.ImageShape{Channels: 3, Height: 16, Width: 16}
	flat := make([]float32, rgb.Size())
	for i := range flat {
		flat[i] = float32(i/(16*16)+1) * 60 / 255 // one colour per channel
	}
	checker := make([]float32, grey.Size())
	for r := 0; r < 16; r++ {
		for c := 0; c < 16; c++ {
			checker[r*16+c] = float32((r + c) % 2)
		}
	}
	t.Run("a flat colour survives", func(t *testing.T) {
		y, err := JPEG(flat, rgb, 50)
		if err != nil {
			t.Fatal(err)
		}
		if d := RelChange(y, flat); d > 3.0/255 {
			t.Errorf("flat image moved by %g", d)
		}
	})
	t.Run("low quality smooths a checkerboard", func(t *testing.T) {
		hi, _ := JPEG(checker, grey, 100)
		lo, err := JPEG(checker, grey, 10)
		if err != nil {
			t.Fatal(err)
		}
		if dh, dl := RelChange(hi, checker), RelChange(lo, checker); !(dh < 0.02 && dl > 0.1) {
			t.Errorf("max error %g at quality 100, %g at quality 10", dh, dl)
		}
	})
	t.Run("two channels are refused", func(t *testing.T) {
		if _, err := JPEG(make([]float32, 2*4*4), engine.ImageShape{Channels: 2, Height: 4, Width: 4}, 75); err == nil {
			t.Error("no error")
		}
	})
}
