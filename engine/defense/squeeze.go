package defense

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/advlab/advlab/engine"
)

// SqueezeOptions configures the feature-squeezing detector.
type SqueezeOptions struct {
	// Bits is the bit depth of the first squeezer (default 5; 8 turns it off).
	Bits int
	// Median is the window of the second squeezer, a median filter
	// (default 2; 1 turns it off).
	Median int
	// FPR is the false-positive rate on clean images that Calibrate sets
	// the threshold for (default 0.05).
	FPR float64
	// Threshold is the L1 score above which an input is rejected; 0 means
	// "not yet calibrated": Calibrate sets it.
	Threshold float64
}

// DefaultSqueezeOptions returns 5-bit depth and a 2×2 median, calibrated to
// a 5% false-positive rate.
func DefaultSqueezeOptions() SqueezeOptions { return SqueezeOptions{Bits: 5, Median: 2, FPR: 0.05} }

// Validate checks the options.
func (o SqueezeOptions) Validate() error {
	switch {
	case o.Bits < 1 || o.Bits > 8 || o.Median < 1 || o.Median > 15:
		return invalidf("squeeze: bits %d must be 1–8 and median %d 1–15", o.Bits, o.Median)
	case o.Bits == 8 && o.Median == 1:
		return invalidf("squeeze: bits 8 and median 1 squeeze nothing; lower bits or raise median")
	case !(o.FPR > 0 && o.FPR < 1):
		return invalidf("squeeze: fpr %g must be in (0,1)", o.FPR)
	case !(o.Threshold >= 0 && o.Threshold <= 2):
		return invalidf("squeeze: threshold %g must be in [0,2] (an L1 distance between probabilities)", o.Threshold)
	}
	return nil
}

// rejectScale turns the score's excess over the threshold into logits.
const rejectScale = 10

// Squeezed is Xu, Evans and Qi's feature squeezing as a detector: the score
// of an input is the largest L1 distance between the wrapped model's
// softmax on it and on a squeezed copy (bit-depth reduction, median
// filter), and an input whose score exceeds the threshold is rejected.
//
// Rejection is an extra class, "rejected", last among Labels: its logit is
// max_j z_j + 10·(score − threshold), so it is the top class exactly when
// the input is rejected, and the other logits are the model's on the raw
// input. Being a class, a rejection shows in every report; being a
// Rejecter's class, it counts as a failed attack whatever the goal (an
// untargeted attack has not succeeded by being caught). The gradient is the
// model's at the raw input: the detector adds none, so a white-box attack
// does not see it coming.
type Squeezed struct {
	inner  engine.Classifier
	opts   SqueezeOptions
	labels []string
}

// NewSqueezed wraps c; nil options mean DefaultSqueezeOptions. Unless
// Threshold is set, Calibrate must run before the detector classifies.
func NewSqueezed(c engine.Classifier, opts *SqueezeOptions) (*Squeezed, error) {
	o := DefaultSqueezeOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Squeezed{inner: c, opts: o, labels: append(slices.Clone(c.Labels()), "rejected")}, nil
}

// Inner returns the wrapped model.
func (s *Squeezed) Inner() engine.Classifier { return s.inner }

// Name is the wrapped model's name and the squeezers' ("signs-resnet+squeeze5b2m").
func (s *Squeezed) Name() string {
	return fmt.Sprintf("%s+squeeze%db%dm", s.inner.Name(), s.opts.Bits, s.opts.Median)
}

// Labels are the wrapped model's and "rejected".
func (s *Squeezed) Labels() []string { return s.labels }

// RejectClass is the index of "rejected", the last class.
func (s *Squeezed) RejectClass() int { return len(s.labels) - 1 }

// InputShape is the wrapped model's.
func (s *Squeezed) InputShape() engine.ImageShape { return s.inner.InputShape() }

// Threshold returns the rejection threshold (0 until calibrated).
func (s *Squeezed) Threshold() float64 { return s.opts.Threshold }

