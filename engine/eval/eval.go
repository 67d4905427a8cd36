// Package eval computes attack reports and the transfer matrix: an attack's
// adversarial examples, crafted on one model, classified by every loaded
// model both as crafted (float32 pixels) and after the 8-bit round trip that
// a saved image goes through, with success rates and L2, L∞ and RMS
// distortions per image and in summary. The CLI and the GUI only format
// these results.
package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/imgops"
)

// Model is one classifier with the image set laid out for it.
type Model struct {
	Classifier engine.Classifier
	// Images is the set at the model's input size, NCHW in [0,1].
	Images []float32
	// Labels are the images' true classes among the model's labels, -1
	// where unknown (the clean prediction then stands in).
	Labels []int
}

// Prepare lays ds out for every classifier, matching its class folders to
// each model's labels (engine.Dataset.LabelsFor: a folder a model lacks is
// an error naming it).
func Prepare(cs []engine.Classifier, ds *engine.Dataset) ([]Model, error) {
	out := make([]Model, len(cs))
	for i, c := range cs {
		labels, err := ds.LabelsFor(c.Labels())
		if err != nil {
			return nil, fmt.Errorf("images for %s: %w", c.Name(), err)
		}
		x, _ := ds.Tensor(c.InputShape())
		out[i] = Model{Classifier: c, Images: x, Labels: labels}
	}
	return out, nil
}

// Options tune an evaluation; the zero value (or nil) is fine.
type Options struct {
	// Batch is the number of images per model call (default 32).
	Batch int
	// Progress, when not nil, is told the attack's progress with the index
	// of the source model; it must not block.
	Progress func(src int, p attack.Progress)
	// Round returns the adversarials as the 8-bit images they are saved as
	// (shape is the source's). Nil means RoundTrip, in memory; the CLI
	// passes one that writes PNGs and reads them back.
	Round func(adv []float32, shape engine.ImageShape) ([]float32, error)
}

func (o *Options) batch() int {
	if o == nil || o.Batch <= 0 {
		return 32
	}
	return o.Batch
}

// Outcome is one image on one model.
type Outcome struct {
	// Label is the true class among this model's labels (its clean
	// prediction where unknown); Target the target class among them, -1
	// when untargeted or when the model lacks the source's target class.
	Label, Target int
	// CleanLogits, AdvLogits and RoundedLogits are the model's outputs on
	// the clean image, the adversarial as crafted and after the 8-bit round
	// trip.
	CleanLogits, AdvLogits, RoundedLogits []float32
	// Clean, Adversarial and Rounded are the predicted classes.
	Clean, Adversarial, Rounded int
	// CleanMet is true when the clean image already meets the goal (the
	// target class, or any class but the label); Fooled and FooledRounded
	// when the adversarial does, as crafted and rounded.
	CleanMet, Fooled, FooledRounded bool
}

// Image is one image's report.
type Image struct {
	// Attack is the engine's outcome on the source model (zero for
	// Perturbed).
	Attack attack.SampleResult
	// Success is the engine's verdict on the source (with the attack's
	// confidence margin, if any); for Perturbed, the source's Fooled.
	// Skipped is true when the clean image already met the goal.
	Success, Skipped bool
	// L2, Linf and RMS measure adversarial − clean in [0,1] pixels at the
	// source's size (RMS = L2/√pixels, Szegedy et al.'s distortion); the
	// Rounded ones the same after the 8-bit round trip.
	L2, Linf, RMS                      float64
	RoundedL2, RoundedLinf, RoundedRMS float64
	// On is the outcome on every model, indexed as the models.
	On []Outcome
}

// Stats summarise distortions over some images; means and medians are NaN
// over none.
type Stats struct {
	N                    int
	L2Mean, L2Median     float64
	LinfMean, LinfMedian float64
	RMSMean, RMSMedian   float64
	// RMS holds every image's RMS distortion, for intervals.
	RMS []float64
}

// Summary is one model's figures over the images.
type Summary struct {
	Model string
	// Resized is true when the model's input size differs from the
	// source's: its images went through an 8-bit image and a resize, so
	// its "as crafted" figures are the rounded ones.
	Resized bool
	// Labelled counts the images of known class, over which the
	// accuracies are (NaN over none).
	Labelled                                            int
	CleanAccuracy, AdversarialAccuracy, RoundedAccuracy float64
	// Eligible counts the images whose clean prediction did not already
	// meet the goal; SuccessRate and RoundedSuccessRate are the fractions of
	// those whose adversarial does.
	Eligible                        int
	SuccessRate, RoundedSuccessRate float64
}

// Report is an attack (or a perturbation) of the images of one source
// model, evaluated on every model.
type Report struct {
	// Method is the attack's name; Source the index of the model attacked;
	// Target its target class, or -1.
	Method string
	Source int
	Target int
	// Shape is the source's input shape; Adversarial and Rounded the images
	// as crafted and after the 8-bit round trip, NCHW at that shape. When
	// the attack was interrupted they hold only the images finished.
	Shape                engine.ImageShape
	Adversarial, Rounded []float32
	// Images are the per-image reports, in set order.
	Images []Image
	// Models are the per-model summaries, indexed as the models.
	Models []Summary
	// Attacked counts the images not skipped; AttackSuccessRate is the
	// engine's verdict over them and RoundedSuccessRate the source's after
	// the 8-bit round trip.
	Attacked                              int
	AttackSuccessRate, RoundedSuccessRate float64
	// Successful summarises the successful adversarials' distortions,
	// RoundedSuccessful those that still succeed after rounding, All every
	// image's.
	Successful, RoundedSuccessful, All Stats
	// MeanQueries is the mean number of model evaluations per image.
	MeanQueries float64
	// Seconds is the attack's time.
	Seconds float64
	// Warnings are the attack's caveats on its result (attack.Result.Warnings).
	Warnings []string
}

