package attack

import (
	"context"
	"slices"

	"github.com/advlab/advlab/engine"
)

// AutoAttackOptions configures the AutoAttack-style ensemble.
type AutoAttackOptions struct {
	// Eps and Norm bound the perturbation (default ℓ∞ 8/255).
	Eps  float64
	Norm Norm
	// Steps is each APGD run's budget (default 100).
	Steps int
	// TargetClasses is APGD-T's number of target classes (default 9).
	TargetClasses int
	// Queries is the Square Attack's budget per image (default 1000).
	Queries int
	// Seed seeds every member.
	Seed uint64
}

// DefaultAutoAttackOptions returns ℓ∞ 8/255, 100 APGD steps, 9 APGD-T
// targets and 1000 Square queries.
func DefaultAutoAttackOptions() AutoAttackOptions {
	return AutoAttackOptions{Eps: 8.0 / 255, Norm: LInf, Steps: 100, TargetClasses: 9, Queries: 1000}
}

// GradientMaskingWarning is the warning AutoAttack adds when its black-box
// member fools images that its white-box members could not.
const GradientMaskingWarning = "autoattack: the black-box Square Attack fooled images that white-box APGD could not: " +
	"the model's gradients are likely masked or obfuscated (Athalye et al. 2018), so gradient-based robustness figures for it are overestimates"

// AutoAttack runs, in the spirit of Croce and Hein's AutoAttack, APGD with
// the cross-entropy, then APGD-T with the targeted DLR loss, then the
// black-box Square Attack, each on the images the previous ones did not
// fool: an image counts as robust only if all three fail, so the robust
// accuracy is the worst case per image. When Square fools an image that both
// white-box attacks left alone, the Result carries GradientMaskingWarning.
// Targeted (target ≥ 0), the members aim at the target: APGD-CE, APGD-DLR
// and Square, all targeted. Square is ℓ∞ only and is skipped under L2. The
// DLR members need 3 (4 targeted) classes; with fewer they are skipped.
type AutoAttack struct{ opts AutoAttackOptions }

// NewAutoAttack returns the ensemble; nil options mean DefaultAutoAttackOptions.
func NewAutoAttack(opts *AutoAttackOptions) (*AutoAttack, error) {
	o := DefaultAutoAttackOptions()
	if opts != nil {
		o = *opts
	}
	if err := (APGDOptions{Eps: o.Eps, Norm: o.Norm, Steps: o.Steps, Restarts: 1, TargetClasses: o.TargetClasses, Rho: 0.75}).Validate(); err != nil {
		return nil, err
	}
	if o.Queries <= 0 {
		return nil, invalidf("autoattack: queries %d must be positive", o.Queries)
	}
	return &AutoAttack{opts: o}, nil
}

// Name returns "autoattack".
func (a *AutoAttack) Name() string { return "autoattack" }

// Options returns the options in effect.
func (a *AutoAttack) Options() AutoAttackOptions { return a.opts }

// members returns the attacks in order and whether each is white-box.
func (a *AutoAttack) members(k int) ([]Attack, []bool) {
	o := a.opts
	ce, _ := NewAPGD(&APGDOptions{Eps: o.Eps, Norm: o.Norm, Steps: o.Steps, Restarts: 1, Loss: APGDCE, Rho: 0.75, Seed: o.Seed})
	out, white := []Attack{ce}, []bool{true}
	if k >= 4 { // APGD-T and targeted DLR read four logits
		dlr, _ := NewAPGD(&APGDOptions{Eps: o.Eps, Norm: o.Norm, Steps: o.Steps, Restarts: 1, Loss: APGDDLR,
			TargetClasses: o.TargetClasses, Rho: 0.75, Seed: o.Seed + 1})
		out, white = append(out, dlr), append(white, true)
	}
	if o.Norm == LInf {
		sq, _ := NewSquare(&SquareOptions{Eps: o.Eps, Queries: o.Queries, PInit: 0.05, Seed: o.Seed + 2})
		out, white = append(out, sq), append(white, false)
	}
	return out, white
}

// Run implements Attack.
func (a *AutoAttack) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	members, white := a.members(len(c.Labels()))
	var res Result
	size := c.InputShape().Size()
	for m, atk := range members {
		var inner func(Progress)
		if progress != nil {
			inner = func(p Progress) {
				p.Attack, p.Phase = a.Name(), atk.Name()+" "+p.Phase
				p.Fraction = (float64(m) + p.Fraction) / float64(len(members))
				progress(p)
			}
		}
		if m == 0 {
			r, err := atk.Run(ctx, c, images, labels, target, inner)
			if err != nil {
				return r, err
			}
			res = r
			continue
		}
		var idx []int
		for i, s := range res.Samples {
			if !s.Success {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			break
		}
		x := make([]float32, 0, len(idx)*size)
		l := make([]int, len(idx))
		for j, i := range idx {
			x = append(x, images[i*size:(i+1)*size]...)
			l[j] = res.Samples[i].Label
		}
		r, err := atk.Run(ctx, c, x, l, target, inner)
		if len(r.Samples) != len(idx) {
			return res, err
		}
		for j, i := range idx {
			prev, s := res.Samples[i], r.Samples[j]
			s.Queries += prev.Queries - 1 // the member's clean query repeats the first one's
			s.Iterations += prev.Iterations
			if s.Success {
				copy(res.Adversarial[i*size:(i+1)*size], r.Adversarial[j*size:(j+1)*size])
				if !white[m] && !slices.Contains(res.Warnings, GradientMaskingWarning) {
					res.Warnings = append(res.Warnings, GradientMaskingWarning)
				}
				res.Samples[i] = s
			} else {
				res.Samples[i].Queries, res.Samples[i].Iterations = s.Queries, s.Iterations
			}
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// autoAttackSpec is AutoAttack's entry in the registry.
func autoAttackSpec() *spec {
	o := DefaultAutoAttackOptions()
	return &spec{
		Method: Method{Name: "autoattack", Title: "AutoAttack (APGD-CE, APGD-T, Square)", Short: "AutoAttack", Targeted: true,
			Description: "APGD-CE, APGD-T (DLR) and Square in turn, robust only if all fail; warns when the black box beats the white box"},
		fields: []field{
			epsField(&o.Eps),
			normField(&o.Norm, o.Norm, LInf, L2),
			intField(&o.Steps, Param{Name: "steps", Label: "APGD steps", Unit: "steps", Min: 2, Max: 1e6, Help: "iterations of each APGD run"}),
			intField(&o.TargetClasses, Param{Name: "target-classes", Label: "Target classes", Min: 1, Max: 1e3, Help: "APGD-T's most likely wrong classes to aim at"}),
			intField(&o.Queries, Param{Name: "queries", Label: "Square queries", Unit: "queries", Min: 1, Max: 1e7, Help: "Square Attack's queries per image"}),
			seedField(&o.Seed, "seed of every member"),
		},
		build: func() (Attack, error) { return NewAutoAttack(&o) },
	}
}
