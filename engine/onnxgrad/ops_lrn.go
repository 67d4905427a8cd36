package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rule of LRN, local response normalisation across channels:
// y_c = x_c·s_c^(−β) with s_c = bias + α/size·Σ_{c'∈W(c)} x_c'², where
// W(c) = [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉] clipped to the channels. So
//
//	dx_k = dy_k·s_k^(−β) − 2αβ/size · x_k · Σ_{c: k∈W(c)} dy_c·y_c/s_c,
//
// and k ∈ W(c) is c ∈ [k − ⌈(size−1)/2⌉, k + ⌊(size−1)/2⌋]: the window
// mirrored. Both window sums are a Conv of the channels, laid out as
// [N, 1, C, rest], with a [1,1,size,1] kernel of ones and pads that place
// the window; the statistics s are recomputed from x.

func checkLRN(x *gradExport, n *onnx.NodeProto) error {
	xi := x.tinfo(n.GetInput()[0])
	if len(xi.dims) < 2 || xi.dyn[1] {
		return fmt.Errorf("input of rank %d without a fixed channel axis", len(xi.dims))
	}
	if size := nodeInt(n, "size", 0); size < 1 {
		return fmt.Errorf("size %d", size)
	}
	return nil
}

// bwdLRN emits the rule above.
func bwdLRN(c *bwdCtx) error {
	x, y := c.in(0), c.out(0)
	size := nodeInt(c.n, "size", 0)
	alpha, beta := nodeFloat(c.n, "alpha", 1e-4), nodeFloat(c.n, "beta", 0.75)
	bias := nodeFloat(c.n, "bias", 1)
	lo, hi := (size-1)/2, size-1-(size-1)/2
	ch := c.tinfo(x).dims[1]
	ones := make([]float32, size)
	for i := range ones {
		ones[i] = 1
	}
	kernel := c.f32s([]int64{1, 1, size, 1}, ones)
	// window sums t over channel windows [c−before, c+after].
	window := func(t string, before, after int64) string {
		t = c.op("Reshape", []string{t, c.i64s(0, 1, ch, -1)})
		s := c.op("Conv", []string{t, kernel}, onnxproto.AttrInts("pads", []int64{before, 0, after, 0}))
		return c.op("Reshape", []string{s, c.shapeOf(x)})
	}
	s := c.op("Add", []string{c.op("Mul", []string{window(c.op("Mul", []string{x, x}), lo, hi), c.f32(alpha / float32(size))}), c.f32(bias)})
	direct := c.op("Mul", []string{c.dy[0], c.op("Pow", []string{s, c.f32(-beta)})})
	t := c.op("Div", []string{c.op("Mul", []string{c.dy[0], y}), s})
	back := c.op("Mul", []string{x, c.op("Mul", []string{window(t, hi, lo), c.f32(2 * alpha * beta / float32(size))})})
	c.give(0, c.op("Sub", []string{direct, back}))
	return nil
}
