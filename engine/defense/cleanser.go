package defense

import (
	"context"
	"fmt"
	"math"

	"github.com/advlab/advlab/engine"
)

// CleanserOptions configures PatchCleanser.
type CleanserOptions struct {
	// Size is the largest patch the defense is built against: below 1 a
	// fraction of the image's shorter side, from 1 on a side in pixels
	// (default 0.1). The patch is taken square.
	Size float64
	// Masks is k, the number of mask positions per axis (default 6: the
	// paper's 6×6 mask set).
	Masks int
	// Fill is the value masked pixels take, in [0,1] (default 0.5, grey).
	Fill float64
}

// DefaultCleanserOptions returns a patch of 10% of the image's side, a 6×6
// mask set and grey masks.
func DefaultCleanserOptions() CleanserOptions {
	return CleanserOptions{Size: 0.1, Masks: 6, Fill: 0.5}
}

// Validate checks the options that do not depend on the image's size.
func (o CleanserOptions) Validate() error {
	switch {
	case !(o.Size > 0) || math.IsInf(o.Size, 0):
		return invalidf("cleanser: size %g must be a fraction of the image side in (0,1) or pixels from 1 on", o.Size)
	case o.Masks < 1 || o.Masks > 64:
		return invalidf("cleanser: masks %d must be 1–64 per axis", o.Masks)
	case !(o.Fill >= 0 && o.Fill <= 1):
		return invalidf("cleanser: fill %g must be in [0,1]", o.Fill)
	}
	return nil
}

// patchSide returns the patch's side in pixels for an h×w image.
func (o CleanserOptions) patchSide(h, w int) int {
	if o.Size >= 1 {
		return int(math.Ceil(o.Size))
	}
	return max(1, int(math.Ceil(o.Size*float64(min(h, w)))))
}

// Mask is a rectangle of image pixels, [X, X+W) × [Y, Y+H).
type Mask struct{ X, Y, W, H int }

// Contains reports whether the p×p patch at (x, y) lies inside m.
func (m Mask) Contains(x, y, p int) bool {
	return m.X <= x && x+p <= m.X+m.W && m.Y <= y && y+p <= m.Y+m.H
}

// maskAxis returns the masks' extent and start positions along an axis of
// n pixels for a patch of p: Xiang et al.'s stride s = ⌈(n−p+1)/k⌉ and
// size m = p+s−1, starts 0, s, 2s, … with the last moved to n−m, so every
// patch start u ∈ [0, n−p] has a mask start in [u−s+1, u].
func maskAxis(n, p, k int) (int, []int) {
	s := (n - p + k) / k // ⌈(n−p+1)/k⌉
	m := min(n, p+s-1)
	var starts []int
	for x := 0; ; x += s {
		if x+m >= n {
			return m, append(starts, n-m)
		}
		starts = append(starts, x)
	}
}

// MaskSet returns PatchCleanser's mask set for an h×w image and a p×p
// patch with k positions per axis: at most k×k rectangles, one of which
// covers the patch wherever it lies.
func MaskSet(h, w, p, k int) ([]Mask, error) {
	if p < 1 || p > min(h, w) || k < 1 {
		return nil, fmt.Errorf("cleanser: a %d-pixel patch and %d masks per axis do not fit a %dx%d image; give a smaller size", p, k, w, h)
	}
	mh, ys := maskAxis(h, p, k)
	mw, xs := maskAxis(w, p, k)
	var out []Mask
	for _, y := range ys {
		for _, x := range xs {
			out = append(out, Mask{X: x, Y: y, W: mw, H: mh})
		}
	}
	return out, nil
}

// Cleanser is Xiang et al.'s PatchCleanser (2022) around any classifier:
// double masking against a patch of up to a given size. A first round
// classifies the image under every mask of the set; when all agree that is
// the prediction. Otherwise each mask whose class disagrees with the
// majority is tried in turn: if every second mask added to it keeps its
// class, that class is the prediction (the patch was under the first
// mask); if none passes, the majority's class. Certify checks that every
// pair of masks gives the label, which proves no patch of the size can
// change the prediction.
//
// Logits are the mean of the first-round masked logits, with the
// prediction's logit swapped with the largest where they differ, so the
// top class is the defense's prediction. The gradient is that mean's: the
// expectation over the first-round masks of the wrapped model's gradient
// on the masked images (EOT), zero under each mask.
type Cleanser struct {
	inner engine.Classifier
	opts  CleanserOptions
	patch int
	masks []Mask
}

// NewCleanser wraps c; nil options mean DefaultCleanserOptions.
func NewCleanser(c engine.Classifier, opts *CleanserOptions) (*Cleanser, error) {
	o := DefaultCleanserOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := c.InputShape()
	p := o.patchSide(s.Height, s.Width)
	masks, err := MaskSet(s.Height, s.Width, p, o.Masks)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	return &Cleanser{inner: c, opts: o, patch: p, masks: masks}, nil
}

