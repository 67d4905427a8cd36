package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// linearClassifier is a pure-Go affine classifier, logits z = W·x + b, whose
// gradients are in closed form: the independent reference the attacks are
// tested against. Minimal perturbations against it are analytic.
type linearClassifier struct {
	shape     ImageShape
	w         [][]float64 // K rows of Size() weights
	b         []float64
	forwards  int // images seen by Logits
	gradients int // images seen by Gradient
}

func (l *linearClassifier) Name() string { return "linear" }

func (l *linearClassifier) Labels() []string {
	out := make([]string, len(l.w))
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

func (l *linearClassifier) InputShape() ImageShape { return l.shape }

func (l *linearClassifier) logits(x []float32) []float64 {
	z := make([]float64, len(l.w))
	for k, row := range l.w {
		s := l.b[k]
		for i, v := range x {
			s += row[i] * float64(v)
		}
		z[k] = s
	}
	return z
}

func (l *linearClassifier) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := l.shape.Size()
	if n <= 0 || len(images) != n*d {
		return nil, fmt.Errorf("linear: %d floats for %d images", len(images), n)
	}
	l.forwards += n
	out := make([]float32, 0, n*len(l.w))
	for i := 0; i < n; i++ {
		for _, v := range l.logits(images[i*d : (i+1)*d]) {
			out = append(out, float32(v))
		}
	}
	return out, nil
}

func (l *linearClassifier) Gradient(ctx context.Context, loss LossKind, images []float32, targets []int64) (Gradients, error) {
	if err := ctx.Err(); err != nil {
		return Gradients{}, err
	}
	d, n, k := l.shape.Size(), len(targets), len(l.w)
	if n == 0 || len(images) != n*d {
		return Gradients{}, fmt.Errorf("linear: %d floats for %d targets", len(images), n)
	}
	l.gradients += n
	g := Gradients{Logits: make([]float32, n*k), Loss: make([]float32, n), Grad: make([]float32, n*d)}
	for i := 0; i < n; i++ {
		z := l.logits(images[i*d : (i+1)*d])
		t := int(targets[i])
		coef := make([]float64, k) // gradient = Σ_j coef_j w_j
		switch loss {
		case CrossEntropy:
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
		case Margin:
			o := -1
			for j := range z {
				if j != t && (o < 0 || z[j] > z[o]) {
					o = j
				}
			}
			coef[o], coef[t] = 1, -1
			g.Loss[i] = float32(z[o] - z[t])
		case Logit:
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
			for p, w := range l.w[j] {
				g.Grad[i*d+p] += float32(c * w)
			}
		}
	}
	return g, nil
}

// newLinear returns a K-class affine classifier on 1×4×4 images with
// random weights of the given scale.
func newLinear(seed uint64, k int, scale float64) *linearClassifier {
	r := rand.New(rand.NewPCG(seed, 7))
	l := &linearClassifier{shape: ImageShape{1, 4, 4}, w: make([][]float64, k), b: make([]float64, k)}
	for j := range l.w {
		l.w[j] = make([]float64, l.shape.Size())
		var mean float64
		for i := range l.w[j] {
			l.w[j][i] = scale * r.NormFloat64()
			mean += l.w[j][i] / float64(len(l.w[j]))
		}
		// Zero-mean rows and small biases, so that images of middling
		// brightness spread over the classes instead of one class taking
		// them all.
		for i := range l.w[j] {
			l.w[j][i] -= mean
		}
		l.b[j] = 0.1 * scale * r.NormFloat64()
	}
	return l
}

// margin returns z_a − z_b at x and the norm of w_a − w_b: the distance from
// x to the a/b boundary is their ratio.
func (l *linearClassifier) margin(x []float32, a, b int) (float64, float64) {
	z := l.logits(x)
	var n float64
	for i := range l.w[a] {
		d := l.w[a][i] - l.w[b][i]
		n += d * d
	}
	return z[a] - z[b], math.Sqrt(n)
}

// minimalL2 returns the analytic minimal L2 perturbation that moves x out of
// class y (over all classes, since the class region is an intersection of
// half-spaces) and the class whose boundary is nearest. It ignores the
// [0,1] box; tests keep the solution inside it.
func (l *linearClassifier) minimalL2(x []float32, y int) (float64, int) {
	best, arg := math.Inf(1), -1
	for k := range l.w {
		if k == y {
			continue
		}
		m, n := l.margin(x, y, k)
		if d := m / n; d < best {
			best, arg = d, k
		}
	}
	return best, arg
}

// midImages returns n random images with pixels in [0.3,0.7] and the linear
// model's predictions for them.
func midImages(l *linearClassifier, seed uint64, n int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 11))
	d := l.shape.Size()
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(0.3 + 0.4*r.Float64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = argmax64(l.logits(x[i*d : (i+1)*d]))
	}
	return x, labels
}

func argmax64(z []float64) int {
	best := 0
	for j, v := range z {
		if v > z[best] {
			best = j
		}
	}
	return best
}
