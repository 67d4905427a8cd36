package onnxupgrade

import (
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// translator rewrites one node of the model's old opset into nodes of opset
// 13. It returns the kind of rewrite for the Report, "" when n needed none
// (the node then stays as it is).
type translator func(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error)

// translators holds a translator for every default-domain operator whose
// signature or meaning changed between opset 7 and 13, or that old
// exporters wrote with attributes later removed.
var translators map[string]translator

func init() {
	translators = map[string]translator{
		"Split":              attrToInput("split", 13, 1, false),
		"Squeeze":            attrToInput("axes", 13, 1, false),
		"Unsqueeze":          attrToInput("axes", 13, 1, true),
		"ReduceSum":          attrToInput("axes", 13, 1, false),
		"TopK":               translateTopK,
		"Slice":              translateSlice,
		"Pad":                translatePad,
		"Clip":               translateClip,
		"Reshape":            translateReshape,
		"Cast":               translateCast,
		"Concat":             translateConcat,
		"Gemm":               dropLegacyBroadcast,
		"Scatter":            translateScatter,
		"Softmax":            translateSoftmax,
		"LogSoftmax":         translateSoftmax,
		"Hardmax":            translateSoftmax,
		"Dropout":            translateDropout,
		"BatchNormalization": translateBatchNorm,
		"Upsample":           translateUpsample,
		"Resize":             translateResize,
		"Scan":               translateScan,
		"ImageScaler":        translateImageScaler,
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "PRelu"} {
		translators[op] = dropLegacyBroadcast
	}
	for op, tr := range experimental {
		translators[op] = tr
	}
}

// ints reads an INTS attribute, accepting a lone INT as one value.
func ints(a *onnx.AttributeProto) []int64 {
	if a.Type == onnx.AttributeProto_INT && len(a.Ints) == 0 {
		return []int64{a.I}
	}
	return a.Ints
}

// attrToInput moves the int64 list attribute name into input position pos,
// for operators that made that change at opset since. required says whether
// the old operator required the attribute.
func attrToInput(name string, since int64, pos int, required bool) translator {
	return func(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
		if u.from >= since {
			return nil, "", nil
		}
		a := attr(n, name)
		if a == nil {
			if required {
				return nil, "", nodeErr(n, "the required attribute %q is missing; fix the exporter or re-export the model", name)
			}
			return nil, "", nil
		}
		if input(n, pos) != "" {
			return nil, "", nodeErr(n, "has both an attribute %q and an input in its place; keep one", name)
		}
		setInput(n, pos, u.addInt64s(s, n.Name+"_"+name, ints(a)))
		dropAttrs(n, name)
		return []*onnx.NodeProto{n}, n.OpType, nil
	}
}

// translateTopK moves TopK-1's k attribute into the K input of TopK-10.
func translateTopK(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 10 {
		return nil, "", nil
	}
	a := attr(n, "k")
	if a == nil {
		return nil, "", nodeErr(n, "the required attribute \"k\" is missing; fix the exporter or re-export the model")
	}
	setInput(n, 1, u.addInt64s(s, n.Name+"_k", []int64{a.I}))
	dropAttrs(n, "k")
	return []*onnx.NodeProto{n}, "TopK", nil
}

// translateSlice moves Slice-1's starts, ends and axes attributes into the
// inputs of Slice-10.
func translateSlice(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 10 {
		return nil, "", nil
	}
	starts, ends := attr(n, "starts"), attr(n, "ends")
	if starts == nil || ends == nil {
		return nil, "", nodeErr(n, "the required attributes \"starts\" and \"ends\" are missing; fix the exporter or re-export the model")
	}
	if len(ints(starts)) != len(ints(ends)) {
		return nil, "", nodeErr(n, "has %d starts but %d ends; fix the exporter", len(ints(starts)), len(ints(ends)))
	}
	n.Input = n.Input[:min(len(n.Input), 1)]
	setInput(n, 1, u.addInt64s(s, n.Name+"_starts", ints(starts)))
	setInput(n, 2, u.addInt64s(s, n.Name+"_ends", ints(ends)))
	if axes := attr(n, "axes"); axes != nil {
		setInput(n, 3, u.addInt64s(s, n.Name+"_axes", ints(axes)))
	}
	dropAttrs(n, "starts", "ends", "axes")
	return []*onnx.NodeProto{n}, "Slice", nil
}

// translatePad moves Pad-2's pads and value attributes into the inputs of
// Pad-11.
func translatePad(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 11 {
		return nil, "", nil
	}
	pads := attr(n, "pads")
	if pads == nil {
		pads = attr(n, "paddings") // the name in Pad-1
	}
	if pads == nil {
		return nil, "", nodeErr(n, "the required attribute \"pads\" is missing; fix the exporter or re-export the model")
	}
	n.Input = n.Input[:min(len(n.Input), 1)]
	setInput(n, 1, u.addInt64s(s, n.Name+"_pads", ints(pads)))
	var extra []*onnx.NodeProto
	if v := attr(n, "value"); v != nil && v.F != 0 {
		name, cast := u.addScalar(s, n, n.Name+"_value", s.info(input(n, 0)).elem, v.F)
		setInput(n, 2, name)
		extra = cast
	}
	dropAttrs(n, "pads", "paddings", "value")
	return append(extra, n), "Pad", nil
}

// translateClip moves Clip-6's min and max attributes into the inputs of
// Clip-11. Both bounds are always given, with Clip-6's defaults of
// ∓FLT_MAX, because those also clamp infinities.
func translateClip(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 11 {
		return nil, "", nil
	}
	lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
	if a := attr(n, "min"); a != nil {
		lo = a.F
	}
	if a := attr(n, "max"); a != nil {
		hi = a.F
	}
	elem := s.info(input(n, 0)).elem
	n.Input = n.Input[:min(len(n.Input), 1)]
	loName, loCast := u.addScalar(s, n, n.Name+"_min", elem, lo)
	hiName, hiCast := u.addScalar(s, n, n.Name+"_max", elem, hi)
	setInput(n, 1, loName)
	setInput(n, 2, hiName)
	dropAttrs(n, "min", "max", "consumed_inputs")
	out := append(append(loCast, hiCast...), n)
	return out, "Clip", nil
}

// translateReshape moves Reshape-1's shape attribute into the input of
// Reshape-5, for files that kept it.
func translateReshape(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	a := attr(n, "shape")
	if a == nil {
		return nil, "", nil
	}
	if input(n, 1) == "" {
		setInput(n, 1, u.addInt64s(s, n.Name+"_shape", ints(a)))
	}
	dropAttrs(n, "shape", "consumed_inputs")
	return []*onnx.NodeProto{n}, "Reshape", nil
}

// translateCast turns Cast-1's string "to" into Cast-6's enum.
func translateCast(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	a := attr(n, "to")
	if a == nil {
		return nil, "", nodeErr(n, "the required attribute \"to\" is missing; fix the exporter")
	}
	if a.Type != onnx.AttributeProto_STRING && len(a.S) == 0 {
		return nil, "", nil
	}
	v, ok := onnx.TensorProto_DataType_value[string(a.S)]
	if !ok || v == 0 {
		return nil, "", nodeErr(n, "casts to the unknown type %q; use an ONNX type name such as FLOAT", string(a.S))
	}
	setAttr(n, intAttr("to", int64(v)))
	return []*onnx.NodeProto{n}, "Cast", nil
}

// translateConcat refuses Concat-1 nodes that relied on the default axis,
// which opset 4 removed.
func translateConcat(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if attr(n, "axis") == nil {
		return nil, "", nodeErr(n, "has no axis attribute (a Concat older than opset 4, whose default axis later went away); add axis=1 if that is what the exporter meant, or re-export the model")
	}
	return nil, "", nil
}

// dropLegacyBroadcast removes the broadcast attribute of opset-6 Gemm and
// element-wise operators, which opset 7 made implicit. The axis attribute
// of the old broadcasting has no equivalent and is refused.
func dropLegacyBroadcast(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if n.OpType != "Gemm" && attr(n, "axis") != nil && attr(n, "broadcast") != nil {
		return nil, "", nodeErr(n, "uses opset-6 broadcasting along an axis, which has no opset-13 form; re-export the model at opset 7 or later")
	}
	if !dropAttrs(n, "broadcast", "consumed_inputs") {
		return nil, "", nil
	}
	return []*onnx.NodeProto{n}, n.OpType, nil
}

// translateScatter renames Scatter, deprecated at opset 11, to
// ScatterElements, which has the same meaning.
func translateScatter(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	n.OpType = "ScatterElements"
	return []*onnx.NodeProto{n}, "Scatter", nil
}

// translateScan refuses Scan-8, whose batch dimension and sequence_lens
// input Scan-9 removed.
func translateScan(u *upgrader, s *scope, n *onnx.NodeProto) ([]*onnx.NodeProto, string, error) {
	if u.from >= 9 {
		return nil, "", nil
	}
	return nil, "", nodeErr(n, "is an opset-8 Scan, with a batch axis that opset 9 removed; re-export the model at opset 9 or later")
}
