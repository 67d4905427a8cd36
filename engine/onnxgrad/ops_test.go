package onnxgrad

import (
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Per-operator gradient checks: element-wise arithmetic and activations.
// Each case feeds the image [N,3,4,4] (48 values per sample unless the case
// says otherwise) through the operator under test.

// affine returns x·a + b.
func affine(g *testkit.Graph, x string, a, b float32) string {
	return g.Op("Add", []string{g.Op("Mul", []string{x, g.Scalar(a)}), g.Scalar(b)})
}

func TestGradGraphElementwise(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Add/broadcast channel", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Add", []string{x, g.Weight(1, 3, 1, 1)}), 48
		}},
		{name: "Add/self", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Add", []string{x, x}), 48
		}},
		{name: "Add/operand broadcast over spatial axes", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Add", []string{m, g.Weight(1, 3, 4, 4)}), 48
		}},
		{name: "Sub/second operand broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{1}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Sub", []string{g.Weight(1, 1, 4), g.Op("Sub", []string{x, m})}), 48
		}},
		{name: "Mul/broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Mul", []string{x, g.Weight(1, 3, 1, 4)}), 48
		}},
		{name: "Mul/self", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Mul", []string{x, x}), 48
		}},
		{name: "Mul/both operands broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{3}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Mul", []string{m, x}), 48
		}},
		{name: "Div/numerator", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Div", []string{x, g.Floats([]int64{3, 1, 1}, []float32{1.5, -2, 0.7})}), 48
		}},
		{name: "Div/denominator broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Div", []string{g.Weight(1, 3, 1, 1), affine(g, x, 1, 1)}), 48
		}},
		{name: "Sum/variadic", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Sum", []string{x, g.Op("Mul", []string{x, x}), g.Weight(1, 4)}), 48
		}},
		{name: "Neg", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Neg", []string{x}), 48
		}},
		{name: "Pow/base", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Pow", []string{affine(g, x, 1, 0.5), g.Scalar(3)}), 48
		}},
		{name: "Pow/exponent", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Pow", []string{g.Floats([]int64{3, 1, 1}, []float32{1.5, 2, 0.7}), x}), 48
		}},
		{name: "Sqrt", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Sqrt", []string{affine(g, x, 1, 0.5)}), 48
		}},
		{name: "Exp", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Exp", []string{x}), 48
		}},
		{name: "Log", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Log", []string{affine(g, x, 1, 0.5)}), 48
		}},
		{name: "Reciprocal", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Reciprocal", []string{affine(g, x, 1, 0.5)}), 48
		}},
		{name: "Abs", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Abs", []string{affine(g, x, 1, -0.5)}), 48
		}},
	})
}

