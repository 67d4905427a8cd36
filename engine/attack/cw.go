package attack

import (
	"context"
	"fmt"
	"math"

	"github.com/advlab/advlab/engine"
)

// CWOptions configures the Carlini–Wagner ℓ2 attack.
type CWOptions struct {
	// Confidence is κ: a success needs the goal's logit margin to be at
	// least κ (default 0).
	Confidence float64
	// Steps is the number of Adam steps per binary-search step (default 200;
	// the paper uses up to 10 000).
	Steps int
	// BinarySteps is the number of values of c tried per image (default 9).
	BinarySteps int
	// LearningRate is Adam's step size (default 0.01).
	LearningRate float64
	// InitialConst is the first c (default 0.01).
	InitialConst float64
	// AbortEarly stops a binary-search step once the batch's objective has
	// not improved by 0.01% over a tenth of the steps (default true).
	AbortEarly bool
}

// DefaultCWOptions returns κ = 0, 200 steps, 9 binary steps, learning rate
// 0.01, c₀ = 0.01, early abort.
func DefaultCWOptions() CWOptions {
	return CWOptions{Steps: 200, BinarySteps: 9, LearningRate: 0.01, InitialConst: 0.01, AbortEarly: true}
}

// Validate checks the options before any work.
func (o CWOptions) Validate() error {
	switch {
	case !(o.Confidence >= 0) || math.IsInf(o.Confidence, 0):
		return invalidf("cw: confidence %g must be at least 0", o.Confidence)
	case o.Steps <= 0:
		return invalidf("cw: steps %d must be positive", o.Steps)
	case o.BinarySteps <= 0:
		return invalidf("cw: binary steps %d must be positive", o.BinarySteps)
	case !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0):
		return invalidf("cw: learning rate %g must be positive", o.LearningRate)
	case !(o.InitialConst > 0) || math.IsInf(o.InitialConst, 0):
		return invalidf("cw: initial constant %g must be positive", o.InitialConst)
	}
	return nil
}

// CW is the ℓ2 attack of Carlini and Wagner (2017). It minimises
// ‖x' − x‖₂² + c·f(x') over w with x' = (tanh(w)+1)/2, which keeps x' in
// [0,1] without clipping, where f is the logit margin
// max(max_{j≠t} z_j − z_t, −κ) towards a target t, or
// max(z_y − max_{j≠y} z_j, −κ) away from the label y; Adam does the
// minimisation, and a per-image binary search finds the smallest c that
// succeeds. The smallest successful perturbation seen is kept. Every Adam
// step is one forward+backward query per image.
type CW struct{ opts CWOptions }

// NewCW returns a C&W ℓ2 attack; nil options mean DefaultCWOptions.
func NewCW(opts *CWOptions) (*CW, error) {
	o := DefaultCWOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &CW{opts: o}, nil
}

// Name returns "cw".
func (a *CW) Name() string { return "cw" }

// Options returns the options the attack runs with.
func (a *CW) Options() CWOptions { return a.opts }

// cwUnbounded marks "no failing c found yet" in the binary search.
const cwUnbounded = 1e10

