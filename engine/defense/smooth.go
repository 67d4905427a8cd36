package defense

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// SmoothOptions configures randomized smoothing.
type SmoothOptions struct {
	// Sigma is the standard deviation of the Gaussian noise, in [0,1]
	// pixels (default 0.25).
	Sigma float64
	// N is the number of noisy votes behind Logits and Predict (default 100).
	N int
	// EOT is the number of noise samples whose gradients Gradient averages
	// (default 8).
	EOT int
	// N0 is the number of votes Certify spends choosing the class, and
	// CertifyN the number it spends bounding its probability (defaults 64
	// and 1000).
	N0, CertifyN int
	// Alpha is the probability that Certify's radius or Predict's class is
	// wrong (default 0.001).
	Alpha float64
	// Seed seeds the noise.
	Seed uint64
}

// DefaultSmoothOptions returns σ = 0.25, 100 votes, 8 EOT samples,
// certification with 64 + 1000 samples at α = 0.001.
func DefaultSmoothOptions() SmoothOptions {
	return SmoothOptions{Sigma: 0.25, N: 100, EOT: 8, N0: 64, CertifyN: 1000, Alpha: 0.001}
}

// Validate checks the options.
func (o SmoothOptions) Validate() error {
	switch {
	case !(o.Sigma > 0 && o.Sigma <= 10):
		return invalidf("smooth: sigma %g must be in (0,10]", o.Sigma)
	case o.N < 1 || o.EOT < 1 || o.N0 < 1 || o.CertifyN < 1:
		return invalidf("smooth: n %d, eot %d, n0 %d and certify-n %d must be positive", o.N, o.EOT, o.N0, o.CertifyN)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return invalidf("smooth: alpha %g must be in (0,1)", o.Alpha)
	}
	return nil
}

// Smoothed is Cohen et al.'s smoothed classifier g(x) = argmax_c
// P(f(x+δ) = c), δ ~ N(0, σ²I), of the base classifier f it wraps, estimated
// by votes. The noisy inputs are not clipped to [0,1], as the certificate
// requires. Its Logits are log((votes_c + 1)/(N + K)), the vote shares
// smoothed so that no class is at −∞; its Gradient is the mean of the base
// classifier's gradients over EOT noise draws (Expectation over
// Transformation), with logits from those draws' votes.
type Smoothed struct {
	inner engine.Classifier
	opts  SmoothOptions
	rng   *rand.Rand
}

// NewSmoothed wraps c; nil options mean DefaultSmoothOptions.
func NewSmoothed(c engine.Classifier, opts *SmoothOptions) (*Smoothed, error) {
	o := DefaultSmoothOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Smoothed{inner: c, opts: o, rng: rand.New(rand.NewPCG(o.Seed, 0xc0ffee))}, nil
}

// Inner returns the base classifier.
func (s *Smoothed) Inner() engine.Classifier { return s.inner }

// Options returns the options in effect.
func (s *Smoothed) Options() SmoothOptions { return s.opts }

// Name is the base model's name and "smooth" with σ ("signs-resnet+smooth0.25").
func (s *Smoothed) Name() string { return fmt.Sprintf("%s+smooth%g", s.inner.Name(), s.opts.Sigma) }

// Labels are the base model's.
func (s *Smoothed) Labels() []string { return s.inner.Labels() }

// InputShape is the base model's.
func (s *Smoothed) InputShape() engine.ImageShape { return s.inner.InputShape() }

// noiseChunk bounds how many noisy images go to the base model at once.
const noiseChunk = 256

