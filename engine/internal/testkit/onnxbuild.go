package testkit

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// OnnxAttr is a node attribute, for short.
type OnnxAttr = onnx.AttributeProto

// Graph builds small ONNX graphs for tests: nodes with generated output
// names, random or given initializers, one float image input whose first
// dimension is the dynamic batch "N", and one logits output.
type Graph struct {
	opset int64
	Nodes []*onnx.NodeProto
	Inits []*onnx.TensorProto
	seq   int
	rng   *rand.Rand
}

// NewGraph starts a graph of the given opset whose random initializers
// come from seed.
func NewGraph(opset int64, seed uint64) *Graph {
	return &Graph{opset: opset, rng: rand.New(rand.NewPCG(seed, 99))}
}

func (g *Graph) name(prefix string) string {
	g.seq++
	return fmt.Sprintf("%s%d", prefix, g.seq)
}

// Op adds a node with one output and returns its name.
func (g *Graph) Op(opType string, inputs []string, attrs ...*onnx.AttributeProto) string {
	return g.OpN(opType, inputs, 1, attrs...)[0]
}

// OpN adds a node with n outputs.
func (g *Graph) OpN(opType string, inputs []string, n int, attrs ...*onnx.AttributeProto) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = g.name("t")
	}
	g.Nodes = append(g.Nodes, &onnx.NodeProto{Name: g.name(opType + "_"), OpType: opType, Input: inputs, Output: outs, Attribute: attrs})
	return outs
}

// OpTo adds a node whose one output is called out.
func (g *Graph) OpTo(opType string, inputs []string, out string, attrs ...*onnx.AttributeProto) {
	g.Nodes = append(g.Nodes, &onnx.NodeProto{Name: g.name(opType + "_"), OpType: opType, Input: inputs, Output: []string{out}, Attribute: attrs})
}

// Floats adds a float32 initializer.
func (g *Graph) Floats(dims []int64, v []float32) string {
	t := onnxproto.Float32Tensor(dims, v)
	t.Name = g.name("w")
	g.Inits = append(g.Inits, t)
	return t.Name
}

// Weight adds a float32 initializer of normal values with standard
// deviation scale.
func (g *Graph) Weight(scale float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.rng.NormFloat64()) * scale
	}
	return g.Floats(dims, v)
}

// Scalar adds a float32 scalar initializer.
func (g *Graph) Scalar(v float32) string { return g.Floats(nil, []float32{v}) }

// Ints adds a 1-D int64 initializer.
func (g *Graph) Ints(v ...int64) string {
	t := onnxproto.Int64Tensor([]int64{int64(len(v))}, v)
	t.Name = g.name("i")
	g.Inits = append(g.Inits, t)
	return t.Name
}

// Constant adds a Constant node holding t and returns its output.
func (g *Graph) Constant(t *onnx.TensorProto) string {
	return g.Op("Constant", nil, onnxproto.AttrTensor("value", t))
}

// Classifier ends the graph: flattens out and multiplies it by a random
// [features, k] weight, giving logits [N, k].
func (g *Graph) Classifier(out string, features, k int64) string {
	flat := g.Op("Flatten", []string{out}, onnxproto.AttrInt("axis", 1))
	return g.Op("MatMul", []string{flat, g.Weight(1/float32(features)*4, features, k)})
}

// Model returns the model with the image input called input, of shape
// [N, dims...], and the logits output.
func (g *Graph) Model(input string, dims []int64, logits string, k int64) *onnx.ModelProto {
	in := []any{"N"}
	for _, d := range dims {
		in = append(in, int(d))
	}
	return &onnx.ModelProto{
		IrVersion:    8,
		ProducerName: "advlab gradgraph tests",
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: g.opset}},
		Graph: &onnx.GraphProto{
			Name:        "test",
			Node:        g.Nodes,
			Initializer: g.Inits,
			Input:       []*onnx.ValueInfoProto{testValue(input, onnx.TensorProto_FLOAT, in...)},
			Output:      []*onnx.ValueInfoProto{testValue(logits, onnx.TensorProto_FLOAT, "N", int(k))},
		},
	}
}

// testValue is a value info with a string (symbolic) or int dimension each.
func testValue(name string, elem onnx.TensorProto_DataType, shape ...any) *onnx.ValueInfoProto {
	var dims []*onnx.TensorShapeProto_Dimension
	for _, d := range shape {
		switch d := d.(type) {
		case string:
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		case int:
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		}
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(elem), Shape: &onnx.TensorShapeProto{Dim: dims}},
	}}}
}

// OrtRun runs a serialised model once and returns its float32 outputs.
// Inputs are float32 tensors or int64 tensors ([]int64 data).
func OrtRun(tb testing.TB, data []byte, inNames []string, inShapes [][]int64, inData []any, outNames []string) [][]float32 {
	tb.Helper()
	s, err := onnxrt.NewSession(data, inNames, outNames)
	if err != nil {
		tb.Fatalf("loading into ONNX Runtime: %v", err)
	}
	defer s.Destroy()
	ins := make([]ort.Value, len(inNames))
	for i := range ins {
		var v ort.Value
		switch d := inData[i].(type) {
		case []float32:
			v, err = ort.NewTensor(ort.NewShape(inShapes[i]...), d)
		case []int64:
			v, err = ort.NewTensor(ort.NewShape(inShapes[i]...), d)
		default:
			tb.Fatalf("input %d: unsupported data %T", i, d)
		}
		if err != nil {
			tb.Fatal(err)
		}
		defer v.Destroy()
		ins[i] = v
	}
	outs := make([]ort.Value, len(outNames))
	if err := s.Run(ins, outs); err != nil {
		tb.Fatalf("running: %v", err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			tb.Fatalf("output %s is %T", outNames[i], o)
		}
		res[i] = append([]float32(nil), t.GetData()...)
		o.Destroy()
	}
	return res
}

// MarshalModel serialises a model for ONNX Runtime.
func MarshalModel(tb testing.TB, m *onnx.ModelProto) []byte {
	tb.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
