package saliency

import (
	"context"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// vanilla returns ∂z_y/∂x for each image.
func vanilla(ctx context.Context, c engine.Classifier, images []float32, classes []int, batch int) ([]float32, error) {
	g, _, err := logitGrads(ctx, c, images, classes, batch)
	return g, err
}

// smoothGrad returns, per image x, (1/n) Σ ∂z_y/∂x (x + N(0, σ²)) with
// σ = Sigma·(max x − min x) (Smilkov et al. 2017, eq. 3). The noisy copies
// are not clipped to [0,1], as in the paper. Means are accumulated in
// float64, so that σ = 0 gives the vanilla gradient exactly.
func smoothGrad(ctx context.Context, c engine.Classifier, images []float32, classes []int, o *Options) ([]float32, error) {
	size, s := c.InputShape().Size(), o.Samples
	rng := rand.New(rand.NewPCG(o.Seed, 0x5a11e7c7))
	out := make([]float32, len(images))
	copies := make([]float32, s*size)
	cls := make([]int, s)
	acc := make([]float64, size)
	for i := range classes {
		x := images[i*size : (i+1)*size]
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		sigma := *o.Sigma * float64(hi-lo)
		if hi == lo {
			sigma = *o.Sigma // a flat image: the range of [0,1] pixels
		}
		for k := 0; k < s; k++ {
			cp := copies[k*size : (k+1)*size]
			for j, v := range x {
				cp[j] = v + float32(sigma*rng.NormFloat64())
			}
			cls[k] = classes[i]
		}
		g, _, err := logitGrads(ctx, c, copies, cls, o.BatchSize)
		if err != nil {
			return nil, err
		}
		clear(acc)
		for k := 0; k < s; k++ {
			for j, v := range g[k*size : (k+1)*size] {
				acc[j] += float64(v)
			}
		}
		for j, v := range acc {
			out[i*size+j] = float32(v / float64(s))
		}
	}
	return out, nil
}
