package saliency

import (
	"context"
	"math"
	"slices"

	"github.com/advlab/advlab/engine"
)

// igNode is one point α of the straight path x' + α(x − x'), with the class
// logit there and its gradient.
type igNode struct {
	alpha float64
	logit float64
	grad  []float32
}

// igIntervalError is the completeness error of the path's piece [a, b]: the
// trapezoid estimate of ∫ ∇z·(x − x') dα over it minus z(b) − z(a), the
// exact integral the logits at its ends give.
func igIntervalError(a, b *igNode, d []float32) float64 {
	var ga, gb float64
	for j, v := range d {
		ga += float64(a.grad[j]) * float64(v)
		gb += float64(b.grad[j]) * float64(v)
	}
	return (b.alpha-a.alpha)*(ga+gb)/2 - (b.logit - a.logit)
}

// integratedGradients returns, per image x and baseline x', Sundararajan et
// al.'s path integral (x − x')·∫₀¹ ∇z_y(x' + α(x − x')) dα by the
// trapezoid rule on an adaptive grid, each image's completeness error
// Σ attributions − (z_y(x) − z_y(x')) and the gradient evaluations spent.
//
// The grid starts with Steps equal intervals. On every interval the logits
// at its two ends give the exact integral of the projected gradient
// ∇z·(x − x'), so each interval's share of the completeness error is known;
// the worst intervals (largest |error|, a batch at most) are halved,
// until the errors' sum, the completeness gap, is within half of
// Tolerance·max(|z_y(x) − z_y(x')|, 1) or MaxSteps gradients have been
// spent. A ReLU network's gradient jumps where a unit
// switches along the path, which no fixed quadrature resolves: bisecting
// the intervals that hold the jumps does.
func integratedGradients(ctx context.Context, c engine.Classifier, images []float32, classes []int, o *Options) ([]float32, []float64, []int, error) {
	size := c.InputShape().Size()
	base := o.Baseline
	if base == nil {
		base = make([]float32, size)
	}
	out := make([]float32, len(images))
	gaps := make([]float64, len(classes))
	evals := make([]int, len(classes))
	d := make([]float32, size)
	for i := range classes {
		x := images[i*size : (i+1)*size]
		for j, v := range x {
			d[j] = v - base[j]
		}
		nodes, err := igEvaluate(ctx, c, x, base, classes[i], uniformAlphas(o.Steps), o.BatchSize)
		if err != nil {
			return nil, nil, nil, err
		}
		errs := make([]float64, len(nodes)-1)
		for k := range errs {
			errs[k] = igIntervalError(&nodes[k], &nodes[k+1], d)
		}
		// Half the tolerance: the logits of the gradient runs and of the
		// forward pass that checks the result differ in float32's last
		// digits.
		tol := o.Tolerance / 2 * max(math.Abs(nodes[len(nodes)-1].logit-nodes[0].logit), 1)
		for len(nodes) < o.MaxSteps && math.Abs(total(errs)) > tol {
			if err := ctx.Err(); err != nil {
				return nil, nil, nil, err
			}
			worst := worstIntervals(errs, min(o.BatchSize, o.MaxSteps-len(nodes)))
			mids := make([]float64, len(worst))
			for k, w := range worst {
				mids[k] = (nodes[w].alpha + nodes[w+1].alpha) / 2
			}
			added, err := igEvaluate(ctx, c, x, base, classes[i], mids, o.BatchSize)
			if err != nil {
				return nil, nil, nil, err
			}
			nodes = append(nodes, added...)
			slices.SortFunc(nodes, func(a, b igNode) int { return cmpFloat(a.alpha, b.alpha) })
			errs = errs[:0]
			for k := 0; k+1 < len(nodes); k++ {
				errs = append(errs, igIntervalError(&nodes[k], &nodes[k+1], d))
			}
		}
		acc := make([]float64, size)
		for k := 0; k+1 < len(nodes); k++ {
			h := (nodes[k+1].alpha - nodes[k].alpha) / 2
			for j := range acc {
				acc[j] += h * (float64(nodes[k].grad[j]) + float64(nodes[k+1].grad[j]))
			}
		}
		var sum float64
		for j, v := range acc {
			a := float64(d[j]) * v
			out[i*size+j] = float32(a)
			sum += a
		}
		ends := append(append([]float32(nil), x...), base...)
		z, err := c.Logits(ctx, ends, 2)
		if err != nil {
			return nil, nil, nil, err
		}
		k := len(c.Labels())
		gaps[i] = sum - float64(z[classes[i]]-z[k+classes[i]])
		evals[i] = len(nodes)
	}
	return out, gaps, evals, nil
}

// uniformAlphas returns the m+1 ends of m equal intervals of [0, 1].
func uniformAlphas(m int) []float64 {
	a := make([]float64, m+1)
	for k := range a {
		a[k] = float64(k) / float64(m)
	}
	return a
}

// igEvaluate returns the path's nodes at alphas: the class logit and its
// gradient at x' + α(x − x').
func igEvaluate(ctx context.Context, c engine.Classifier, x, base []float32, class int, alphas []float64, batch int) ([]igNode, error) {
	size := len(x)
	path := make([]float32, len(alphas)*size)
	cls := make([]int, len(alphas))
	for k, a := range alphas {
		p := path[k*size : (k+1)*size]
		for j, v := range x {
			p[j] = base[j] + float32(a)*(v-base[j])
		}
		cls[k] = class
	}
	g, z, err := logitGrads(ctx, c, path, cls, batch)
	if err != nil {
		return nil, err
	}
	nodes := make([]igNode, len(alphas))
	for k, a := range alphas {
		nodes[k] = igNode{alpha: a, logit: float64(z[k]), grad: g[k*size : (k+1)*size]}
	}
	return nodes, nil
}

// worstIntervals returns the indices of at most n intervals of largest
// |error|, leaving out those under an eighth of the largest: halving an
// interval the gradient crosses smoothly buys little, and the path's
// error sits in the few that hold its jumps.
func worstIntervals(errs []float64, n int) []int {
	idx := make([]int, len(errs))
	for k := range idx {
		idx[k] = k
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpFloat(math.Abs(errs[b]), math.Abs(errs[a])) })
	idx = idx[:min(n, len(idx))]
	for k, i := range idx {
		if math.Abs(errs[i]) < math.Abs(errs[idx[0]])/8 {
			return idx[:k]
		}
	}
	return idx
}

func total(v []float64) float64 {
	var s float64
	for _, e := range v {
		s += e
	}
	return s
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
