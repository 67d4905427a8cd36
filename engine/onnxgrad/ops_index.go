package onnxgrad

import (
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of slicing, padding and gathering. Their index arguments
// must be known at export time (constants, or shape arithmetic that the
// probe found independent of the batch size), except Gather's and
// GatherElements' indices, which the backward pass reads at run time.

// sliceAxis is one axis a Slice selects from: count elements at
// lo, lo+|step|, … of an axis of size dim, reversed when step < 0.
type sliceAxis struct {
	axis, dim, lo, step, count int64
}

// sliceAxes resolves a Slice's starts, ends, axes and steps against the
// probed input shape, clamping as the ONNX specification says; axes whose
// slice is the whole axis are left out.
func (x *gradExport) sliceAxes(n *onnx.NodeProto) ([]sliceAxis, error) {
	in := n.GetInput()
	xi, yi := x.tinfo(in[0]), x.tinfo(n.GetOutput()[0])
	r := len(xi.dims)
	arg := func(i int, what string) ([]int64, error) {
		if i >= len(in) || in[i] == "" {
			return nil, nil
		}
		v, ok := x.intValues(in[i])
		if !ok {
			return nil, fmt.Errorf("its %s %q are not known when the graph is exported", what, x.orig(in[i]))
		}
		return v, nil
	}
	starts, err := arg(1, "starts")
	if err != nil {
		return nil, err
	}
	ends, err := arg(2, "ends")
	if err != nil {
		return nil, err
	}
	axes, err := arg(3, "axes")
	if err != nil {
		return nil, err
	}
	steps, err := arg(4, "steps")
	if err != nil {
		return nil, err
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		steps = intsOr(nil, len(starts), 1)
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	var out []sliceAxis
	for i := range starts {
		a, err := normAxis(axes[i], r)
		if err != nil {
			return nil, err
		}
		dim, step := xi.dims[a], steps[i]
		if step == 0 {
			return nil, fmt.Errorf("step 0 on axis %d", a)
		}
		start, end := clampSliceBound(starts[i], dim, step), clampSliceBound(ends[i], dim, step)
		var count, lo int64
		if step > 0 {
			count = max(0, (end-start+step-1)/step)
			lo = start
		} else {
			count = max(0, (start-end-step-1)/(-step))
			lo = start + (count-1)*step
		}
		if count != yi.dims[a] && !yi.dyn[a] {
			return nil, fmt.Errorf("axis %d: slicing %d elements [%d:%d:%d] should give %d, the model gives %d", a, dim, starts[i], ends[i], step, count, yi.dims[a])
		}
		if step == 1 && count == dim {
			continue // the whole axis
		}
		if xi.dyn[a] {
			return nil, fmt.Errorf("it slices axis %d, which changes with the batch size", a)
		}
		out = append(out, sliceAxis{axis: a, dim: dim, lo: lo, step: step, count: count})
	}
	return out, nil
}

// clampSliceBound makes a Slice start or end non-negative and clamps it to
// [0, dim] for positive steps and [−1, dim−1] for negative ones.
func clampSliceBound(v, dim, step int64) int64 {
	if v < 0 {
		v += dim
	}
	if step > 0 {
		return min(max(v, 0), dim)
	}
	return min(max(v, -1), dim-1)
}

func checkSlice(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.sliceAxes(n)
	return err
}

// bwdSlice puts dy back where the slice took it from, zeros elsewhere:
// per axis, a negative step is undone by reversing dy, and a step s > 1 by
// interleaving s−1 zeros after each element (Unsqueeze, Pad, Reshape); one
// Pad then places the block at its offset. Any step is supported.
func bwdSlice(c *bwdCtx) error {
	axes, err := c.sliceAxes(c.n)
	if err != nil {
		return err
	}
	x := c.in(0)
	xi := c.tinfo(x)
	r := len(xi.dims)
	for _, a := range axes {
		if a.count == 0 {
			c.give(0, c.zerosLike(x))
			return nil
		}
	}
	g := c.dy[0]
	yi := c.tinfo(c.out(0))
	cur := append([]int64(nil), yi.dims...) // g's shape as the axes are undone
	pads := make([]int64, 2*r)
	for _, a := range axes {
		if a.step < 0 {
			g = c.op("Slice", []string{g, c.i64s(-1), c.i64s(math.MinInt64), c.i64s(a.axis), c.i64s(-1)})
		}
		s := a.step
		if s < 0 {
			s = -s
		}
		span := (a.count-1)*s + 1
		if s > 1 {
			// [.., count, ..] → [.., count, 1, ..] → [.., count, s, ..] → [.., count·s, ..].
			u := c.op("Unsqueeze", []string{g, c.i64s(a.axis + 1)})
			p := make([]int64, 2*(r+1))
			p[r+1+int(a.axis)+1] = s - 1
			u = c.op("Pad", []string{u, c.i64s(p...)})
			shape := make([]int64, r)
			dyn := 0
			for i := range shape {
				switch {
				case int64(i) < a.axis:
					shape[i] = 0 // copy
				case int64(i) == a.axis:
					shape[i] = a.count * s
				case yi.dyn[i]:
					shape[i] = -1
					dyn++
				default:
					shape[i] = cur[i]
				}
			}
			if dyn > 1 {
				return fmt.Errorf("it slices with step %d before more than one batch axis", a.step)
			}
			g = c.op("Reshape", []string{u, c.i64s(shape...)})
			g = c.op("Slice", []string{g, c.i64s(0), c.i64s(span), c.i64s(a.axis)})
			cur[a.axis] = span
		}
		pads[a.axis] = a.lo
		pads[int(a.axis)+r] = a.dim - a.lo - span
	}
	if len(axes) > 0 {
		g = c.op("Pad", []string{g, c.i64s(pads...)})
	}
	c.give(0, g)
	return nil
}

// padAmounts returns a constant-mode Pad's begin and end padding per axis.
func (x *gradExport) padAmounts(n *onnx.NodeProto) ([]int64, error) {
	in := n.GetInput()
	if m := nodeString(n, "mode", "constant"); m != "constant" {
		return nil, fmt.Errorf("mode %q; the gradient graph supports constant padding", m)
	}
	r := x.rank(in[0])
	if len(in) < 2 || in[1] == "" {
		return nil, fmt.Errorf("no pads input")
	}
	p, ok := x.intValues(in[1])
	if !ok {
		return nil, fmt.Errorf("its pads %q are not known when the graph is exported", x.orig(in[1]))
	}
	axes := make([]int64, r)
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(in) > 3 && in[3] != "" {
		v, ok := x.intValues(in[3])
		if !ok {
			return nil, fmt.Errorf("its axes %q are not known when the graph is exported", x.orig(in[3]))
		}
		axes = v
	}
	if len(p) != 2*len(axes) {
		return nil, fmt.Errorf("%d pads for %d axes", len(p), len(axes))
	}
	full := make([]int64, 2*r)
	for i, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		full[a], full[int(a)+r] = p[i], p[i+len(axes)]
	}
	return full, nil
}

func checkPad(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.padAmounts(n)
	return err
}

// bwdPad crops what the padding added (a Slice) and pads back with zeros
// what negative padding cropped.
func bwdPad(c *bwdCtx) error {
	full, err := c.padAmounts(c.n)
	if err != nil {
		return err
	}
	r := len(full) / 2
	g := c.dy[0]
	var starts, ends, axes []int64
	undo := make([]int64, 2*r)
	crop := false
	for a := 0; a < r; a++ {
		b, e := full[a], full[a+r]
		if b > 0 || e > 0 {
			starts = append(starts, max(b, 0))
			end := int64(math.MaxInt64)
			if e > 0 {
				end = -e
			}
			ends = append(ends, end)
			axes = append(axes, int64(a))
		}
		undo[a], undo[a+r] = max(-b, 0), max(-e, 0)
		crop = crop || b < 0 || e < 0
	}
	if len(axes) > 0 {
		g = c.op("Slice", []string{g, c.i64s(starts...), c.i64s(ends...), c.i64s(axes...)})
	}
	if crop {
		g = c.op("Pad", []string{g, c.i64s(undo...)})
	}
	c.give(0, g)
	return nil
}

// gatherAxis returns a Gather's or GatherElements' axis, checking that the
// input's size along it does not depend on the batch.
func (x *gradExport) gatherAxis(n *onnx.NodeProto) (int64, error) {
	xi := x.tinfo(n.GetInput()[0])
	axis, err := normAxis(nodeInt(n, "axis", 0), len(xi.dims))
	if err != nil {
		return 0, err
	}
	if xi.dyn[axis] {
		return 0, fmt.Errorf("it gathers along axis %d, which changes with the batch size", axis)
	}
	if n.GetOpType() == "Gather" && !x.tinfo(n.GetInput()[1]).static() {
		return 0, fmt.Errorf("its indices change shape with the batch size")
	}
	return axis, nil
}

func checkGather(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.gatherAxis(n)
	return err
}

// nonNegativeIndices maps indices in [−dim, dim) to [0, dim), as int64.
func nonNegativeIndices(c *bwdCtx, idx string, dim int64) string {
	if c.tinfo(idx).elem != onnx.TensorProto_INT64 {
		idx = c.op("Cast", []string{idx}, onnxproto.AttrInt("to", int64(onnx.TensorProto_INT64)))
	}
	d := c.constant(onnxproto.Int64Tensor(nil, []int64{dim}))
	zero := c.constant(onnxproto.Int64Tensor(nil, []int64{0}))
	neg := c.op("Less", []string{idx, zero})
	return c.op("Where", []string{neg, c.op("Add", []string{idx, d}), idx})
}

// bwdGather adds dy into zeros at the gathered positions: dy is reshaped so
// that the index axes become one axis of m = |indices| positions, the
// indices are broadcast along the other axes, and ScatterElements with
// reduction "add" accumulates repeated indices.
func bwdGather(c *bwdCtx) error {
	axis, err := c.gatherAxis(c.n)
	if err != nil {
		return err
	}
	x, idx := c.in(0), c.in(1)
	xi, ii := c.tinfo(x), c.tinfo(idx)
	r := len(xi.dims)
	m := ii.size()
	shape := make([]int64, r) // dy as [X[:axis], m, X[axis+1:]]
	idxShape := make([]int64, r)
	dyn := 0
	for i := range shape {
		idxShape[i] = 1
		switch {
		case int64(i) < axis:
			shape[i] = 0
		case int64(i) == axis:
			shape[i], idxShape[i] = m, m
		case xi.dyn[i]:
			shape[i] = -1
			dyn++
		default:
			shape[i] = xi.dims[i]
		}
	}
	if dyn > 1 {
		return fmt.Errorf("it gathers before more than one batch axis")
	}
	upd := c.op("Reshape", []string{c.dy[0], c.i64s(shape...)})
	ind := c.op("Reshape", []string{nonNegativeIndices(c, idx, xi.dims[axis]), c.i64s(idxShape...)})
	ind = c.op("Expand", []string{ind, c.op("Shape", []string{upd})})
	s := c.op("ScatterElements", []string{c.zerosLike(x), ind, upd}, onnxproto.AttrInt("axis", axis), onnxproto.AttrString("reduction", "add"))
	c.give(0, s)
	return nil
}

// bwdGatherElements adds dy into zeros at the gathered positions.
func bwdGatherElements(c *bwdCtx) error {
	axis, err := c.gatherAxis(c.n)
	if err != nil {
		return err
	}
	x := c.in(0)
	ind := nonNegativeIndices(c, c.in(1), c.tinfo(x).dims[axis])
	c.give(0, c.op("ScatterElements", []string{c.zerosLike(x), ind, c.dy[0]}, onnxproto.AttrInt("axis", axis), onnxproto.AttrString("reduction", "add")))
	return nil
}
