package attack

import (
	"context"
	"math"

	"github.com/advlab/advlab/engine"
)

// FGSMOptions configures the fast gradient sign method.
type FGSMOptions struct {
	// Eps is the perturbation budget in [0,1] pixel units (default 8/255).
	Eps float64
	// Norm is LInf for FGSM proper, x + ε·sign(∇), or L2 for the fast
	// gradient method, x + ε·∇/‖∇‖₂ (default LInf).
	Norm Norm
}

// DefaultFGSMOptions returns ε = 8/255 under ℓ∞.
func DefaultFGSMOptions() FGSMOptions { return FGSMOptions{Eps: 8.0 / 255, Norm: LInf} }

// Validate checks the options before any work.
func (o FGSMOptions) Validate() error {
	return validateEps("fgsm", o.Eps, o.Norm)
}

// validateEps checks an ε budget for norm.
func validateEps(name string, eps float64, norm Norm) error {
	if norm != LInf && norm != L2 {
		return invalidf("%s: unknown norm %d", name, norm)
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return invalidf("%s: eps %g must be positive", name, eps)
	}
	if norm == LInf && eps > 1 {
		return invalidf("%s: an L∞ eps of %g is larger than the whole [0,1] pixel range", name, eps)
	}
	return nil
}

// FGSM is the fast gradient sign method of Goodfellow, Shlens and Szegedy
// (2015): one step of size ε along the sign of the cross-entropy gradient,
// away from the label or (targeted) towards the target. It spends one
// gradient and one forward query per image.
type FGSM struct{ opts FGSMOptions }

// NewFGSM returns an FGSM attack; nil options mean DefaultFGSMOptions.
func NewFGSM(opts *FGSMOptions) (*FGSM, error) {
	o := DefaultFGSMOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &FGSM{opts: o}, nil
}

// Name returns "fgsm".
func (a *FGSM) Name() string { return "fgsm" }

// Options returns the options the attack runs with.
func (a *FGSM) Options() FGSMOptions { return a.opts }

// Run implements Attack.
func (a *FGSM) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	s, err := newAttackState(ctx, a.Name(), c, images, labels, target, progress)
	if err != nil {
		return Result{}, err
	}
	idx := s.attacked()
	if len(idx) == 0 {
		return s.finish(nil)
	}
	x := s.gather(images, idx)
	g, err := c.Gradient(ctx, engine.CrossEntropy, x, s.goals(idx))
	if err != nil {
		return s.finish(err)
	}
	s.count(idx, true)
	for j, i := range idx {
		sign := float32(1)
		if s.targeted(i) {
			sign = -1 // descend the loss towards the target
		}
		gradientStep(s.image(x, j), s.image(g.Grad, j), sign*float32(a.opts.Eps), a.opts.Norm)
		project(s.image(x, j), s.image(images, i), a.opts.Eps, a.opts.Norm)
	}
	z, err := c.Logits(ctx, x, len(idx))
	if err != nil {
		return s.finish(err)
	}
	s.count(idx, false)
	for j, i := range idx {
		s.observe(i, s.image(x, j), z[j*s.k:(j+1)*s.k], 0)
	}
	s.report("", 1, 1, 1)
	return s.finish(nil)
}

// gradientStep moves x by step along g: step·sign(g) for LInf, step·g/‖g‖₂
// for L2 (no move where g is zero).
func gradientStep(x, g []float32, step float32, norm Norm) {
	if norm == L2 {
		var s float64
		for _, v := range g {
			s += float64(v) * float64(v)
		}
		if s == 0 {
			return
		}
		f := step / float32(math.Sqrt(s))
		for i := range x {
			x[i] += f * g[i]
		}
		return
	}
	for i := range x {
		switch {
		case g[i] > 0:
			x[i] += step
		case g[i] < 0:
			x[i] -= step
		}
	}
}

// fgsmSpec is FGSM's entry in the registry.
func fgsmSpec() *spec {
	o := DefaultFGSMOptions()
	return &spec{
		Method: Method{Name: "fgsm", Title: "FGSM", Short: "FGSM", Targeted: true,
			Description: "Goodfellow et al.'s fast gradient sign method: one gradient step of size ε"},
		fields: []field{epsField(&o.Eps), normField(&o.Norm, o.Norm, LInf, L2)},
		build:  func() (Attack, error) { return NewFGSM(&o) },
	}
}
