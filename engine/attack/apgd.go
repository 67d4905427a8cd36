package attack

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// APGDLoss is the objective APGD ascends.
type APGDLoss int

const (
	// APGDCE is the cross-entropy of the label (of the target, descended,
	// when targeted).
	APGDCE APGDLoss = iota
	// APGDDLR is Croce and Hein's Difference of Logits Ratio, invariant to
	// shifts and scalings of the logits: −(z_y − max_{i≠y} z_i)/(z_π1 − z_π3)
	// untargeted, −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2) targeted, π sorting
	// the logits in decreasing order.
	APGDDLR
)

// APGDOptions configures Auto-PGD.
type APGDOptions struct {
	// Eps is the radius of the ball (default 8/255).
	Eps float64
	// Norm is the ball's norm (default LInf).
	Norm Norm
	// Steps is the iteration budget per run (default 100).
	Steps int
	// Restarts is the number of random restarts for images not yet fooled
	// (default 1).
	Restarts int
	// Loss is the objective (default APGDCE).
	Loss APGDLoss
	// TargetClasses, when positive and the attack untargeted, runs APGD-T:
	// one run aimed at each of the clean image's TargetClasses most likely
	// wrong classes in turn, success still being any misclassification
	// (AutoAttack uses 9). 0 runs the untargeted loss.
	TargetClasses int
	// Rho is the fraction of steps since the last checkpoint that must
	// have raised the loss for the step size to stay (default 0.75).
	Rho float64
	// Seed seeds the random starts.
	Seed uint64
}

// DefaultAPGDOptions returns ℓ∞ ε = 8/255, 100 steps, one run, cross-entropy.
func DefaultAPGDOptions() APGDOptions {
	return APGDOptions{Eps: 8.0 / 255, Norm: LInf, Steps: 100, Restarts: 1, Loss: APGDCE, Rho: 0.75}
}

// Validate checks the options before any work.
func (o APGDOptions) Validate() error {
	if err := validateEps("apgd", o.Eps, o.Norm); err != nil {
		return err
	}
	switch {
	case o.Steps < 2:
		return invalidf("apgd: steps %d must be at least 2", o.Steps)
	case o.Restarts <= 0:
		return invalidf("apgd: restarts %d must be positive", o.Restarts)
	case o.TargetClasses < 0:
		return invalidf("apgd: target classes %d must be 0 or more", o.TargetClasses)
	case !(o.Rho > 0 && o.Rho <= 1):
		return invalidf("apgd: rho %g must be in (0,1]", o.Rho)
	case o.Loss != APGDCE && o.Loss != APGDDLR:
		return invalidf("apgd: unknown loss %d", o.Loss)
	}
	return nil
}

// APGD is Croce and Hein's (2020) Auto-PGD: projected gradient ascent of
// the loss with momentum (α = 0.75) and a step size, 2ε at first, halved
// per image at checkpoints (after 22%, then ever shorter stretches of the
// budget) when fewer than a fraction ρ of the steps since the last one
// raised the loss, or when neither the step nor the best loss changed; a
// halving restarts from the best point. It needs no step-size tuning, which
// is what makes it an attack to trust on a defended model. An image stops at
// its first fooling iterate. Each step costs one gradient query per running
// image (cross-entropy) or one forward query and four or five logit-gradient
// queries (DLR).
type APGD struct{ opts APGDOptions }

// NewAPGD returns an APGD attack; nil options mean DefaultAPGDOptions.
func NewAPGD(opts *APGDOptions) (*APGD, error) {
	o := DefaultAPGDOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &APGD{opts: o}, nil
}

// Name returns "apgd".
func (a *APGD) Name() string { return "apgd" }

// Options returns the options in effect.
func (a *APGD) Options() APGDOptions { return a.opts }

// apgdCheckpoints returns the iterations at which the step size is
// reconsidered: ⌈p_j·steps⌉ with p_0 = 0, p_1 = 0.22 and
// p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06).
func apgdCheckpoints(steps int) map[int]bool {
	out := map[int]bool{}
	prev, p := 0.0, 0.22
	for p <= 1 {
		out[int(math.Ceil(p*float64(steps)-1e-9))] = true // 0.57·100 is 57, not 57.0000001
		prev, p = p, p+math.Max(p-prev-0.03, 0.06)
	}
	return out
}

// apgdImage is one image's state within a run.
type apgdImage struct {
	i                  int // index in the batch
	t                  int // class the loss aims at (label or target)
	x, prev, g         []float32
	best, gbest        []float32
	f, fbest           float64
	eta                float64
	rises              int
	etaLast, fbestLast float64
}

