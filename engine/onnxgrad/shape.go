package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// tinfo returns what the probe learnt of a classifier tensor. Rules only
// ask about tensors of the forward graph, which the probe has all seen.
func (x *gradExport) tinfo(name string) *tensorInfo {
	if t := x.info[name]; t != nil {
		return t
	}
	panic(fmt.Sprintf("gradient graph: no probed shape for %q", name))
}

// rank returns a classifier tensor's rank.
func (x *gradExport) rank(name string) int { return len(x.tinfo(name).dims) }

// shapeOf returns a tensor holding the shape of a classifier tensor: a
// constant when no dimension depends on the batch, else a Shape node, so
// the gradient graph keeps the model's dynamic batch.
func (x *gradExport) shapeOf(name string) string {
	t := x.tinfo(name)
	if t.static() {
		return x.i64s(t.dims...)
	}
	if s, ok := x.shapes[name]; ok {
		return s
	}
	s := x.op("Shape", []string{name})
	x.shapes[name] = s
	return s
}

// zerosLike returns a float32 tensor of zeros shaped like a classifier tensor.
func (x *gradExport) zerosLike(name string) string {
	return x.op("ConstantOfShape", []string{x.shapeOf(name)}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0})))
}

// unbroadcast sums g, a gradient shaped like the classifier tensor like,
// over the axes along which target was broadcast to like's shape, and
// returns it shaped like target.
func (x *gradExport) unbroadcast(g, like, target string) string {
	return x.unbroadcastInfo(g, x.tinfo(like), x.tinfo(target))
}

// unbroadcastInfo is unbroadcast for a gradient shaped like gi and an
// operand shaped like ti.
func (x *gradExport) unbroadcastInfo(g string, gi, ti *tensorInfo) string {
	lead := len(gi.dims) - len(ti.dims)
	var axes, leading []int64
	for i := 0; i < lead; i++ {
		axes = append(axes, int64(i))
		leading = append(leading, int64(i))
	}
	for i := range ti.dims {
		j := i + lead
		if j >= 0 && ti.dims[i] == 1 && !ti.dyn[i] && (gi.dims[j] != 1 || gi.dyn[j]) {
			axes = append(axes, int64(j))
		}
	}
	if len(axes) == 0 {
		return g
	}
	r := x.op("ReduceSum", []string{g, x.i64s(axes...)}, onnxproto.AttrInt("keepdims", 1))
	if len(leading) > 0 {
		r = x.op("Squeeze", []string{r, x.i64s(leading...)})
	}
	return r
}

// intValues returns the values of an integer tensor known at export time:
// an initializer, a Constant, or one the probe found independent of the
// batch size.
func (x *gradExport) intValues(name string) ([]int64, bool) {
	if name == "" {
		return nil, false
	}
	if t := x.info[name]; t != nil && t.ints != nil {
		return t.ints, true
	}
	return nil, false
}

// reduceAxes returns the sorted, non-negative axes a Reduce* node reduces
// over a tensor of rank r: from its axes attribute (or, from axesInput on,
// its second input), all axes when none are given, or nil when
// noop_with_empty_axes makes the node an identity.
func (x *gradExport) reduceAxes(n *onnx.NodeProto, r int, axesInputFrom int64) ([]int64, bool, error) {
	var axes []int64
	if x.opset >= axesInputFrom {
		if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
			v, ok := x.intValues(n.GetInput()[1])
			if !ok {
				return nil, false, fmt.Errorf("its axes %q are not known when the graph is exported", x.orig(n.GetInput()[1]))
			}
			axes = v
		}
	} else {
		axes = nodeInts(n, "axes")
	}
	if len(axes) == 0 {
		if nodeInt(n, "noop_with_empty_axes", 0) != 0 {
			return nil, true, nil
		}
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
		return axes, false, nil
	}
	out, err := normAxes(axes, r)
	return out, false, err
}

// normAxes makes axes non-negative for rank r and sorts them.
func normAxes(axes []int64, r int) ([]int64, error) {
	out := make([]int64, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) {
			return nil, fmt.Errorf("axis %d is out of range for rank %d", axes[i], r)
		}
		out[i] = a
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// normAxis makes one axis non-negative for rank r.
func normAxis(a int64, r int) (int64, error) {
	v, err := normAxes([]int64{a}, r)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// addGrad records g as one contribution to the gradient of tensor name.
func (x *gradExport) addGrad(name, g string) {
	x.grads[name] = append(x.grads[name], g)
}

// addGradBroadcast records g, a tensor that broadcasts to name's shape, as
// one contribution to name's gradient. It is expanded only if no
// full-shaped contribution joins it: the Add of the contributions
// broadcasts it for free, where an Expand would write it out in full first.
func (x *gradExport) addGradBroadcast(name, g string) {
	x.addGrad(name, g)
	x.bcast[g] = true
}

// gradOf returns the gradient of tensor name, summing its contributions, or
// "" when nothing contributed.
func (x *gradExport) gradOf(name string) string { return x.gradSum(name, false) }

// gradSum is gradOf; where every contribution broadcasts, their sum is
// expanded to name's shape unless keepBroadcast, for a rule that takes a
// broadcasting dy (gradRule.broadcastDy).
func (x *gradExport) gradSum(name string, keepBroadcast bool) string {
	gs := x.grads[name]
	if len(gs) == 0 {
		return ""
	}
	full := false
	for _, g := range gs {
		full = full || !x.bcast[g]
	}
	s := gs[0]
	switch {
	case len(gs) == 2:
		s = x.op("Add", gs)
	case len(gs) > 2:
		s = x.op("Sum", gs)
	}
	switch {
	case !full && keepBroadcast:
		x.bcast[s] = true
	case !full:
		s = x.op("Expand", []string{s, x.shapeOf(name)})
	}
	x.grads[name] = []string{s}
	return s
}

// spatialPads returns the begin and end padding of each spatial axis of a
// Conv or pooling node, resolving auto_pad from the probed input and output
// sizes (SAME_UPPER puts the odd element at the end, SAME_LOWER at the
// start).
func spatialPads(n *onnx.NodeProto, in, out, kernel, strides, dilations []int64) (begin, end []int64, err error) {
	k := len(in)
	begin, end = make([]int64, k), make([]int64, k)
	switch ap := nodeString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if p := nodeInts(n, "pads"); len(p) == 2*k {
			copy(begin, p[:k])
			copy(end, p[k:])
		} else if len(p) != 0 {
			return nil, nil, fmt.Errorf("pads %v do not fit %d spatial axes", p, k)
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := range in {
			total := max(0, (out[i]-1)*strides[i]+(kernel[i]-1)*dilations[i]+1-in[i])
			small := total / 2
			if ap == "SAME_UPPER" {
				begin[i], end[i] = small, total-small
			} else {
				begin[i], end[i] = total-small, small
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown auto_pad %q", ap)
	}
	return begin, end, nil
}

// intsOr returns a when it has k values, else k copies of v.
func intsOr(a []int64, k int, v int64) []int64 {
	if len(a) == k {
		return a
	}
	out := make([]int64, k)
	for i := range out {
		out[i] = v
	}
	return out
}
