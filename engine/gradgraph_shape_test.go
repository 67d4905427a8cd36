package engine

import (
	"math"
	"slices"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// Per-operator gradient checks: normalisation, reductions, shapes,
// slicing and gathering, and operators on shape paths.

// kinkBatchNorm is a BatchNormalization of x that is 0 where x = 0.5, with
// per-channel scales of both signs.
func kinkBatchNorm(g *testGraph, x string) string {
	half := g.floats([]int64{3}, []float32{0.5, 0.5, 0.5})
	return g.op("BatchNormalization", []string{x, g.floats([]int64{3}, []float32{2, -1, 0.5}), g.floats([]int64{3}, []float32{0, 0, 0}),
		half, g.floats([]int64{3}, []float32{1, 0.5, 2})}, attrF("epsilon", 1e-3))
}

func TestGradGraphNorm(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "BatchNormalization", build: func(g *testGraph, x string) (string, int64) {
			v := g.floats([]int64{3}, []float32{0.5, 2, 0.1})
			return g.op("BatchNormalization", []string{x, g.weight(1, 3), g.weight(1, 3), g.weight(1, 3), v}, attrF("epsilon", 1e-3)), 48
		}},
		// BatchNormalization zero at x = 0.5 (mean 0.5, no bias) before a
		// Relu: its rule scales the ReLU's gradient before the mask.
		{name: "BatchNormalization/then Relu", kinks: []float32{0.5}, build: func(g *testGraph, x string) (string, int64) {
			return g.op("Relu", []string{kinkBatchNorm(g, x)}), 48
		}},
		{name: "BatchNormalization/then Relu and a Conv", kinks: []float32{0.5}, build: func(g *testGraph, x string) (string, int64) {
			r := g.op("Relu", []string{kinkBatchNorm(g, x)})
			return g.op("Conv", []string{r, g.weight(1, 2, 3, 1, 1)}), 32
		}},
		{name: "BatchNormalization/output also used besides the Relu", kinks: []float32{0.5}, build: func(g *testGraph, x string) (string, int64) {
			b := kinkBatchNorm(g, x)
			return g.op("Add", []string{g.op("Relu", []string{b}), g.op("Mul", []string{b, g.scalar(0.3)})}), 48
		}},
		{name: "LayerNormalization/last axis", build: func(g *testGraph, x string) (string, int64) {
			return g.op("LayerNormalization", []string{x, g.weight(1, 4), g.weight(1, 4)}), 48
		}},
		{name: "LayerNormalization/axis 1 no bias", build: func(g *testGraph, x string) (string, int64) {
			return g.op("LayerNormalization", []string{x, g.weight(1, 3, 4, 4)}, attrI("axis", 1), attrF("epsilon", 1e-3)), 48
		}},
		{name: "LayerNormalization/axis -2 broadcast scale", build: func(g *testGraph, x string) (string, int64) {
			return g.op("LayerNormalization", []string{x, g.weight(1, 1, 4), g.weight(1, 4, 4)}, attrI("axis", -2)), 48
		}},
		{name: "LayerNormalization/PyTorch's decomposition", build: func(g *testGraph, x string) (string, int64) {
			mean := g.op("ReduceMean", []string{x}, attrIs("axes", []int64{-1}), attrI("keepdims", 1))
			d := g.op("Sub", []string{x, mean})
			v := g.op("ReduceMean", []string{g.op("Pow", []string{d, g.scalar(2)})}, attrIs("axes", []int64{-1}), attrI("keepdims", 1))
			y := g.op("Div", []string{d, g.op("Sqrt", []string{g.op("Add", []string{v, g.scalar(1e-5)})})})
			return g.op("Add", []string{g.op("Mul", []string{y, g.weight(1, 4)}), g.weight(1, 4)}), 48
		}},
		{name: "InstanceNormalization", build: func(g *testGraph, x string) (string, int64) {
			return g.op("InstanceNormalization", []string{x, g.weight(1, 3), g.weight(1, 3)}, attrF("epsilon", 1e-4)), 48
		}},
		{name: "ReduceMean/attribute axes keepdims 0", build: func(g *testGraph, x string) (string, int64) {
			return g.op("ReduceMean", []string{x}, attrIs("axes", []int64{1, -1}), attrI("keepdims", 0)), 4
		}},
		{name: "ReduceMean/opset 18 axes input", opset: 18, build: func(g *testGraph, x string) (string, int64) {
			return g.op("ReduceMean", []string{g.op("Mul", []string{x, x}), g.ints(2)}), 12
		}},
		{name: "ReduceSum/axes input keepdims 1", build: func(g *testGraph, x string) (string, int64) {
			return g.op("ReduceSum", []string{g.op("Mul", []string{x, x}), g.ints(3, 1)}), 4
		}},
		{name: "ReduceSum/noop_with_empty_axes", build: func(g *testGraph, x string) (string, int64) {
			return g.op("ReduceSum", []string{g.op("Mul", []string{x, x})}, attrI("noop_with_empty_axes", 1)), 48
		}},
		{name: "ReduceMax/keepdims 0", distinct: true, eps: 1e-3, build: func(g *testGraph, x string) (string, int64) {
			return g.op("ReduceMax", []string{x}, attrIs("axes", []int64{3}), attrI("keepdims", 0)), 12
		}},
	})
}