// Inner returns the wrapped model.
func (c *Cleanser) Inner() engine.Classifier { return c.inner }

// Name is the wrapped model's name and the patch's side in pixels ("signs-resnet+cleanser7px").
func (c *Cleanser) Name() string { return fmt.Sprintf("%s+cleanser%dpx", c.inner.Name(), c.patch) }

// Labels are the wrapped model's.
func (c *Cleanser) Labels() []string { return c.inner.Labels() }

// InputShape is the wrapped model's.
func (c *Cleanser) InputShape() engine.ImageShape { return c.inner.InputShape() }

// PatchSide is the side in pixels of the largest patch the defense holds against.
func (c *Cleanser) PatchSide() int { return c.patch }

// Masks returns the mask set.
func (c *Cleanser) Masks() []Mask { return append([]Mask(nil), c.masks...) }

// maskJob is one masked copy of an image: a mask, or two (b ≥ 0).
type maskJob struct{ img, a, b int }

// maskChunk bounds how many masked images go to the wrapped model at once.
const maskChunk = 128

// fill appends image x with the jobs' masks set to Fill.
func (c *Cleanser) fill(buf, x []float32, j maskJob) []float32 {
	s := c.InputShape()
	start := len(buf)
	buf = append(buf, x...)
	for _, mi := range []int{j.a, j.b} {
		if mi < 0 {
			continue
		}
		m := c.masks[mi]
		for ch := 0; ch < s.Channels; ch++ {
			for y := m.Y; y < m.Y+m.H; y++ {
				row := buf[start+(ch*s.Height+y)*s.Width:]
				for x := m.X; x < m.X+m.W; x++ {
					row[x] = float32(c.opts.Fill)
				}
			}
		}
	}
	return buf
}

// run classifies the jobs' masked images in chunks: logits len(jobs)×K.
func (c *Cleanser) run(ctx context.Context, images []float32, jobs []maskJob) ([]float32, error) {
	size := c.InputShape().Size()
	out := make([]float32, 0, len(jobs)*len(c.Labels()))
	buf := make([]float32, 0, min(len(jobs), maskChunk)*size)
	for lo := 0; lo < len(jobs); lo += maskChunk {
		hi := min(len(jobs), lo+maskChunk)
		buf = buf[:0]
		for _, j := range jobs[lo:hi] {
			buf = c.fill(buf, images[j.img*size:(j.img+1)*size], j)
		}
		z, err := c.inner.Logits(ctx, buf, hi-lo)
		if err != nil {
			return nil, err
		}
		out = append(out, z...)
	}
	return out, nil
}

// firstRound returns the jobs of every image under every single mask.
func (c *Cleanser) firstRound(n int) []maskJob {
	jobs := make([]maskJob, 0, n*len(c.masks))
	for i := range n {
		for a := range c.masks {
			jobs = append(jobs, maskJob{i, a, -1})
		}
	}
	return jobs
}

// decide runs double masking on n images given their first-round logits
// (n×M×K): each image's class.
func (c *Cleanser) decide(ctx context.Context, images []float32, n int, first []float32) ([]int, error) {
	k, nm := len(c.Labels()), len(c.masks)
	pred := make([]int, n*nm)
	for q := range pred {
		pred[q] = engine.Argmax(first[q*k : (q+1)*k])
	}
	out := make([]int, n)
	var jobs []maskJob
	for i := range n {
		row := pred[i*nm : (i+1)*nm]
		counts := make([]int, k)
		for _, y := range row {
			counts[y]++
		}
		out[i] = argmaxInt(counts)
		for a, y := range row {
			if y != out[i] {
				for b := range c.masks {
					jobs = append(jobs, maskJob{i, a, b})
				}
			}
		}
	}
	if len(jobs) == 0 {
		return out, nil
	}
	second, err := c.run(ctx, images, jobs)
	if err != nil {
		return nil, err
	}
	// The jobs come in groups of M (one first mask, every second one), in
	// mask order per image: the first group whose classes all agree with
	// its first-round class wins, as in the paper's sequential loop.
	settled := make([]bool, n)
	for g := 0; g < len(jobs); g += nm {
		i, a := jobs[g].img, jobs[g].a
		if settled[i] {
			continue
		}
		want, agree := pred[i*nm+a], true
		for q := g; q < g+nm && agree; q++ {
			agree = engine.Argmax(second[q*k:(q+1)*k]) == want
		}
		if agree {
			out[i], settled[i] = want, true
		}
	}
	return out, nil
}

