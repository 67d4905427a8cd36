package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of normalisations, with respect to the data input only.

func checkBatchNorm(x *gradExport, n *onnx.NodeProto) error {
	if nodeInt(n, "training_mode", 0) != 0 {
		return fmt.Errorf("training-mode batch normalisation; export the model in eval mode")
	}
	if x.rank(n.GetInput()[0]) < 2 {
		return fmt.Errorf("input of rank %d has no channel axis", x.rank(n.GetInput()[0]))
	}
	return nil
}

// bwdBatchNorm: inference batch normalisation is y = x·s + b per channel,
// with s = scale/√(var+ε), so dx = dy·s. Where dy is a ReLU's masked
// gradient g·mask (a BatchNormalization that ONNX Runtime could not fold
// into a Conv, followed by a Relu: DenseNet's after each Concat), it is
// (g·s)·mask instead: g usually comes straight from the backward Conv of the
// next layer, and ONNX Runtime folds a Conv's Mul by a constant per-channel
// vector into the Conv's filters (DenseNet-121: Mul 2.0 ms of 41).
func bwdBatchNorm(c *bwdCtx) error {
	eps := nodeFloat(c.n, "epsilon", 1e-5)
	s := c.op("Div", []string{c.in(1), c.op("Sqrt", []string{c.op("Add", []string{c.in(4), c.f32(eps)})})})
	if r := c.rank(c.in(0)); r > 2 {
		s = c.op("Unsqueeze", []string{s, c.i64s(trailingAxes(r)...)})
	}
	if m, ok := c.masks[c.dy[0]]; ok {
		c.give(0, c.op("Mul", []string{c.op("Mul", []string{m.dy, s}), m.mask}))
		return nil
	}
	c.give(0, c.op("Mul", []string{c.dy[0], s}))
	return nil
}

// trailingAxes returns the axes 1…r−2: where a per-channel [C] vector is
// unsqueezed to broadcast against an [N,C,spatial…] tensor.
func trailingAxes(r int) []int64 {
	var axes []int64
	for i := 1; i < r-1; i++ {
		axes = append(axes, int64(i))
	}
	return axes
}

// layerNormAxes returns the normalised axes of a LayerNormalization and the
// number of elements they hold.
func (x *gradExport) layerNormAxes(n *onnx.NodeProto) ([]int64, int64, error) {
	xi := x.tinfo(n.GetInput()[0])
	axis, err := normAxis(nodeInt(n, "axis", -1), len(xi.dims))
	if err != nil {
		return nil, 0, err
	}
	var axes []int64
	count := int64(1)
	for i := axis; i < int64(len(xi.dims)); i++ {
		if xi.dyn[i] {
			return nil, 0, fmt.Errorf("normalised axis %d changes with the batch size", i)
		}
		axes = append(axes, i)
		count *= xi.dims[i]
	}
	return axes, count, nil
}

func checkLayerNorm(x *gradExport, n *onnx.NodeProto) error {
	if st := nodeInt(n, "stash_type", 1); st != 1 {
		return fmt.Errorf("stash_type %d; the gradient graph supports float32 statistics (stash_type 1)", st)
	}
	_, _, err := x.layerNormAxes(n)
	return err
}

// prepLayerNorm makes the forward LayerNormalization also output its Mean
// and InvStdDev, which the backward pass reuses.
func prepLayerNorm(c *bwdCtx) error {
	outs := append([]string(nil), c.n.GetOutput()...)
	for len(outs) < 3 {
		outs = append(outs, "")
	}
	for i := 1; i < 3; i++ {
		if outs[i] == "" {
			outs[i] = c.fresh()
		}
	}
	c.n.Output = outs
	return nil
}

// normBackward is the input gradient of x̂ = (x−μ)·inv over the given axes,
// scaled by g = dy·scale: inv·(g − mean(g) − x̂·mean(g·x̂)).
func normBackward(c *bwdCtx, g, xhat, inv string, axes []int64, count int64) string {
	ax := c.i64s(axes...)
	mean := func(t string) string {
		return c.op("Mul", []string{c.op("ReduceSum", []string{t, ax}, onnxproto.AttrInt("keepdims", 1)), c.f32(1 / float32(count))})
	}
	mg := mean(g)
	mgx := mean(c.op("Mul", []string{g, xhat}))
	d := c.op("Sub", []string{c.op("Sub", []string{g, mg}), c.op("Mul", []string{xhat, mgx})})
	return c.op("Mul", []string{inv, d})
}

// bwdLayerNorm: the full input gradient of layer normalisation over axes
// axis…r−1, from the forward node's own Mean and InvStdDev.
func bwdLayerNorm(c *bwdCtx) error {
	axes, count, err := c.layerNormAxes(c.n)
	if err != nil {
		return err
	}
	inv := c.out(2)
	xhat := c.op("Mul", []string{c.op("Sub", []string{c.in(0), c.out(1)}), inv})
	g := c.op("Mul", []string{c.dy[0], c.in(1)})
	c.give(0, normBackward(c, g, xhat, inv, axes, count))
	return nil
}

