package patch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// patchModel is one model of a training ensemble with its images at its own
// input size.
type patchModel struct {
	patchSubject
	comps  []*imgops.Composition
	pulled [][]float32
	batch  []float32
}

// patchSubject is one model as patch training and evaluation see it: its
// input, the images laid out at that input, their classes and the target.
type patchSubject struct {
	c      engine.Classifier
	shape  engine.ImageShape
	k      int
	x      []float32 // every image of the dataset at shape
	labels []int     // true classes in the model's labels (-1: unknown)
	target int       // the target's index in the model's labels, or -1
}

// newPatchSubject checks that c can take a patch, maps the images' classes
// to its labels, resolves target (empty: untargeted) and lays the images out
// at its input size.
func newPatchSubject(c engine.Classifier, data *engine.Dataset, target string) (patchSubject, error) {
	shape := c.InputShape()
	if shape.Channels != 1 && shape.Channels != 3 {
		return patchSubject{}, fmt.Errorf("%s takes %d-channel images; a patch needs 1 (grey) or 3 (RGB)", c.Name(), shape.Channels)
	}
	labels, err := data.LabelsFor(c.Labels())
	if err != nil {
		return patchSubject{}, fmt.Errorf("images for %s: %w", c.Name(), err)
	}
	ps := patchSubject{c: c, shape: shape, k: len(c.Labels()), labels: labels, target: -1}
	if ps.k < 2 {
		return patchSubject{}, fmt.Errorf("%s has %d classes; a patch needs at least 2", c.Name(), ps.k)
	}
	if target != "" {
		if ps.target, err = engine.ClassIndex(c.Labels(), target); err != nil {
			return patchSubject{}, fmt.Errorf("target for %s: %w", c.Name(), err)
		}
	}
	ps.x, _ = data.TensorAs(shape, engine.ResizeOf(c))
	return ps, nil
}

// patchTrainer is the state of one training run: everything a checkpoint
// must hold to continue it exactly.
type patchTrainer struct {
	opts     Options
	optsJSON json.RawMessage
	models   []*patchModel
	targeted bool
	pool     []int             // the images a batch is drawn from
	ref      engine.ImageShape // the first model's input: the sampler's image size
	area     float64           // the mask's area in patch pixels
	patch    *imgops.Patch
	adamM    []float64
	adamV    []float64
	step     int
	window   successWindow
	loss     float64
	elapsed  time.Duration
	// gradTime is the time spent inside Classifier.Gradient, for the
	// throughput benchmark's share of time outside ONNX Runtime.
	gradTime time.Duration
}

