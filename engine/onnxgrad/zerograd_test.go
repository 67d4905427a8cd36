package onnxgrad

import (
	"errors"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// u8 and i8 add a uint8 or int8 initializer; u8s and i8s a scalar.
func u8(g *testkit.Graph, dims []int64, v []int64) string {
	return addInit(g, intTensor(onnx.TensorProto_UINT8, dims, v))
}
func i8(g *testkit.Graph, dims []int64, v []int64) string {
	return addInit(g, intTensor(onnx.TensorProto_INT8, dims, v))
}
func u8s(g *testkit.Graph, v int64) string { return u8(g, nil, []int64{v}) }
func i8s(g *testkit.Graph, v int64) string { return i8(g, nil, []int64{v}) }

// toFloat casts an integer tensor to float32.
func toFloat(g *testkit.Graph, x string) string {
	return g.Op("Cast", []string{x}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
}

// TestGradGraphNoGradient checks that a model through which no gradient
// reaches the image (integer-only quantised operators, or every path cut by
// an operator of zero gradient) is refused with ErrNoGradient, naming
// where the path is cut and saying to use the black-box attack. Each model
// runs in ONNX Runtime: the probe runs it before the analysis.
func TestGradGraphNoGradient(t *testing.T) {
	flat := func(g *testkit.Graph, x string) string {
		return g.Op("Flatten", []string{x}, onnxproto.AttrInt("axis", 1))
	}
	head := func(g *testkit.Graph, x string, features int64) string {
		return g.Op("MatMul", []string{flat(g, x), g.Weight(0.1, features, gradTestK)})
	}
	quant := func(g *testkit.Graph, x string) string {
		return g.Op("QuantizeLinear", []string{x, g.Scalar(1.0 / 255), u8s(g, 0)})
	}
	pads := onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})
	cases := []struct {
		name  string
		build func(g *testkit.Graph, x string) string // the logits
		ms    bool
		want  string
	}{
		{name: "QLinearConv", want: "integer-only QLinearConv", build: func(g *testkit.Graph, x string) string {
			y := g.Op("QLinearConv", []string{quant(g, x), g.Scalar(1.0 / 255), u8s(g, 0),
				i8(g, []int64{4, 3, 3, 3}, smallInts(1, 108, 50)), g.Scalar(0.01), i8s(g, 0), g.Scalar(0.05), u8s(g, 128)}, pads)
			return head(g, g.Op("DequantizeLinear", []string{y, g.Scalar(0.05), u8s(g, 128)}), 64)
		}},
		{name: "QLinearMatMul", want: "integer-only QLinearMatMul", build: func(g *testkit.Graph, x string) string {
			y := g.Op("QLinearMatMul", []string{quant(g, flat(g, x)), g.Scalar(1.0 / 255), u8s(g, 0),
				u8(g, []int64{48, gradTestK}, smallInts(2, 48*gradTestK, 100)), g.Scalar(0.01), u8s(g, 100), g.Scalar(0.1), u8s(g, 128)})
			return g.Op("DequantizeLinear", []string{y, g.Scalar(0.1), u8s(g, 128)})
		}},
		{name: "ConvInteger", want: "integer-only ConvInteger", build: func(g *testkit.Graph, x string) string {
			w := u8(g, []int64{4, 3, 3, 3}, smallInts(3, 108, 100))
			y := g.Op("ConvInteger", []string{quant(g, x), w, u8s(g, 0), u8s(g, 0)}, pads)
			return head(g, toFloat(g, y), 64)
		}},
		{name: "dynamic quantisation: MatMulInteger", want: "integer-only MatMulInteger", build: func(g *testkit.Graph, x string) string {
			q := g.OpN("DynamicQuantizeLinear", []string{flat(g, x)}, 3)
			y := g.Op("MatMulInteger", []string{q[0], i8(g, []int64{48, gradTestK}, smallInts(4, 48*gradTestK, 100)), q[2], i8s(g, 0)})
			return g.Op("Mul", []string{toFloat(g, y), g.Op("Mul", []string{q[1], g.Scalar(0.01)})})
		}},
		{name: "com.microsoft QLinearAdd", ms: true, want: "com.microsoft.QLinearAdd", build: func(g *testkit.Graph, x string) string {
			a := quant(g, x)
			y := g.Op("QLinearAdd", []string{a, g.Scalar(1.0 / 255), u8s(g, 0), a, g.Scalar(1.0 / 255), u8s(g, 0), g.Scalar(2.0 / 255), u8s(g, 0)})
			g.Nodes[len(g.Nodes)-1].Domain = msDomain
			return head(g, g.Op("DequantizeLinear", []string{y, g.Scalar(2.0 / 255), u8s(g, 0)}), 48)
		}},
		{name: "Floor", want: "Floor node", build: func(g *testkit.Graph, x string) string {
			return head(g, g.Op("Floor", []string{g.Op("Mul", []string{x, g.Scalar(255)})}), 48)
		}},
		{name: "Round after a Conv", want: "Round node", build: func(g *testkit.Graph, x string) string {
			c := g.Op("Conv", []string{x, g.Weight(0.3, 4, 3, 3, 3)}, pads)
			return head(g, g.Op("Relu", []string{g.Op("Round", []string{c})}), 64)
		}},
		{name: "ArgMax", want: "ArgMax node", build: func(g *testkit.Graph, x string) string {
			pick := g.Op("ArgMax", []string{flat(g, x)}, onnxproto.AttrInt("axis", 1), onnxproto.AttrInt("keepdims", 0))
			return g.Op("Gather", []string{g.Weight(1, 48, gradTestK), pick}, onnxproto.AttrInt("axis", 0))
		}},
		{name: "integer Cast", want: "whose output is INT32", build: func(g *testkit.Graph, x string) string {
			c := g.Op("Cast", []string{g.Op("Mul", []string{x, g.Scalar(255)})}, onnxproto.AttrInt("to", int64(onnx.TensorProto_INT32)))
			return head(g, toFloat(g, c), 48)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testkit.NewGraph(17, 1)
			m := g.Model("image", []int64{3, 4, 4}, c.build(g, "image"), gradTestK)
			if c.ms {
				m.OpsetImport = append(m.OpsetImport, &onnx.OperatorSetIdProto{Domain: msDomain, Version: 1})
			}
			spec := testSpec("image", []int64{3, 4, 4}, NCHW)
			spec.Logits = m.GetGraph().GetOutput()[0].GetName()
			_, err := Export(m, spec, engine.CrossEntropy)
			if !errors.Is(err, ErrNoGradient) {
				t.Fatalf("error %v, want ErrNoGradient", err)
			}
			for _, want := range []string{c.want, "--method square", "float (unquantised) twin"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

// TestGradGraphPartialCut checks that a path cut by Floor next to a
// differentiable one is no reason to refuse the model: its gradient is the
// other path's, against finite differences (the Floor keeps the pixels
// away from its steps: 4x crosses an integer at x = 0.25, 0.5, 0.75).
func TestGradGraphPartialCut(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Floor beside Tanh", kinks: []float32{0.25, 0.5, 0.75}, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Add", []string{g.Op("Tanh", []string{x}), g.Op("Floor", []string{g.Op("Mul", []string{x, g.Scalar(4)})})}), 48
		}},
	})
}
