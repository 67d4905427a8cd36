package onnxgrad

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of the variadic element-wise Mean, Max and Min, whose
// operands broadcast (numpy rules) to the output's shape.

// bwdMean: every operand gets dy/n, summed over the axes it broadcast along.
func bwdMean(c *bwdCtx) error {
	n := len(c.n.GetInput())
	g := c.dy[0]
	if n > 1 {
		g = c.op("Mul", []string{g, c.f32(1 / float32(n))})
	}
	for i := 0; i < n; i++ {
		if c.needs(i) {
			c.give(i, c.unbroadcast(g, c.out(0), c.in(i)))
		}
	}
	return nil
}

// bwdMaxMin gives dy to the operands equal to the output (Max or Min) and
// shares it equally among tied ones, as ReduceMax's rule and PyTorch's
// maximum/minimum do.
func bwdMaxMin(c *bwdCtx) error {
	n := len(c.n.GetInput())
	if n == 1 {
		c.give(0, c.dy[0])
		return nil
	}
	masks := make([]string, n)
	for i := range masks {
		masks[i] = c.op("Cast", []string{c.op("Equal", []string{c.in(i), c.out(0)})}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
	}
	count := c.op("Sum", masks)
	share := c.op("Div", []string{c.dy[0], count})
	for i := range masks {
		if c.needs(i) {
			c.give(i, c.unbroadcast(c.op("Mul", []string{share, masks[i]}), c.out(0), c.in(i)))
		}
	}
	return nil
}
