package onnxsafe

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// The tests build their models here, in Go: a tiny Y = X·W + B classifier
// (X [1,4], W [4,3], B [3]) whose weights can be inline, external, sparse or
// produced by Constant nodes, plus If subgraphs and functions around them.

var (
	testW = []float32{1, 0, 0, 0, 2, 0, 0, 0, 0, 0.5, 0, -1} // [4,3], mostly zero for the sparse tests
	testB = []float32{0.25, -0.5, 1}
)

func rawFloats(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func rawInt64s(v []int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}

func floatTensor(name string, dims []int64, v []float32) *onnx.TensorProto {
	return &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: rawFloats(v)}
}

// externalTensor is a FLOAT tensor whose data lies in loc; offset and length
// are written as given ("" leaves the key out).
func externalTensor(name string, dims []int64, loc, offset, length string) *onnx.TensorProto {
	t := &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), DataLocation: onnx.TensorProto_EXTERNAL}
	t.ExternalData = append(t.ExternalData, &onnx.StringStringEntryProto{Key: "location", Value: loc})
	if offset != "" {
		t.ExternalData = append(t.ExternalData, &onnx.StringStringEntryProto{Key: "offset", Value: offset})
	}
	if length != "" {
		t.ExternalData = append(t.ExternalData, &onnx.StringStringEntryProto{Key: "length", Value: length})
	}
	return t
}

// sparseOf returns the sparse form of a dense float tensor (linear indices).
func sparseOf(name string, dims []int64, v []float32) *onnx.SparseTensorProto {
	var vals []float32
	var idx []int64
	for i, x := range v {
		if x != 0 {
			vals = append(vals, x)
			idx = append(idx, int64(i))
		}
	}
	n := int64(len(vals))
	return &onnx.SparseTensorProto{
		Dims:    dims,
		Values:  floatTensor(name, []int64{n}, vals),
		Indices: &onnx.TensorProto{Name: name + "_indices", Dims: []int64{n}, DataType: int32(onnx.TensorProto_INT64), RawData: rawInt64s(idx)},
	}
}

func valueInfo(name string, dims ...int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape}}}}
}

func node(op, name string, in, out []string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
	return &onnx.NodeProto{OpType: op, Name: name, Input: in, Output: out, Attribute: attrs}
}

// linearGraph is Y = X·W + B with no weights: callers add W and B.
func linearGraph() *onnx.GraphProto {
	return &onnx.GraphProto{
		Name:   "linear",
		Input:  []*onnx.ValueInfoProto{valueInfo("X", 1, 4)},
		Output: []*onnx.ValueInfoProto{valueInfo("Y", 1, 3)},
		Node: []*onnx.NodeProto{
			node("MatMul", "mm", []string{"X", "W"}, []string{"H"}),
			node("Add", "add", []string{"H", "B"}, []string{"Y"}),
		},
	}
}

func modelOf(g *onnx.GraphProto) *onnx.ModelProto {
	return &onnx.ModelProto{IrVersion: 8, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 13}}, ProducerName: "advlab-test", Graph: g}
}

// inlineModel is the reference: both weights dense, inline.
func inlineModel() *onnx.ModelProto {
	g := linearGraph()
	g.Initializer = []*onnx.TensorProto{floatTensor("W", []int64{4, 3}, testW), floatTensor("B", []int64{3}, testB)}
	return modelOf(g)
}

// withW is the linear model with B inline and W given by the caller.
func withW(w *onnx.TensorProto) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Initializer[0] = w
	return m
}

// withSparseW is the linear model with W a sparse initializer.
func withSparseW(s *onnx.SparseTensorProto) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Initializer = m.Graph.Initializer[1:]
	m.Graph.SparseInitializer = []*onnx.SparseTensorProto{s}
	return m
}

// withConstantW is the linear model whose W comes from a Constant node with
// the given attribute.
func withConstantW(a *onnx.AttributeProto) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Initializer = m.Graph.Initializer[1:]
	m.Graph.Node = append([]*onnx.NodeProto{node("Constant", "const_w", nil, []string{"W"}, a)}, m.Graph.Node...)
	return m
}

func sparseValueAttr(s *onnx.SparseTensorProto) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: "sparse_value", Type: onnx.AttributeProto_SPARSE_TENSOR, SparseTensor: s}
}

func tensorAttr(name string, t *onnx.TensorProto) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_TENSOR, T: t}
}

// withIfW is the linear model whose W comes out of an If node: both branches
// are a Constant whose value is t.
func withIfW(t *onnx.TensorProto) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Initializer = append(m.Graph.Initializer[1:], &onnx.TensorProto{Name: "cond", DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{1}})
	branch := func(name string) *onnx.GraphProto {
		return &onnx.GraphProto{
			Name:   name,
			Node:   []*onnx.NodeProto{node("Constant", name+"_w", nil, []string{name + "_out"}, tensorAttr("value", proto.Clone(t).(*onnx.TensorProto)))},
			Output: []*onnx.ValueInfoProto{valueInfo(name+"_out", 4, 3)},
		}
	}
	ifNode := node("If", "if_w", []string{"cond"}, []string{"W"},
		&onnx.AttributeProto{Name: "then_branch", Type: onnx.AttributeProto_GRAPH, G: branch("then")},
		&onnx.AttributeProto{Name: "else_branch", Type: onnx.AttributeProto_GRAPH, G: branch("else")})
	m.Graph.Node = append([]*onnx.NodeProto{ifNode}, m.Graph.Node...)
	return m
}

func marshal(t testing.TB, m *onnx.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeWeights writes W's bytes, after pad bytes of padding, to dir/rel.
func writeWeights(t testing.TB, dir, rel string, pad int) (offset, length string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	data := append(make([]byte, pad), rawFloats(testW)...)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(pad), strconv.Itoa(4 * len(testW))
}
