package onnxupgrade

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// translateSoftmax gives Softmax, LogSoftmax and Hardmax before opset 13
// their opset-13 form. The old operators flattened the input to 2-D at axis
// (default 1) and normalised over the flattened trailing dimensions; the new
// ones normalise over the one axis (default -1). Where the two agree (axis
// is the last dimension, or every dimension after it is 1) the node only
// gets an explicit axis; otherwise it becomes Flatten, the operator over the
// last axis, and a Reshape back to the input's shape.
func translateSoftmax(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 13 {
		return nil, "", nil
	}
	if len(n.Input) != 1 || len(n.Output) != 1 {
		return nil, "", nodeErr(n, "takes %d inputs and %d outputs instead of one each; fix the exporter", len(n.Input), len(n.Output))
	}
	axis := attrInt(n, "axis", 1)
	if axis == -1 && attr(n, "axis") != nil {
		return nil, "", nil
	}
	vi := s.info(n.Input[0])
	if vo := s.info(n.Output[0]); vo.rank >= 0 && (vi.rank < 0 || vi.dims == nil) {
		vi = vo // the output has the input's shape
	}
	if r := int64(vi.rank); r > 0 {
		a := axis
		if a < 0 {
			a += r
		}
		if a == r-1 {
			setAttr(n, intAttr("axis", -1))
			return []*onnx.NodeProto{n}, n.OpType, nil
		}
		if a >= 0 && a < r && len(vi.dims) == int(r) && allOnes(vi.dims[a+1:]) {
			setAttr(n, intAttr("axis", a))
			return []*onnx.NodeProto{n}, n.OpType, nil
		}
	}
	x, y := n.Input[0], n.Output[0]
	flat, norm, shape := u.fresh(x+"_flat2d"), u.fresh(y+"_2d"), u.fresh(x+"_shape")
	nodes := []*onnx.NodeProto{
		{Name: u.fresh(n.Name + "_flatten"), OpType: "Flatten", Input: []string{x}, Output: []string{flat}, Attribute: []*onnx.AttributeProto{intAttr("axis", axis)}},
		{Name: n.Name, OpType: n.OpType, Input: []string{flat}, Output: []string{norm}, Attribute: []*onnx.AttributeProto{intAttr("axis", -1)}},
		{Name: u.fresh(n.Name + "_shape"), OpType: "Shape", Input: []string{x}, Output: []string{shape}},
		{Name: u.fresh(n.Name + "_reshape"), OpType: "Reshape", Input: []string{norm, shape}, Output: []string{y}},
	}
	return nodes, n.OpType + " (flatten-to-2D)", nil
}

func allOnes(dims []int64) bool {
	for _, d := range dims {
		if d != 1 {
			return false
		}
	}
	return true
}

// translateDropout rewrites Dropout before opset 12, which at inference
// is the identity, into Identity. Where its mask is read, the mask becomes
// zeros of the input's shape (of the input's type before opset 10, boolean
// after): the old operators leave the mask unspecified at inference and
// ONNX Runtime, the reference for what old models compute, fills it with
// zeros, where Dropout-13 would give ones.
func translateDropout(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 12 {
		return nil, "", nil
	}
	if len(n.Input) < 1 || len(n.Output) < 1 {
		return nil, "", nodeErr(n, "has no input or no output; fix the exporter")
	}
	x := n.Input[0]
	nodes := []*onnx.NodeProto{{Name: n.Name, OpType: "Identity", Input: []string{x}, Output: n.Output[:1], DocString: n.DocString}}
	if len(n.Output) < 2 || n.Output[1] == "" || !u.used[n.Output[1]] {
		return nodes, "Dropout (inference, Identity)", nil
	}
	elem := int32(onnx.TensorProto_BOOL)
	if u.from < 10 {
		elem = s.info(x).elem
	}
	size := elemSize[onnx.TensorProto_DataType(elem)]
	if size == 0 {
		return nil, "", nodeErr(n, "its mask output is read and the input's type is not declared or not numeric; declare the input's type in value_info")
	}
	shape := u.fresh(x + "_shape")
	zero := &onnx.TensorProto{Dims: []int64{1}, DataType: elem, RawData: make([]byte, size)}
	nodes = append(nodes,
		&onnx.NodeProto{Name: u.fresh(n.Name + "_shape"), OpType: "Shape", Input: []string{x}, Output: []string{shape}},
		&onnx.NodeProto{Name: u.fresh(n.Name + "_mask"), OpType: "ConstantOfShape", Input: []string{shape}, Output: []string{n.Output[1]},
			Attribute: []*onnx.AttributeProto{{Name: "value", Type: onnx.AttributeProto_TENSOR, T: zero}}})
	return nodes, "Dropout (inference, Identity and zero mask)", nil
}

// elemSize is the size in bytes of the numeric element types.
var elemSize = map[onnx.TensorProto_DataType]int{
	onnx.TensorProto_FLOAT: 4, onnx.TensorProto_DOUBLE: 8, onnx.TensorProto_FLOAT16: 2, onnx.TensorProto_BFLOAT16: 2,
	onnx.TensorProto_INT8: 1, onnx.TensorProto_UINT8: 1, onnx.TensorProto_INT16: 2, onnx.TensorProto_UINT16: 2,
	onnx.TensorProto_INT32: 4, onnx.TensorProto_UINT32: 4, onnx.TensorProto_INT64: 8, onnx.TensorProto_UINT64: 8,
	onnx.TensorProto_BOOL: 1,
}