func TestGradGraphActivations(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Relu", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Relu", []string{affine(g, x, 1, -0.5)}), 48
		}},
		{name: "LeakyRelu", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LeakyRelu", []string{affine(g, x, 1, -0.5)}, onnxproto.AttrFloat("alpha", 0.1)), 48
		}},
		{name: "PRelu/per channel", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("PRelu", []string{affine(g, x, 1, -0.5), g.Floats([]int64{3, 1, 1}, []float32{0.1, 0.3, -0.2})}), 48
		}},
		{name: "Sigmoid", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Sigmoid", []string{affine(g, x, 4, -2)}), 48
		}},
		{name: "SiLU/x·sigmoid(x)", build: func(g *testkit.Graph, x string) (string, int64) {
			z := affine(g, x, 8, -4)
			return g.Op("Mul", []string{z, g.Op("Sigmoid", []string{z})}), 48
		}},
		{name: "SiLU/sigmoid(x)·x", build: func(g *testkit.Graph, x string) (string, int64) {
			z := affine(g, x, 8, -4)
			return g.Op("Mul", []string{g.Op("Sigmoid", []string{z}), z}), 48
		}},
		{name: "SiLU/the sigmoid also used elsewhere", build: func(g *testkit.Graph, x string) (string, int64) {
			z := affine(g, x, 8, -4)
			s := g.Op("Sigmoid", []string{z})
			return g.Op("Add", []string{g.Op("Mul", []string{z, s}), g.Op("Mul", []string{s, g.Weight(1, 3, 1, 1)})}), 48
		}},
		{name: "SiLU/not: sigmoid of another tensor (a gate)", build: func(g *testkit.Graph, x string) (string, int64) {
			z := affine(g, x, 8, -4)
			gate := g.Op("Sigmoid", []string{g.Op("ReduceMean", []string{z}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1))})
			return g.Op("Mul", []string{z, gate}), 48
		}},
		{name: "Tanh", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Tanh", []string{affine(g, x, 2, -1)}), 48
		}},
		{name: "Erf", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Erf", []string{affine(g, x, 2, -1)}), 48
		}},
		{name: "Gelu/exact", opset: 20, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gelu", []string{affine(g, x, 4, -2)}), 48
		}},
		{name: "Gelu/tanh", opset: 20, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gelu", []string{affine(g, x, 4, -2)}, onnxproto.AttrString("approximate", "tanh")), 48
		}},
		{name: "Gelu/PyTorch's Erf pattern", build: func(g *testkit.Graph, x string) (string, int64) {
			z := affine(g, x, 4, -2)
			e := g.Op("Erf", []string{g.Op("Div", []string{z, g.Scalar(1.4142135)})})
			return g.Op("Mul", []string{g.Op("Mul", []string{z, g.Op("Add", []string{e, g.Scalar(1)})}), g.Scalar(0.5)}), 48
		}},
		{name: "HardSigmoid", kinks: []float32{0.25, 0.75}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("HardSigmoid", []string{affine(g, x, 10, -5)}), 48
		}},
		{name: "HardSigmoid/alpha beta", kinks: []float32{0.3, 0.8}, build: func(g *testkit.Graph, x string) (string, int64) {
			// alpha·(10x−5)+beta crosses 0 at x = 0.3 and 1 at x = 0.8.
			return g.Op("HardSigmoid", []string{affine(g, x, 10, -5)}, onnxproto.AttrFloat("alpha", 0.2), onnxproto.AttrFloat("beta", 0.4)), 48
		}},
		{name: "HardSwish", kinks: []float32{0.125, 0.875}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("HardSwish", []string{affine(g, x, 8, -4)}), 48
		}},
		{name: "Clip/min and max", kinks: []float32{0.2, 0.7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Clip", []string{x, g.Scalar(0.2), g.Scalar(0.7)}), 48
		}},
		{name: "Clip/max only", kinks: []float32{0.6}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Clip", []string{x, "", g.Scalar(0.6)}), 48
		}},
		{name: "Clip/min from a Constant", kinks: []float32{0.4}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Clip", []string{x, g.Constant(onnxproto.Float32Tensor(nil, []float32{0.4}))}), 48
		}},
		// A global average pool's rule hands its gradient over unexpanded;
		// these rules take it as it is (gradRule.broadcastDy).
		{name: "Relu/then GlobalAveragePool", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("GlobalAveragePool", []string{g.Op("Relu", []string{affine(g, x, 1, -0.5)})}), 3
		}},
		{name: "Relu/then GlobalAveragePool and a full-shaped use", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			r := g.Op("Relu", []string{affine(g, x, 1, -0.5)})
			return g.Op("Add", []string{g.Op("GlobalAveragePool", []string{r}), g.Op("Mul", []string{r, g.Weight(1, 1, 3, 4, 4)})}), 48
		}},
		{name: "Clip/then ReduceMean", kinks: []float32{0.2, 0.7}, build: func(g *testkit.Graph, x string) (string, int64) {
			c := g.Op("Clip", []string{x, g.Scalar(0.2), g.Scalar(0.7)})
			return g.Op("ReduceMean", []string{c}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1)), 3
		}},
		{name: "Clip/without bounds then GlobalAveragePool", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("GlobalAveragePool", []string{g.Op("Clip", []string{x})}), 3
		}},
		{name: "HardSwish/then GlobalAveragePool", kinks: []float32{0.125, 0.875}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("GlobalAveragePool", []string{g.Op("HardSwish", []string{affine(g, x, 8, -4)})}), 3
		}},
		{name: "BatchNormalization and Relu/then GlobalAveragePool", kinks: []float32{0.5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("GlobalAveragePool", []string{g.Op("Relu", []string{kinkBatchNorm(g, x)})}), 3
		}},
		{name: "Softmax/axis 1", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Softmax", []string{affine(g, x, 3, 0)}, onnxproto.AttrInt("axis", 1)), 48
		}},
		{name: "Softmax/last axis", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Softmax", []string{affine(g, x, 3, 0)}), 48
		}},
		{name: "LogSoftmax/axis 2", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("LogSoftmax", []string{affine(g, x, 3, 0)}, onnxproto.AttrInt("axis", 2)), 48
		}},
	})
}

