package patch

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// newLinearRGB returns a K-class affine classifier on 3×side×side images.
// Each class prefers one colour everywhere (a per-channel weight) on top of
// random per-pixel weights, so that a universal patch exists: paint the
// class's colour.
func newLinearRGB(seed uint64, k, side int, scale float64) *testkit.Linear {
	r := rand.New(rand.NewPCG(seed, 17))
	shape := engine.ImageShape{Channels: 3, Height: side, Width: side}
	l := &testkit.Linear{Shape: shape, W: make([][]float64, k), B: make([]float64, k)}
	hw := side * side
	for j := range l.W {
		l.W[j] = make([]float64, shape.Size())
		var ch [3]float64
		for c := range ch {
			ch[c] = r.NormFloat64()
		}
		// Zero mean over the channels, so that the images' colour, not
		// their brightness, picks the class.
		mean := (ch[0] + ch[1] + ch[2]) / 3
		for c := range ch {
			ch[c] -= mean
		}
		for i := range l.W[j] {
			l.W[j][i] = scale * (0.3*r.NormFloat64() + ch[i/hw]) / float64(hw) * 16
		}
	}
	return l
}

// stripes is a closed-form, rotation-sensitive two-class classifier on
// 3×side×side images: class 1 ("stripes") scores the mean over positions of
// ReLU(g(y,x) + g(y+1,x) − g(y+2,x) − g(y+3,x) − τ), g the channel mean, a
// detector of horizontal bright-over-dark edges; class 0 scores a constant.
// A patch of horizontal stripes excites it, the same stripes turned by 45°
// much less.
type stripes struct {
	side  int
	gain  float64 // logit of class 1 per unit of mean response
	bias  float64 // logit of class 0
	tau   float64
	calls int
}

func (s *stripes) Name() string     { return "stripes" }
func (s *stripes) Labels() []string { return []string{"plain", "stripes"} }
func (s *stripes) InputShape() engine.ImageShape {
	return engine.ImageShape{Channels: 3, Height: s.side, Width: s.side}
}

// forward returns the logits and d(z1)/d(x) of one image.
func (s *stripes) forward(x []float32, withGrad bool) ([2]float64, []float64) {
	n := s.side
	hw := n * n
	g := make([]float64, hw)
	for p := range g {
		g[p] = (float64(x[p]) + float64(x[hw+p]) + float64(x[2*hw+p])) / 3
	}
	var dg []float64
	if withGrad {
		dg = make([]float64, hw)
	}
	positions := float64((n - 3) * n)
	var sum float64
	f := [4]float64{1, 1, -1, -1}
	for y := 0; y+3 < n; y++ {
		for xx := 0; xx < n; xx++ {
			r := -s.tau
			for k := range f {
				r += f[k] * g[(y+k)*n+xx]
			}
			if r <= 0 {
				continue
			}
			sum += r
			if withGrad {
				for k := range f {
					dg[(y+k)*n+xx] += f[k] / positions
				}
			}
		}
	}
	z := [2]float64{s.bias, s.gain * sum / positions}
	if !withGrad {
		return z, nil
	}
	dx := make([]float64, 3*hw)
	for p, v := range dg {
		dx[p], dx[hw+p], dx[2*hw+p] = s.gain*v/3, s.gain*v/3, s.gain*v/3
	}
	return z, dx
}

func (s *stripes) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := s.InputShape().Size()
	if len(images) != n*d {
		return nil, fmt.Errorf("stripes: %d floats for %d images", len(images), n)
	}
	s.calls++
	out := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		z, _ := s.forward(images[i*d:(i+1)*d], false)
		out = append(out, float32(z[0]), float32(z[1]))
	}
	return out, nil
}

func (s *stripes) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	if err := ctx.Err(); err != nil {
		return engine.Gradients{}, err
	}
	if loss != engine.CrossEntropy {
		return engine.Gradients{}, fmt.Errorf("stripes: only cross-entropy")
	}
	d, n := s.InputShape().Size(), len(targets)
	if len(images) != n*d {
		return engine.Gradients{}, fmt.Errorf("stripes: %d floats for %d targets", len(images), n)
	}
	s.calls++
	g := engine.Gradients{Logits: make([]float32, 2*n), Loss: make([]float32, n), Grad: make([]float32, n*d)}
	for i := 0; i < n; i++ {
		z, dz1 := s.forward(images[i*d:(i+1)*d], true)
		m := math.Max(z[0], z[1])
		e0, e1 := math.Exp(z[0]-m), math.Exp(z[1]-m)
		p1 := e1 / (e0 + e1)
		t := int(targets[i])
		g.Loss[i] = float32(m + math.Log(e0+e1) - z[t])
		// d(CE)/d(z1) = p1 − [t == 1]; z0 is constant.
		c := p1
		if t == 1 {
			c--
		}
		for p, v := range dz1 {
			g.Grad[i*d+p] = float32(c * v)
		}
		g.Logits[2*i], g.Logits[2*i+1] = float32(z[0]), float32(z[1])
	}
	return g, nil
}

// recorder passes calls through to a classifier and keeps the batches its
// gradient graph was run on.
type recorder struct {
	engine.Classifier
	batches [][]float32
	targets [][]int64
	// failAt, when > 0, makes the failAt-th Gradient call cancel and fail.
	failAt int
	cancel context.CancelFunc
}

func (r *recorder) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	r.batches = append(r.batches, append([]float32(nil), images...))
	r.targets = append(r.targets, append([]int64(nil), targets...))
	if r.failAt > 0 && len(r.batches) == r.failAt {
		r.cancel()
		return engine.Gradients{}, ctx.Err()
	}
	return r.Classifier.Gradient(ctx, loss, images, targets)
}

// smoothImages returns an ImageFolder-like dataset of n images per class of
// smooth random colour gradients, side×side, in classes named by labels.
func smoothImages(seed uint64, side, perClass int, labels []string) *engine.Dataset {
	r := rand.New(rand.NewPCG(seed, 3))
	ds := &engine.Dataset{Root: "smooth"}
	for _, l := range labels {
		ds.Classes = append(ds.Classes, l)
		for k := 0; k < perClass; k++ {
			img := image.NewNRGBA(image.Rect(0, 0, side, side))
			var c0, c1 [3]float64
			for c := range c0 {
				c0[c], c1[c] = 0.3+0.4*r.Float64(), 0.3+0.4*r.Float64()
			}
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					a := (float64(x) + float64(y)) / float64(2*side)
					px := func(c int) uint8 { return uint8(255 * ((1-a)*c0[c] + a*c1[c])) }
					img.SetNRGBA(x, y, color.NRGBA{px(0), px(1), px(2), 255})
				}
			}
			ds.Items = append(ds.Items, engine.DatasetItem{Rel: fmt.Sprintf("%s/%d.png", l, k), Class: l, Image: img})
		}
	}
	return ds
}