// newPatchTrainer checks everything before any model runs and prepares the
// run (or its continuation from opts.Resume).
func newPatchTrainer(models []engine.Classifier, data *engine.Dataset, opts Options) (*patchTrainer, error) {
	if len(models) == 0 {
		return nil, errors.New("patch training: no model given")
	}
	if data == nil || data.Len() == 0 {
		return nil, fmt.Errorf("patch training: %w to train on", engine.ErrNoImages)
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("patch training: %w", err)
	}
	if opts.CheckpointPath != "" && opts.Resume == nil && !opts.OverwriteCheckpoint {
		if err := CheckFreshCheckpoint(opts.CheckpointPath); err != nil {
			return nil, fmt.Errorf("patch training: %w", err)
		}
	}
	o := opts.withDefaults()
	shapes := make([]engine.ImageShape, len(models))
	for i, c := range models {
		shapes[i] = c.InputShape()
	}
	if err := checkTrainMemory(o, data.Len(), shapes); err != nil {
		return nil, fmt.Errorf("patch training: %w", err)
	}
	mask, err := o.mask()
	if err != nil {
		return nil, fmt.Errorf("patch training: %w", err)
	}
	t := &patchTrainer{opts: o, targeted: o.Target != "", area: mask.Area()}
	if t.optsJSON, err = optionsJSON(o); err != nil {
		return nil, err
	}
	t.patch = imgops.NewGreyPatch(mask)
	if o.Init != nil {
		if o.Init.W != o.Width || o.Init.H != o.Height || len(o.Init.Pix) != len(t.patch.Pix) {
			return nil, fmt.Errorf("patch training: the initial patch is %d×%d; want %d×%d", o.Init.W, o.Init.H, o.Width, o.Height)
		}
		copy(t.patch.Pix, o.Init.Pix)
		t.patch.Clamp()
	}
	for _, c := range models {
		pm, err := t.prepareModel(c, data)
		if err != nil {
			return nil, fmt.Errorf("patch training: %w", err)
		}
		t.models = append(t.models, pm)
	}
	t.ref = t.models[0].shape
	if _, err := imgops.NewSampler(o.Seed, t.patch, t.ref.Width, t.ref.Height, &o.Transforms); err != nil {
		return nil, fmt.Errorf("patch training: %w", err)
	}
	for i := range data.Items {
		l := t.models[0].labels[i]
		if t.targeted && l == t.models[0].target {
			continue // already of the target class: nothing to learn
		}
		t.pool = append(t.pool, i)
	}
	if len(t.pool) == 0 {
		return nil, fmt.Errorf("patch training: every image is of the target class %q; give images of other classes", o.Target)
	}
	n := len(t.patch.Pix)
	t.adamM, t.adamV = make([]float64, n), make([]float64, n)
	if o.Resume != nil {
		if err := t.restore(o.Resume); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// prepareModel resolves the target and labels for one model and lays the
// images out at its input size.
func (t *patchTrainer) prepareModel(c engine.Classifier, data *engine.Dataset) (*patchModel, error) {
	target := ""
	if t.targeted {
		target = t.opts.Target
	}
	subject, err := newPatchSubject(c, data, target)
	if err != nil {
		return nil, err
	}
	pm := &patchModel{patchSubject: subject}
	if !t.targeted {
		for i, l := range pm.labels {
			if l < 0 {
				return nil, fmt.Errorf("untargeted training needs the true class of every image, and %s has none among the labels of %s; give class folders named after them, or train a targeted patch", data.Items[i].Rel, c.Name())
			}
		}
	}
	shape := pm.shape
	b := t.opts.BatchSize
	pm.comps = make([]*imgops.Composition, b)
	for j := range pm.comps {
		pm.comps[j] = new(imgops.Composition)
	}
	pm.pulled = make([][]float32, b)
	pm.batch = make([]float32, b*shape.Size())
	return pm, nil
}

// stepResult is the outcome of one gradient evaluation.
type stepResult struct {
	loss         float64
	hits, trials int
	grad         []float64 // d(objective)/d(patch colours), 3×H×W
	transforms   []imgops.Transform
	images       []int
}

// stepRand returns the generator of everything step draws.
func stepRand(seed uint64, step int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), splitmix64(uint64(step)^0x632be59bd9b4e019)))
}

// splitmix64 scrambles a seed (Steele et al., "Fast splittable
// pseudorandom number generators", 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// draw returns step's images and transformations (at the reference size).
func (t *patchTrainer) draw(step int, p *imgops.Patch) ([]int, []imgops.Transform, error) {
	r := stepRand(t.opts.Seed, step)
	idx := make([]int, t.opts.BatchSize)
	for j := range idx {
		idx[j] = t.pool[r.IntN(len(t.pool))]
	}
	s, err := imgops.NewSampler(r.Uint64(), p, t.ref.Width, t.ref.Height, &t.opts.Transforms)
	if err != nil {
		return nil, nil, err
	}
	return idx, s.Sample(len(idx)), nil
}

