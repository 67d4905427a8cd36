package onnxgrad

import (
	"math"
	"slices"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Per-operator gradient checks: normalisation, reductions, shapes,
// slicing and gathering, and operators on shape paths.

// kinkBatchNorm is a BatchNormalization of x that is 0 where x = 0.5, with
// per-channel scales of both signs.
func kinkBatchNorm(g *testkit.Graph, x string) string {
	half := g.Floats([]int64{3}, []float32{0.5, 0.5, 0.5})
	return g.Op("BatchNormalization", []string{x, g.Floats([]int64{3}, []float32{2, -1, 0.5}), g.Floats([]int64{3}, []float32{0, 0, 0}),
		half, g.Floats([]int64{3}, []float32{1, 0.5, 2})}, onnxproto.AttrFloat("epsilon", 1e-3))
}

func TestGradGraphNorm(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "BatchNormalization", build: func(g *testkit.Graph, x string) (string, int64) {
			v := g.Floats([]int64{3}, []float32{0.5, 2, 0.1})
			return g.Op("BatchNormalization", []string{x, g.Weight(1, 3), g.Weight(1, 3), g.Weight(1, 3), v}, onnxproto.AttrFloat("epsilon", 1e-3)), 48
		}},
		// BatchNormalization zero at x = 0.5 (mean 0.5, no bias) before a
		// Relu: its rule scales the ReLU's gradient before the mask.
		{name: "BatchNormalization/then Relu", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Relu", []string{kinkBatchNorm(g, x)}), 48
		}},
		{name: "BatchNormalization/then Relu and a Conv", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			r := g.Op("Relu", []string{kinkBatchNorm(g, x)})
			return g.Op("Conv", []string{r, g.Weight(1, 2, 3, 1, 1)}), 32
		}},
		{name: "BatchNormalization/output also used besides the Relu", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			b := kinkBatchNorm(g, x)
			return g.Op("Add", []string{g.Op("Relu", []string{b}), g.Op("Mul", []string{b, g.Scalar(0.3)})}), 48
		}},
		{name: "LayerNormalization/last axis", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LayerNormalization", []string{x, g.Weight(1, 4), g.Weight(1, 4)}), 48
		}},
		{name: "LayerNormalization/axis 1 no bias", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LayerNormalization", []string{x, g.Weight(1, 3, 4, 4)}, onnxproto.AttrInt("axis", 1), onnxproto.AttrFloat("epsilon", 1e-3)), 48
		}},
		{name: "LayerNormalization/axis -2 broadcast scale", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LayerNormalization", []string{x, g.Weight(1, 1, 4), g.Weight(1, 4, 4)}, onnxproto.AttrInt("axis", -2)), 48
		}},
		{name: "LayerNormalization/PyTorch's decomposition", build: func(g *testkit.Graph, x string) (string, int64) {
			mean := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{-1}), onnxproto.AttrInt("keepdims", 1))
			d := g.Op("Sub", []string{x, mean})
			v := g.Op("ReduceMean", []string{g.Op("Pow", []string{d, g.Scalar(2)})}, onnxproto.AttrInts("axes", []int64{-1}), onnxproto.AttrInt("keepdims", 1))
			y := g.Op("Div", []string{d, g.Op("Sqrt", []string{g.Op("Add", []string{v, g.Scalar(1e-5)})})})
			return g.Op("Add", []string{g.Op("Mul", []string{y, g.Weight(1, 4)}), g.Weight(1, 4)}), 48
		}},
		{name: "InstanceNormalization", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("InstanceNormalization", []string{x, g.Weight(1, 3), g.Weight(1, 3)}, onnxproto.AttrFloat("epsilon", 1e-4)), 48
		}},
		{name: "ReduceMean/attribute axes keepdims 0", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{1, -1}), onnxproto.AttrInt("keepdims", 0)), 4
		}},
		{name: "ReduceMean/opset 18 axes input", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceMean", []string{g.Op("Mul", []string{x, x}), g.Ints(2)}), 12
		}},
		{name: "ReduceSum/axes input keepdims 1", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceSum", []string{g.Op("Mul", []string{x, x}), g.Ints(3, 1)}), 4
		}},
		{name: "ReduceSum/noop_with_empty_axes", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceSum", []string{g.Op("Mul", []string{x, x})}, onnxproto.AttrInt("noop_with_empty_axes", 1)), 48
		}},
		{name: "ReduceMax/keepdims 0", distinct: true, eps: 1e-3, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceMax", []string{x}, onnxproto.AttrInts("axes", []int64{3}), onnxproto.AttrInt("keepdims", 0)), 12
		}},
	})
}

