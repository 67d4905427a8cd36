package attack

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// PGDOptions configures projected gradient descent.
type PGDOptions struct {
	// Eps is the radius of the ball around the clean image (default 8/255).
	Eps float64
	// Norm is the ball's norm (default LInf).
	Norm Norm
	// Steps is the number of gradient steps per restart (default 40).
	Steps int
	// StepSize is the step length; 0 means 2.5·Eps/Steps (Madry et al.).
	StepSize float64
	// Restarts is the number of random restarts, run for the images that the
	// previous ones did not fool (default 1).
	Restarts int
	// RandomStart starts each restart at a uniform point of the ball
	// (default true).
	RandomStart bool
	// Seed seeds the random starts.
	Seed uint64
	// AllSteps runs every step on every image and keeps, of the iterates
	// that fool the model, the one of highest loss (lowest, targeted): the
	// most confident adversarial, which is what transfer to other models
	// needs. By default an image stops at its first fooling iterate, which
	// lies just across the boundary and is faster to find.
	AllSteps bool
}

// DefaultPGDOptions returns ℓ∞ ε = 8/255, 40 steps of 2.5ε/40, one random start.
func DefaultPGDOptions() PGDOptions {
	return PGDOptions{Eps: 8.0 / 255, Norm: LInf, Steps: 40, Restarts: 1, RandomStart: true}
}

// Validate checks the options before any work.
func (o PGDOptions) Validate() error {
	if err := validateEps("pgd", o.Eps, o.Norm); err != nil {
		return err
	}
	if o.Steps <= 0 {
		return invalidf("pgd: steps %d must be positive", o.Steps)
	}
	if o.StepSize < 0 || math.IsNaN(o.StepSize) || math.IsInf(o.StepSize, 0) {
		return invalidf("pgd: step size %g must be positive (or 0 for 2.5·eps/steps)", o.StepSize)
	}
	if o.Restarts <= 0 {
		return invalidf("pgd: restarts %d must be positive", o.Restarts)
	}
	return nil
}

// PGD is the projected gradient descent attack of Madry et al. (2018): from
// a random point of the ε-ball, repeated steps along the sign (ℓ∞) or the
// direction (ℓ2) of the cross-entropy gradient, each projected back onto the
// ball and [0,1]. An image is done as soon as one iterate fools the model;
// that iterate is kept (with AllSteps it runs on, and the fooling iterate of
// highest loss is kept). Otherwise the iterate with the highest loss (the
// lowest, targeted) over all restarts is kept. Each step is one gradient
// query per image still running, plus one forward query at the end of
// each restart.
type PGD struct{ opts PGDOptions }

// NewPGD returns a PGD attack; nil options mean DefaultPGDOptions.
func NewPGD(opts *PGDOptions) (*PGD, error) {
	o := DefaultPGDOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.StepSize == 0 {
		o.StepSize = 2.5 * o.Eps / float64(o.Steps)
	}
	return &PGD{opts: o}, nil
}

// Name returns "pgd".
func (a *PGD) Name() string { return "pgd" }

// Options returns the options in effect, defaults filled in.
func (a *PGD) Options() PGDOptions { return a.opts }

