package engine

import (
	"cmp"
	"math"
	"slices"
)

// Softmax returns the probabilities of one row of logits, computed in
// float64 after subtracting the largest logit so that no exponential
// overflows. An empty row gives an empty result.
func Softmax(z []float32) []float64 {
	hi := math.Inf(-1)
	for _, v := range z {
		hi = math.Max(hi, float64(v))
	}
	p := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		p[i] = math.Exp(float64(v) - hi)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// Argmax returns the index of the largest value of z, the first one on
// ties, or -1 when z is empty. NaNs are never the largest.
func Argmax[F ~float32 | ~float64](z []F) int {
	best := -1
	for i, v := range z {
		if v == v && (best < 0 || v > z[best]) {
			best = i
		}
	}
	if best < 0 && len(z) > 0 {
		return 0 // all NaN
	}
	return best
}

// TopK returns the indices of the k largest values of p, largest first;
// ties keep the lower index first. k larger than len(p) gives every index;
// k ≤ 0 gives none.
func TopK[F ~float32 | ~float64](p []F, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[b], p[a]) })
	return idx[:max(0, min(k, len(idx)))]
}