// Scores returns each image's detection score and the wrapped model's
// logits on the raw images.
func (s *Squeezed) Scores(ctx context.Context, images []float32, n int) ([]float64, []float32, error) {
	if err := checkBatch(s.Name(), s.InputShape(), images, n); err != nil {
		return nil, nil, err
	}
	shape, k := s.InputShape(), len(s.labels)-1
	raw, err := s.inner.Logits(ctx, images, n)
	if err != nil {
		return nil, nil, err
	}
	var squeezed [][]float32
	if s.opts.Bits < 8 {
		squeezed = append(squeezed, ReduceBits(images, s.opts.Bits))
	}
	if s.opts.Median > 1 {
		squeezed = append(squeezed, MedianFilter(images, shape, s.opts.Median))
	}
	scores := make([]float64, n)
	for _, x := range squeezed {
		z, err := s.inner.Logits(ctx, x, n)
		if err != nil {
			return nil, nil, err
		}
		for i := range scores {
			p, q := engine.Softmax(raw[i*k:(i+1)*k]), engine.Softmax(z[i*k:(i+1)*k])
			var l1 float64
			for j := range p {
				l1 += math.Abs(p[j] - q[j])
			}
			scores[i] = math.Max(scores[i], l1)
		}
	}
	return scores, raw, nil
}

// Calibrate sets the threshold to the smallest score that rejects at most
// a fraction FPR of the n clean images. It is best run on held-out images:
// on the images later attacked it reports the rate it was tuned for.
func (s *Squeezed) Calibrate(ctx context.Context, clean []float32, n int) error {
	scores, _, err := s.Scores(ctx, clean, n)
	if err != nil {
		return fmt.Errorf("calibrating %s: %w", s.Name(), err)
	}
	slices.Sort(scores)
	i := min(n-1, max(0, int(math.Ceil(float64(n)*(1-s.opts.FPR)))-1))
	// A threshold of 0 means "uncalibrated"; the smallest positive one
	// rejects the same images.
	s.opts.Threshold = math.Max(scores[i], math.SmallestNonzeroFloat64)
	return nil
}

// withReject appends the rejected logit to each row of the model's logits.
func (s *Squeezed) withReject(raw []float32, scores []float64) []float32 {
	k := len(s.labels) - 1
	out := make([]float32, 0, len(scores)*(k+1))
	for i, sc := range scores {
		row := raw[i*k : (i+1)*k]
		out = append(out, row...)
		out = append(out, float32(float64(slices.Max(row))+rejectScale*(sc-s.opts.Threshold)))
	}
	return out
}

func (s *Squeezed) uncalibrated() error {
	if s.opts.Threshold == 0 {
		return fmt.Errorf("%s: the detector has no threshold; calibrate it on clean images (Calibrate) or pass threshold=T", s.Name())
	}
	return nil
}

// Logits returns the model's logits on the raw images and the rejected
// class's logit.
func (s *Squeezed) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := s.uncalibrated(); err != nil {
		return nil, err
	}
	scores, raw, err := s.Scores(ctx, images, n)
	if err != nil {
		return nil, err
	}
	return s.withReject(raw, scores), nil
}

// Gradient returns the model's gradient at the raw images, with the logits
// of Logits. A target of the rejected class stands for the model's top
// class, whose logit the rejected one follows.
func (s *Squeezed) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	if err := s.uncalibrated(); err != nil {
		return engine.Gradients{}, err
	}
	n := len(targets)
	scores, raw, err := s.Scores(ctx, images, n)
	if err != nil {
		return engine.Gradients{}, err
	}
	k := len(s.labels) - 1
	inner := slices.Clone(targets)
	for i, t := range inner {
		if t == int64(k) {
			inner[i] = int64(engine.Argmax(raw[i*k : (i+1)*k]))
		}
	}
	g, err := s.inner.Gradient(ctx, loss, images, inner)
	if err != nil {
		return g, err
	}
	g.Logits = s.withReject(raw, scores)
	return g, nil
}
