package attack

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/advlab/advlab/engine"
)

// Attack crafts adversarial examples against a Classifier. Every attack
// works on a batch of NCHW images in [0,1] and returns images in [0,1].
//
// Run attacks images (n = len(labels) images of c.InputShape()) whose true
// classes are labels (-1 where unknown: the clean prediction stands in). With
// target < 0 the attack is untargeted (any class but the label); otherwise
// it aims every image at class target. progress, when not nil, is called
// synchronously from Run's goroutine about once per iteration and must not
// block: pass engine.Latest(ch) to feed a UI. When ctx is cancelled Run returns
// the best result found so far together with ctx.Err().
type Attack interface {
	// Name is the method's short name ("pgd").
	Name() string
	// Run attacks one batch.
	Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error)
}

// Norm is the ℓp norm that bounds or measures a perturbation.
type Norm int

const (
	// LInf is the ℓ∞ norm, max |r_i|.
	LInf Norm = iota
	// L2 is the Euclidean norm, sqrt(Σ r_i²).
	L2
)

// String returns the norm as the CLI spells it.
func (n Norm) String() string {
	if n == L2 {
		return "2"
	}
	return "inf"
}

// ParseNorm reads "inf" (or "linf") and "2" (or "l2").
func ParseNorm(s string) (Norm, error) {
	switch s {
	case "inf", "linf", "Linf", "LInf":
		return LInf, nil
	case "2", "l2", "L2":
		return L2, nil
	}
	return 0, fmt.Errorf("unknown norm %q: want inf or 2", s)
}

// Progress is a snapshot of a running attack.
type Progress struct {
	Attack string
	// Batch and Batches count batches under RunBatched (1 and 1 under Run).
	Batch, Batches int
	// Phase names the outer loop ("restart 2/3", "c search 4/9"), if any.
	Phase string
	// Step of Steps is the iteration within the phase.
	Step, Steps int
	// Succeeded of Images have met the attack's goal so far in this batch.
	Succeeded, Images int
	// Fraction is the estimated completion of the whole run, in [0,1].
	Fraction float64
}

// SampleResult is the outcome of an attack on one image.
type SampleResult struct {
	// Label is the true class (or the clean prediction where it was unknown).
	Label int
	// Target is the class aimed for, or -1 for an untargeted attack.
	Target int
	// Clean is the clean image's predicted class; Pred the adversarial's.
	Clean, Pred int
	// Success is true when Pred meets the goal: Pred == Target when targeted,
	// Pred != Label when not (with the attack's confidence margin, if any).
	Success bool
	// Skipped is true when the clean image already met the goal, so it was
	// not attacked and its perturbation is zero.
	Skipped bool
	// L2 and Linf measure adversarial − clean in [0,1] pixel units.
	L2, Linf float64
	// Queries counts the model evaluations spent on this image (forward or
	// forward+backward, one per image per call), the clean one included.
	Queries int
	// Iterations counts the attack's iterations on this image.
	Iterations int
}

// Result is the outcome of an attack on a batch.
type Result struct {
	// Adversarial holds the adversarial images, NCHW in [0,1]; an image the
	// attack could not fool holds the attack's best attempt (ε-bounded
	// attacks) or the clean image (minimal-perturbation attacks).
	Adversarial []float32
	// Samples are per-image outcomes, in input order.
	Samples []SampleResult
	// Unfinished counts the last Samples whose attack was cut short (by a
	// cancellation or an error): they hold the best attempt found until
	// then, not the attack's outcome. RunBatched sets it; Run leaves it
	// zero, its error saying that the whole batch was cut short.
	Unfinished int
	// Warnings are caveats on the result that a report should show, such
	// as a black-box attack beating a white-box one (gradient masking).
	Warnings []string
}

