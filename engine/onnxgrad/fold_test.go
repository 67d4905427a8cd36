package onnxgrad

import (
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Checks of If folding: the gradient through the branch a constant
// condition takes, against central finite differences of the model with
// its If (which ONNX Runtime runs as it is).

// ifNode adds an If on cond with the two branches, whose one output each
// is out; it returns the If's output.
func ifNode(g *testkit.Graph, cond string, then, els *onnx.GraphProto) string {
	graph := func(name string, b *onnx.GraphProto) *onnx.AttributeProto {
		return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_GRAPH, G: b}
	}
	return g.Op("If", []string{cond}, graph("then_branch", then), graph("else_branch", els))
}

// branch is a subgraph of the given nodes and initializers whose one
// float output is out.
func branch(name, out string, inits []*onnx.TensorProto, nodes ...*onnx.NodeProto) *onnx.GraphProto {
	v := &onnx.ValueInfoProto{Name: out, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}}}}
	return &onnx.GraphProto{Name: name, Node: nodes, Initializer: inits, Output: []*onnx.ValueInfoProto{v}}
}

func node(op, name string, in []string, out string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
	return &onnx.NodeProto{Name: name, OpType: op, Input: in, Output: []string{out}, Attribute: attrs}
}

func boolTensor(v bool) *onnx.TensorProto {
	b := byte(0)
	if v {
		b = 1
	}
	return &onnx.TensorProto{DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{b}}
}

func TestGradGraphIfFolding(t *testing.T) {
	// then: sigmoid(x)·w with a branch initializer w; else: tanh(x).
	branches := func(x string) (*onnx.GraphProto, *onnx.GraphProto) {
		w := onnxproto.Float32Tensor([]int64{3, 1, 1}, []float32{2, -1, 0.5})
		w.Name = "then_w"
		then := branch("then", "then_out", []*onnx.TensorProto{w},
			node("Sigmoid", "then_sig", []string{x}, "then_s"),
			node("Mul", "then_mul", []string{"then_s", "then_w"}, "then_out"))
		els := branch("else", "else_out", nil, node("Tanh", "else_tanh", []string{x}, "else_out"))
		return then, els
	}
	runGradCases(t, []gradCase{
		{name: "initializer condition true takes then", build: func(g *testkit.Graph, x string) (string, int64) {
			t := boolTensor(true)
			t.Name = "cond_true"
			g.Inits = append(g.Inits, t)
			then, els := branches(x)
			return g.Op("Mul", []string{ifNode(g, "cond_true", then, els), x}), 48
		}},
		{name: "Constant condition false takes else", build: func(g *testkit.Graph, x string) (string, int64) {
			then, els := branches(x)
			return g.Op("Mul", []string{ifNode(g, g.Constant(boolTensor(false)), then, els), x}), 48
		}},
		{name: "a branch that returns its initializer, nested in a folded If", build: func(g *testkit.Graph, x string) (string, int64) {
			sq := g.Op("Mul", []string{x, x})
			w := onnxproto.Float32Tensor([]int64{3, 1, 1}, []float32{1.5, -2, 0.7})
			w.Name = "inner_w"
			inner := branch("inner_then", "inner_w", []*onnx.TensorProto{w})
			_, els := branches(x)
			c := onnxproto.AttrTensor("value", boolTensor(true))
			outer := branch("outer_then", "outer_out", nil,
				node("Constant", "outer_cond", nil, "outer_c", c),
				&onnx.NodeProto{Name: "outer_if", OpType: "If", Input: []string{"outer_c"}, Output: []string{"inner_out"}, Attribute: []*onnx.AttributeProto{
					{Name: "then_branch", Type: onnx.AttributeProto_GRAPH, G: inner}, {Name: "else_branch", Type: onnx.AttributeProto_GRAPH, G: els}}},
				node("Mul", "outer_mul", []string{"inner_out", sq}, "outer_out"))
			_, els2 := branches(x)
			els2.Node[0].Output[0], els2.Output[0].Name = "else2_out", "else2_out"
			els2.Node[0].Name = "else2_tanh"
			return g.Op("Sigmoid", []string{ifNode(g, g.Constant(boolTensor(true)), outer, els2)}), 48
		}},
	})
}

// TestGradGraphIfRefused checks that an If whose condition is computed is
// refused at export, naming the node.
func TestGradGraphIfRefused(t *testing.T) {
	g := testkit.NewGraph(17, 1)
	cond := g.Op("Greater", []string{g.Op("ReduceMean", []string{"image"}, onnxproto.AttrInt("keepdims", 0)), g.Scalar(0.5)})
	then := branch("then", "then_out", nil, node("Sigmoid", "then_sig", []string{"image"}, "then_out"))
	els := branch("else", "else_out", nil, node("Tanh", "else_tanh", []string{"image"}, "else_out"))
	y := ifNode(g, cond, then, els)
	m := g.Model("image", []int64{1, 4, 4}, g.Classifier(y, 16, gradTestK), gradTestK)
	spec := testSpec("image", []int64{1, 4, 4}, NCHW)
	spec.Logits = m.GetGraph().GetOutput()[0].GetName()
	_, err := Export(m, spec, engine.CrossEntropy)
	if err == nil || !strings.Contains(err.Error(), `"If_`) || !strings.Contains(err.Error(), "not a constant") {
		t.Fatalf("export error %v, want one naming the If node and its condition", err)
	}
}