func TestGradGraphShapeOps(t *testing.T) {
	batchThen := func(g *testkit.Graph, x string, rest ...int64) string { // Concat(Shape(x)[0:1], rest)
		n := g.Op("Slice", []string{g.Op("Shape", []string{x}), g.Ints(0), g.Ints(1)})
		return g.Op("Concat", []string{n, g.Ints(rest...)}, onnxproto.AttrInt("axis", 0))
	}
	runGradCases(t, []gradCase{
		{name: "Reshape/constant shape", build: func(g *testkit.Graph, x string) (string, int64) {
			r := g.Op("Reshape", []string{x, g.Ints(0, 12, 4)})
			return g.Op("Mul", []string{r, g.Weight(1, 12, 1)}), 48
		}},
		{name: "Reshape/shape from Shape, Slice and Concat", build: func(g *testkit.Graph, x string) (string, int64) {
			r := g.Op("Reshape", []string{x, batchThen(g, x, -1)})
			return g.Op("Mul", []string{r, g.Weight(1, 48)}), 48
		}},
		{name: "Flatten/axis 2 folds the batch", build: func(g *testkit.Graph, x string) (string, int64) {
			f := g.Op("Mul", []string{g.Op("Flatten", []string{x}, onnxproto.AttrInt("axis", 2)), g.Weight(1, 16)})
			return g.Op("Reshape", []string{f, batchThen(g, x, -1)}), 48
		}},
		{name: "Transpose", build: func(g *testkit.Graph, x string) (string, int64) {
			tr := g.Op("Transpose", []string{x}, onnxproto.AttrInts("perm", []int64{0, 2, 3, 1}))
			return g.Op("Mul", []string{tr, g.Weight(1, 4, 4, 3)}), 48
		}},
		{name: "Unsqueeze and Squeeze", build: func(g *testkit.Graph, x string) (string, int64) {
			u := g.Op("Mul", []string{g.Op("Unsqueeze", []string{x, g.Ints(2)}), g.Weight(1, 3, 1, 1, 4)})
			return g.Op("Squeeze", []string{u, g.Ints(-3)}), 48
		}},
		{name: "Concat", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Concat", []string{x, g.Op("Sigmoid", []string{x}), x}, onnxproto.AttrInt("axis", -1)), 144
		}},
		{name: "Split/one output used", build: func(g *testkit.Graph, x string) (string, int64) {
			parts := g.OpN("Split", []string{x, g.Ints(1, 2)}, 2, onnxproto.AttrInt("axis", 1))
			return g.Op("Mul", []string{parts[1], parts[1]}), 32
		}},
		{name: "Split/opset 18 num_outputs", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			parts := g.OpN("Split", []string{x}, 2, onnxproto.AttrInt("axis", 2), onnxproto.AttrInt("num_outputs", 2))
			return g.Op("Mul", []string{parts[0], g.Op("Exp", []string{parts[1]})}), 24
		}},
		{name: "Identity Dropout Cast", build: func(g *testkit.Graph, x string) (string, int64) {
			d := g.Op("Dropout", []string{g.Op("Identity", []string{x}), g.Scalar(0.5), g.Constant(&onnx.TensorProto{DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{0}})})
			return g.Op("Cast", []string{d}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT))), 48
		}},
		{name: "Expand", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Mul", []string{g.Op("Expand", []string{m, g.Ints(1, 3, 4, 4)}), g.Weight(1, 3, 4, 4)}), 48
		}},
		{name: "Where/branches broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			cond := g.Op("Greater", []string{g.Weight(1, 1, 4, 4), g.Scalar(0)})
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{1}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Where", []string{cond, x, g.Op("Mul", []string{m, m})}), 48
		}},
		{name: "Equal and ConstantOfShape off the path", build: func(g *testkit.Graph, x string) (string, int64) {
			half := g.Op("ConstantOfShape", []string{g.Op("Shape", []string{x})}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0.5})))
			cond := g.Op("Equal", []string{g.Ints(1, 0, 1, 1), g.Ints(1)})
			return g.Op("Where", []string{cond, g.Op("Mul", []string{x, x}), half}), 48
		}},
		{name: "unsupported operators on shape paths only", build: func(g *testkit.Graph, x string) (string, int64) {
			// ReduceProd and Max have no backward rule, ArgMax none either;
			// they only compute a shape and an index here.
			rest := g.Op("ReduceProd", []string{g.Op("Max", []string{g.Op("Slice", []string{g.Op("Shape", []string{x}), g.Ints(1), g.Ints(4)}), g.Ints(1)})}, onnxproto.AttrInt("keepdims", 1))
			n := g.Op("Slice", []string{g.Op("Shape", []string{x}), g.Ints(0), g.Ints(1)})
			r := g.Op("Reshape", []string{x, g.Op("Concat", []string{n, rest}, onnxproto.AttrInt("axis", 0))})
			pick := g.Op("ArgMax", []string{g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{0, 2, 3}), onnxproto.AttrInt("keepdims", 0))}, onnxproto.AttrInt("keepdims", 1))
			bias := g.Op("Gather", []string{g.Weight(1, 3, 48), pick}, onnxproto.AttrInt("axis", 0))
			return g.Op("Add", []string{g.Op("Mul", []string{r, r}), bias}), 48
		}},
	})
}

