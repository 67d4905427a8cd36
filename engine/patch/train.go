package patch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// Optimizer names the update rule of patch training.
type Optimizer string

const (
	// Adam is Kingma and Ba's Adam (β1 0.9, β2 0.999, ε 1e-8), the default.
	Adam Optimizer = "adam"
	// SignSGD steps every colour by the learning rate against the sign of
	// its gradient, as FGSM and PGD do for images.
	SignSGD Optimizer = "sign"
)

// Options configures Train: the expectation over transformation
// of Brown et al. (2017), minimising E_{x,t,l}[−log Pr(target | A(p, x, l, t))]
// over the images, the patch's random transformations and placements, and
// the models of an ensemble, plus the print regularisers.
type Options struct {
	// Target is the label every patched image should be classified as,
	// matched to each model's labels like a class folder (ClassIndex). ""
	// trains an untargeted patch: it pushes every image away from its true
	// class (the cross-entropy of the true label is maximised).
	Target string `json:"target,omitempty"`
	// Width and Height are the patch's size in pixels; Height 0 means
	// Width. The patch's size in an image comes from Transforms' scale
	// range, so the pixel size sets only its resolution.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Shape is the mask's shape: imgops.MaskCircle (the default; an
	// ellipse when the patch is not square), MaskEllipse, MaskRect, or
	// MaskAlpha (the alpha channel of MaskImage, a sticker's outline).
	Shape     imgops.MaskShape `json:"mask_shape"`
	MaskImage image.Image      `json:"-"`
	// Transforms are the ranges each image's transformation is drawn from
	// (rotation, scale, perspective, lighting, noise, blur, placement). A
	// placement mask is sized like the first model's input.
	Transforms imgops.Options `json:"transforms"`
	// Steps is the number of optimiser steps; BatchSize the images per step
	// (each with its own transformation), drawn with replacement.
	Steps     int `json:"steps"`
	BatchSize int `json:"batch_size"`
	// Optimizer is Adam (default) or SignSGD; LearningRate its step size
	// in [0,1] colour units.
	Optimizer    Optimizer `json:"optimizer"`
	LearningRate float64   `json:"learning_rate"`
	// TVWeight and NPSWeight weigh the smooth total variation and the
	// non-printability score of Sharif et al. (2016), each taken per patch
	// pixel (divided by the mask's area) so that a weight means the same at
	// any patch size. Palette is NPS's printable colours; nil means
	// imgops.DefaultPalette.
	TVWeight  float64        `json:"tv_weight,omitempty"`
	NPSWeight float64        `json:"nps_weight,omitempty"`
	Palette   imgops.Palette `json:"palette,omitempty"`
	// Seed fixes the batches and the transformations: the same seed, models,
	// images and options give the same patch, bit for bit.
	Seed uint64 `json:"seed"`
	// Init, when not nil, is the patch training starts from (its colours;
	// the size and mask must match); nil starts from mid grey.
	Init *imgops.Patch `json:"-"`
	// CheckpointPath, when not empty, is where a checkpoint is written
	// (atomically) every CheckpointEvery steps (0: never on the way), at
	// the last step and when training stops early; Resume continues a run
	// from one (see LoadCheckpoint), possibly with more Steps. A
	// fresh run (no Resume) refuses a CheckpointPath that already holds a
	// file, whose run it would destroy (see CheckFreshCheckpoint), unless
	// OverwriteCheckpoint is set.
	CheckpointPath      string      `json:"-"`
	CheckpointEvery     int         `json:"-"`
	Resume              *Checkpoint `json:"-"`
	OverwriteCheckpoint bool        `json:"-"`
}

// DefaultOptions returns a 32×32 circular patch, imgops.DefaultOptions'
// transformations (±22.5°, 5–25% of the image's area), 500 Adam steps of
// 0.01 on batches of 16, and no regularisers.
func DefaultOptions() Options {
	return Options{
		Width: 32, Height: 32, Shape: imgops.MaskCircle, Transforms: imgops.DefaultOptions(),
		Steps: 500, BatchSize: 16, Optimizer: Adam, LearningRate: 0.01,
	}
}

// maxPatchSide bounds the patch's side in pixels.
const maxPatchSide = 4096

// Validate checks the options that do not depend on models or images. Its
// errors match ErrInvalidOptions.
func (o *Options) Validate() error { return invalid(o.validate()) }

