package onnxgrad

import (
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of pooling.

// poolGeometry resolves a MaxPool's or AveragePool's kernel, strides,
// dilations and pads against the probed shapes.
func (x *gradExport) poolGeometry(n *onnx.NodeProto) (*convGeometry, error) {
	xi, yi := x.tinfo(n.GetInput()[0]), x.tinfo(n.GetOutput()[0])
	k := len(xi.dims) - 2
	if k < 1 || len(yi.dims) != k+2 {
		return nil, fmt.Errorf("input rank %d does not make a pooling", len(xi.dims))
	}
	for i := 1; i < len(xi.dims); i++ {
		if xi.dyn[i] {
			return nil, fmt.Errorf("axis %d changes with the batch size", i)
		}
	}
	g := &convGeometry{
		kernel:    nodeInts(n, "kernel_shape"),
		strides:   intsOr(nodeInts(n, "strides"), k, 1),
		dilations: intsOr(nodeInts(n, "dilations"), k, 1),
		group:     xi.dims[1],
	}
	if len(g.kernel) != k {
		return nil, fmt.Errorf("kernel_shape %v does not fit %d spatial axes", g.kernel, k)
	}
	var err error
	g.begin, g.end, err = spatialPads(n, xi.dims[2:], yi.dims[2:], g.kernel, g.strides, g.dilations)
	return g, err
}

func checkPool(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.poolGeometry(n)
	return err
}

// prepMaxPool makes the forward MaxPool also output the indices of its
// maxima (row-major, flattened over the whole input tensor), unless it
// already does.
func prepMaxPool(c *bwdCtx) error {
	n := c.n
	if len(n.GetOutput()) >= 2 && n.GetOutput()[1] != "" {
		return nil
	}
	n.Output = []string{n.GetOutput()[0], c.fresh()}
	n.Attribute = withoutAttrs(n, "storage_order")
	return nil
}

// bwdMaxPool scatters dy onto the positions of the maxima, adding where
// overlapping windows share a maximum.
func bwdMaxPool(c *bwdCtx) error {
	x := c.in(0)
	idx := c.out(1)
	if nodeInt(c.n, "storage_order", 0) != 0 { // the model's own indices are column-major
		idx = c.opN("MaxPool", []string{x}, 2, withoutAttrs(c.n, "storage_order")...)[1]
	}
	xi := c.tinfo(x)
	var flat string
	if xi.static() {
		flat = c.i64s(xi.size())
	} else {
		flat = c.op("Reshape", []string{c.op("Size", []string{x}), c.i64s(1)})
	}
	zeros := c.op("ConstantOfShape", []string{flat}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0})))
	all := c.i64s(-1)
	s := c.op("ScatterElements", []string{zeros, c.op("Reshape", []string{idx, all}), c.op("Reshape", []string{c.dy[0], all})},
		onnxproto.AttrInt("axis", 0), onnxproto.AttrString("reduction", "add"))
	c.give(0, c.op("Reshape", []string{s, c.shapeOf(x)}))
	return nil
}

// bwdAveragePool spreads dy/divisor over each window with a transposed
// depthwise convolution whose kernel is all ones. The divisors are ONNX
// Runtime's own: at export time the probe pooled an all-ones input with the
// node's attributes, which gives valid/divisor at each output position, and
// the number of valid (non-pad) positions in each window is counted here.
// This covers count_include_pad either way, ceil_mode and dilations.
func bwdAveragePool(c *bwdCtx) error {
	g, err := c.poolGeometry(c.n)
	if err != nil {
		return err
	}
	in, out := c.tinfo(c.in(0)).dims[2:], c.tinfo(c.out(0)).dims[2:]
	ones := c.avgOnes[c.out(0)]
	positions := int64(1)
	for _, o := range out {
		positions *= o
	}
	if int64(len(ones)) != positions {
		return fmt.Errorf("the probe pooled %d positions, want %d", len(ones), positions)
	}
	// inv[o] = 1/divisor at each output position, row-major.
	inv := make([]float32, positions)
	uniform := true
	pos := make([]int64, len(out))
	for p := range inv {
		valid := int64(1)
		for i := range out {
			cnt := int64(0)
			for k := int64(0); k < g.kernel[i]; k++ {
				if q := pos[i]*g.strides[i] - g.begin[i] + k*g.dilations[i]; q >= 0 && q < in[i] {
					cnt++
				}
			}
			valid *= cnt
		}
		if valid > 0 {
			inv[p] = ones[p] / float32(valid)
		}
		if math.Abs(float64(inv[p]-inv[0])) > 1e-6*math.Abs(float64(inv[0])) {
			uniform = false
		}
		for i := len(pos) - 1; i >= 0; i-- { // next position, row-major
			if pos[i]++; pos[i] < out[i] {
				break
			}
			pos[i] = 0
		}
	}
	dy := c.dy[0]
	w := float32(1)
	if uniform {
		w = inv[0]
	} else {
		dy = c.op("Mul", []string{dy, c.f32s(append([]int64{1, 1}, out...), inv)})
	}
	// The kernel: one [1, k...] window of w per channel.
	wdims := append([]int64{g.group, 1}, g.kernel...)
	kernel := make([]float32, g.group*prodInts(g.kernel))
	for i := range kernel {
		kernel[i] = w
	}
	outPad := make([]int64, len(in))
	for i := range in {
		natural := (out[i]-1)*g.strides[i] + g.keff(i) - g.begin[i] - g.end[i]
		if d := in[i] - natural; d >= 0 {
			outPad[i] = d
		} else { // ceil_mode windows past the end: crop them
			g.end[i] -= d
		}
	}
	attrs := append(g.attrs(), onnxproto.AttrInts("output_padding", outPad))
	c.give(0, c.op("ConvTranspose", []string{dy, c.f32s(wdims, kernel)}, attrs...))
	return nil
}

func prodInts(v []int64) int64 {
	p := int64(1)
	for _, d := range v {
		p *= d
	}
	return p
}

// bwdGlobalAveragePool: dy/(number of positions), spread over the spatial
// axes by broadcasting.
func bwdGlobalAveragePool(c *bwdCtx) error {
	xi := c.tinfo(c.in(0))
	if len(xi.dims) < 3 {
		return fmt.Errorf("input rank %d has no spatial axes", len(xi.dims))
	}
	c.giveBroadcast(0, c.op("Mul", []string{c.dy[0], c.f32(1 / float32(prodInts(xi.dims[2:])))}))
	return nil
}

// bwdGlobalMaxPool gives dy to the first maximum of each channel, like
// PyTorch's adaptive max pooling.
func bwdGlobalMaxPool(c *bwdCtx) error {
	x := c.in(0)
	flat := c.op("Reshape", []string{x, c.i64s(0, 0, -1)})
	idx := c.op("ArgMax", []string{flat}, onnxproto.AttrInt("axis", 2), onnxproto.AttrInt("keepdims", 1))
	zeros := c.op("ConstantOfShape", []string{c.op("Shape", []string{flat})}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0})))
	dy := c.op("Reshape", []string{c.dy[0], c.i64s(0, 0, 1)})
	s := c.op("ScatterElements", []string{zeros, idx, dy}, onnxproto.AttrInt("axis", 2))
	c.give(0, c.op("Reshape", []string{s, c.shapeOf(x)}))
	return nil
}