func TestGradGraphIndexOps(t *testing.T) {
	sl := func(g *testkit.Graph, x string, starts, ends, axes, steps []int64) string {
		return g.Op("Slice", []string{x, g.Ints(starts...), g.Ints(ends...), g.Ints(axes...), g.Ints(steps...)})
	}
	runGradCases(t, []gradCase{
		{name: "Slice/steps 1 and 2", shape: []int64{3, 6, 6}, build: func(g *testkit.Graph, x string) (string, int64) {
			return sl(g, x, []int64{1, 0}, []int64{4, 6}, []int64{2, 3}, []int64{1, 2}), 27
		}},
		{name: "Slice/negative steps", shape: []int64{3, 6, 6}, build: func(g *testkit.Graph, x string) (string, int64) {
			return sl(g, x, []int64{-1, -1}, []int64{math.MinInt64, 0}, []int64{2, 3}, []int64{-1, -2}), 3 * 6 * 3
		}},
		{name: "Slice/step 3 clamped ends, negative axes", shape: []int64{3, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return sl(g, x, []int64{1, -6}, []int64{100, -1}, []int64{-2, -1}, []int64{3, 1}), 3 * 2 * 5
		}},
		{name: "Slice/channels, no steps or axes", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Slice", []string{x, g.Ints(0, 1), g.Ints(math.MaxInt64, 3)}), 32
		}},
		{name: "Gather/scalar index on axis 1", build: func(g *testkit.Graph, x string) (string, int64) {
			i := g.Constant(onnxproto.Int64Tensor(nil, []int64{2}))
			return g.Op("Gather", []string{x, i}, onnxproto.AttrInt("axis", 1)), 16
		}},
		{name: "Gather/repeated and negative indices on axis 2", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gather", []string{x, g.Ints(3, -1, 0, 3, 1)}, onnxproto.AttrInt("axis", 2)), 60
		}},
		{name: "Gather/2-D int32 indices on the last axis", build: func(g *testkit.Graph, x string) (string, int64) {
			idx := &onnx.TensorProto{Name: "idx32", Dims: []int64{2, 2}, DataType: int32(onnx.TensorProto_INT32), Int32Data: []int32{0, -1, 2, 2}}
			g.Inits = append(g.Inits, idx)
			return g.Op("Gather", []string{x, "idx32"}, onnxproto.AttrInt("axis", 3)), 48
		}},
		{name: "GatherElements", build: func(g *testkit.Graph, x string) (string, int64) {
			n := g.Op("Slice", []string{g.Op("Shape", []string{x}), g.Ints(0), g.Ints(1)})
			shape := g.Op("Concat", []string{n, g.Ints(3, 3, 4)}, onnxproto.AttrInt("axis", 0))
			idx := g.Op("Expand", []string{g.Constant(onnxproto.Int64Tensor([]int64{1, 3, 3, 4}, []int64{
				0, 1, 2, 3, 3, 3, 3, 3, -1, 0, 1, 1,
				2, 2, 2, 2, 0, 0, 0, 0, 1, 3, 1, 3,
				3, 2, 1, 0, 0, 1, 2, 3, -4, -3, -2, -1})), shape})
			return g.Op("GatherElements", []string{x, idx}, onnxproto.AttrInt("axis", 2)), 36
		}},
		{name: "Pad/constant", build: func(g *testkit.Graph, x string) (string, int64) {
			p := g.Op("Pad", []string{x, g.Ints(0, 0, 1, 2, 0, 0, 2, 1)})
			return g.Op("Mul", []string{p, g.Weight(1, 7, 7)}), 3 * 49
		}},
		{name: "Pad/negative pads crop", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Pad", []string{x, g.Ints(0, 0, -1, 1, 0, 0, 1, -2)}), 3 * 4 * 3
		}},
		{name: "Pad/opset 18 axes", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Pad", []string{x, g.Ints(2, 1), g.Scalar(0.5), g.Ints(-1)}), 3 * 4 * 7
		}},
	})
}

// TestLiveNodes checks that the exporter drops the nodes no output depends
// on, and keeps the others in their order.
func TestLiveNodes(t *testing.T) {
	node := func(name string, in ...string) *onnx.NodeProto {
		return &onnx.NodeProto{Name: name, Input: in, Output: []string{name}}
	}
	for _, c := range []struct {
		name  string
		nodes []*onnx.NodeProto
		want  []string
	}{
		{"all live", []*onnx.NodeProto{node("a", "in"), node("b", "a"), node("out", "a", "b")}, []string{"a", "b", "out"}},
		{"a dead node and its dead input", []*onnx.NodeProto{node("a", "in"), node("d1", "a"), node("d2", "d1"), node("out", "a")}, []string{"a", "out"}},
		{"a dead node's input still used elsewhere", []*onnx.NodeProto{node("a", "in"), node("d", "a"), node("b", "a"), node("out", "b")}, []string{"a", "b", "out"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, n := range liveNodes(c.nodes, "out") {
				got = append(got, n.GetName())
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
