package testkit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// Linear is a pure-Go affine classifier, logits z = W·x + b, whose
// gradients are in closed form: the independent reference the attacks are
// tested against. Minimal perturbations against it are analytic.
type Linear struct {
	Shape     engine.ImageShape
	W         [][]float64 // K rows of Size() weights
	B         []float64
	Forwards  int // images seen by Logits
	Gradients int // images seen by Gradient
}

// Name is "linear".
func (l *Linear) Name() string { return "linear" }

// Labels are the class indices as text, "0" to "K−1".
func (l *Linear) Labels() []string {
	out := make([]string, len(l.W))
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// InputShape is Shape.
func (l *Linear) InputShape() engine.ImageShape { return l.Shape }

// RawLogits returns W·x + b of one image in float64.
func (l *Linear) RawLogits(x []float32) []float64 {
	z := make([]float64, len(l.W))
	for k, row := range l.W {
		s := l.B[k]
		for i, v := range x {
			s += row[i] * float64(v)
		}
		z[k] = s
	}
	return z
}

// Logits returns the float32 logits of n images, counting them in Forwards.
func (l *Linear) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := l.Shape.Size()
	if n <= 0 || len(images) != n*d {
		return nil, fmt.Errorf("linear: %d floats for %d images", len(images), n)
	}
	l.Forwards += n
	out := make([]float32, 0, n*len(l.W))
	for i := 0; i < n; i++ {
		for _, v := range l.RawLogits(images[i*d : (i+1)*d]) {
			out = append(out, float32(v))
		}
	}
	return out, nil
}

// Gradient returns the closed-form gradient of loss for every image,
// counting them in Gradients.
func (l *Linear) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	if err := ctx.Err(); err != nil {
		return engine.Gradients{}, err
	}
	d, n, k := l.Shape.Size(), len(targets), len(l.W)
	if n == 0 || len(images) != n*d {
		return engine.Gradients{}, fmt.Errorf("linear: %d floats for %d targets", len(images), n)
	}
	l.Gradients += n
	g := engine.Gradients{Logits: make([]float32, n*k), Loss: make([]float32, n), Grad: make([]float32, n*d)}
	for i := 0; i < n; i++ {
		z := l.RawLogits(images[i*d : (i+1)*d])
		t := int(targets[i])
		coef := make([]float64, k) // gradient = Σ_j coef_j w_j
		switch loss {
		case engine.CrossEntropy:
			m := math.Inf(-1)
			for _, v := range z {
				m = math.Max(m, v)
			}
			var s float64
			for _, v := range z {
				s += math.Exp(v - m)
			}
			for j, v := range z {
				coef[j] = math.Exp(v-m) / s
			}
			coef[t]--
			g.Loss[i] = float32(m + math.Log(s) - z[t])
		case engine.Margin:
			o := -1
			for j := range z {
				if j != t && (o < 0 || z[j] > z[o]) {
					o = j
				}
			}
			coef[o], coef[t] = 1, -1
			g.Loss[i] = float32(z[o] - z[t])
		case engine.Logit:
			coef[t] = 1
			g.Loss[i] = float32(z[t])
		}
		for j, v := range z {
			g.Logits[i*k+j] = float32(v)
		}
		for j, c := range coef {
			if c == 0 {
				continue
			}
			for p, w := range l.W[j] {
				g.Grad[i*d+p] += float32(c * w)
			}
		}
	}
	return g, nil
}

// NewLinear returns a K-class affine classifier on 1×4×4 images with
// random weights of the given scale.
func NewLinear(seed uint64, k int, scale float64) *Linear {
	r := rand.New(rand.NewPCG(seed, 7))
	l := &Linear{Shape: engine.ImageShape{Channels: 1, Height: 4, Width: 4}, W: make([][]float64, k), B: make([]float64, k)}
	for j := range l.W {
		l.W[j] = make([]float64, l.Shape.Size())
		var mean float64
		for i := range l.W[j] {
			l.W[j][i] = scale * r.NormFloat64()
			mean += l.W[j][i] / float64(len(l.W[j]))
		}
		// Zero-mean rows and small biases, so that images of middling
		// brightness spread over the classes instead of one class taking
		// them all.
		for i := range l.W[j] {
			l.W[j][i] -= mean
		}
		l.B[j] = 0.1 * scale * r.NormFloat64()
	}
	return l
}

// Margin returns z_a − z_b at x and the norm of w_a − w_b: the distance from
// x to the a/b boundary is their ratio.
func (l *Linear) Margin(x []float32, a, b int) (float64, float64) {
	z := l.RawLogits(x)
	var n float64
	for i := range l.W[a] {
		d := l.W[a][i] - l.W[b][i]
		n += d * d
	}
	return z[a] - z[b], math.Sqrt(n)
}

// MinimalL2 returns the analytic minimal L2 perturbation that moves x out of
// class y (over all classes, since the class region is an intersection of
// half-spaces) and the class whose boundary is nearest. It ignores the
// [0,1] box; tests keep the solution inside it.
func (l *Linear) MinimalL2(x []float32, y int) (float64, int) {
	best, arg := math.Inf(1), -1
	for k := range l.W {
		if k == y {
			continue
		}
		m, n := l.Margin(x, y, k)
		if d := m / n; d < best {
			best, arg = d, k
		}
	}
	return best, arg
}

// MidImages returns n random images with pixels in [0.3,0.7] and the linear
// model's predictions for them.
func MidImages(l *Linear, seed uint64, n int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 11))
	d := l.Shape.Size()
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(0.3 + 0.4*r.Float64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = Argmax64(l.RawLogits(x[i*d : (i+1)*d]))
	}
	return x, labels
}

// Argmax64 returns the index of the largest of z, the first on ties. It is
// written apart from engine.Argmax so that the tests do not check the
// engine against itself.
func Argmax64(z []float64) int {
	best := 0
	for j, v := range z {
		if v > z[best] {
			best = j
		}
	}
	return best
}
