package onnxgrad

import (
	"fmt"
	"sort"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Straight-through gradients (BPDA, Athalye et al. 2018) for the operators
// whose true gradient is zero almost everywhere but which stand for a
// continuous function: fake quantisation, a QuantizeLinear→DequantizeLinear
// pair around float operators as TFLite and ONNX Runtime's quantiser emit
// it, and binarisation by Sign. The forward pass stays the model's own; only
// the backward pass treats the pair as the identity inside its clip range
// and Sign as the hard tanh, as quantisation-aware and binarised networks
// are trained.

// Report says how a gradient graph differentiates the model where its own
// gradient would be zero.
type Report struct {
	// StraightThrough counts, per kind ("QuantizeLinear/DequantizeLinear
	// pairs", "Sign nodes"), the nodes on the image-to-logits path whose
	// backward pass is straight-through.
	StraightThrough map[string]int
}

// Straight-through kinds, the keys of Report.StraightThrough.
const (
	StraightThroughQDQ  = "QuantizeLinear/DequantizeLinear pairs"
	StraightThroughSign = "Sign nodes"
)

// Notes returns one line per straight-through kind, sorted, for the loader
// to print, e.g. "gradient: straight-through through 28
// QuantizeLinear/DequantizeLinear pairs"; none when the gradient is exact.
func (r Report) Notes() []string {
	var out []string
	for kind, n := range r.StraightThrough {
		if n > 0 {
			out = append(out, fmt.Sprintf("gradient: straight-through through %d %s", n, kind))
		}
	}
	sort.Strings(out)
	return out
}

// report counts the straight-through nodes among the active ones.
func (x *gradExport) report() Report {
	r := Report{StraightThrough: map[string]int{}}
	for _, n := range x.nodes {
		switch {
		case !x.active[n]:
		case n.GetOpType() == "Sign":
			r.StraightThrough[StraightThroughSign]++
		case x.straightSource(n) != "":
			r.StraightThrough[StraightThroughQDQ]++
		}
	}
	return r
}

// quantPair returns the QuantizeLinear node whose output a DequantizeLinear
// node n dequantises, or nil when n is not such a pair's second half.
func (x *gradExport) quantPair(n *onnx.NodeProto) *onnx.NodeProto {
	if n.GetOpType() != "DequantizeLinear" || len(n.GetInput()) == 0 {
		return nil
	}
	q := x.producers[n.GetInput()[0]]
	if q == nil || q.GetOpType() != "QuantizeLinear" || q.GetDomain() != n.GetDomain() || len(q.GetInput()) < 2 {
		return nil
	}
	return q
}

// straightSource returns the float tensor that a straight-through node
// passes its gradient to past its own inputs: the input of the
// QuantizeLinear before a DequantizeLinear, or "" for any other node.
func (x *gradExport) straightSource(n *onnx.NodeProto) string {
	if q := x.quantPair(n); q != nil {
		return q.GetInput()[0]
	}
	return ""
}

// quantRange returns the smallest and largest value of a quantised type.
func quantRange(t onnx.TensorProto_DataType) (lo, hi float32, ok bool) {
	switch t {
	case onnx.TensorProto_INT8:
		return -128, 127, true
	case onnx.TensorProto_UINT8:
		return 0, 255, true
	case onnx.TensorProto_INT16:
		return -32768, 32767, true
	case onnx.TensorProto_UINT16:
		return 0, 65535, true
	}
	return 0, 0, false
}

// checkDequantize accepts a DequantizeLinear on the path when it closes a
// QuantizeLinear pair of an integer type, quantised per tensor or per axis.
func checkDequantize(x *gradExport, n *onnx.NodeProto) error {
	q := x.quantPair(n)
	if q == nil {
		return fmt.Errorf("it does not dequantise a QuantizeLinear's output, so no straight-through gradient passes it")
	}
	for _, m := range []*onnx.NodeProto{q, n} {
		if nodeInt(m, "block_size", 0) != 0 {
			return fmt.Errorf("%s node %q quantises by blocks, which has no straight-through rule; quantise per tensor or per axis", m.GetOpType(), m.GetName())
		}
	}
	elem := x.tinfo(q.GetOutput()[0]).elem
	if _, _, ok := quantRange(elem); !ok {
		return fmt.Errorf("QuantizeLinear node %q quantises to %s, which has no straight-through rule; quantise to int8 or uint8", q.GetName(), elem)
	}
	src := x.tinfo(q.GetInput()[0])
	if src.elem != onnx.TensorProto_FLOAT {
		return fmt.Errorf("QuantizeLinear node %q quantises a %s tensor; the gradient graph handles float32 models only", q.GetName(), src.elem)
	}
	for _, m := range []*onnx.NodeProto{q, n} {
		for _, v := range m.GetInput()[1:] {
			if v == "" {
				continue
			}
			t := x.tinfo(v)
			if len(t.dims) == 0 || (len(t.dims) == 1 && t.dims[0] == 1) {
				continue
			}
			axis, err := normAxis(nodeInt(m, "axis", 1), len(src.dims))
			if err != nil || len(t.dims) != 1 || src.dyn[axis] || src.dims[axis] != t.dims[0] {
				return fmt.Errorf("%s node %q: its scale or zero point %q of shape %v does not lie along axis %d of its input %v", m.GetOpType(), m.GetName(), x.orig(v), t.dims, nodeInt(m, "axis", 1), src.dims)
			}
		}
	}
	return nil
}

// bwdDequantize is the straight-through backward pass of a
// QuantizeLinear→DequantizeLinear pair: dx = dy where x lies in the clip
// range [(qmin−zp)·scale, (qmax−zp)·scale] of the quantiser, 0 outside, and
// dy·scale'/scale where the dequantiser's scale' differs from it. The
// window is computed in the graph from the model's scale and zero point.
func bwdDequantize(c *bwdCtx) error {
	q := c.quantPair(c.n)
	src := q.GetInput()[0]
	if !c.diff[src] || !c.need[src] {
		return nil
	}
	qmin, qmax, _ := quantRange(c.tinfo(q.GetOutput()[0]).elem)
	scale := c.perAxis(q, inputOr(q, 1), src)
	lo, hi := c.op("Mul", []string{c.f32(qmin), scale}), c.op("Mul", []string{c.f32(qmax), scale})
	if zp := inputOr(q, 2); zp != "" {
		zpf := c.op("Cast", []string{c.perAxis(q, zp, src)}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
		off := c.op("Mul", []string{zpf, scale})
		lo, hi = c.op("Sub", []string{lo, off}), c.op("Sub", []string{hi, off})
	}
	inside := c.op("And", []string{c.op("GreaterOrEqual", []string{src, lo}), c.op("LessOrEqual", []string{src, hi})})
	g := c.masked(inside)
	if s2 := inputOr(c.n, 1); s2 != inputOr(q, 1) {
		g = c.op("Mul", []string{g, c.op("Div", []string{c.perAxis(c.n, s2, src), scale})})
	}
	c.addGrad(src, g)
	return nil
}

// perAxis returns a quantiser's scale or zero point shaped to broadcast
// against the tensor like: a 1-D one lies along the node's axis (default 1).
func (c *bwdCtx) perAxis(n *onnx.NodeProto, v, like string) string {
	t := c.tinfo(v)
	if len(t.dims) != 1 {
		return v
	}
	r := c.rank(like)
	axis, err := normAxis(nodeInt(n, "axis", 1), r)
	if err != nil || r == 1 { // checkDequantize has rejected a bad axis
		return v
	}
	dims := make([]int64, r)
	for i := range dims {
		dims[i] = 1
	}
	dims[axis] = t.dims[0]
	return c.op("Reshape", []string{v, c.i64s(dims...)})
}

// bwdSignSTE is the straight-through backward pass of binarisation: the
// hard tanh's derivative, dx = dy where |x| ≤ 1 and 0 elsewhere (Courbariaux
// et al. 2016, Hubara et al. 2016).
func bwdSignSTE(c *bwdCtx) error {
	c.give(0, c.masked(c.op("LessOrEqual", []string{c.op("Abs", []string{c.in(0)}), c.f32(1)})))
	return nil
}