// gradient evaluates the objective and its gradient with respect to p's
// colours on step's batch: the classification loss averaged over the batch
// and the models (negated when untargeted) plus the weighted regularisers.
func (t *patchTrainer) gradient(ctx context.Context, step int, p *imgops.Patch) (*stepResult, error) {
	idx, ts, err := t.draw(step, p)
	if err != nil {
		return nil, err
	}
	st := &stepResult{grad: make([]float64, len(p.Pix)), transforms: ts, images: idx}
	b := len(idx)
	wt := 1 / float64(b*len(t.models))
	for _, m := range t.models {
		mts := ts
		if m.shape.Width != t.ref.Width || m.shape.Height != t.ref.Height {
			mts = make([]imgops.Transform, b)
			for j := range ts {
				mts[j] = rescaleTransform(ts[j], t.ref, m.shape, t.opts.Transforms.ScaleMode)
			}
		}
		size, c := m.shape.Size(), m.shape.Channels
		// One composition per image, so that each pull-back is summed by
		// one goroutine in a fixed order: a batch Composition splits its
		// sum over workers by arrival, which float addition remembers.
		if err := parallelFor(b, func(j int) error {
			cp := m.comps[j]
			img := m.x[idx[j]*size : (idx[j]+1)*size]
			if err := cp.Apply(p, img, 1, c, m.shape.Height, m.shape.Width, mts[j:j+1]); err != nil {
				return err
			}
			copy(m.batch[j*size:], cp.Images)
			return nil
		}); err != nil {
			return nil, err
		}
		targets := make([]int64, b)
		for j, i := range idx {
			if t.targeted {
				targets[j] = int64(m.target)
			} else {
				targets[j] = int64(m.labels[i])
			}
		}
		start := time.Now()
		g, err := m.c.Gradient(ctx, engine.CrossEntropy, m.batch, targets)
		t.gradTime += time.Since(start)
		if err != nil {
			return nil, err
		}
		if err := parallelFor(b, func(j int) error {
			var err error
			m.pulled[j], err = m.comps[j].PullBack(g.Grad[j*size : (j+1)*size])
			return err
		}); err != nil {
			return nil, err
		}
		sign := wt
		if !t.targeted {
			sign = -wt
		}
		for j := 0; j < b; j++ {
			for k, v := range m.pulled[j] {
				st.grad[k] += sign * float64(v)
			}
			st.loss += wt * float64(g.Loss[j])
			pred := engine.Argmax(g.Logits[j*m.k : (j+1)*m.k])
			l := m.labels[idx[j]]
			switch {
			case t.targeted && l != m.target:
				st.trials++
				if pred == m.target {
					st.hits++
				}
			case !t.targeted:
				st.trials++
				if pred != l {
					st.hits++
				}
			}
		}
	}
	t.addRegularisers(p, st.grad)
	return st, nil
}

// addRegularisers adds the weighted gradients of the per-pixel total
// variation and non-printability score to grad.
func (t *patchTrainer) addRegularisers(p *imgops.Patch, grad []float64) {
	if w := t.opts.TVWeight; w > 0 {
		_, g := imgops.TotalVariation(p, imgops.TVSmooth)
		for k, v := range g {
			grad[k] += w / t.area * float64(v)
		}
	}
	if w := t.opts.NPSWeight; w > 0 {
		_, g := imgops.NPS(p, t.opts.Palette)
		for k, v := range g {
			grad[k] += w / t.area * float64(v)
		}
	}
}

// rescaleTransform maps a transformation drawn for images of shape from to
// images of shape to: the same relative placement, and the same side or
// area fraction.
func rescaleTransform(tr imgops.Transform, from, to engine.ImageShape, mode imgops.ScaleMode) imgops.Transform {
	fx := float64(to.Width) / float64(from.Width)
	fy := float64(to.Height) / float64(from.Height)
	f := math.Sqrt(fx * fy)
	if mode == imgops.SideFraction {
		f = float64(min(to.Width, to.Height)) / float64(min(from.Width, from.Height))
	}
	tr.CX *= fx
	tr.CY *= fy
	tr.Scale *= f
	tr.BlurSigma = min(tr.BlurSigma*f, 10)
	return tr
}

// parallelFor runs fn(0..n-1) on up to GOMAXPROCS goroutines, each index on
// one of them, and returns the first error by index.
func parallelFor(n int, fn func(j int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, n)
	if workers <= 1 {
		for j := 0; j < n; j++ {
			errs[j] = fn(j)
		}
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for j := w; j < n; j += workers {
					errs[j] = fn(j)
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