// attackState is what every attack keeps while it runs: the clean batch, the
// goals, and the best adversarial found so far for each image.
type attackState struct {
	name      string
	c         engine.Classifier
	shape     engine.ImageShape
	n, size   int
	k         int
	x0        []float32
	clean     []float32 // the clean images' logits, n×k
	res       Result
	score     []float64 // best score so far, of the failures or, once one succeeds, the successes; lower is better
	minimal   bool      // keep the smallest successful perturbation, not the first
	confident bool      // keep the success of lowest score (the most confident), not the first
	kappa     float64   // confidence margin a success needs
	reject    int       // the classifier's rejected class (engine.RejectClass), which meets no goal
	progress  func(Progress)
}

// newAttackState validates a batch and classifies the clean images.
func newAttackState(ctx context.Context, name string, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (*attackState, error) {
	shape := c.InputShape()
	size := shape.Size()
	n := len(labels)
	k := len(c.Labels())
	if n == 0 {
		return nil, fmt.Errorf("%s: no images to attack", name)
	}
	if size == 0 || len(images) != n*size {
		return nil, fmt.Errorf("%s: %d floats are not %d images of %dx%dx%d", name, len(images), n, shape.Channels, shape.Height, shape.Width)
	}
	if k < 2 {
		return nil, fmt.Errorf("%s: the classifier has %d classes; an attack needs at least 2", name, k)
	}
	if target >= k {
		return nil, fmt.Errorf("%s: target class %d outside 0..%d", name, target, k-1)
	}
	for i, l := range labels {
		if l >= k {
			return nil, fmt.Errorf("%s: label %d of image %d outside 0..%d", name, l, i, k-1)
		}
	}
	for i, v := range images {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%s: pixel %d of image %d is %g, outside [0,1]", name, i%size, i/size, v)
		}
	}
	logits, err := c.Logits(ctx, images, n)
	if err != nil {
		return nil, fmt.Errorf("%s: classifying the clean images: %w", name, err)
	}
	s := &attackState{
		name: name, c: c, shape: shape, n: n, size: size, k: k,
		x0:       images,
		clean:    logits,
		reject:   engine.RejectClass(c),
		res:      Result{Adversarial: append([]float32(nil), images...), Samples: make([]SampleResult, n)},
		score:    make([]float64, n),
		progress: progress,
	}
	for i := range s.res.Samples {
		p := engine.Argmax(logits[i*k : (i+1)*k])
		l := labels[i]
		if l < 0 {
			l = p
		}
		t := -1
		if target >= 0 {
			t = target
		}
		s.res.Samples[i] = SampleResult{Label: l, Target: t, Clean: p, Pred: p, Queries: 1}
		s.score[i] = math.Inf(1)
		if s.meets(i, logits[i*k:(i+1)*k]) {
			s.res.Samples[i].Success, s.res.Samples[i].Skipped = true, true
		}
	}
	return s, nil
}

// image returns image i of batch x.
func (s *attackState) image(x []float32, i int) []float32 { return x[i*s.size : (i+1)*s.size] }

// goal returns the class the loss aims at for image i: the target when
// targeted, else the label (to move away from).
func (s *attackState) goal(i int) int {
	if t := s.res.Samples[i].Target; t >= 0 {
		return t
	}
	return s.res.Samples[i].Label
}

// targeted reports whether image i has a target class.
func (s *attackState) targeted(i int) bool { return s.res.Samples[i].Target >= 0 }

// meets reports whether logits z of image i meet its goal with margin κ.
func (s *attackState) meets(i int, z []float32) bool {
	g := s.goal(i)
	if s.reject >= 0 && engine.Argmax(z) == s.reject {
		return false
	}
	m := float64(z[g]) - maxOther(z, g) // > 0: the goal class leads
	if s.targeted(i) {
		return engine.Argmax(z) == g && m >= s.kappa
	}
	return engine.Argmax(z) != g && -m >= s.kappa
}

