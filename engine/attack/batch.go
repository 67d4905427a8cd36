package attack

import (
	"context"
	"fmt"
	"slices"

	"github.com/advlab/advlab/engine"
)

// RunBatched runs attack a over n = len(labels) images in batches of at most
// batch images, merging the results in input order and reporting progress
// over the whole run. When ctx is cancelled (or a batch fails) it returns
// the batches finished so far and the interrupted batch's best result,
// counted in Unfinished, with the error; images of later batches are
// absent, so len(Samples) may be less than n. Finished drops the
// interrupted batch, for reports that must not count it as failures.
func RunBatched(ctx context.Context, a Attack, c engine.Classifier, images []float32, labels []int, target int, batch int, progress func(Progress)) (Result, error) {
	size := c.InputShape().Size()
	n := len(labels)
	if batch <= 0 {
		return Result{}, fmt.Errorf("%s: batch size %d must be positive", a.Name(), batch)
	}
	if size == 0 || len(images) != n*size {
		return Result{}, fmt.Errorf("%s: %d floats are not %d images of %d values", a.Name(), len(images), n, size)
	}
	batches := (n + batch - 1) / batch
	out := Result{Adversarial: make([]float32, 0, len(images)), Samples: make([]SampleResult, 0, n)}
	for b := 0; b < batches; b++ {
		lo, hi := b*batch, min((b+1)*batch, n)
		var inner func(Progress)
		if progress != nil {
			inner = func(p Progress) {
				p.Batch, p.Batches = b+1, batches
				p.Fraction = (float64(b) + p.Fraction) / float64(batches)
				progress(p)
			}
		}
		r, err := a.Run(ctx, c, images[lo*size:hi*size], labels[lo:hi], target, inner)
		if len(r.Samples) == hi-lo {
			out.Adversarial = append(out.Adversarial, r.Adversarial...)
			out.Samples = append(out.Samples, r.Samples...)
			for _, w := range r.Warnings {
				if !slices.Contains(out.Warnings, w) {
					out.Warnings = append(out.Warnings, w)
				}
			}
			if err != nil {
				out.Unfinished = hi - lo
			}
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Finished returns r without its Unfinished samples and their images.
func (r Result) Finished() Result {
	if r.Unfinished == 0 || len(r.Samples) == 0 {
		return r
	}
	n := len(r.Samples) - r.Unfinished
	size := len(r.Adversarial) / len(r.Samples)
	return Result{Adversarial: r.Adversarial[: n*size : n*size], Samples: r.Samples[:n:n], Warnings: r.Warnings}
}