func TestGradGraphShapeOps(t *testing.T) {
	batchThen := func(g *testGraph, x string, rest ...int64) string { // Concat(Shape(x)[0:1], rest)
		n := g.op("Slice", []string{g.op("Shape", []string{x}), g.ints(0), g.ints(1)})
		return g.op("Concat", []string{n, g.ints(rest...)}, attrI("axis", 0))
	}
	runGradCases(t, []gradCase{
		{name: "Reshape/constant shape", build: func(g *testGraph, x string) (string, int64) {
			r := g.op("Reshape", []string{x, g.ints(0, 12, 4)})
			return g.op("Mul", []string{r, g.weight(1, 12, 1)}), 48
		}},
		{name: "Reshape/shape from Shape, Slice and Concat", build: func(g *testGraph, x string) (string, int64) {
			r := g.op("Reshape", []string{x, batchThen(g, x, -1)})
			return g.op("Mul", []string{r, g.weight(1, 48)}), 48
		}},
		{name: "Flatten/axis 2 folds the batch", build: func(g *testGraph, x string) (string, int64) {
			f := g.op("Mul", []string{g.op("Flatten", []string{x}, attrI("axis", 2)), g.weight(1, 16)})
			return g.op("Reshape", []string{f, batchThen(g, x, -1)}), 48
		}},
		{name: "Transpose", build: func(g *testGraph, x string) (string, int64) {
			tr := g.op("Transpose", []string{x}, attrIs("perm", []int64{0, 2, 3, 1}))
			return g.op("Mul", []string{tr, g.weight(1, 4, 4, 3)}), 48
		}},
		{name: "Unsqueeze and Squeeze", build: func(g *testGraph, x string) (string, int64) {
			u := g.op("Mul", []string{g.op("Unsqueeze", []string{x, g.ints(2)}), g.weight(1, 3, 1, 1, 4)})
			return g.op("Squeeze", []string{u, g.ints(-3)}), 48
		}},
		{name: "Concat", build: func(g *testGraph, x string) (string, int64) {
			return g.op("Concat", []string{x, g.op("Sigmoid", []string{x}), x}, attrI("axis", -1)), 144
		}},
		{name: "Split/one output used", build: func(g *testGraph, x string) (string, int64) {
			parts := g.opN("Split", []string{x, g.ints(1, 2)}, 2, attrI("axis", 1))
			return g.op("Mul", []string{parts[1], parts[1]}), 32
		}},
		{name: "Split/opset 18 num_outputs", opset: 18, build: func(g *testGraph, x string) (string, int64) {
			parts := g.opN("Split", []string{x}, 2, attrI("axis", 2), attrI("num_outputs", 2))
			return g.op("Mul", []string{parts[0], g.op("Exp", []string{parts[1]})}), 24
		}},
		{name: "Identity Dropout Cast", build: func(g *testGraph, x string) (string, int64) {
			d := g.op("Dropout", []string{g.op("Identity", []string{x}), g.scalar(0.5), g.constant(&onnx.TensorProto{DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{0}})})
			return g.op("Cast", []string{d}, attrI("to", int64(onnx.TensorProto_FLOAT))), 48
		}},
		{name: "Expand", build: func(g *testGraph, x string) (string, int64) {
			m := g.op("ReduceMean", []string{x}, attrIs("axes", []int64{2, 3}), attrI("keepdims", 1))
			return g.op("Mul", []string{g.op("Expand", []string{m, g.ints(1, 3, 4, 4)}), g.weight(1, 3, 4, 4)}), 48
		}},
		{name: "Where/branches broadcast", build: func(g *testGraph, x string) (string, int64) {
			cond := g.op("Greater", []string{g.weight(1, 1, 4, 4), g.scalar(0)})
			m := g.op("ReduceMean", []string{x}, attrIs("axes", []int64{1}), attrI("keepdims", 1))
			return g.op("Where", []string{cond, x, g.op("Mul", []string{m, m})}), 48
		}},
		{name: "Equal and ConstantOfShape off the path", build: func(g *testGraph, x string) (string, int64) {
			half := g.op("ConstantOfShape", []string{g.op("Shape", []string{x})}, attrT("value", float32Tensor([]int64{1}, []float32{0.5})))
			cond := g.op("Equal", []string{g.ints(1, 0, 1, 1), g.ints(1)})
			return g.op("Where", []string{cond, g.op("Mul", []string{x, x}), half}), 48
		}},
		{name: "unsupported operators on shape paths only", build: func(g *testGraph, x string) (string, int64) {
			// ReduceProd and Max have no backward rule, ArgMax none either;
			// they only compute a shape and an index here.
			rest := g.op("ReduceProd", []string{g.op("Max", []string{g.op("Slice", []string{g.op("Shape", []string{x}), g.ints(1), g.ints(4)}), g.ints(1)})}, attrI("keepdims", 1))
			n := g.op("Slice", []string{g.op("Shape", []string{x}), g.ints(0), g.ints(1)})
			r := g.op("Reshape", []string{x, g.op("Concat", []string{n, rest}, attrI("axis", 0))})
			pick := g.op("ArgMax", []string{g.op("ReduceMean", []string{x}, attrIs("axes", []int64{0, 2, 3}), attrI("keepdims", 0))}, attrI("keepdims", 1))
			bias := g.op("Gather", []string{g.weight(1, 3, 48), pick}, attrI("axis", 0))
			return g.op("Add", []string{g.op("Mul", []string{r, r}), bias}), 48
		}},
	})
}