// TestGradGraphHardSwishKinks pins HardSwish's derivative at and next to
// its kinks, where finite differences say nothing, to PyTorch's choice:
// 0 below −3, x/3+0.5 on [−3, 3] (−0.5 and 1.5 at the ends), 1 above 3.
// Model: logits = HardSwish(image)·W with the target's column of W all
// ones, so that with the Logit loss grad is the derivative itself.
func TestGradGraphHardSwishKinks(t *testing.T) {
	const target = 2
	up, down := float32(math.Inf(1)), float32(math.Inf(-1))
	third := func(x float32) float32 { return x*float32(1.0/3) + 0.5 }
	cases := []struct{ x, want float32 }{
		{-5, 0},
		{math.Nextafter32(-3, down), 0},
		{-3, -0.5},
		{math.Nextafter32(-3, up), third(math.Nextafter32(-3, up))},
		{-1, third(-1)},
		{0, 0.5},
		{1, third(1)},
		{math.Nextafter32(3, down), third(math.Nextafter32(3, down))},
		{3, 1.5},
		{math.Nextafter32(3, up), 1},
		{5, 1},
		{1e30, 1},
		{-1e30, 0},
		{up, 1},
		{down, 0},
		{2.5, third(2.5)},
	}
	image := make([]float32, len(cases))
	for i, c := range cases {
		image[i] = c.x
	}
	w := make([]float32, len(cases)*gradTestK)
	for i := range cases {
		w[i*gradTestK+target] = 1
	}
	grad := exactLogitGrad(t, func(g *testkit.Graph) string { return g.Op("HardSwish", []string{"image"}) },
		int64(len(cases)), w, image, target)
	for i, c := range cases {
		if got := grad[i]; got != c.want {
			t.Errorf("HardSwish'(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

// exactLogitGrad exports the gradient graph of a model whose logits are
// Flatten(layer(image))·w, for one 1×4×4 image and a layer with n outputs,
// and returns ONNX Runtime's gradient of logit target with respect to image:
// with one-hot columns of w, the layer's own backward rule at each pixel.
func exactLogitGrad(t *testing.T, layer func(g *testkit.Graph) string, n int64, w, image []float32, target int64) []float32 {
	t.Helper()
	g := testkit.NewGraph(17, 1)
	flat := g.Op("Flatten", []string{layer(g)}, onnxproto.AttrInt("axis", 1))
	m := g.Model("image", []int64{1, 4, 4}, g.Op("MatMul", []string{flat, g.Floats([]int64{n, gradTestK}, w)}), gradTestK)
	spec := testSpec("image", []int64{1, 4, 4}, NCHW)
	spec.Logits = m.GetGraph().GetOutput()[0].GetName()
	gm, err := Export(m, spec, engine.Logit)
	if err != nil {
		t.Fatal(err)
	}
	res := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{"image", "target"}, [][]int64{{1, 1, 4, 4}, {1}},
		[]any{image, []int64{target}}, []string{"grad"})
	return res[0]
}
