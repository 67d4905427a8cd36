package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of convolutions and matrix products. Only the data input
// of a convolution is differentiated: the weights are the model's, never
// computed from the image.

// convGeometry is a Conv's or ConvTranspose's attributes, resolved against
// the probed shapes.
type convGeometry struct {
	kernel, strides, dilations []int64
	begin, end                 []int64 // pads
	group                      int64
}

// keff returns the dilated kernel extent along spatial axis i.
func (g *convGeometry) keff(i int) int64 { return (g.kernel[i]-1)*g.dilations[i] + 1 }

// attrs returns the attributes shared by the forward and backward node.
func (g *convGeometry) attrs() []*onnx.AttributeProto {
	return []*onnx.AttributeProto{
		onnxproto.AttrInts("kernel_shape", g.kernel), onnxproto.AttrInts("strides", g.strides), onnxproto.AttrInts("dilations", g.dilations),
		onnxproto.AttrInt("group", g.group), onnxproto.AttrInts("pads", append(append([]int64{}, g.begin...), g.end...)),
	}
}

// geometry reads n's kernel, strides, dilations and group; pads are left to
// the caller.
func (x *gradExport) geometry(n *onnx.NodeProto) (*convGeometry, error) {
	xi := x.tinfo(n.GetInput()[0])
	wi := x.tinfo(n.GetInput()[1])
	k := len(xi.dims) - 2
	if k < 1 || len(wi.dims) != k+2 {
		return nil, fmt.Errorf("input rank %d and weight rank %d do not make a convolution", len(xi.dims), len(wi.dims))
	}
	for i := 2; i < len(xi.dims); i++ {
		if xi.dyn[i] {
			return nil, fmt.Errorf("spatial axis %d changes with the batch size", i)
		}
	}
	g := &convGeometry{
		kernel:    intsOr(nodeInts(n, "kernel_shape"), k, 0),
		strides:   intsOr(nodeInts(n, "strides"), k, 1),
		dilations: intsOr(nodeInts(n, "dilations"), k, 1),
		group:     nodeInt(n, "group", 1),
	}
	if len(nodeInts(n, "kernel_shape")) != k {
		g.kernel = append([]int64(nil), wi.dims[2:]...)
	}
	return g, nil
}

func checkConv(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.convGeometry(n)
	return err
}

// convGeometry resolves a Conv's geometry, auto_pad included.
func (x *gradExport) convGeometry(n *onnx.NodeProto) (*convGeometry, error) {
	g, err := x.geometry(n)
	if err != nil {
		return nil, err
	}
	in, out := x.tinfo(n.GetInput()[0]).dims[2:], x.tinfo(n.GetOutput()[0]).dims[2:]
	g.begin, g.end, err = spatialPads(n, in, out, g.kernel, g.strides, g.dilations)
	return g, err
}

// bwdConv: the input gradient of a convolution is the transposed
// convolution of dy with the same weights, group, strides, dilations and
// pads; output_padding restores the input positions the strides skipped.
// Where it can, the rule emits that sum as a forward Conv instead
// (convBackwardByConv).
func bwdConv(c *bwdCtx) error {
	g, err := c.convGeometry(c.n)
	if err != nil {
		return err
	}
	in, out := c.tinfo(c.in(0)).dims[2:], c.tinfo(c.out(0)).dims[2:]
	outPad := make([]int64, len(in))
	for i := range in {
		outPad[i] = in[i] + g.begin[i] + g.end[i] - ((out[i]-1)*g.strides[i] + g.keff(i))
		if outPad[i] < 0 || outPad[i] >= max(g.strides[i], g.dilations[i]) {
			return fmt.Errorf("spatial axis %d: %d inputs, %d outputs and pads %d+%d do not fit kernel %d stride %d", i, in[i], out[i], g.begin[i], g.end[i], g.kernel[i], g.strides[i])
		}
	}
	if dx, ok := convBackwardByConv(c, g, outPad); ok {
		c.give(0, dx)
		return nil
	}
	attrs := append(g.attrs(), onnxproto.AttrInts("output_padding", outPad))
	c.give(0, c.op("ConvTranspose", []string{c.dy[0], c.in(1)}, attrs...))
	return nil
}

func checkConvTranspose(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.convTransposeGeometry(n)
	return err
}

// convTransposeGeometry resolves a ConvTranspose's pads: explicit, or from
// the total padding its output shape implies (auto_pad or output_shape),
// split as the ONNX specification says.
func (x *gradExport) convTransposeGeometry(n *onnx.NodeProto) (*convGeometry, error) {
	g, err := x.geometry(n)
	if err != nil {
		return nil, err
	}
	in, out := x.tinfo(n.GetInput()[0]).dims[2:], x.tinfo(n.GetOutput()[0]).dims[2:]
	k := len(in)
	outPad := intsOr(nodeInts(n, "output_padding"), k, 0)
	g.begin, g.end = make([]int64, k), make([]int64, k)
	ap := nodeString(n, "auto_pad", "NOTSET")
	if (ap == "NOTSET" || ap == "") && len(nodeInts(n, "output_shape")) == 0 {
		if p := nodeInts(n, "pads"); len(p) == 2*k {
			copy(g.begin, p[:k])
			copy(g.end, p[k:])
		}
	} else if ap != "VALID" {
		for i := range in {
			total := g.strides[i]*(in[i]-1) + outPad[i] + g.keff(i) - out[i]
			if ap == "SAME_UPPER" {
				g.begin[i], g.end[i] = total/2, total-total/2
			} else {
				g.begin[i], g.end[i] = total-total/2, total/2
			}
		}
	}
	for i := range in {
		back := (out[i]+g.begin[i]+g.end[i]-g.keff(i))/g.strides[i] + 1
		if g.begin[i] < 0 || g.end[i] < 0 || back != in[i] {
			return nil, fmt.Errorf("spatial axis %d: cannot invert a transposed convolution from %d to %d with pads %d+%d", i, in[i], out[i], g.begin[i], g.end[i])
		}
	}
	return g, nil
}

