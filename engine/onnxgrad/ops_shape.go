package onnxgrad

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of operators that move values without changing them:
// copies, reshapes, transposes, broadcasts, selection, concatenation and
// splitting.

// bwdIdentity passes dy through (Identity, inference Dropout, a float32
// Cast to float32).
func bwdIdentity(c *bwdCtx) error {
	c.give(0, c.dy[0])
	return nil
}

// checkDropout refuses only a Dropout that can drop: its ratio (input 1,
// 0.5 when absent) is not a constant 0 and its training_mode (input 2,
// false when absent) is not a constant false. A Dropout with ratio 0 is the
// identity even in training mode, as torchvision's Swin-T exports it.
func checkDropout(x *gradExport, n *onnx.NodeProto) error {
	ratio, training := 0.5, 0.0
	ratioKnown, trainingKnown := true, true
	if r := inputOr(n, 1); r != "" {
		ratio, ratioKnown = x.constScalar(r)
	}
	if m := inputOr(n, 2); m != "" {
		training, trainingKnown = x.constScalar(m)
	}
	if (ratioKnown && ratio == 0) || (trainingKnown && training == 0) {
		return nil
	}
	why := fmt.Sprintf("ratio %g", ratio)
	if !ratioKnown {
		why = fmt.Sprintf("ratio %q is computed at run time", x.orig(inputOr(n, 1)))
	}
	mode := "training_mode true"
	if !trainingKnown {
		mode = fmt.Sprintf("training_mode %q is computed at run time", x.orig(inputOr(n, 2)))
	}
	return fmt.Errorf("dropout in training mode can drop values at random (%s, %s); re-export the model in eval mode (model.eval() before torch.onnx.export)", why, mode)
}

// inputOr returns n's input i, or "" when it has none.
func inputOr(n *onnx.NodeProto, i int) string {
	if i < len(n.GetInput()) {
		return n.GetInput()[i]
	}
	return ""
}

// constScalar returns the value of a one-element tensor that the model
// fixes: an initializer, a Constant node's output, or an integer tensor the
// probe found constant.
func (x *gradExport) constScalar(name string) (float64, bool) {
	var t *onnx.TensorProto
	if init, ok := x.inits[name]; ok {
		t = init
	} else if p := x.producers[name]; p != nil && p.GetOpType() == "Constant" {
		for _, a := range p.GetAttribute() {
			switch a.GetName() {
			case "value":
				t = a.GetT()
			case "value_float":
				return float64(a.GetF()), true
			case "value_int":
				return float64(a.GetI()), true
			}
		}
	}
	if t != nil {
		if v, ok := tensorScalar(t); ok {
			return v, true
		}
	}
	if v, ok := x.intValues(name); ok && len(v) == 1 {
		return float64(v[0]), true
	}
	return 0, false
}

// tensorScalar reads a one-element float or integer tensor.
func tensorScalar(t *onnx.TensorProto) (float64, bool) {
	raw := t.GetRawData()
	switch onnx.TensorProto_DataType(t.GetDataType()) {
	case onnx.TensorProto_FLOAT:
		if len(raw) == 4 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(raw))), true
		}
		if raw == nil && len(t.GetFloatData()) == 1 {
			return float64(t.GetFloatData()[0]), true
		}
	case onnx.TensorProto_DOUBLE:
		if len(raw) == 8 {
			return math.Float64frombits(binary.LittleEndian.Uint64(raw)), true
		}
		if raw == nil && len(t.GetDoubleData()) == 1 {
			return t.GetDoubleData()[0], true
		}
	default:
		if v, err := tensorInt64s(t); err == nil && len(v) == 1 {
			return float64(v[0]), true
		}
	}
	return 0, false
}

// bwdReshape: dy reshaped to the input's shape (Reshape, Flatten, Squeeze,
// Unsqueeze).
func bwdReshape(c *bwdCtx) error {
	c.give(0, c.op("Reshape", []string{c.dy[0], c.shapeOf(c.in(0))}))
	return nil
}

// bwdTranspose: dy transposed by the inverse permutation.
func bwdTranspose(c *bwdCtx) error {
	r := c.rank(c.in(0))
	perm := nodeInts(c.n, "perm")
	if len(perm) == 0 {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v does not fit rank %d", perm, r)
	}
	inv := make([]int64, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) {
			return fmt.Errorf("perm %v is not a permutation", perm)
		}
		inv[p] = int64(i)
	}
	c.give(0, c.op("Transpose", []string{c.dy[0]}, onnxproto.AttrInts("perm", inv)))
	return nil
}

// bwdExpand: dy summed over the broadcast axes.
func bwdExpand(c *bwdCtx) error {
	c.give(0, c.unbroadcast(c.dy[0], c.out(0), c.in(0)))
	return nil
}

// bwdWhere routes dy to the branch cond selected; cond itself is a
// comparison, not differentiable.
func bwdWhere(c *bwdCtx) error {
	cond, zero := c.in(0), c.f32(0)
	if c.needs(1) {
		c.give(1, c.unbroadcast(c.op("Where", []string{cond, c.dy[0], zero}), c.out(0), c.in(1)))
	}
	if c.needs(2) {
		c.give(2, c.unbroadcast(c.op("Where", []string{cond, zero, c.dy[0]}), c.out(0), c.in(2)))
	}
	return nil
}

// concatSizes returns a Concat's axis and each input's size along it.
func (x *gradExport) concatSizes(n *onnx.NodeProto) (int64, []int64, error) {
	r := x.rank(n.GetOutput()[0])
	axis, err := normAxis(nodeInt(n, "axis", 0), r)
	if err != nil {
		return 0, nil, err
	}
	sizes := make([]int64, len(n.GetInput()))
	for i, in := range n.GetInput() {
		t := x.tinfo(in)
		if len(t.dims) != r || t.dyn[axis] {
			return 0, nil, fmt.Errorf("it concatenates along axis %d, which changes with the batch size", axis)
		}
		sizes[i] = t.dims[axis]
	}
	return axis, sizes, nil
}

func checkConcat(x *gradExport, n *onnx.NodeProto) error {
	_, _, err := x.concatSizes(n)
	return err
}

// bwdConcat: dy split back into the inputs' pieces.
func bwdConcat(c *bwdCtx) error {
	axis, sizes, err := c.concatSizes(c.n)
	if err != nil {
		return err
	}
	if len(sizes) == 1 {
		c.give(0, c.dy[0])
		return nil
	}
	parts := c.opN("Split", []string{c.dy[0], c.i64s(sizes...)}, len(sizes), onnxproto.AttrInt("axis", axis))
	for i, p := range parts {
		c.give(i, p)
	}
	return nil
}

// bwdSplit: the outputs' gradients (zeros for unused outputs) concatenated.
func bwdSplit(c *bwdCtx) error {
	axis, err := normAxis(nodeInt(c.n, "axis", 0), c.rank(c.in(0)))
	if err != nil {
		return err
	}
	parts := make([]string, len(c.n.GetOutput()))
	for i := range parts {
		parts[i] = c.dyOrZeros(i)
	}
	if len(parts) == 1 {
		c.give(0, parts[0])
		return nil
	}
	c.give(0, c.op("Concat", parts, onnxproto.AttrInt("axis", axis)))
	return nil
}