// votes counts, for each of the n images, the base classifier's top class
// over m noisy copies: n×K counts.
func (s *Smoothed) votes(ctx context.Context, images []float32, n, m int) ([]int, error) {
	size, k := s.InputShape().Size(), len(s.Labels())
	counts := make([]int, n*k)
	total := n * m
	buf := make([]float32, 0, min(total, noiseChunk)*size)
	owner := make([]int, 0, noiseChunk)
	flush := func() error {
		if len(owner) == 0 {
			return nil
		}
		z, err := s.inner.Logits(ctx, buf, len(owner))
		if err != nil {
			return err
		}
		for j, i := range owner {
			counts[i*k+engine.Argmax(z[j*k:(j+1)*k])]++
		}
		buf, owner = buf[:0], owner[:0]
		return nil
	}
	for q := 0; q < total; q++ {
		i := q / m
		buf = s.addNoisy(buf, images[i*size:(i+1)*size])
		owner = append(owner, i)
		if len(owner) == noiseChunk {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return counts, nil
}

// addNoisy appends x + δ to buf.
func (s *Smoothed) addNoisy(buf, x []float32) []float32 {
	for _, v := range x {
		buf = append(buf, v+float32(s.opts.Sigma*s.rng.NormFloat64()))
	}
	return buf
}

// voteLogits turns n×K counts out of m votes each into logits.
func voteLogits(counts []int, m, k int) []float32 {
	z := make([]float32, len(counts))
	for i, c := range counts {
		z[i] = float32(math.Log(float64(c+1) / float64(m+k)))
	}
	return z
}

// Logits returns the smoothed classifier's vote logits over N noise draws.
func (s *Smoothed) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := checkBatch(s.Name(), s.InputShape(), images, n); err != nil {
		return nil, err
	}
	counts, err := s.votes(ctx, images, n, s.opts.N)
	if err != nil {
		return nil, err
	}
	return voteLogits(counts, s.opts.N, len(s.Labels())), nil
}

// Gradient returns the expectation over the noise of the base classifier's
// loss and gradient, each estimated by the mean over EOT draws, and the
// vote logits of those draws.
func (s *Smoothed) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	n := len(targets)
	if err := checkBatch(s.Name(), s.InputShape(), images, n); err != nil {
		return engine.Gradients{}, err
	}
	size, k, m := s.InputShape().Size(), len(s.Labels()), s.opts.EOT
	out := engine.Gradients{Loss: make([]float32, n), Grad: make([]float32, n*size)}
	counts := make([]int, n*k)
	per := max(1, noiseChunk/m) // images per call to the base model
	for lo := 0; lo < n; lo += per {
		hi := min(n, lo+per)
		buf := make([]float32, 0, (hi-lo)*m*size)
		tg := make([]int64, 0, (hi-lo)*m)
		for i := lo; i < hi; i++ {
			for range m {
				buf = s.addNoisy(buf, images[i*size:(i+1)*size])
				tg = append(tg, targets[i])
			}
		}
		g, err := s.inner.Gradient(ctx, loss, buf, tg)
		if err != nil {
			return engine.Gradients{}, err
		}
		for q := range tg {
			i := lo + q/m
			out.Loss[i] += g.Loss[q] / float32(m)
			counts[i*k+engine.Argmax(g.Logits[q*k:(q+1)*k])]++
			dst, src := out.Grad[i*size:(i+1)*size], g.Grad[q*size:(q+1)*size]
			for p, v := range src {
				dst[p] += v / float32(m)
			}
		}
	}
	out.Logits = voteLogits(counts, m, k)
	return out, nil
}

// Predict returns Cohen et al.'s PREDICT for each image: the top class of N
// votes, or -1 (abstain) when a two-sided binomial test cannot tell it from
// the runner-up at level Alpha.
func (s *Smoothed) Predict(ctx context.Context, images []float32, n int) ([]int, error) {
	if err := checkBatch(s.Name(), s.InputShape(), images, n); err != nil {
		return nil, err
	}
	k := len(s.Labels())
	counts, err := s.votes(ctx, images, n, s.opts.N)
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range out {
		row := counts[i*k : (i+1)*k]
		a := argmaxInt(row)
		na, nb := row[a], 0
		for j, c := range row {
			if j != a {
				nb = max(nb, c)
			}
		}
		out[i] = a
		if binomialTwoSidedHalf(na, na+nb) > s.opts.Alpha {
			out[i] = -1
		}
	}
	return out, nil
}

// Certificate is Certify's verdict on one image.
type Certificate struct {
	// Class is the smoothed prediction, or -1 when Certify abstains.
	Class int
	// PLower is the Clopper–Pearson lower bound on P(f(x+δ) = Class).
	PLower float64
	// Radius is the certified L2 radius σ·Φ⁻¹(PLower) in [0,1] pixels: with
	// probability at least 1−Alpha the smoothed classifier gives Class
	// everywhere within it. 0 when abstaining.
	Radius float64
}

// Certify runs Cohen et al.'s CERTIFY on each image: N0 votes choose the
// class, CertifyN more bound its probability from below, and the radius
// follows when that bound exceeds 1/2.
func (s *Smoothed) Certify(ctx context.Context, images []float32, n int) ([]Certificate, error) {
	if err := checkBatch(s.Name(), s.InputShape(), images, n); err != nil {
		return nil, err
	}
	k := len(s.Labels())
	sel, err := s.votes(ctx, images, n, s.opts.N0)
	if err != nil {
		return nil, err
	}
	est, err := s.votes(ctx, images, n, s.opts.CertifyN)
	if err != nil {
		return nil, err
	}
	out := make([]Certificate, n)
	for i := range out {
		c := argmaxInt(sel[i*k : (i+1)*k])
		p := ClopperPearsonLower(est[i*k+c], s.opts.CertifyN, s.opts.Alpha)
		out[i] = Certificate{Class: -1, PLower: p}
		if p > 0.5 {
			out[i].Class, out[i].Radius = c, s.opts.Sigma*NormalQuantile(p)
		}
	}
	return out, nil
}

// argmaxInt returns the index of the largest count, the first on ties.
func argmaxInt(v []int) int {
	best := 0
	for i, c := range v {
		if c > v[best] {
			best = i
		}
	}
	return best
}