// Attack runs a against models[src] over its images (target as in
// attack.Attack.Run, among the source's classes) and evaluates the
// adversarials on every model. When ctx is cancelled it evaluates the
// images finished and returns their report with ctx.Err().
func Attack(ctx context.Context, a attack.Attack, models []Model, src, target int, opts *Options) (*Report, error) {
	if err := check(models, src); err != nil {
		return nil, err
	}
	m := models[src]
	var progress func(attack.Progress)
	if opts != nil && opts.Progress != nil {
		progress = func(p attack.Progress) { opts.Progress(src, p) }
	}
	start := time.Now()
	res, err := attack.RunBatched(ctx, a, m.Classifier, m.Images, m.Labels, target, opts.batch(), progress)
	seconds := time.Since(start).Seconds()
	if err != nil && !(isCancel(err) && len(res.Samples) > 0) {
		return nil, err
	}
	if err != nil {
		// The batch cut short is not failures: report the finished images.
		if res = res.Finished(); len(res.Samples) == 0 {
			return nil, err
		}
	}
	rep, evalErr := evaluate(context.WithoutCancel(ctx), a.Name(), res.Adversarial, res.Samples, models, src, target, opts)
	if evalErr != nil {
		return nil, evalErr
	}
	rep.Seconds, rep.Warnings = seconds, res.Warnings
	return rep, err
}

// Perturbed evaluates images x, NCHW at models[src]'s input size and the
// first len(x)/size images of the set perturbed by any means (a patch,
// noise), on every model, as Attack evaluates an attack's; method names
// the perturbation.
func Perturbed(ctx context.Context, method string, x []float32, models []Model, src, target int, opts *Options) (*Report, error) {
	if err := check(models, src); err != nil {
		return nil, err
	}
	size := models[src].Classifier.InputShape().Size()
	if len(x)%size != 0 || len(x) > len(models[src].Images) {
		return nil, fmt.Errorf("evaluating %s: %d floats are not whole images of the set at %s's size", method, len(x), models[src].Classifier.Name())
	}
	return evaluate(ctx, method, x, nil, models, src, target, opts)
}

func check(models []Model, src int) error {
	if src < 0 || src >= len(models) {
		return fmt.Errorf("evaluating an attack: source model %d of %d", src, len(models))
	}
	n := len(models[src].Labels)
	for _, m := range models {
		if len(m.Labels) != n || len(m.Images) != n*m.Classifier.InputShape().Size() {
			return fmt.Errorf("evaluating an attack: %s holds %d labels and %d floats; every model needs the same %d images", m.Classifier.Name(), len(m.Labels), len(m.Images), n)
		}
	}
	return nil
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// RoundTrip returns x as 8-bit images hold it: each image through
// imgops.TensorToImage and back, exactly what a lossless PNG stores.
func RoundTrip(x []float32, shape engine.ImageShape) ([]float32, error) {
	return Resize(x, shape, shape)
}

// Resize converts a batch from one image shape to another through 8-bit
// images (imgops: linear resampling; luminance for one channel).
func Resize(x []float32, src, dst engine.ImageShape) ([]float32, error) {
	n := len(x) / src.Size()
	out := make([]float32, 0, n*dst.Size())
	for i := 0; i < n; i++ {
		img, err := imgops.TensorToImage(x[i*src.Size():(i+1)*src.Size()], src.Channels, src.Height, src.Width)
		if err != nil {
			return nil, fmt.Errorf("converting image %d to 8 bits: %w", i, err)
		}
		t, _ := imgops.ImageToTensor(img, dst.Channels, dst.Height, dst.Width)
		out = append(out, t...)
	}
	return out, nil
}

// Classify returns c's logits on the n images of x, in batches, checking
// ctx before each.
func Classify(ctx context.Context, c engine.Classifier, x []float32, n, batch int) ([]float32, error) {
	size := c.InputShape().Size()
	out := make([]float32, 0, n*len(c.Labels()))
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, n)
		z, err := c.Logits(ctx, x[lo*size:hi*size], hi-lo)
		if err != nil {
			return nil, fmt.Errorf("classifying with %s: %w", c.Name(), err)
		}
		out = append(out, z...)
	}
	return out, nil
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

// stats summarises the distortions of images pick selects.
func stats(ims []Image, pick func(Image) bool, rounded bool) Stats {
	var l2, linf, rms []float64
	for _, im := range ims {
		if !pick(im) {
			continue
		}
		if rounded {
			l2, linf, rms = append(l2, im.RoundedL2), append(linf, im.RoundedLinf), append(rms, im.RoundedRMS)
		} else {
			l2, linf, rms = append(l2, im.L2), append(linf, im.Linf), append(rms, im.RMS)
		}
	}
	s := Stats{N: len(l2), RMS: rms}
	s.L2Mean, s.L2Median = MeanMedian(l2)
	s.LinfMean, s.LinfMedian = MeanMedian(linf)
	s.RMSMean, s.RMSMedian = MeanMedian(rms)
	return s
}

// MeanMedian returns the mean and median of v (NaN for none).
func MeanMedian(v []float64) (mean, median float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	if len(s)%2 == 1 {
		return mean, s[len(s)/2]
	}
	return mean, (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Rate returns num/den, NaN when den is 0.
func Rate(num, den int) float64 {
	if den == 0 {
		return math.NaN()
	}
	return float64(num) / float64(den)
}
