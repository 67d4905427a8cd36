package onnxupgrade

import (
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// The experimental operators below were removed at opset 10 and ONNX
// Runtime runs none of them at opset 13; the ones with a standard
// equivalent are rewritten into it, the others refused.

// translateImageScaler turns the experimental ImageScaler (removed at opset
// 10; y = scale·x + bias[c] on NCHW) into Mul and Add.
func translateImageScaler(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if len(n.Input) != 1 || len(n.Output) != 1 {
		return nil, "", nodeErr(n, "takes %d inputs and %d outputs instead of one each; fix the exporter", len(n.Input), len(n.Output))
	}
	if e := s.info(n.Input[0]).elem; e != 0 && e != int32(onnx.TensorProto_FLOAT) {
		return nil, "", nodeErr(n, "scales a %s tensor; only float32 is supported (run ToFloat32 first)", onnx.TensorProto_DataType(e))
	}
	scale := float32(1)
	if a := attr(n, "scale"); a != nil {
		scale = a.F
	}
	var bias []float32
	if a := attr(n, "bias"); a != nil {
		bias = a.Floats
	}
	scaleName := u.fresh(n.Name + "_scale")
	s.addConst(&onnx.TensorProto{Name: scaleName, DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{scale}})
	if len(bias) == 0 {
		return []*onnx.NodeProto{{Name: n.Name, OpType: "Mul", Input: []string{n.Input[0], scaleName}, Output: n.Output}}, "ImageScaler", nil
	}
	biasName := u.fresh(n.Name + "_bias")
	s.addConst(&onnx.TensorProto{Name: biasName, Dims: []int64{1, int64(len(bias)), 1, 1}, DataType: int32(onnx.TensorProto_FLOAT), FloatData: append([]float32(nil), bias...)})
	scaled := u.fresh(n.Output[0] + "_scaled")
	return []*onnx.NodeProto{
		{Name: n.Name, OpType: "Mul", Input: []string{n.Input[0], scaleName}, Output: []string{scaled}},
		{Name: u.fresh(n.Name + "_bias_add"), OpType: "Add", Input: []string{scaled, biasName}, Output: n.Output},
	}, "ImageScaler", nil
}

// experimental maps the experimental operators to their translators.
var experimental = map[string]translator{
	"ImageScaler":               translateImageScaler,
	"Scale":                     translateScale,
	"Affine":                    translateAffine,
	"ScaledTanh":                translateScaledTanh,
	"ParametricSoftplus":        translateParametricSoftplus,
	"DynamicSlice":              translateDynamicSlice,
	"Crop":                      translateCrop,
	"MeanVarianceNormalization": translateMVN,
	"GRUUnit":                   refuseExperimental,
	"GivenTensorFill":           refuseExperimental,
}

// refuseExperimental refuses the experimental operators that have no
// standard equivalent.
func refuseExperimental(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	return nil, "", nodeErr(n, "is an experimental operator removed at opset 10; re-export the model with standard operators")
}

// oneInOneOut checks the arity of the experimental element-wise operators.
func oneInOneOut(n *onnx.NodeProto) error {
	if len(n.Input) != 1 || len(n.Output) != 1 || n.Input[0] == "" {
		return nodeErr(n, "takes %d inputs and %d outputs instead of one each; fix the exporter", len(n.Input), len(n.Output))
	}
	return nil
}

// chain builds the nodes computing out from n's input through binary
// operators with scalar constants and unary operators: each step is an
// operator type and, for Mul and Add, the constant.
type step struct {
	op string
	c  float32
}

func (u *upgrader) chain(s *scope, n *onnx.NodeProto, steps ...step) []*onnx.NodeProto {
	elem := s.info(n.Input[0]).elem
	var nodes []*onnx.NodeProto
	cur := n.Input[0]
	for i, st := range steps {
		out := n.Output[0]
		if i < len(steps)-1 {
			out = u.fresh(n.Output[0] + "_" + st.op)
		}
		in := []string{cur}
		if st.op == "Mul" || st.op == "Add" {
			name, cast := u.addScalar(s, n, n.Name+"_"+st.op, elem, st.c)
			nodes = append(nodes, cast...)
			in = append(in, name)
		}
		nodes = append(nodes, &onnx.NodeProto{Name: u.fresh(n.Name + "_" + st.op), OpType: st.op, Input: in, Output: []string{out}})
		cur = out
	}
	return nodes
}

func attrFloat(n *onnx.NodeProto, name string, def float32) (float32, bool) {
	if a := attr(n, name); a != nil {
		return a.F, true
	}
	return def, false
}

// translateScale: y = scale·x.
func translateScale(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	scale, _ := attrFloat(n, "scale", 1)
	return u.chain(s, n, step{"Mul", scale}), "Scale", nil
}

// translateAffine: y = alpha·x + beta.
func translateAffine(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	alpha, _ := attrFloat(n, "alpha", 1)
	beta, _ := attrFloat(n, "beta", 0)
	return u.chain(s, n, step{"Mul", alpha}, step{"Add", beta}), "Affine", nil
}

// translateScaledTanh: y = alpha·tanh(beta·x).
func translateScaledTanh(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	alpha, okA := attrFloat(n, "alpha", 1)
	beta, okB := attrFloat(n, "beta", 1)
	if !okA || !okB {
		return nil, "", nodeErr(n, "lacks its alpha or beta attribute; fix the exporter")
	}
	return u.chain(s, n, step{"Mul", beta}, step{op: "Tanh"}, step{"Mul", alpha}), "ScaledTanh", nil
}

// translateParametricSoftplus: y = alpha·ln(exp(beta·x) + 1).
func translateParametricSoftplus(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	alpha, okA := attrFloat(n, "alpha", 1)
	beta, okB := attrFloat(n, "beta", 1)
	if !okA || !okB {
		return nil, "", nodeErr(n, "lacks its alpha or beta attribute; fix the exporter")
	}
	return u.chain(s, n, step{"Mul", beta}, step{op: "Softplus"}, step{"Mul", alpha}), "ParametricSoftplus", nil
}

// translateDynamicSlice renames DynamicSlice (data, starts, ends, axes) to
// Slice-10, which takes the same inputs.
func translateDynamicSlice(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if len(n.Input) < 3 || len(n.Input) > 4 {
		return nil, "", nodeErr(n, "has %d inputs instead of 3 or 4; fix the exporter", len(n.Input))
	}
	n.OpType = "Slice"
	return []*onnx.NodeProto{n}, "DynamicSlice", nil
}

// translateCrop turns Crop (border = left, top, right, bottom; optional
// scale = height, width of the crop) on NCHW into a Slice of H and W.
func translateCrop(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	a := attr(n, "border")
	if a == nil || len(a.Ints) != 4 {
		return nil, "", nodeErr(n, "needs a border of 4 values (left, top, right, bottom); fix the exporter")
	}
	left, top, right, bottom := a.Ints[0], a.Ints[1], a.Ints[2], a.Ints[3]
	// With no scale the crop ends that far from the far edges; an end of 0
	// from the edge is written as "to the end".
	fromEnd := func(b int64) int64 {
		if b == 0 {
			return math.MaxInt64
		}
		return -b
	}
	ends := []int64{fromEnd(bottom), fromEnd(right)}
	if sc := attr(n, "scale"); sc != nil {
		if len(sc.Ints) != 2 {
			return nil, "", nodeErr(n, "needs a scale of 2 values (height, width); fix the exporter")
		}
		ends = []int64{top + sc.Ints[0], left + sc.Ints[1]}
	}
	slice := &onnx.NodeProto{Name: n.Name, OpType: "Slice", Output: n.Output, Input: []string{n.Input[0],
		u.addInt64s(s, n.Name+"_starts", []int64{top, left}),
		u.addInt64s(s, n.Name+"_ends", ends),
		u.addInt64s(s, n.Name+"_axes", []int64{2, 3})}}
	return []*onnx.NodeProto{slice}, "Crop", nil
}

// translateMVN turns the experimental MeanVarianceNormalization of opsets
// before 9 (across_channels, normalize_variance) into the standard one over
// the matching axes of NCHW, or, without variance normalisation, into
// x − mean(x).
func translateMVN(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 9 {
		return nil, "", nil
	}
	if err := oneInOneOut(n); err != nil {
		return nil, "", err
	}
	// ONNX Runtime, the reference for what old models compute, takes the
	// statistics over the batch too, as MVN-9 does by default.
	axes := []int64{0, 2, 3}
	if attrInt(n, "across_channels", 0) != 0 {
		axes = []int64{0, 1, 2, 3}
	}
	if attrInt(n, "normalize_variance", 1) != 0 {
		mvn := &onnx.NodeProto{Name: n.Name, OpType: "MeanVarianceNormalization", Input: n.Input, Output: n.Output, Attribute: []*onnx.AttributeProto{{Name: "axes", Type: onnx.AttributeProto_INTS, Ints: axes}}}
		return []*onnx.NodeProto{mvn}, "MeanVarianceNormalization", nil
	}
	mean := u.fresh(n.Output[0] + "_mean")
	return []*onnx.NodeProto{
		{Name: u.fresh(n.Name + "_mean"), OpType: "ReduceMean", Input: n.Input, Output: []string{mean}, Attribute: []*onnx.AttributeProto{{Name: "axes", Type: onnx.AttributeProto_INTS, Ints: axes}}},
		{Name: n.Name, OpType: "Sub", Input: []string{n.Input[0], mean}, Output: n.Output},
	}, "MeanVarianceNormalization (mean only)", nil
}