func (o *Options) validate() error {
	h := o.Height
	if h == 0 {
		h = o.Width
	}
	switch {
	case o.Width <= 0 || o.Width > maxPatchSide || h <= 0 || h > maxPatchSide:
		return fmt.Errorf("patch size %d×%d: want 1 to %d pixels a side", o.Width, o.Height, maxPatchSide)
	case o.Steps <= 0:
		return fmt.Errorf("steps %d: want a positive number", o.Steps)
	case o.BatchSize <= 0:
		return fmt.Errorf("batch size %d: want a positive number", o.BatchSize)
	case o.Optimizer != Adam && o.Optimizer != SignSGD && o.Optimizer != "":
		return fmt.Errorf("optimizer %q: want adam or sign", o.Optimizer)
	case !(o.LearningRate > 0 && o.LearningRate <= 1):
		return fmt.Errorf("learning rate %v: want (0, 1]", o.LearningRate)
	case !(o.TVWeight >= 0) || math.IsInf(o.TVWeight, 0):
		return fmt.Errorf("TV weight %v: want 0 or more", o.TVWeight)
	case !(o.NPSWeight >= 0) || math.IsInf(o.NPSWeight, 0):
		return fmt.Errorf("NPS weight %v: want 0 or more", o.NPSWeight)
	case o.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint interval %d: want 0 or more steps", o.CheckpointEvery)
	}
	switch o.Shape {
	case "", imgops.MaskCircle, imgops.MaskEllipse, imgops.MaskRect:
	case imgops.MaskAlpha:
		if o.MaskImage == nil {
			return fmt.Errorf("mask shape %q needs a mask image", o.Shape)
		}
	default:
		return fmt.Errorf("mask shape %q: want %s, %s, %s or %s", o.Shape, imgops.MaskCircle, imgops.MaskEllipse, imgops.MaskRect, imgops.MaskAlpha)
	}
	return nil
}

// mask builds the patch's mask from the options.
func (o *Options) mask() (imgops.Mask, error) {
	w, h := o.Width, o.Height
	var m imgops.Mask
	switch o.Shape {
	case "", imgops.MaskCircle:
		if w == h {
			m = imgops.CircleMask(w)
		} else {
			m = imgops.EllipseMask(w, h)
		}
	case imgops.MaskEllipse:
		m = imgops.EllipseMask(w, h)
	case imgops.MaskRect:
		m = imgops.RectMask(w, h)
	case imgops.MaskAlpha:
		m = imgops.MaskFromAlpha(o.MaskImage, w, h)
	}
	if m.Area() <= 0 {
		return m, fmt.Errorf("the %s mask of %d×%d pixels covers nothing", m.Shape, w, h)
	}
	return m, nil
}

// withDefaults fills Height, Shape and Optimizer.
func (o Options) withDefaults() Options {
	if o.Height == 0 {
		o.Height = o.Width
	}
	if o.Shape == "" {
		o.Shape = imgops.MaskCircle
	}
	if o.Optimizer == "" {
		o.Optimizer = Adam
	}
	if o.NPSWeight > 0 && o.Palette == nil {
		o.Palette = imgops.DefaultPalette()
	}
	return o
}

// Progress is a snapshot of patch training after one step.
type Progress struct {
	// Step of Steps have finished.
	Step, Steps int
	// Loss is the step's classification loss: the cross-entropy of the
	// target (targeted) or of the true label (untargeted, which training
	// maximises), averaged over the batch and the models.
	Loss float64
	// SuccessRate is the running share, over the last few steps, of patched
	// training images (not of the target class) that the models classified
	// as the target; untargeted, of those classified as anything but their
	// true label.
	SuccessRate float64
	// Patch is a copy of the current patch; the receiver may keep it.
	Patch *imgops.Patch
	// Meta describes Patch as Result.Meta will, so that a patch saved
	// mid-run is as self-describing as the final one.
	Meta imgops.PatchMeta
	// Elapsed is the training time so far (across resumes); ETA the
	// estimated time left, from this run's pace.
	Elapsed, ETA time.Duration
}

// Result is what Train returns.
type Result struct {
	// Patch is the trained patch (the last one completed when training
	// stopped early).
	Patch *imgops.Patch
	// Steps is the number of steps completed, resumed ones included.
	Steps int
	// Loss and SuccessRate are those of the last step (see Progress).
	Loss, SuccessRate float64
	// Elapsed is the training time, across resumes.
	Elapsed time.Duration
	// Meta describes the patch for imgops.SavePatch: target, models,
	// training options and mask shape.
	Meta imgops.PatchMeta
}

// Train trains an adversarial patch against models (an ensemble when
// several, each at its own input size and preprocessing) on the images of
// data. Each step draws BatchSize images and one transformation each,
// composes the patch into them at every model's input size (imgops.Apply),
// runs every model's gradient graph once on its batch, pulls the gradients
// back onto the patch (averaged over the batch and the models), adds the
// regularisers' gradients and takes one optimiser step, clipping the
// colours to [0,1].
//
// Everything a step draws comes from a generator seeded by (Seed, step), and
// every sum is taken in a fixed order, so the same inputs give the same
// patch bit for bit, and a run resumed from a checkpoint ends where the
// uninterrupted run does.
//
// Options, target and labels are checked before any model runs, and what
// they reject matches ErrInvalidOptions (the returned Result is then nil);
// a failure while running does not. progress,
// when not nil, is called on Train's goroutine after every step and
// must not block (see engine.Latest). When ctx is cancelled Train
// stops within one step and returns the last completed patch with
// ctx.Err(), writing a checkpoint first when CheckpointPath is set.
func Train(ctx context.Context, models []engine.Classifier, data *engine.Dataset, opts Options, progress func(Progress)) (*Result, error) {
	t, err := newPatchTrainer(models, data, opts)
	if err != nil {
		return nil, invalid(err)
	}
	return t.run(ctx, progress)
}

