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

// integratedGradients returns, per image x and baseline x',
// (x − x')·(1/m) Σ_k ∂z_y/∂x (x' + α_k(x − x')) with α_k = (k − ½)/m, the
// midpoint Riemann sum of Sundararajan et al.'s path integral (its error
// falls as 1/m² where the gradient is smooth, against 1/m for their right
// sum), and each image's completeness error Σ attributions − (z_y(x) −
// z_y(x')).
func integratedGradients(ctx context.Context, c engine.Classifier, images []float32, classes []int, o *Options) ([]float32, []float64, error) {
	size, m := c.InputShape().Size(), o.Steps
	base := o.Baseline
	if base == nil {
		base = make([]float32, size)
	}
	out := make([]float32, len(images))
	gaps := make([]float64, len(classes))
	path := make([]float32, m*size)
	cls := make([]int, m)
	acc := make([]float64, size)
	for i := range classes {
		x := images[i*size : (i+1)*size]
		for k := 0; k < m; k++ {
			a := (float32(k) + 0.5) / float32(m)
			p := path[k*size : (k+1)*size]
			for j, v := range x {
				p[j] = base[j] + a*(v-base[j])
			}
			cls[k] = classes[i]
		}
		g, _, err := logitGrads(ctx, c, path, cls, o.BatchSize)
		if err != nil {
			return nil, nil, err
		}
		clear(acc)
		for k := 0; k < m; k++ {
			for j, v := range g[k*size : (k+1)*size] {
				acc[j] += float64(v)
			}
		}
		var sum float64
		for j, v := range acc {
			a := float64(x[j]-base[j]) * v / float64(m)
			out[i*size+j] = float32(a)
			sum += a
		}
		ends := append(append([]float32(nil), x...), base...)
		z, err := c.Logits(ctx, ends, 2)
		if err != nil {
			return nil, nil, err
		}
		k := len(c.Labels())
		gaps[i] = sum - float64(z[classes[i]]-z[k+classes[i]])
	}
	return out, gaps, nil
}
