package onnxgrad

// Backward rules of the reductions ReduceL2 and ReduceLogSumExp; ReduceMin
// shares ReduceMax's rule (bwdReduceMax). All read their axes as checkReduce
// does: the axes attribute before opset 18, the axes input from 18 on.

// reduceKept returns the node's output with the reduced axes kept (size 1).
func reduceKept(c *bwdCtx, axes []int64) string {
	if nodeInt(c.n, "keepdims", 1) == 0 {
		return c.op("Unsqueeze", []string{c.out(0), c.i64s(axes...)})
	}
	return c.out(0)
}

// bwdReduceL2: y = √Σx², so dx = dy·x/y, and 0 where y = 0 (PyTorch's
// norm, whose subgradient at 0 it takes as 0).
var bwdReduceL2 = reduceRule(func(c *bwdCtx, dyk string, axes []int64) error {
	x := c.in(0)
	yk := reduceKept(c, axes)
	zero := c.f32(0)
	safe := c.op("Where", []string{c.op("Equal", []string{yk, zero}), c.f32(1), yk})
	scale := c.op("Where", []string{c.op("Equal", []string{yk, zero}), zero, c.op("Div", []string{dyk, safe})})
	c.give(0, c.op("Mul", []string{x, scale}))
	return nil
})

// bwdReduceLogSumExp: y = log Σ exp x, so dx = dy·exp(x − y), the softmax
// over the reduced axes.
var bwdReduceLogSumExp = reduceRule(func(c *bwdCtx, dyk string, axes []int64) error {
	p := c.op("Exp", []string{c.op("Sub", []string{c.in(0), reduceKept(c, axes)})})
	c.give(0, c.op("Mul", []string{p, dyk}))
	return nil
})