// run is Train's loop.
func (t *patchTrainer) run(ctx context.Context, progress func(Progress)) (*Result, error) {
	o := &t.opts
	start := time.Now()
	startStep, before := t.step, t.elapsed
	var runErr error
	for t.step < o.Steps {
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		st, err := t.gradient(ctx, t.step, t.patch)
		if err != nil {
			runErr = err
			break
		}
		t.update(st.grad)
		t.step++
		t.window.add(st.hits, st.trials)
		t.loss = st.loss
		t.elapsed = before + time.Since(start)
		if o.CheckpointPath != "" && (t.step == o.Steps || o.CheckpointEvery > 0 && t.step%o.CheckpointEvery == 0) {
			if err := t.checkpoint().Save(o.CheckpointPath); err != nil {
				return t.result(), err
			}
		}
		if progress != nil {
			done := t.step - startStep
			eta := time.Duration(float64(t.elapsed-before) / float64(done) * float64(o.Steps-t.step))
			progress(Progress{
				Step: t.step, Steps: o.Steps, Loss: t.loss, SuccessRate: t.window.rate(),
				Patch: t.patch.Clone(), Meta: t.meta(), Elapsed: t.elapsed, ETA: eta,
			})
		}
	}
	if runErr != nil {
		if o.CheckpointPath != "" && t.step > startStep {
			if err := t.checkpoint().Save(o.CheckpointPath); err != nil {
				return t.result(), errors.Join(runErr, err)
			}
		}
		if !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
			runErr = fmt.Errorf("patch training, step %d: %w", t.step+1, runErr)
		}
		return t.result(), runErr
	}
	return t.result(), nil
}

// result packages the current state.
func (t *patchTrainer) result() *Result {
	return &Result{
		Patch: t.patch.Clone(), Steps: t.step, Loss: t.loss, SuccessRate: t.window.rate(),
		Elapsed: t.elapsed, Meta: t.meta(),
	}
}

// meta describes the patch for its file: the target as the first model
// names it, the ensemble, the options as recorded and the mask's shape.
func (t *patchTrainer) meta() imgops.PatchMeta {
	var names []string
	for _, m := range t.models {
		names = append(names, m.c.Name())
	}
	meta := imgops.PatchMeta{Target: t.opts.Target, Models: names, Training: t.optsJSON, MaskShape: t.patch.Mask.Shape}
	if t.targeted {
		idx := t.models[0].target
		meta.TargetIndex = &idx
		meta.Target = t.models[0].c.Labels()[idx]
	}
	return meta
}

// update takes one optimiser step along −grad and clips to [0,1].
func (t *patchTrainer) update(grad []float64) {
	p := t.patch.Pix
	lr := t.opts.LearningRate
	if t.opts.Optimizer == SignSGD {
		for i, g := range grad {
			switch {
			case g > 0:
				p[i] -= float32(lr)
			case g < 0:
				p[i] += float32(lr)
			}
		}
		t.patch.Clamp()
		return
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	n := float64(t.step + 1)
	c1, c2 := 1-math.Pow(b1, n), 1-math.Pow(b2, n)
	for i, g := range grad {
		t.adamM[i] = b1*t.adamM[i] + (1-b1)*g
		t.adamV[i] = b2*t.adamV[i] + (1-b2)*g*g
		mh, vh := t.adamM[i]/c1, t.adamV[i]/c2
		p[i] -= float32(lr * mh / (math.Sqrt(vh) + eps))
	}
	t.patch.Clamp()
}

// successWindow is the running success rate over the last few steps.
type successWindow struct {
	Hits   []int `json:"hits"`
	Trials []int `json:"trials"`
}

// windowSteps is how many steps the running success rate covers.
const windowSteps = 10

func (w *successWindow) add(hits, trials int) {
	w.Hits = append(w.Hits, hits)
	w.Trials = append(w.Trials, trials)
	if len(w.Hits) > windowSteps {
		w.Hits, w.Trials = w.Hits[1:], w.Trials[1:]
	}
}

func (w *successWindow) rate() float64 {
	var h, n int
	for i := range w.Hits {
		h += w.Hits[i]
		n += w.Trials[i]
	}
	if n == 0 {
		return 0
	}
	return float64(h) / float64(n)
}

// optionsJSON is the options as recorded in patch files and checkpoints.
func optionsJSON(o Options) (json.RawMessage, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("recording the training options: %w", err)
	}
	return b, nil
}
