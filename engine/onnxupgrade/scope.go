package onnxupgrade

import (
	"encoding/binary"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// valInfo is what the upgrader knows of one value: its element type (0 when
// unknown) and its shape (rank -1 when unknown; a dimension -1 when unknown).
type valInfo struct {
	elem int32
	rank int
	dims []int64
}

var unknown = valInfo{rank: -1}

// scope holds what is known of the values of one graph, and the graph the
// upgrader adds constants to. Subgraphs see the values of the graphs they
// are nested in.
type scope struct {
	outer  *scope
	g      *onnx.GraphProto
	vals   map[string]valInfo
	consts map[string]*onnx.TensorProto
}

func newScope(g *onnx.GraphProto, outer *scope) *scope {
	s := &scope{outer: outer, g: g, vals: map[string]valInfo{}, consts: map[string]*onnx.TensorProto{}}
	for _, vs := range [][]*onnx.ValueInfoProto{g.Input, g.ValueInfo, g.Output} {
		for _, v := range vs {
			if v != nil {
				if vi, ok := typeInfo(v.Type); ok {
					s.vals[v.Name] = vi
				}
			}
		}
	}
	for _, t := range g.Initializer {
		if t != nil {
			s.consts[t.Name] = t
			s.vals[t.Name] = valInfo{elem: t.DataType, rank: len(t.Dims), dims: t.Dims}
		}
	}
	return s
}

// typeInfo reads the element type and shape of a tensor type.
func typeInfo(tp *onnx.TypeProto) (valInfo, bool) {
	tt := tp.GetTensorType()
	if tt == nil {
		return unknown, false
	}
	vi := valInfo{elem: tt.ElemType, rank: -1}
	if sh := tt.Shape; sh != nil {
		vi.rank = len(sh.Dim)
		vi.dims = make([]int64, len(sh.Dim))
		for i, d := range sh.Dim {
			vi.dims[i] = -1
			if v, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue); ok && v.DimValue > 0 {
				vi.dims[i] = v.DimValue
			}
		}
	}
	return vi, true
}

// info returns what is known of the value called name.
func (s *scope) info(name string) valInfo {
	for c := s; c != nil; c = c.outer {
		if vi, ok := c.vals[name]; ok {
			return vi
		}
	}
	return unknown
}

// constant returns the constant tensor called name, or nil.
func (s *scope) constant(name string) *onnx.TensorProto {
	for c := s; c != nil; c = c.outer {
		if t, ok := c.consts[name]; ok {
			return t
		}
	}
	return nil
}

// addConst adds t to the graph's initializers.
func (s *scope) addConst(t *onnx.TensorProto) {
	s.g.Initializer = append(s.g.Initializer, t)
	s.consts[t.Name] = t
	s.vals[t.Name] = valInfo{elem: t.DataType, rank: len(t.Dims), dims: t.Dims}
}

// set records vi for name unless the graph already declares it.
func (s *scope) set(name string, vi valInfo) {
	if name == "" {
		return
	}
	if old, ok := s.vals[name]; ok {
		if old.elem == 0 {
			old.elem = vi.elem
		}
		if old.rank < 0 {
			old.rank, old.dims = vi.rank, vi.dims
		}
		vi = old
	}
	s.vals[name] = vi
}

// sameShapeOps keep their first input's shape and element type.
var sameShapeOps = setOf("Abs", "Neg", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "Tanh",
	"Exp", "Log", "Sqrt", "Reciprocal", "Softplus", "Softsign", "Ceil", "Floor", "Round", "Identity", "Dropout",
	"Softmax", "LogSoftmax", "Hardmax", "Clip", "BatchNormalization", "InstanceNormalization", "LRN",
	"LpNormalization", "Erf", "Sin", "Cos", "HardSwish", "Sign", "ThresholdedRelu")

// rankOps keep their first input's rank (and element type) but may change
// dimensions.
var rankOps = setOf("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
	"GlobalMaxPool", "GlobalLpPool", "Pad", "Resize", "Upsample", "Slice", "Transpose", "Concat", "Tile",
	"DepthToSpace", "SpaceToDepth", "Gather")

// boolOps produce booleans.
var boolOps = setOf("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf")