// Run implements Attack.
func (a *PGD) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	s, err := newAttackState(ctx, a.Name(), c, images, labels, target, progress)
	if err != nil {
		return Result{}, err
	}
	o := a.opts
	s.confident = o.AllSteps
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	total := o.Restarts * (o.Steps + 1)
	for r := 0; r < o.Restarts; r++ {
		idx := s.pending()
		if len(idx) == 0 {
			break
		}
		phase := ""
		if o.Restarts > 1 {
			phase = fmt.Sprintf("restart %d/%d", r+1, o.Restarts)
		}
		x := s.gather(images, idx)
		if o.RandomStart {
			for j, i := range idx {
				randomStart(rng, s.image(x, j), s.image(images, i), o.Eps, o.Norm)
			}
		}
		for step := 0; step < o.Steps && len(idx) > 0; step++ {
			if err := ctx.Err(); err != nil {
				return s.finish(err)
			}
			g, err := c.Gradient(ctx, engine.CrossEntropy, x, s.goals(idx))
			if err != nil {
				return s.finish(err)
			}
			s.count(idx, true)
			for j, i := range idx {
				s.observe(i, s.image(x, j), g.Logits[j*s.k:(j+1)*s.k], a.score(s, i, g.Loss[j]))
				sign := float32(1)
				if s.targeted(i) {
					sign = -1
				}
				xi := s.image(x, j)
				gradientStep(xi, s.image(g.Grad, j), sign*float32(o.StepSize), o.Norm)
				project(xi, s.image(images, i), o.Eps, o.Norm)
			}
			if !o.AllSteps {
				idx, x = s.dropSucceeded(idx, x)
			}
			s.report(phase, step+1, o.Steps, float64(r*(o.Steps+1)+step+1)/float64(total))
		}
		if len(idx) == 0 {
			continue
		}
		// The last iterate has not been evaluated yet.
		z, err := c.Logits(ctx, x, len(idx))
		if err != nil {
			return s.finish(err)
		}
		s.count(idx, false)
		for j, i := range idx {
			zi := z[j*s.k : (j+1)*s.k]
			s.observe(i, s.image(x, j), zi, a.score(s, i, crossEntropy(zi, s.goal(i))))
		}
	}
	s.report("", o.Steps, o.Steps, 1)
	return s.finish(nil)
}

// score turns image i's cross-entropy into "lower is better".
func (a *PGD) score(s *attackState, i int, loss float32) float64 {
	if s.targeted(i) {
		return float64(loss)
	}
	return -float64(loss)
}

// dropSucceeded removes the images that have met their goal from a running
// sub-batch (idx with images x).
func (s *attackState) dropSucceeded(idx []int, x []float32) ([]int, []float32) {
	k := 0
	for j, i := range idx {
		if s.res.Samples[i].Success {
			continue
		}
		if k != j {
			copy(s.image(x, k), s.image(x, j))
		}
		idx[k] = i
		k++
	}
	return idx[:k], x[:k*s.size]
}

// randomStart sets x to a uniformly random point of the ε-ball around x0,
// clipped to [0,1].
func randomStart(rng *rand.Rand, x, x0 []float32, eps float64, norm Norm) {
	if norm == L2 {
		var s float64
		for i := range x {
			v := rng.NormFloat64()
			x[i] = float32(v)
			s += v * v
		}
		// A uniform radius in d dimensions is ε·u^(1/d).
		r := eps * math.Pow(rng.Float64(), 1/float64(len(x))) / math.Sqrt(s)
		for i := range x {
			x[i] = x0[i] + float32(r)*x[i]
		}
	} else {
		for i := range x {
			x[i] = x0[i] + float32(eps*(2*rng.Float64()-1))
		}
	}
	project(x, x0, eps, norm)
}

// crossEntropy returns −log softmax(z)[t].
func crossEntropy(z []float32, t int) float32 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	return float32(m + math.Log(s) - float64(z[t]))
}

// pgdSpec is PGD's entry in the registry.
func pgdSpec() *spec {
	o := DefaultPGDOptions()
	return &spec{
		Method: Method{Name: "pgd", Title: "PGD", Short: "PGD", Targeted: true,
			Description: "Madry et al.'s projected gradient descent inside the ε-ball"},
		fields: []field{
			epsField(&o.Eps),
			normField(&o.Norm, o.Norm, LInf, L2),
			intField(&o.Steps, Param{Name: "steps", Label: "Steps", Unit: "steps", Min: 1, Max: 1e6, Help: "gradient steps per restart"}),
			floatField(&o.StepSize, Param{Name: "step-size", Label: "Step size", Unit: "[0,1] pixels", Min: 0, Max: 1e3,
				Help: "step length", Auto: "2.5·ε/steps"}, true),
			intField(&o.Restarts, Param{Name: "restarts", Label: "Restarts", Min: 1, Max: 1e4, Help: "random restarts"}),
			boolField(&o.RandomStart, Param{Name: "random-start", Label: "Random start", Help: "start each restart at a random point of the ball"}),
			seedField(&o.Seed, "seed of the random starts"),
			boolField(&o.AllSteps, Param{Name: "all-steps", Label: "All steps",
				Help: "run every step and keep the fooling iterate of highest loss, instead of stopping at the first"}),
		},
		build: func() (Attack, error) { return NewPGD(&o) },
	}
}