// translateBatchNorm removes the attributes old exporters left on
// BatchNormalization (is_test, consumed_inputs, and spatial, which opset 9
// made always true) and the training-only outputs of opsets 7 and 8.
// spatial=0 is accepted only where the parameters are per channel, which
// makes it mean the same as spatial=1.
func translateBatchNorm(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	changed := dropAttrs(n, "is_test", "consumed_inputs")
	if u.from < 9 {
		if a := attr(n, "spatial"); a != nil {
			if a.I == 0 {
				if err := u.perChannelParams(s, n); err != nil {
					return nil, "", err
				}
			}
			dropAttrs(n, "spatial")
			changed = true
		}
		for _, o := range n.Output[min(len(n.Output), 1):] {
			if o != "" && u.used[o] {
				return nil, "", nodeErr(n, "its training-mode output %q is read, which an inference model cannot compute; remove that use or re-export the model for inference", o)
			}
		}
		if len(n.Output) > 1 {
			n.Output = n.Output[:1]
			changed = true
		}
	}
	if !changed {
		return nil, "", nil
	}
	return []*onnx.NodeProto{n}, "BatchNormalization", nil
}

// perChannelParams checks that the scale, bias, mean and variance of a
// spatial=0 BatchNormalization are constants of shape (C, 1, ..., 1) and
// replaces them with copies of shape (C).
func (u *upgrader) perChannelParams(s *scope, n *onnx.NodeProto) error {
	if len(n.Input) != 5 {
		return nodeErr(n, "has %d inputs instead of 5; fix the exporter", len(n.Input))
	}
	for i := 1; i < 5; i++ {
		t := s.constant(n.Input[i])
		if t == nil || len(t.Dims) == 0 || !allOnes(t.Dims[1:]) {
			return nodeErr(n, "has spatial=0 with parameters that are not per channel, which opset 9 no longer supports; re-export the model with spatial batch normalization")
		}
		if len(t.Dims) == 1 {
			continue
		}
		c, ok := proto.Clone(t).(*onnx.TensorProto)
		if !ok {
			return nodeErr(n, "could not copy parameter %q", t.Name)
		}
		c.Name = u.fresh(t.Name + "_per_channel")
		c.Dims = []int64{t.Dims[0]}
		s.addConst(c)
		n.Input[i] = c.Name
	}
	return nil
}

// translateUpsample turns Upsample (deprecated at opset 10) into Resize-13
// with the coordinate mapping Upsample always had: asymmetric (input
// coordinate = output coordinate / scale), nearest rounding down. Opsets 7
// and 8 hold the scales in an attribute, 9 in an input.
func translateUpsample(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if len(n.Input) < 1 || len(n.Output) != 1 {
		return nil, "", nodeErr(n, "has %d inputs and %d outputs; fix the exporter", len(n.Input), len(n.Output))
	}
	var scales string
	if a := attr(n, "scales"); a != nil {
		scales = u.addFloats(s, n.Name+"_scales", a.Floats)
	} else if scales = input(n, 1); scales == "" {
		return nil, "", nodeErr(n, "has no scales (neither attribute nor input); fix the exporter")
	}
	r := &onnx.NodeProto{Name: n.Name, OpType: "Resize", Input: []string{n.Input[0], "", scales}, Output: n.Output, DocString: n.DocString}
	mode := attrString(n, "mode", "nearest")
	if err := setResizeMode(r, n, mode, "floor"); err != nil {
		return nil, "", err
	}
	return []*onnx.NodeProto{r}, "Upsample", nil
}

// translateResize turns Resize-10 (X, scales) into Resize-13 (X, roi,
// scales) with the asymmetric mapping that Resize-10 implied. ONNX Runtime,
// the reference for what an old model computes, rounds nearest coordinates
// of Resize-10 down where a dimension is enlarged and up where it shrinks;
// with constant scales that is one nearest_mode, floor or ceil.
func translateResize(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from != 10 {
		return nil, "", nil
	}
	if len(n.Input) != 2 {
		return nil, "", nodeErr(n, "has %d inputs instead of Resize-10's 2 (X, scales); fix the exporter", len(n.Input))
	}
	mode := attrString(n, "mode", "nearest")
	nearest := "floor"
	if sc, ok := float32s(s.constant(n.Input[1])); ok {
		up, down := false, false
		for _, v := range sc {
			up = up || v > 1
			down = down || v < 1
		}
		switch {
		case down && up && mode == "nearest":
			return nil, "", nodeErr(n, "enlarges some axes and shrinks others in nearest mode, which Resize-13 cannot round alike; split it into two Resize nodes")
		case down:
			nearest = "ceil"
		}
	} else if mode == "nearest" {
		u.note(fmt.Sprintf("Resize-10 nodes such as %q with computed scales were taken to enlarge (nearest rounds down)", n.Name))
	}
	n.Input = []string{n.Input[0], "", n.Input[1]}
	if err := setResizeMode(n, n, mode, nearest); err != nil {
		return nil, "", err
	}
	return []*onnx.NodeProto{n}, "Resize", nil
}

// setResizeMode gives the Resize-13 node r the attributes for the old
// operator orig's mode.
func setResizeMode(r, orig *onnx.NodeProto, mode, nearest string) error {
	switch mode {
	case "nearest":
		r.Attribute = []*onnx.AttributeProto{stringAttr("mode", "nearest"), stringAttr("coordinate_transformation_mode", "asymmetric"), stringAttr("nearest_mode", nearest)}
	case "linear", "bilinear":
		r.Attribute = []*onnx.AttributeProto{stringAttr("mode", "linear"), stringAttr("coordinate_transformation_mode", "asymmetric")}
	default:
		return nodeErr(orig, "has the unknown mode %q; use nearest or linear", mode)
	}
	return nil
}