// int64Ops produce int64 indices or sizes.
var int64Ops = setOf("Shape", "Size", "ArgMax", "ArgMin", "NonZero", "NonMaxSuppression")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// infer records what can be told of n's outputs from its inputs. It only
// needs to be good enough for the decisions the translators make (the
// element type of Clip and Pad constants, the rank before a Softmax); what
// it cannot tell stays unknown.
func (s *scope) infer(n *onnx.NodeProto) {
	if len(n.Output) == 0 || !isDefaultDomain(n.Domain) {
		return
	}
	in := unknown
	if len(n.Input) > 0 {
		in = s.info(n.Input[0])
	}
	out := n.Output[0]
	op := n.OpType
	switch {
	case op == "Constant":
		if a := attr(n, "value"); a != nil && a.T != nil {
			t := a.T
			s.consts[out] = t
			s.set(out, valInfo{elem: t.DataType, rank: len(t.Dims), dims: t.Dims})
		}
	case op == "Cast":
		vi := in
		vi.elem = int32(attrInt(n, "to", 0))
		s.set(out, vi)
	case op == "Shape":
		s.set(out, valInfo{elem: int32(onnx.TensorProto_INT64), rank: 1, dims: []int64{int64(in.rank)}})
	case int64Ops[op]:
		s.set(out, valInfo{elem: int32(onnx.TensorProto_INT64), rank: -1})
	case boolOps[op]:
		s.set(out, valInfo{elem: int32(onnx.TensorProto_BOOL), rank: -1})
	case sameShapeOps[op]:
		s.set(out, in)
	case rankOps[op]:
		s.set(out, valInfo{elem: in.elem, rank: in.rank})
	case op == "Gemm" || op == "Flatten":
		s.set(out, valInfo{elem: in.elem, rank: 2})
	case op == "Reshape":
		vi := valInfo{elem: in.elem, rank: -1}
		if shape, ok := int64s(s.constant(input(n, 1))); ok {
			vi.rank = len(shape)
		}
		s.set(out, vi)
	case op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "MatMul" || op == "Max" || op == "Min" || op == "Sum":
		vi := valInfo{elem: in.elem, rank: -1}
		r := 0
		for _, name := range n.Input {
			ri := s.info(name).rank
			if ri < 0 {
				r = -1
				break
			}
			r = max(r, ri)
		}
		if len(n.Input) > 0 {
			vi.rank = r
		}
		s.set(out, vi)
	case op == "TopK":
		s.set(out, valInfo{elem: in.elem, rank: in.rank})
		if len(n.Output) > 1 {
			s.set(n.Output[1], valInfo{elem: int32(onnx.TensorProto_INT64), rank: in.rank})
		}
	default:
		s.set(out, valInfo{elem: in.elem, rank: -1})
	}
}

// int64s reads the values of an integer constant tensor.
func int64s(t *onnx.TensorProto) ([]int64, bool) {
	if t == nil || t.DataLocation == onnx.TensorProto_EXTERNAL {
		return nil, false
	}
	n, ok := numElements(t.Dims)
	if !ok {
		return nil, false
	}
	switch onnx.TensorProto_DataType(t.DataType) {
	case onnx.TensorProto_INT64:
		if len(t.RawData) > 0 {
			if int64(len(t.RawData)) != 8*n {
				return nil, false
			}
			v := make([]int64, n)
			for i := range v {
				v[i] = int64(binary.LittleEndian.Uint64(t.RawData[8*i:]))
			}
			return v, true
		}
		if int64(len(t.Int64Data)) != n {
			return nil, false
		}
		return append([]int64(nil), t.Int64Data...), true
	case onnx.TensorProto_INT32:
		if len(t.RawData) > 0 {
			if int64(len(t.RawData)) != 4*n {
				return nil, false
			}
			v := make([]int64, n)
			for i := range v {
				v[i] = int64(int32(binary.LittleEndian.Uint32(t.RawData[4*i:])))
			}
			return v, true
		}
		if int64(len(t.Int32Data)) != n {
			return nil, false
		}
		v := make([]int64, n)
		for i, x := range t.Int32Data {
			v[i] = int64(x)
		}
		return v, true
	}
	return nil, false
}

// float32s reads the values of a float32 constant tensor.
func float32s(t *onnx.TensorProto) ([]float32, bool) {
	if t == nil || t.DataLocation == onnx.TensorProto_EXTERNAL || t.DataType != int32(onnx.TensorProto_FLOAT) {
		return nil, false
	}
	n, ok := numElements(t.Dims)
	if !ok {
		return nil, false
	}
	if len(t.RawData) > 0 {
		if int64(len(t.RawData)) != 4*n {
			return nil, false
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return v, true
	}
	if int64(len(t.FloatData)) != n {
		return nil, false
	}
	return append([]float32(nil), t.FloatData...), true
}

// maxElements bounds the tensors the upgrader reads, so that hostile
// dimensions cannot make it allocate without limit.
const maxElements = 1 << 28

// numElements multiplies dims, refusing negative dimensions and products
// past maxElements.
func numElements(dims []int64) (int64, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || d > maxElements {
			return 0, false
		}
		n *= d
		if n > maxElements {
			return 0, false
		}
	}
	return n, true
}