// Run implements Attack.
func (a *APGD) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	s, err := newAttackState(ctx, a.Name(), c, images, labels, target, progress)
	if err != nil {
		return Result{}, err
	}
	o := a.opts
	if need := map[bool]int{false: 3, true: 4}[target >= 0 || o.TargetClasses > 0]; o.Loss == APGDDLR && s.k < need {
		return Result{}, fmt.Errorf("apgd: the DLR loss needs %d classes and %s has %d; use loss=ce", need, c.Name(), s.k)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xa96d))
	runs := []int{-1} // loss targets per run: -1 is the image's own goal
	if target < 0 && o.TargetClasses > 0 {
		runs = runs[:0]
		for j := 0; j < min(o.TargetClasses, s.k-1); j++ {
			runs = append(runs, j)
		}
	}
	total := o.Restarts * len(runs) * o.Steps
	done := 0
	for r := 0; r < o.Restarts; r++ {
		for ri, run := range runs {
			idx := s.pending()
			if len(idx) == 0 {
				break
			}
			phase := fmt.Sprintf("restart %d/%d", r+1, o.Restarts)
			if run >= 0 {
				phase = fmt.Sprintf("target %d/%d, %s", ri+1, len(runs), phase)
			}
			ims := make([]*apgdImage, len(idx))
			for j, i := range idx {
				im := &apgdImage{i: i, t: s.goal(i), x: make([]float32, s.size), eta: 2 * o.Eps}
				if run >= 0 {
					im.t = s.wrongClass(i, run)
				}
				randomStart(rng, im.x, s.image(images, i), o.Eps, o.Norm)
				ims[j] = im
			}
			if err := a.runOnce(ctx, s, ims, images, phase, func(step int) {
				s.report(phase, step, o.Steps, float64(done+step)/float64(total))
			}); err != nil {
				return s.finish(err)
			}
			done += o.Steps
		}
	}
	s.report("", o.Steps, o.Steps, 1)
	return s.finish(nil)
}

// wrongClass returns the class of rank j among image i's clean logits once
// its label (and any rejected class) is left out.
func (s *attackState) wrongClass(i, j int) int {
	z := s.clean[i*s.k : (i+1)*s.k]
	for _, c := range engine.TopK(z, s.k) {
		if c == s.res.Samples[i].Label || c == s.reject {
			continue
		}
		if j == 0 {
			return c
		}
		j--
	}
	return s.res.Samples[i].Label
}

// runOnce runs the APGD iterations on ims, dropping each image once fooled.
func (a *APGD) runOnce(ctx context.Context, s *attackState, ims []*apgdImage, images []float32, phase string, report func(int)) error {
	o := a.opts
	checks := apgdCheckpoints(o.Steps)
	lastCheck := 0
	eval := func(active []*apgdImage, iter bool) error {
		f, g, z, err := a.objective(ctx, s, active)
		if err != nil {
			return err
		}
		for j, im := range active {
			s.count([]int{im.i}, iter)
			im.f, im.g = f[j], g[j*s.size:(j+1)*s.size]
			s.observe(im.i, im.x, z[j*s.k:(j+1)*s.k], -im.f)
			if im.best == nil || im.f > im.fbest {
				im.best, im.gbest, im.fbest = append(im.best[:0], im.x...), im.g, im.f
			}
		}
		return nil
	}
	active := ims
	if err := eval(active, false); err != nil {
		return err
	}
	for _, im := range active {
		im.prev = append([]float32(nil), im.x...)
		im.etaLast, im.fbestLast = im.eta, im.fbest
	}
	for step := 1; step < o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		keep := active[:0]
		for _, im := range active {
			if !s.res.Samples[im.i].Success {
				keep = append(keep, im)
			}
		}
		if active = keep; len(active) == 0 {
			break
		}
		fOld := make([]float64, len(active))
		for j, im := range active {
			fOld[j] = im.f
			x0 := s.image(images, im.i)
			z := append([]float32(nil), im.x...)
			gradientStep(z, im.g, float32(im.eta), o.Norm)
			project(z, x0, o.Eps, o.Norm)
			if step == 1 {
				copy(im.x, z)
			} else {
				// x_{k+1} = P(x_k + α(z − x_k) + (1−α)(x_k − x_{k−1})).
				next := make([]float32, s.size)
				for p := range next {
					next[p] = im.x[p] + 0.75*(z[p]-im.x[p]) + 0.25*(im.x[p]-im.prev[p])
				}
				project(next, x0, o.Eps, o.Norm)
				copy(im.prev, im.x)
				copy(im.x, next)
			}
		}
		if err := eval(active, true); err != nil {
			return err
		}
		for j, im := range active {
			if im.f > fOld[j] {
				im.rises++
			}
		}
		if checks[step] {
			for _, im := range active {
				few := float64(im.rises) < o.Rho*float64(step-lastCheck)
				stuck := im.etaLast == im.eta && im.fbestLast == im.fbest
				im.etaLast, im.fbestLast, im.rises = im.eta, im.fbest, 0
				if few || stuck {
					im.eta /= 2
					copy(im.x, im.best)
					copy(im.prev, im.best)
					im.g, im.f = im.gbest, im.fbest
				}
			}
			lastCheck = step
		}
		report(step + 1)
	}
	return nil
}