func TestGradGraphIndexOps(t *testing.T) {
	sl := func(g *testGraph, x string, starts, ends, axes, steps []int64) string {
		return g.op("Slice", []string{x, g.ints(starts...), g.ints(ends...), g.ints(axes...), g.ints(steps...)})
	}
	runGradCases(t, []gradCase{
		{name: "Slice/steps 1 and 2", shape: []int64{3, 6, 6}, build: func(g *testGraph, x string) (string, int64) {
			return sl(g, x, []int64{1, 0}, []int64{4, 6}, []int64{2, 3}, []int64{1, 2}), 27
		}},
		{name: "Slice/negative steps", shape: []int64{3, 6, 6}, build: func(g *testGraph, x string) (string, int64) {
			return sl(g, x, []int64{-1, -1}, []int64{math.MinInt64, 0}, []int64{2, 3}, []int64{-1, -2}), 3 * 6 * 3
		}},
		{name: "Slice/step 3 clamped ends, negative axes", shape: []int64{3, 7, 7}, build: func(g *testGraph, x string) (string, int64) {
			return sl(g, x, []int64{1, -6}, []int64{100, -1}, []int64{-2, -1}, []int64{3, 1}), 3 * 2 * 5
		}},
		{name: "Slice/channels, no steps or axes", build: func(g *testGraph, x string) (string, int64) {
			return g.op("Slice", []string{x, g.ints(0, 1), g.ints(math.MaxInt64, 3)}), 32
		}},
		{name: "Gather/scalar index on axis 1", build: func(g *testGraph, x string) (string, int64) {
			i := g.constant(int64Tensor(nil, []int64{2}))
			return g.op("Gather", []string{x, i}, attrI("axis", 1)), 16
		}},
		{name: "Gather/repeated and negative indices on axis 2", build: func(g *testGraph, x string) (string, int64) {
			return g.op("Gather", []string{x, g.ints(3, -1, 0, 3, 1)}, attrI("axis", 2)), 60
		}},
		{name: "Gather/2-D int32 indices on the last axis", build: func(g *testGraph, x string) (string, int64) {
			idx := &onnx.TensorProto{Name: "idx32", Dims: []int64{2, 2}, DataType: int32(onnx.TensorProto_INT32), Int32Data: []int32{0, -1, 2, 2}}
			g.inits = append(g.inits, idx)
			return g.op("Gather", []string{x, "idx32"}, attrI("axis", 3)), 48
		}},
		{name: "GatherElements", build: func(g *testGraph, x string) (string, int64) {
			n := g.op("Slice", []string{g.op("Shape", []string{x}), g.ints(0), g.ints(1)})
			shape := g.op("Concat", []string{n, g.ints(3, 3, 4)}, attrI("axis", 0))
			idx := g.op("Expand", []string{g.constant(int64Tensor([]int64{1, 3, 3, 4}, []int64{
				0, 1, 2, 3, 3, 3, 3, 3, -1, 0, 1, 1,
				2, 2, 2, 2, 0, 0, 0, 0, 1, 3, 1, 3,
				3, 2, 1, 0, 0, 1, 2, 3, -4, -3, -2, -1})), shape})
			return g.op("GatherElements", []string{x, idx}, attrI("axis", 2)), 36
		}},
		{name: "Pad/constant", build: func(g *testGraph, x string) (string, int64) {
			p := g.op("Pad", []string{x, g.ints(0, 0, 1, 2, 0, 0, 2, 1)})
			return g.op("Mul", []string{p, g.weight(1, 7, 7)}), 3 * 49
		}},
		{name: "Pad/negative pads crop", build: func(g *testGraph, x string) (string, int64) {
			return g.op("Pad", []string{x, g.ints(0, 0, -1, 1, 0, 0, 1, -2)}), 3 * 4 * 3
		}},
		{name: "Pad/opset 18 axes", opset: 18, build: func(g *testGraph, x string) (string, int64) {
			return g.op("Pad", []string{x, g.ints(2, 1), g.scalar(0.5), g.ints(-1)}), 3 * 4 * 7
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
