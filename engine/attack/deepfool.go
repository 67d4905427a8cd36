package attack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/advlab/advlab/engine"
)

// DeepFoolOptions configures DeepFool.
type DeepFoolOptions struct {
	// Steps bounds the linearisation steps per image (default 50).
	Steps int
	// Overshoot scales the accumulated perturbation by 1+Overshoot so the
	// image ends just past the boundary (default 0.02).
	Overshoot float64
	// Candidates is the number of classes considered: the label and the
	// clean image's next most likely classes (default 10; at most K).
	Candidates int
	// Norm is L2 (the original method) or LInf (its ℓ∞ variant, stepping
	// along sign(w) with ‖w‖₁ as the dual norm) (default L2).
	Norm Norm
}

// DefaultDeepFoolOptions returns 50 steps, overshoot 0.02, 10 candidates, ℓ2.
func DefaultDeepFoolOptions() DeepFoolOptions {
	return DeepFoolOptions{Steps: 50, Overshoot: 0.02, Candidates: 10, Norm: L2}
}

// Validate checks the options before any work.
func (o DeepFoolOptions) Validate() error {
	if o.Steps <= 0 {
		return invalidf("deepfool: steps %d must be positive", o.Steps)
	}
	if !(o.Overshoot >= 0) || math.IsInf(o.Overshoot, 0) {
		return invalidf("deepfool: overshoot %g must be at least 0", o.Overshoot)
	}
	if o.Candidates < 2 {
		return invalidf("deepfool: %d candidate classes; it needs at least 2", o.Candidates)
	}
	if o.Norm != L2 && o.Norm != LInf {
		return invalidf("deepfool: unknown norm %d", o.Norm)
	}
	return nil
}

// DeepFool is the untargeted minimal-perturbation attack of Moosavi-Dezfooli,
// Fawzi and Frossard (2016). Each step linearises the classifier around the
// current image and moves to the nearest linearised boundary among the
// candidate classes; the steps accumulate in r, and the image is
// clip(x + (1+overshoot)·r). For an affine classifier one step lands on the
// exact minimal perturbation. A step costs one forward+backward query per
// candidate class per image (the image is batched once per candidate with
// the Logit loss); Queries counts them all.
type DeepFool struct{ opts DeepFoolOptions }

// NewDeepFool returns a DeepFool attack; nil options mean the defaults.
func NewDeepFool(opts *DeepFoolOptions) (*DeepFool, error) {
	o := DefaultDeepFoolOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &DeepFool{opts: o}, nil
}

// Name returns "deepfool".
func (a *DeepFool) Name() string { return "deepfool" }

// Options returns the options the attack runs with.
func (a *DeepFool) Options() DeepFoolOptions { return a.opts }

// errUntargeted is returned by untargeted-only attacks given a target.
var errUntargeted = errors.New("is untargeted: it takes no target class")

// Run implements Attack; target must be -1.
func (a *DeepFool) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	if target >= 0 {
		return Result{}, fmt.Errorf("deepfool %w", errUntargeted)
	}
	s, err := newAttackState(ctx, a.Name(), c, images, labels, -1, progress)
	if err != nil {
		return Result{}, err
	}
	s.minimal = true
	o := a.opts
	nc := min(o.Candidates, s.k)
	idx := s.attacked()
	if len(idx) == 0 {
		return s.finish(nil)
	}
	// The candidates of each image: its label first, then the other classes
	// in decreasing order of the clean logits.
	cand := map[int][]int64{}
	for _, i := range idx {
		cand[i] = candidates(s.clean[i*s.k:(i+1)*s.k], s.goal(i), nc)
	}
	x := s.gather(images, idx)
	rtot := make([]float64, len(idx)*s.size)
	for step := 0; step < o.Steps && len(idx) > 0; step++ {
		if err := ctx.Err(); err != nil {
			return s.finish(err)
		}
		batch := make([]float32, 0, len(idx)*nc*s.size)
		targets := make([]int64, 0, len(idx)*nc)
		for j, i := range idx {
			for range nc {
				batch = append(batch, s.image(x, j)...)
			}
			targets = append(targets, cand[i]...)
		}
		g, err := c.Gradient(ctx, engine.Logit, batch, targets)
		if err != nil {
			return s.finish(err)
		}
		keep := idx[:0]
		kx, kr := 0, 0
		for j, i := range idx {
			s.res.Samples[i].Queries += nc
			z := g.Logits[j*nc*s.k : (j*nc+1)*s.k]
			s.observe(i, s.image(x, j), z, 0)
			if s.res.Samples[i].Success {
				continue
			}
			s.res.Samples[i].Iterations++
			grads := g.Grad[j*nc*s.size : (j+1)*nc*s.size]
			r := rtot[j*s.size : (j+1)*s.size]
			a.step(r, z, grads, cand[i], s.size)
			xi := s.image(x, j)
			x0 := s.image(images, i)
			for p := range xi {
				xi[p] = clip01(x0[p] + float32((1+o.Overshoot)*r[p]))
			}
			// Compact the still-running images to the front.
			copy(x[kx:kx+s.size], xi)
			copy(rtot[kr:kr+s.size], r)
			kx, kr = kx+s.size, kr+s.size
			keep = append(keep, i)
		}
		idx, x, rtot = keep, x[:kx], rtot[:kr]
		s.report("", step+1, o.Steps, float64(step+1)/float64(o.Steps))
	}
	if len(idx) > 0 {
		z, err := c.Logits(ctx, x, len(idx))
		if err != nil {
			return s.finish(err)
		}
		s.count(idx, false)
		for j, i := range idx {
			s.observe(i, s.image(x, j), z[j*s.k:(j+1)*s.k], 0)
		}
	}
	s.report("", o.Steps, o.Steps, 1)
	return s.finish(nil)
}