// objective returns the loss to ascend f, its gradient and the logits at
// the images' current points.
func (a *APGD) objective(ctx context.Context, s *attackState, ims []*apgdImage) ([]float64, []float32, []float32, error) {
	n := len(ims)
	x := make([]float32, 0, n*s.size)
	for _, im := range ims {
		x = append(x, im.x...)
	}
	f := make([]float64, n)
	if a.opts.Loss == APGDCE {
		t := make([]int64, n)
		for j, im := range ims {
			t[j] = int64(im.t)
		}
		g, err := s.c.Gradient(ctx, engine.CrossEntropy, x, t)
		if err != nil {
			return nil, nil, nil, err
		}
		for j, im := range ims {
			f[j] = float64(g.Loss[j])
			if im.t != s.res.Samples[im.i].Label { // aimed at a target: descend
				f[j] = -f[j]
				for p := j * s.size; p < (j+1)*s.size; p++ {
					g.Grad[p] = -g.Grad[p]
				}
			}
		}
		return f, g.Grad, g.Logits, nil
	}
	z, err := s.c.Logits(ctx, x, n)
	if err != nil {
		return nil, nil, nil, err
	}
	// The DLR's gradient from the logits' own: one slot per class it reads.
	const slots = 5
	cls := make([][slots]int, n)
	batch := make([]float32, 0, slots*n*s.size)
	tg := make([]int64, 0, slots*n)
	for j, im := range ims {
		y := s.res.Samples[im.i].Label
		zj := z[j*s.k : (j+1)*s.k]
		pi := engine.TopK(zj, s.k)
		other := im.t
		if other == y {
			other = pi[0]
			if other == y {
				other = pi[1]
			}
		}
		p4 := pi[min(3, s.k-1)]
		cls[j] = [slots]int{y, other, pi[0], pi[2], p4}
		for _, c := range cls[j] {
			batch = append(batch, im.x...)
			tg = append(tg, int64(c))
		}
	}
	g, err := s.c.Gradient(ctx, engine.Logit, batch, tg)
	if err != nil {
		return nil, nil, nil, err
	}
	grad := make([]float32, n*s.size)
	for j, im := range ims {
		zj := z[j*s.k : (j+1)*s.k]
		y, o, p1, p3, p4 := cls[j][0], cls[j][1], cls[j][2], cls[j][3], cls[j][4]
		num := float64(zj[y] - zj[o])
		den := float64(zj[p1]-zj[p3]) + 1e-12
		w := [slots]float64{0, 0, 1, -1, 0} // ∂den/∂z per slot
		if im.t != y {
			den = float64(zj[p1]) - (float64(zj[p3])+float64(zj[p4]))/2 + 1e-12
			w = [slots]float64{0, 0, 1, -0.5, -0.5}
		}
		f[j] = dlrLoss(zj, y, im.t)
		// ∇f = −∇num/den + num·∇den/den².
		coef := [slots]float64{-1 / den, 1 / den}
		for q := range coef {
			coef[q] += num * w[q] / (den * den)
		}
		for q, cf := range coef {
			src := g.Grad[(j*slots+q)*s.size : (j*slots+q+1)*s.size]
			dst := grad[j*s.size : (j+1)*s.size]
			for p, v := range src {
				dst[p] += float32(cf * float64(v))
			}
		}
		for range slots { // the forward and the logit gradients beyond eval's one
			s.count([]int{im.i}, false)
		}
	}
	return f, grad, z, nil
}

// dlrLoss returns the DLR loss of logits z for label y, targeted at t (t ==
// y: untargeted).
func dlrLoss(z []float32, y, t int) float64 {
	pi := engine.TopK(z, len(z))
	if t == y {
		return -(float64(z[y]) - maxOther(z, y)) / (float64(z[pi[0]]-z[pi[2]]) + 1e-12)
	}
	return -float64(z[y]-z[t]) / (float64(z[pi[0]]) - (float64(z[pi[2]])+float64(z[pi[3]]))/2 + 1e-12)
}

// apgdSpec is APGD's entry in the registry.
func apgdSpec() *spec {
	o := DefaultAPGDOptions()
	return &spec{
		Method: Method{Name: "apgd", Title: "Auto-PGD", Short: "APGD", Targeted: true,
			Description: "Croce and Hein's step-size-free PGD with momentum, on the cross-entropy or the DLR loss"},
		fields: []field{
			epsField(&o.Eps),
			normField(&o.Norm, o.Norm, LInf, L2),
			intField(&o.Steps, Param{Name: "steps", Label: "Steps", Unit: "steps", Min: 2, Max: 1e6, Help: "iterations per run"}),
			intField(&o.Restarts, Param{Name: "restarts", Label: "Restarts", Min: 1, Max: 1e4, Help: "random restarts"}),
			choiceField(&o.Loss, Param{Name: "loss", Label: "Loss", Help: "objective: cross-entropy or the Difference of Logits Ratio"},
				[]string{"ce", "dlr"}, []string{"Cross-entropy", "DLR"}, []APGDLoss{APGDCE, APGDDLR}),
			intField(&o.TargetClasses, Param{Name: "target-classes", Label: "Target classes", Min: 0, Max: 1e3,
				Help: "APGD-T: aim in turn at this many most likely wrong classes (0: untargeted loss)"}),
			seedField(&o.Seed, "seed of the random starts"),
		},
		build: func() (Attack, error) { return NewAPGD(&o) },
	}
}