// bwdConvTranspose: the input gradient of a transposed convolution is the
// convolution of dy with the same weights and geometry.
func bwdConvTranspose(c *bwdCtx) error {
	g, err := c.convTransposeGeometry(c.n)
	if err != nil {
		return err
	}
	c.give(0, c.op("Conv", []string{c.dy[0], c.in(1)}, g.attrs()...))
	return nil
}

// bwdGemm: y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (and B'), so
// dA' = alpha·dy·B'ᵀ, dB' = alpha·A'ᵀ·dy and dC = beta·dy summed over the
// axes C was broadcast along. Each is one Gemm with suitable transposes.
func bwdGemm(c *bwdCtx) error {
	a, b, dy := c.in(0), c.in(1), c.dy[0]
	ta, tb := nodeInt(c.n, "transA", 0), nodeInt(c.n, "transB", 0)
	alpha := onnxproto.AttrFloat("alpha", nodeFloat(c.n, "alpha", 1))
	if c.needs(0) {
		if ta == 0 {
			c.give(0, c.op("Gemm", []string{dy, b}, alpha, onnxproto.AttrInt("transB", 1-tb)))
		} else {
			c.give(0, c.op("Gemm", []string{b, dy}, alpha, onnxproto.AttrInt("transA", tb), onnxproto.AttrInt("transB", 1)))
		}
	}
	if c.needs(1) {
		if tb == 0 {
			c.give(1, c.op("Gemm", []string{a, dy}, alpha, onnxproto.AttrInt("transA", 1-ta)))
		} else {
			c.give(1, c.op("Gemm", []string{dy, a}, alpha, onnxproto.AttrInt("transA", 1), onnxproto.AttrInt("transB", ta)))
		}
	}
	if c.needs(2) {
		g := c.op("Mul", []string{dy, c.f32(nodeFloat(c.n, "beta", 1))})
		c.give(2, c.unbroadcast(g, c.out(0), c.in(2)))
	}
	return nil
}

// bwdMatMul: numpy matmul with batch broadcasting; a 1-D A is a row
// [1,K] and a 1-D B a column [K,1], whose unit axis the output drops.
// dA = dy·Bᵀ and dB = Aᵀ·dy, summed over broadcast batch axes.
func bwdMatMul(c *bwdCtx) error {
	a, b := c.in(0), c.in(1)
	ai, bi, yi := c.tinfo(a), c.tinfo(b), c.tinfo(c.out(0))
	ra, rb := len(ai.dims), len(bi.dims)
	if ra == 0 || rb == 0 {
		return fmt.Errorf("MatMul of a scalar")
	}
	a2, b2, dy2 := a, b, c.dy[0]
	a2i, b2i := ai, bi
	if ra == 1 {
		a2 = c.op("Unsqueeze", []string{a, c.i64s(0)})
		a2i = &tensorInfo{dims: []int64{1, ai.dims[0]}, dyn: []bool{false, ai.dyn[0]}}
	}
	if rb == 1 {
		b2 = c.op("Unsqueeze", []string{b, c.i64s(1)})
		b2i = &tensorInfo{dims: []int64{bi.dims[0], 1}, dyn: []bool{bi.dyn[0], false}}
	}
	switch {
	case ra == 1 && rb == 1:
		dy2 = c.op("Reshape", []string{dy2, c.i64s(1, 1)})
	case ra == 1:
		dy2 = c.op("Unsqueeze", []string{dy2, c.i64s(-2)})
	case rb == 1:
		dy2 = c.op("Unsqueeze", []string{dy2, c.i64s(-1)})
	}
	// The output's batch axes, then the matrix axes M and N.
	mat := 0
	if ra > 1 {
		mat++
	}
	if rb > 1 {
		mat++
	}
	batch := &tensorInfo{dims: yi.dims[:len(yi.dims)-mat], dyn: yi.dyn[:len(yi.dims)-mat]}
	withMatrix := func(t *tensorInfo) *tensorInfo {
		r := len(t.dims)
		return &tensorInfo{dims: append(append([]int64{}, batch.dims...), t.dims[r-2:]...), dyn: append(append([]bool{}, batch.dyn...), t.dyn[r-2:]...)}
	}
	if c.needs(0) {
		g := c.op("MatMul", []string{dy2, transposeLast2(c, b2, len(b2i.dims))})
		g = c.unbroadcastInfo(g, withMatrix(a2i), a2i)
		if ra == 1 {
			g = c.op("Squeeze", []string{g, c.i64s(0)})
		}
		c.give(0, g)
	}
	if c.needs(1) {
		g := c.op("MatMul", []string{transposeLast2(c, a2, len(a2i.dims)), dy2})
		g = c.unbroadcastInfo(g, withMatrix(b2i), b2i)
		if rb == 1 {
			g = c.op("Squeeze", []string{g, c.i64s(1)})
		}
		c.give(1, g)
	}
	return nil
}

// transposeLast2 swaps the last two axes of a tensor of rank r.
func transposeLast2(c *bwdCtx, t string, r int) string {
	perm := make([]int64, r)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[r-1], perm[r-2] = perm[r-2], perm[r-1]
	return c.op("Transpose", []string{t}, onnxproto.AttrInts("perm", perm))
}