// step adds to r the move to the nearest linearised boundary. z are the
// logits at the current image and grads the gradients of the candidates'
// logits (cand[0] is the label).
func (a *DeepFool) step(r []float64, z, grads []float32, cand []int64, size int) {
	g0 := grads[:size]
	best, bestK := math.Inf(1), -1
	var bestF, bestNorm float64
	for k := 1; k < len(cand); k++ {
		gk := grads[k*size : (k+1)*size]
		f := math.Abs(float64(z[cand[k]]) - float64(z[cand[0]]))
		var n float64
		for p := range gk {
			w := float64(gk[p]) - float64(g0[p])
			if a.opts.Norm == L2 {
				n += w * w
			} else {
				n += math.Abs(w)
			}
		}
		if a.opts.Norm == L2 {
			n = math.Sqrt(n)
		}
		if n == 0 {
			continue
		}
		if d := f / n; d < best {
			best, bestK, bestF, bestNorm = d, k, f, n
		}
	}
	if bestK < 0 {
		return // flat: no boundary in sight
	}
	gk := grads[bestK*size : (bestK+1)*size]
	// The 1e-4 pushes the step just across the linearised boundary.
	for p := range r {
		w := float64(gk[p]) - float64(g0[p])
		if a.opts.Norm == L2 {
			r[p] += (bestF + 1e-4) / (bestNorm * bestNorm) * w
		} else if w != 0 {
			r[p] += (bestF + 1e-4) / bestNorm * math.Copysign(1, w)
		}
	}
}

// candidates returns label followed by the n−1 classes with the largest
// logits z other than label.
func candidates(z []float32, label, n int) []int64 {
	order := make([]int, 0, len(z))
	for j := range z {
		if j != label {
			order = append(order, j)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return z[order[a]] > z[order[b]] })
	out := []int64{int64(label)}
	for _, j := range order[:n-1] {
		out = append(out, int64(j))
	}
	return out
}

// deepFoolSpec is DeepFool's entry in the registry.
func deepFoolSpec() *spec {
	o := DefaultDeepFoolOptions()
	return &spec{
		Method: Method{Name: "deepfool", Title: "DeepFool", Short: "DeepFool", Targeted: false,
			Description: "Moosavi-Dezfooli et al.'s DeepFool: steps to the nearest linearised boundary (untargeted)"},
		fields: []field{
			intField(&o.Steps, Param{Name: "steps", Label: "Steps", Unit: "steps", Min: 1, Max: 1e6, Help: "linearisation steps"}),
			normField(&o.Norm, o.Norm, L2, LInf),
			floatField(&o.Overshoot, Param{Name: "overshoot", Label: "Overshoot", Min: 0, Max: 10, Help: "factor past the boundary"}, false),
			intField(&o.Candidates, Param{Name: "candidates", Label: "Candidate classes", Min: 2, Max: 1e5,
				Help: "the clean image's top classes considered"}),
		},
		build: func() (Attack, error) { return NewDeepFool(&o) },
	}
}