// Run implements Attack.
func (a *CW) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	s, err := newAttackState(ctx, a.Name(), c, images, labels, target, progress)
	if err != nil {
		return Result{}, err
	}
	s.minimal = true
	s.kappa = a.opts.Confidence
	o := a.opts
	idx := s.attacked()
	if len(idx) == 0 {
		return s.finish(nil)
	}
	n, size := len(idx), s.size
	x0 := s.gather(images, idx)
	w0 := make([]float64, n*size)
	for p, v := range x0 {
		w0[p] = math.Atanh((2*float64(v) - 1) * (1 - 1e-6))
	}
	cs, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n)
	for j := range cs {
		cs[j], hi[j] = o.InitialConst, cwUnbounded
	}
	w := make([]float64, n*size)
	m1, m2 := make([]float64, n*size), make([]float64, n*size)
	xp := make([]float32, n*size)
	targets := s.goals(idx)
	ok := make([]bool, n)
	const beta1, beta2 = 0.9, 0.999
	for bs := 0; bs < o.BinarySteps; bs++ {
		copy(w, w0)
		clear(m1)
		clear(m2)
		clear(ok)
		prev := math.Inf(1)
		phase := fmt.Sprintf("c search %d/%d", bs+1, o.BinarySteps)
		for it := 0; it < o.Steps; it++ {
			if err := ctx.Err(); err != nil {
				return s.finish(err)
			}
			for p, v := range w {
				xp[p] = float32((math.Tanh(v) + 1) / 2)
			}
			g, err := c.Gradient(ctx, engine.Margin, xp, targets)
			if err != nil {
				return s.finish(err)
			}
			s.count(idx, true)
			var total float64
			for j, i := range idx {
				xj, z := xp[j*size:(j+1)*size], g.Logits[j*s.k:(j+1)*s.k]
				s.observe(i, xj, z, 0)
				ok[j] = ok[j] || s.meets(i, z)
				// f and its gradient sign: the margin towards a target is
				// to be decreased, the margin away from the label increased.
				m, sign := float64(g.Loss[j]), 1.0
				if !s.targeted(i) {
					m, sign = -m, -1
				}
				active := m > -o.Confidence
				l2 := 0.0
				for p := range xj {
					q := j*size + p
					d := float64(xj[p]) - float64(x0[q])
					l2 += d * d
					grad := 2 * d
					if active {
						grad += cs[j] * sign * float64(g.Grad[q])
					}
					// dx'/dw = (1 − tanh²w)/2 = 2x'(1 − x').
					grad *= 2 * float64(xj[p]) * (1 - float64(xj[p]))
					m1[q] = beta1*m1[q] + (1-beta1)*grad
					m2[q] = beta2*m2[q] + (1-beta2)*grad*grad
					mh := m1[q] / (1 - math.Pow(beta1, float64(it+1)))
					vh := m2[q] / (1 - math.Pow(beta2, float64(it+1)))
					w[q] -= o.LearningRate * mh / (math.Sqrt(vh) + 1e-8)
				}
				total += l2 + cs[j]*math.Max(m, -o.Confidence)
			}
			frac := (float64(bs) + float64(it+1)/float64(o.Steps)) / float64(o.BinarySteps)
			s.report(phase, it+1, o.Steps, frac)
			if o.AbortEarly && o.Steps >= 10 && (it+1)%(o.Steps/10) == 0 {
				if total > 0.9999*prev {
					break
				}
				prev = total
			}
		}
		for j := range cs {
			if ok[j] {
				hi[j] = math.Min(hi[j], cs[j])
				cs[j] = (lo[j] + hi[j]) / 2
			} else {
				lo[j] = math.Max(lo[j], cs[j])
				if hi[j] < cwUnbounded {
					cs[j] = (lo[j] + hi[j]) / 2
				} else {
					cs[j] *= 10
				}
			}
		}
	}
	s.report("", o.Steps, o.Steps, 1)
	return s.finish(nil)
}

// cwSpec is C&W's entry in the registry.
func cwSpec() *spec {
	o := DefaultCWOptions()
	return &spec{
		Method: Method{Name: "cw", Title: "Carlini–Wagner L2", Short: "C&W L2", Targeted: true,
			Description: "Carlini and Wagner's L2 attack: Adam on a tanh-box, with a binary search on the constant c"},
		fields: []field{
			intField(&o.Steps, Param{Name: "steps", Label: "Adam steps per c", Unit: "steps", Min: 1, Max: 1e6, Help: "Adam steps per value of c"}),
			intField(&o.BinarySteps, Param{Name: "binary-steps", Label: "Values of c", Min: 1, Max: 1000, Help: "binary-search steps on c"}),
			floatField(&o.LearningRate, Param{Name: "learning-rate", Label: "Learning rate", Min: 0, Max: 1e3, Help: "Adam's learning rate"}, false),
			floatField(&o.InitialConst, Param{Name: "initial-const", Label: "Initial c", Min: 0, Max: 1e10, Help: "first value of c"}, false),
			floatField(&o.Confidence, Param{Name: "confidence", Label: "Confidence κ", Unit: "logits", Min: 0, Max: 1e3,
				Help: "margin by which the goal class must lead"}, false),
			boolField(&o.AbortEarly, Param{Name: "abort-early", Label: "Abort early", Help: "stop a value of c when the loss stalls"}),
			normField(nil, L2, L2),
		},
		build: func() (Attack, error) { return NewCW(&o) },
	}
}
