package engine

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

// bwdMul: d(a·b) = (dy·b, dy·a).
func bwdMul(c *bwdCtx) error {
	for i := 0; i < 2; i++ {
		if c.needs(i) {
			g := c.op("Mul", []string{c.dy[0], c.in(1 - i)})
			c.give(i, c.unbroadcast(g, c.out(0), c.in(i)))
		}
	}
	return nil
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
