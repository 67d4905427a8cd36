package onnxgrad

// Backward rules of the smooth and exponential activations (Softplus, Mish,
// the ELU family, Softsign) and of the trigonometric and hyperbolic
// functions. Each multiplies dy by the closed-form derivative, written in
// terms of the input x or, where cheaper, the output y.

// scaleDy gives input 0 the gradient dy·d.
func (c *bwdCtx) scaleDy(d string) {
	c.give(0, c.op("Mul", []string{c.dy[0], d}))
}

// bwdSoftplus: log(1+eˣ)' = sigmoid(x).
func bwdSoftplus(c *bwdCtx) error {
	c.scaleDy(c.op("Sigmoid", []string{c.in(0)}))
	return nil
}

// bwdMish: x·tanh(softplus(x)) has derivative t + x·(1−t²)·sigmoid(x),
// with t = tanh(softplus(x)).
func bwdMish(c *bwdCtx) error {
	x := c.in(0)
	t := c.op("Tanh", []string{c.op("Softplus", []string{x})})
	sech2 := c.op("Sub", []string{c.f32(1), c.op("Mul", []string{t, t})})
	right := c.op("Mul", []string{c.op("Mul", []string{x, sech2}), c.op("Sigmoid", []string{x})})
	c.scaleDy(c.op("Add", []string{t, right}))
	return nil
}

// eluLike gives dy·pos where x > 0 and dy·(y·k + b) elsewhere, which is the
// derivative of Elu (pos 1, k 1, b alpha), Selu (pos gamma, k 1,
// b gamma·alpha) and Celu (pos 1, k 1/alpha, b 1): on the negative piece
// each is a·(e^(x/s)−1) scaled, whose derivative is an affine map of y.
func (c *bwdCtx) eluLike(pos, k, b float32) {
	y := c.out(0)
	neg := c.op("Mul", []string{c.dy[0], c.op("Add", []string{c.op("Mul", []string{y, c.f32(k)}), c.f32(b)})})
	p := c.dy[0]
	if pos != 1 {
		p = c.op("Mul", []string{p, c.f32(pos)})
	}
	c.give(0, c.op("Where", []string{c.op("Greater", []string{c.in(0), c.f32(0)}), p, neg}))
}

// bwdElu: 1 for x > 0, alpha·eˣ = y + alpha elsewhere.
func bwdElu(c *bwdCtx) error {
	c.eluLike(1, 1, nodeFloat(c.n, "alpha", 1))
	return nil
}

// Selu's default constants, as the ONNX specification gives them.
const (
	seluAlpha = 1.67326319217681884765625
	seluGamma = 1.05070102214813232421875
)

// bwdSelu: gamma for x > 0, gamma·alpha·eˣ = y + gamma·alpha elsewhere.
func bwdSelu(c *bwdCtx) error {
	alpha, gamma := nodeFloat(c.n, "alpha", seluAlpha), nodeFloat(c.n, "gamma", seluGamma)
	c.eluLike(gamma, 1, gamma*alpha)
	return nil
}

// bwdCelu: 1 for x > 0, e^(x/alpha) = y/alpha + 1 elsewhere.
func bwdCelu(c *bwdCtx) error {
	c.eluLike(1, 1/nodeFloat(c.n, "alpha", 1), 1)
	return nil
}

// bwdThresholdedRelu: dy where x > alpha.
func bwdThresholdedRelu(c *bwdCtx) error {
	c.give(0, c.masked(c.op("Greater", []string{c.in(0), c.f32(nodeFloat(c.n, "alpha", 1))})))
	return nil
}

// bwdSoftsign: x/(1+|x|) has derivative 1/(1+|x|)².
func bwdSoftsign(c *bwdCtx) error {
	d := c.op("Add", []string{c.op("Abs", []string{c.in(0)}), c.f32(1)})
	c.give(0, c.op("Div", []string{c.dy[0], c.op("Mul", []string{d, d})}))
	return nil
}

// bwdSin: cos x.
func bwdSin(c *bwdCtx) error {
	c.scaleDy(c.op("Cos", []string{c.in(0)}))
	return nil
}

// bwdCos: −sin x.
func bwdCos(c *bwdCtx) error {
	c.scaleDy(c.op("Neg", []string{c.op("Sin", []string{c.in(0)})}))
	return nil
}

// bwdTan: 1 + y².
func bwdTan(c *bwdCtx) error {
	y := c.out(0)
	c.scaleDy(c.op("Add", []string{c.op("Mul", []string{y, y}), c.f32(1)}))
	return nil
}

// bwdSinh: cosh x.
func bwdSinh(c *bwdCtx) error {
	c.scaleDy(c.op("Cosh", []string{c.in(0)}))
	return nil
}

// bwdCosh: sinh x.
func bwdCosh(c *bwdCtx) error {
	c.scaleDy(c.op("Sinh", []string{c.in(0)}))
	return nil
}

// divBySqrt gives dy·sign/√(a·x² + b), the derivative of Asin (a −1, b 1),
// Acos (the same, negated), Asinh (1, 1) and Acosh (1, −1).
func (c *bwdCtx) divBySqrt(a, b, sign float32) {
	x := c.in(0)
	r := c.op("Sqrt", []string{c.op("Add", []string{c.op("Mul", []string{c.op("Mul", []string{x, x}), c.f32(a)}), c.f32(b)})})
	dy := c.dy[0]
	if sign < 0 {
		dy = c.op("Neg", []string{dy})
	}
	c.give(0, c.op("Div", []string{dy, r}))
}

// bwdAsin: 1/√(1−x²).
func bwdAsin(c *bwdCtx) error {
	c.divBySqrt(-1, 1, 1)
	return nil
}

// bwdAcos: −1/√(1−x²).
func bwdAcos(c *bwdCtx) error {
	c.divBySqrt(-1, 1, -1)
	return nil
}

// bwdAsinh: 1/√(x²+1).
func bwdAsinh(c *bwdCtx) error {
	c.divBySqrt(1, 1, 1)
	return nil
}

// bwdAcosh: 1/√(x²−1).
func bwdAcosh(c *bwdCtx) error {
	c.divBySqrt(1, -1, 1)
	return nil
}

// bwdAtan: 1/(1+x²); bwdAtanh: 1/(1−x²).
func bwdAtan(c *bwdCtx) error  { return c.divByQuadratic(1) }
func bwdAtanh(c *bwdCtx) error { return c.divByQuadratic(-1) }

// divByQuadratic gives dy/(1 + a·x²).
func (c *bwdCtx) divByQuadratic(a float32) error {
	x := c.in(0)
	q := c.op("Add", []string{c.op("Mul", []string{c.op("Mul", []string{x, x}), c.f32(a)}), c.f32(1)})
	c.give(0, c.op("Div", []string{c.dy[0], q}))
	return nil
}
