package onnxupgrade_test

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/onnxupgrade"
)

// An opset-9 classifier head: Unsqueeze with its axes attribute, and a
// Softmax over a 3-D tensor, which opset 9 flattened to 2-D.
func ExampleUpgrade() {
	float := &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}}}
	m := &onnx.ModelProto{
		IrVersion:   4,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: 9}},
		Graph: &onnx.GraphProto{
			Node: []*onnx.NodeProto{
				{Name: "expand", OpType: "Unsqueeze", Input: []string{"x"}, Output: []string{"x3"},
					Attribute: []*onnx.AttributeProto{{Name: "axes", Type: onnx.AttributeProto_INTS, Ints: []int64{0}}}},
				{Name: "probs", OpType: "Softmax", Input: []string{"x3"}, Output: []string{"p"}},
			},
			Input:  []*onnx.ValueInfoProto{{Name: "x", Type: float}},
			Output: []*onnx.ValueInfoProto{{Name: "p", Type: float}},
		},
	}
	up, rep, err := onnxupgrade.Upgrade(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep)
	for _, n := range up.Graph.Node {
		fmt.Println(n.OpType, n.Input)
	}
	// Output:
	// opset 9 → 13: 1 Softmax (flatten-to-2D), 1 Unsqueeze translated; IR version 4 raised to 7
	// Unsqueeze [x expand_axes]
	// Flatten [x3]
	// Softmax [x3_flat2d]
	// Shape [x3]
	// Reshape [p_2d x3_shape]
}