// observe records the point x, with logits z, as image i's adversarial when
// it is better than the one kept: a success beats a failure; among successes
// the first is kept, or the smallest in L2 for minimal attacks, or the
// lowest score for confident ones; among failures the lowest score is kept
// (minimal attacks keep the clean image).
func (s *attackState) observe(i int, x, z []float32, score float64) {
	r := &s.res.Samples[i]
	if r.Skipped {
		return
	}
	ok := s.meets(i, z)
	switch {
	case ok && !r.Success:
		s.score[i] = score
	case ok && s.minimal:
		if l2, _ := distance(x, s.image(s.x0, i)); l2 >= r.L2 {
			return
		}
	case ok && s.confident:
		if !(score < s.score[i]) {
			return
		}
		s.score[i] = score
	case ok, r.Success, s.minimal:
		return
	default:
		if !(score < s.score[i]) {
			return
		}
		s.score[i] = score
	}
	copy(s.image(s.res.Adversarial, i), x)
	r.Pred = engine.Argmax(z)
	r.Success = ok
	r.L2, r.Linf = distance(x, s.image(s.x0, i))
}

// succeeded counts images that met their goal.
func (s *attackState) succeeded() int {
	c := 0
	for _, r := range s.res.Samples {
		if r.Success {
			c++
		}
	}
	return c
}

// pending returns the images not yet successful.
func (s *attackState) pending() []int {
	var idx []int
	for i, r := range s.res.Samples {
		if !r.Success {
			idx = append(idx, i)
		}
	}
	return idx
}

// attacked returns the images that were not skipped.
func (s *attackState) attacked() []int {
	var idx []int
	for i, r := range s.res.Samples {
		if !r.Skipped {
			idx = append(idx, i)
		}
	}
	return idx
}

// report sends a progress update if anyone listens.
func (s *attackState) report(phase string, step, steps int, fraction float64) {
	if s.progress == nil {
		return
	}
	s.progress(Progress{
		Attack: s.name, Batch: 1, Batches: 1, Phase: phase, Step: step, Steps: steps,
		Succeeded: s.succeeded(), Images: s.n, Fraction: math.Min(math.Max(fraction, 0), 1),
	})
}

// finish returns the result, with err wrapped unless it is the context's.
func (s *attackState) finish(err error) (Result, error) {
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%s: %w", s.name, err)
	}
	return s.res, err
}

// gather copies images idx of x into a new batch.
func (s *attackState) gather(x []float32, idx []int) []float32 {
	out := make([]float32, len(idx)*s.size)
	for j, i := range idx {
		copy(out[j*s.size:], s.image(x, i))
	}
	return out
}

// goals returns the loss targets of images idx.
func (s *attackState) goals(idx []int) []int64 {
	t := make([]int64, len(idx))
	for j, i := range idx {
		t[j] = int64(s.goal(i))
	}
	return t
}

// count adds one query and, if iter, one iteration to images idx.
func (s *attackState) count(idx []int, iter bool) {
	for _, i := range idx {
		s.res.Samples[i].Queries++
		if iter {
			s.res.Samples[i].Iterations++
		}
	}
}

// maxOther returns max_{j≠t} z_j.
func maxOther(z []float32, t int) float64 {
	m := math.Inf(-1)
	for j, v := range z {
		if j != t && float64(v) > m {
			m = float64(v)
		}
	}
	return m
}

// distance returns the L2 and L∞ norms of a − b.
func distance(a, b []float32) (l2, linf float64) {
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		l2 += d * d
		linf = math.Max(linf, d)
	}
	return math.Sqrt(l2), linf
}

// clip01 clamps v to [0,1].
func clip01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// project moves x into the ε-ball of norm around x0 and then into [0,1].
// Clipping after the ball projection keeps x in the ball, because x0 is in
// [0,1] and clipping only moves coordinates towards it.
func project(x, x0 []float32, eps float64, norm Norm) {
	if norm == L2 {
		var s float64
		for i := range x {
			d := float64(x[i] - x0[i])
			s += d * d
		}
		if s := math.Sqrt(s); s > eps {
			f := float32(eps / s)
			for i := range x {
				x[i] = x0[i] + (x[i]-x0[i])*f
			}
		}
	} else {
		e := float32(eps)
		for i := range x {
			x[i] = min(max(x[i], x0[i]-e), x0[i]+e)
		}
	}
	for i := range x {
		x[i] = clip01(x[i])
	}
}