// Predict returns double masking's class for each of the n images.
func (c *Cleanser) Predict(ctx context.Context, images []float32, n int) ([]int, error) {
	if err := checkBatch(c.Name(), c.InputShape(), images, n); err != nil {
		return nil, err
	}
	first, err := c.run(ctx, images, c.firstRound(n))
	if err != nil {
		return nil, err
	}
	return c.decide(ctx, images, n, first)
}

// meanLogits averages the first-round logits per image and makes each
// image's prediction the top class.
func (c *Cleanser) meanLogits(first []float32, pred []int) []float32 {
	k, nm := len(c.Labels()), len(c.masks)
	out := make([]float32, len(pred)*k)
	for i, y := range pred {
		row := out[i*k : (i+1)*k]
		for a := range nm {
			for j, v := range first[(i*nm+a)*k : (i*nm+a+1)*k] {
				row[j] += v / float32(nm)
			}
		}
		if top := engine.Argmax(row); top != y {
			row[top], row[y] = row[y], row[top]
		}
	}
	return out
}

// Logits returns the mean first-round logits, topped by double masking's class.
func (c *Cleanser) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := checkBatch(c.Name(), c.InputShape(), images, n); err != nil {
		return nil, err
	}
	first, err := c.run(ctx, images, c.firstRound(n))
	if err != nil {
		return nil, err
	}
	pred, err := c.decide(ctx, images, n, first)
	if err != nil {
		return nil, err
	}
	return c.meanLogits(first, pred), nil
}

// Gradient returns the mean over the first-round masks of the wrapped
// model's losses and gradients on the masked images, with the logits of
// Logits.
func (c *Cleanser) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	n := len(targets)
	if err := checkBatch(c.Name(), c.InputShape(), images, n); err != nil {
		return engine.Gradients{}, err
	}
	size, k, nm := c.InputShape().Size(), len(c.Labels()), len(c.masks)
	jobs := c.firstRound(n)
	first := make([]float32, 0, len(jobs)*k)
	out := engine.Gradients{Loss: make([]float32, n), Grad: make([]float32, n*size)}
	buf := make([]float32, 0, min(len(jobs), maskChunk)*size)
	for lo := 0; lo < len(jobs); lo += maskChunk {
		hi := min(len(jobs), lo+maskChunk)
		buf = buf[:0]
		t := make([]int64, 0, hi-lo)
		for _, j := range jobs[lo:hi] {
			buf = c.fill(buf, images[j.img*size:(j.img+1)*size], j)
			t = append(t, targets[j.img])
		}
		g, err := c.inner.Gradient(ctx, loss, buf, t)
		if err != nil {
			return engine.Gradients{}, err
		}
		first = append(first, g.Logits...)
		for q, j := range jobs[lo:hi] {
			out.Loss[j.img] += g.Loss[q] / float32(nm)
			// The masked pixels are constants: no gradient reaches them.
			grad := g.Grad[q*size : (q+1)*size]
			zeroMask(grad, c.InputShape(), c.masks[j.a])
			dst := out.Grad[j.img*size : (j.img+1)*size]
			for p, v := range grad {
				dst[p] += v / float32(nm)
			}
		}
	}
	pred, err := c.decide(ctx, images, n, first)
	if err != nil {
		return engine.Gradients{}, err
	}
	out.Logits = c.meanLogits(first, pred)
	return out, nil
}

// zeroMask sets the pixels under m to zero in every channel.
func zeroMask(x []float32, s engine.ImageShape, m Mask) {
	for ch := 0; ch < s.Channels; ch++ {
		for y := m.Y; y < m.Y+m.H; y++ {
			clear(x[(ch*s.Height+y)*s.Width+m.X : (ch*s.Height+y)*s.Width+m.X+m.W])
		}
	}
}

// Certify reports, for each of the n images, whether PatchCleanser is
// certified robust on it against any patch up to PatchSide: every pair of
// masks (a mask with itself is the single mask) gives the label. Xiang et
// al.'s theorem: then the first round agrees on the label for the mask
// that covers the patch, and every second round that keeps a wrong class
// is broken by that mask, so no patch content or position can change the
// prediction.
func (c *Cleanser) Certify(ctx context.Context, images []float32, labels []int) ([]bool, error) {
	n := len(labels)
	if err := checkBatch(c.Name(), c.InputShape(), images, n); err != nil {
		return nil, err
	}
	k, nm := len(c.Labels()), len(c.masks)
	out := make([]bool, n)
	for i := range n {
		jobs := make([]maskJob, 0, nm*(nm+1)/2)
		for a := range nm {
			for b := a; b < nm; b++ {
				jobs = append(jobs, maskJob{i, a, b})
			}
		}
		z, err := c.run(ctx, images, jobs)
		if err != nil {
			return nil, err
		}
		out[i] = true
		for q := range jobs {
			if engine.Argmax(z[q*k:(q+1)*k]) != labels[i] {
				out[i] = false
				break
			}
		}
	}
	return out, nil
}
