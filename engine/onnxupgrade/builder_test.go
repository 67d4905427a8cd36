package onnxupgrade

import (
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// builder makes small ONNX models at a chosen opset for the tests.
type builder struct {
	opset   int64
	ir      int64
	imports []*onnx.OperatorSetIdProto
	g       *onnx.GraphProto
}

func newBuilder(opset int64) *builder {
	return &builder{opset: opset, ir: 6, g: &onnx.GraphProto{Name: "test"}}
}

// valueInfo declares a tensor value; nil dims with noShape leaves the shape
// out, and a dimension of -1 is symbolic.
func valueInfo(name string, elem onnx.TensorProto_DataType, dims []int64, noShape bool) *onnx.ValueInfoProto {
	tt := &onnx.TypeProto_Tensor{ElemType: int32(elem)}
	if !noShape {
		tt.Shape = &onnx.TensorShapeProto{}
		for _, d := range dims {
			dim := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}}
			if d < 0 {
				dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: tt}}}
}

// in declares a float32 graph input.
func (b *builder) in(name string, dims ...int64) string {
	b.g.Input = append(b.g.Input, valueInfo(name, onnx.TensorProto_FLOAT, dims, false))
	return name
}

// inTyped declares a graph input of any type, optionally without shape.
func (b *builder) inTyped(name string, elem onnx.TensorProto_DataType, dims []int64, noShape bool) string {
	b.g.Input = append(b.g.Input, valueInfo(name, elem, dims, noShape))
	return name
}

// out declares a graph output of the given type, without a shape.
func (b *builder) out(name string, elem onnx.TensorProto_DataType) {
	b.g.Output = append(b.g.Output, valueInfo(name, elem, nil, true))
}

// outShaped declares a graph output with a shape.
func (b *builder) outShaped(name string, elem onnx.TensorProto_DataType, dims ...int64) {
	b.g.Output = append(b.g.Output, valueInfo(name, elem, dims, false))
}

// node adds a node called after its first output.
func (b *builder) node(op string, inputs, outputs []string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
	n := &onnx.NodeProto{Name: op + "_" + outputs[0], OpType: op, Input: inputs, Output: outputs, Attribute: attrs}
	b.g.Node = append(b.g.Node, n)
	return n
}

// floats adds a float32 initializer.
func (b *builder) floats(name string, dims []int64, v ...float32) string {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), FloatData: v})
	return name
}

// int64s adds an int64 initializer.
func (b *builder) int64s(name string, dims []int64, v ...int64) string {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_INT64), Int64Data: v})
	return name
}

// model returns the model built so far.
func (b *builder) model() *onnx.ModelProto {
	imps := append([]*onnx.OperatorSetIdProto{{Domain: "", Version: b.opset}}, b.imports...)
	return &onnx.ModelProto{IrVersion: b.ir, OpsetImport: imps, ProducerName: "onnxupgrade test", Graph: proto.Clone(b.g).(*onnx.GraphProto)}
}

func aInt(name string, v int64) *onnx.AttributeProto { return intAttr(name, v) }

func aInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func aFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func aFloats(name string, v ...float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOATS, Floats: v}
}

func aString(name, v string) *onnx.AttributeProto { return stringAttr(name, v) }

func aGraph(name string, g *onnx.GraphProto) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_GRAPH, G: g}
}

// marshal encodes m, failing the test on error.
func marshal(t testing.TB, m *onnx.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal model: %v", err)
	}
	return b
}