// bwdInstanceNorm: layer normalisation over the spatial axes of each
// sample and channel, with a per-channel scale; the statistics are
// recomputed.
func bwdInstanceNorm(c *bwdCtx) error {
	x := c.in(0)
	xi := c.tinfo(x)
	r := len(xi.dims)
	if r < 3 {
		return fmt.Errorf("input of rank %d has no spatial axes", r)
	}
	var axes []int64
	for i := 2; i < r; i++ {
		axes = append(axes, int64(i))
	}
	count := prodInts(xi.dims[2:])
	ax := c.i64s(axes...)
	mean := func(t string) string {
		return c.op("Mul", []string{c.op("ReduceSum", []string{t, ax}, onnxproto.AttrInt("keepdims", 1)), c.f32(1 / float32(count))})
	}
	xc := c.op("Sub", []string{x, mean(x)})
	variance := mean(c.op("Mul", []string{xc, xc}))
	eps := nodeFloat(c.n, "epsilon", 1e-5)
	inv := c.op("Reciprocal", []string{c.op("Sqrt", []string{c.op("Add", []string{variance, c.f32(eps)})})})
	xhat := c.op("Mul", []string{xc, inv})
	scale := c.op("Unsqueeze", []string{c.in(1), c.i64s(trailingAxes(r)...)})
	g := c.op("Mul", []string{c.dy[0], scale})
	c.give(0, normBackward(c, g, xhat, inv, axes, count))
	return nil
}

func checkReduce(x *gradExport, n *onnx.NodeProto) error {
	_, _, err := x.reduceAxes(n, x.rank(n.GetInput()[0]), reduceAxesInputFrom(n.GetOpType()))
	return err
}

// reduceAxesInputFrom is the opset from which a Reduce* operator takes its
// axes as an input rather than an attribute.
func reduceAxesInputFrom(op string) int64 {
	if op == "ReduceSum" {
		return 13
	}
	return 18
}

// reduceBackward returns dy shaped with the reduced axes kept (size 1),
// the reduced axes, and whether the node is an identity.
// reduceRule makes a Reduce* backward rule from body, which gets dy with the
// reduced axes kept and the axes; a reduction over no axes passes dy on.
func reduceRule(body func(c *bwdCtx, dyk string, axes []int64) error) func(*bwdCtx) error {
	return func(c *bwdCtx) error {
		dyk, axes, noop, err := reduceBackward(c)
		if err != nil {
			return err
		}
		if noop {
			c.give(0, dyk)
			return nil
		}
		return body(c, dyk, axes)
	}
}

func reduceBackward(c *bwdCtx) (dyk string, axes []int64, noop bool, err error) {
	x := c.in(0)
	axes, noop, err = c.reduceAxes(c.n, c.rank(x), reduceAxesInputFrom(c.n.GetOpType()))
	if err != nil || noop {
		return c.dy[0], axes, noop, err
	}
	dyk = c.dy[0]
	if nodeInt(c.n, "keepdims", 1) == 0 {
		dyk = c.op("Unsqueeze", []string{dyk, c.i64s(axes...)})
	}
	return dyk, axes, false, nil
}

// bwdReduceSum: dy broadcast back over the reduced axes (by the Add that
// sums the input's gradient, or an Expand where there is none).
func bwdReduceSum(c *bwdCtx) error {
	dyk, _, noop, err := reduceBackward(c)
	if err != nil {
		return err
	}
	if noop {
		c.give(0, dyk)
		return nil
	}
	c.giveBroadcast(0, dyk)
	return nil
}

// bwdReduceMean: dy/count broadcast back over the reduced axes.
var bwdReduceMean = reduceRule(func(c *bwdCtx, dyk string, axes []int64) error {
	xi := c.tinfo(c.in(0))
	count := int64(1)
	for _, a := range axes {
		if xi.dyn[a] {
			return fmt.Errorf("it averages over axis %d, which changes with the batch size", a)
		}
		count *= xi.dims[a]
	}
	c.giveBroadcast(0, c.op("Mul", []string{dyk, c.f32(1 / float32(count))}))
	return nil
})

// bwdReduceMax shares dy equally among the positions that reach the
// maximum (PyTorch's amax rule); ReduceMin's rule too, for the minimum.
var bwdReduceMax = reduceRule(func(c *bwdCtx, dyk string, axes []int64) error {
	yk := c.out(0)
	if nodeInt(c.n, "keepdims", 1) == 0 {
		yk = c.op("Unsqueeze", []string{yk, c.i64s(axes...)})
	}
	mask := c.op("Cast", []string{c.op("Equal", []string{c.in(0), yk})}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
	count := c.op("ReduceSum", []string{mask, c.i64s(axes...)}, onnxproto.AttrInt("keepdims", 1))
	c.give(0, c.op("Mul", []string{mask, c.op("Div", []string{dyk, count})}))
	return nil
})
