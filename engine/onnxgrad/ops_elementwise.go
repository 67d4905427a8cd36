package onnxgrad

// Backward rules of element-wise arithmetic. Binary operators broadcast
// (numpy rules), so each operand's gradient is summed back over the axes it
// was broadcast along (gradExport.unbroadcast).

// bwdAdd: d(a+b) = (dy, dy).
func bwdAdd(c *bwdCtx) error {
	for i := 0; i < 2; i++ {
		if c.needs(i) {
			c.give(i, c.unbroadcast(c.dy[0], c.out(0), c.in(i)))
		}
	}
	return nil
}

// bwdSub: d(a−b) = (dy, −dy).
func bwdSub(c *bwdCtx) error {
	if c.needs(0) {
		c.give(0, c.unbroadcast(c.dy[0], c.out(0), c.in(0)))
	}
	if c.needs(1) {
		c.give(1, c.unbroadcast(c.op("Neg", []string{c.dy[0]}), c.out(0), c.in(1)))
	}
	return nil
}

// bwdMul: d(a·b) = (dy·b, dy·a), or the SiLU rule for x·sigmoid(x).
func bwdMul(c *bwdCtx) error {
	if x, ok := siluInput(c); ok {
		bwdSiLU(c, x)
		return nil
	}
	for i := 0; i < 2; i++ {
		if c.needs(i) {
			g := c.op("Mul", []string{c.dy[0], c.in(1 - i)})
			c.give(i, c.unbroadcast(g, c.out(0), c.in(i)))
		}
	}
	return nil
}

// siluInput reports whether the Mul is SiLU (Swish), x·sigmoid(x) with the
// operands either way round, and returns the index of x.
func siluInput(c *bwdCtx) (int, bool) {
	for i := 0; i < 2; i++ {
		x, s := c.in(i), c.in(1-i)
		if p := c.producers[s]; x != s && p != nil && p.GetOpType() == "Sigmoid" && p.GetInput()[0] == x {
			return i, true
		}
	}
	return 0, false
}

// bwdSiLU gives x, input xi of y = x·s with s = sigmoid(x), the whole of
// dy·dy/dx = dy·(s + x·s·(1−s)) = dy·(s + y·(1−s)), and s nothing: four
// element-wise passes reusing s and y from the forward, where the product
// rule, the Sigmoid rule and the Add of their two gradients of x take six
// (EfficientNet's SiLUs). Other consumers of s still reach x through the
// Sigmoid's own rule.
func bwdSiLU(c *bwdCtx, xi int) {
	s := c.in(1 - xi)
	d := c.op("Add", []string{s, c.op("Mul", []string{c.out(0), c.op("Sub", []string{c.f32(1), s})})})
	c.give(xi, c.op("Mul", []string{c.dy[0], d}))
}

// bwdDiv: d(a/b) = (dy/b, −dy·y/b) with y = a/b.
func bwdDiv(c *bwdCtx) error {
	if c.needs(0) {
		c.give(0, c.unbroadcast(c.op("Div", []string{c.dy[0], c.in(1)}), c.out(0), c.in(0)))
	}
	if c.needs(1) {
		g := c.op("Div", []string{c.op("Mul", []string{c.dy[0], c.out(0)}), c.in(1)})
		c.give(1, c.unbroadcast(c.op("Neg", []string{g}), c.out(0), c.in(1)))
	}
	return nil
}

// bwdSum: every operand of the variadic Sum gets dy.
func bwdSum(c *bwdCtx) error {
	for i := range c.n.GetInput() {
		if c.needs(i) {
			c.give(i, c.unbroadcast(c.dy[0], c.out(0), c.in(i)))
		}
	}
	return nil
}

// bwdNeg: d(−x) = −dy.
func bwdNeg(c *bwdCtx) error {
	c.give(0, c.op("Neg", []string{c.dy[0]}))
	return nil
}

// bwdPow: d(a^b) = (dy·b·a^(b−1), dy·y·ln a).
func bwdPow(c *bwdCtx) error {
	a, b, y := c.in(0), c.in(1), c.out(0)
	if c.needs(0) {
		bm1 := c.op("Sub", []string{b, c.f32(1)})
		g := c.op("Mul", []string{c.dy[0], c.op("Mul", []string{b, c.op("Pow", []string{a, bm1})})})
		c.give(0, c.unbroadcast(g, y, a))
	}
	if c.needs(1) {
		g := c.op("Mul", []string{c.op("Mul", []string{c.dy[0], y}), c.op("Log", []string{a})})
		c.give(1, c.unbroadcast(g, y, b))
	}
	return nil
}

// bwdSqrt: d√x = dy·0.5/y.
func bwdSqrt(c *bwdCtx) error {
	c.give(0, c.op("Div", []string{c.op("Mul", []string{c.dy[0], c.f32(0.5)}), c.out(0)}))
	return nil
}

// bwdExp: d exp(x) = dy·y.
func bwdExp(c *bwdCtx) error {
	c.give(0, c.op("Mul", []string{c.dy[0], c.out(0)}))
	return nil
}

// bwdLog: d ln x = dy/x.
func bwdLog(c *bwdCtx) error {
	c.give(0, c.op("Div", []string{c.dy[0], c.in(0)}))
	return nil
}

// bwdAbs: d|x| = dy·sign(x).
func bwdAbs(c *bwdCtx) error {
	c.give(0, c.op("Mul", []string{c.dy[0], c.op("Sign", []string{c.in(0)})}))
	return nil
}

// bwdReciprocal: d(1/x) = −dy·y².
func bwdReciprocal(c *bwdCtx) error {
	y := c.out(0)
	c.give(0, c.op("Neg", []string{c.op("Mul", []string{c.dy[0], c.op("Mul", []string{y, y})})}))
	return nil
}
