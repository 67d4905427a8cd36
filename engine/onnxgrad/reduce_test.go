package onnxgrad

import (
	"testing"

	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Gradient checks of the variadic Mean, Max and Min, the reductions
// ReduceMin, ReduceL2 and ReduceLogSumExp, and LRN, against central finite
// differences. The image is [N,3,4,4] unless a case says otherwise.

func TestGradGraphVariadic(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Mean/three operands, one broadcast weight", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Mean", []string{x, g.Op("Sigmoid", []string{affine(g, x, 3, -1)}), g.Weight(1, 1, 4)}), 48
		}},
		{name: "Mean/a broadcast operand from the image", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMax", []string{x}, onnxproto.AttrInts("axes", []int64{1}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Mean", []string{g.Op("Mul", []string{x, x}), m}), 48
		}, distinct: true, eps: 1e-3},
		{name: "Max/against fixed thresholds", kinks: []float32{0.3, 0.6}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Max", []string{x, g.Floats([]int64{3, 1, 1}, []float32{0.3, 0.6, 0.3})}), 48
		}},
		{name: "Max/ties share dy", kinks: []float32{0}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Max", []string{x, x, g.Op("Mul", []string{x, g.Scalar(0.5)})}), 48
		}},
		{name: "Max/broadcast operand from the image", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{3}), onnxproto.AttrInt("keepdims", 1))
			w := make([]float32, 48)
			for i := range w {
				w[i] = []float32{0.1, 0.9}[i%3%2]
			}
			return g.Op("Max", []string{m, g.Floats([]int64{1, 3, 4, 4}, w)}), 48
		}},
		{name: "Min/two image operands", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			// min(x, 1−x) has its kink at x = 0.5.
			return g.Op("Min", []string{x, affine(g, x, -1, 1)}), 48
		}},
		{name: "Min/one operand", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Min", []string{g.Op("Mul", []string{x, x})}), 48
		}},
	})
}

func TestGradGraphReductions2(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "ReduceMin/attribute axes keepdims 0", distinct: true, eps: 1e-3, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceMin", []string{x}, onnxproto.AttrInts("axes", []int64{2}), onnxproto.AttrInt("keepdims", 0)), 12
		}},
		{name: "ReduceMin/opset 18 axes input", opset: 18, distinct: true, eps: 1e-3, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceMin", []string{x, g.Ints(1, -1)}), 4
		}},
		{name: "ReduceL2/attribute axes keepdims 0", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceL2", []string{affine(g, x, 2, -1)}, onnxproto.AttrInts("axes", []int64{1, 3}), onnxproto.AttrInt("keepdims", 0)), 4
		}},
		{name: "ReduceL2/opset 18 axes input keepdims 1", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceL2", []string{affine(g, x, 2, -1), g.Ints(2)}), 12
		}},
		{name: "ReduceL2/a zero norm has gradient 0", build: func(g *testkit.Graph, x string) (string, int64) {
			zero := g.Op("Mul", []string{x, g.Floats([]int64{3, 1, 1}, []float32{1, 0, 1})})
			return g.Op("ReduceL2", []string{zero}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1)), 3
		}},
		{name: "ReduceL2/opset 18 noop_with_empty_axes", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceL2", []string{g.Op("Mul", []string{x, x})}, onnxproto.AttrInt("noop_with_empty_axes", 1)), 48
		}},
		{name: "ReduceLogSumExp/attribute axes keepdims 1", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceLogSumExp", []string{affine(g, x, 4, 0)}, onnxproto.AttrInts("axes", []int64{-1}), onnxproto.AttrInt("keepdims", 1)), 12
		}},
		{name: "ReduceLogSumExp/opset 18 axes input keepdims 0", opset: 18, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ReduceLogSumExp", []string{affine(g, x, 4, 0), g.Ints(1, 2)}, onnxproto.AttrInt("keepdims", 0)), 4
		}},
	})
}

func TestGradGraphLRN(t *testing.T) {
	lrn := func(size int64, alpha, beta, bias float32) func(g *testkit.Graph, x string) (string, int64) {
		return func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LRN", []string{affine(g, x, 3, -1)}, onnxproto.AttrInt("size", size), onnxproto.AttrFloat("alpha", alpha),
				onnxproto.AttrFloat("beta", beta), onnxproto.AttrFloat("bias", bias)), 48
		}
	}
	runGradCases(t, []gradCase{
		{name: "size 3", build: lrn(3, 1.5, 0.75, 1)},
		{name: "size 1", build: lrn(1, 2, 0.6, 0.5)},
		// ONNX Runtime refuses even sizes, so the asymmetric windows go
		// untested.
		{name: "size 5 of 6 channels", shape: []int64{6, 2, 2}, build: func(g *testkit.Graph, x string) (string, int64) {
			f, _ := lrn(5, 1, 1.2, 2)(g, x)
			return f, 24
		}},
		{name: "size 5 wider than the channels", build: lrn(5, 1, 0.75, 1)},
	})
}
