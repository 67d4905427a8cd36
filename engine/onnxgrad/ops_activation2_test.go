package onnxgrad

import (
	"testing"

	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// TestGradGraphActivations2 checks the smooth, exponential and
// trigonometric activations against central finite differences. The image's
// [0,1] pixels are mapped affinely onto each function's interesting range;
// piecewise functions keep their pixels away from the kink.
func TestGradGraphActivations2(t *testing.T) {
	unary := func(op string, a, b float32, attrs ...*testkit.OnnxAttr) func(g *testkit.Graph, x string) (string, int64) {
		return func(g *testkit.Graph, x string) (string, int64) {
			return g.Op(op, []string{affine(g, x, a, b)}, attrs...), 48
		}
	}
	runGradCases(t, []gradCase{
		{name: "Softplus", build: unary("Softplus", 6, -3)},
		{name: "Mish", opset: 18, build: unary("Mish", 6, -3)},
		{name: "Elu/default alpha", kinks: []float32{0.5}, build: unary("Elu", 4, -2)},
		{name: "Elu/alpha 0.3", kinks: []float32{0.5}, build: unary("Elu", 4, -2, onnxproto.AttrFloat("alpha", 0.3))},
		{name: "Selu/defaults", kinks: []float32{0.5}, build: unary("Selu", 4, -2)},
		{name: "Selu/alpha gamma", kinks: []float32{0.5}, build: unary("Selu", 4, -2, onnxproto.AttrFloat("alpha", 2), onnxproto.AttrFloat("gamma", 0.7))},
		{name: "Celu/alpha 0.5", kinks: []float32{0.5}, build: unary("Celu", 4, -2, onnxproto.AttrFloat("alpha", 0.5))},
		{name: "Celu/default alpha", kinks: []float32{0.5}, build: unary("Celu", 4, -2)},
		// 4x−2 crosses alpha 0.4 at x = 0.6.
		{name: "ThresholdedRelu", kinks: []float32{0.6}, build: unary("ThresholdedRelu", 4, -2, onnxproto.AttrFloat("alpha", 0.4))},
		{name: "Softsign", kinks: []float32{0.5}, build: unary("Softsign", 4, -2)},
		{name: "Sin", build: unary("Sin", 6, -3)},
		{name: "Cos", build: unary("Cos", 6, -3)},
		{name: "Tan", build: unary("Tan", 2, -1)},
		{name: "Asin", build: unary("Asin", 1.6, -0.8)},
		{name: "Acos", build: unary("Acos", 1.6, -0.8)},
		{name: "Atan", build: unary("Atan", 6, -3)},
		{name: "Sinh", build: unary("Sinh", 4, -2)},
		{name: "Cosh", build: unary("Cosh", 4, -2)},
		{name: "Asinh", build: unary("Asinh", 6, -3)},
		{name: "Acosh", build: unary("Acosh", 3, 1.2)},
		{name: "Atanh", build: unary("Atanh", 1.6, -0.8)},
	})
}
