package onnxgrad

import (
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// boolConst adds a Constant node holding one bool.
func boolConst(g *testkit.Graph, v bool) string {
	b := byte(0)
	if v {
		b = 1
	}
	return g.Constant(&onnx.TensorProto{DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{b}})
}

// boolInit adds a bool scalar initializer.
func boolInit(g *testkit.Graph, v bool) string {
	name := g.Ints(0) // a fresh name; the tensor is replaced below
	t := g.Inits[len(g.Inits)-1]
	t.DataType, t.Dims, t.RawData = int32(onnx.TensorProto_BOOL), nil, []byte{0}
	if v {
		t.RawData[0] = 1
	}
	return name
}

// TestGradGraphDropoutIdentity checks Dropouts that cannot drop against
// finite differences: ratio a constant 0 (even in training mode, as
// torchvision's Swin-T exports it), or training_mode a constant false.
func TestGradGraphDropoutIdentity(t *testing.T) {
	dropout := func(ratio func(g *testkit.Graph) string, mode func(g *testkit.Graph) string) func(g *testkit.Graph, x string) (string, int64) {
		return func(g *testkit.Graph, x string) (string, int64) {
			in := []string{g.Op("Mul", []string{x, x})}
			if ratio != nil {
				in = append(in, ratio(g))
			}
			if mode != nil {
				if ratio == nil {
					in = append(in, "")
				}
				in = append(in, mode(g))
			}
			return g.Op("Dropout", in), 48
		}
	}
	zero := func(g *testkit.Graph) string { return g.Scalar(0) }
	half := func(g *testkit.Graph) string { return g.Scalar(0.5) }
	runGradCases(t, []gradCase{
		{name: "ratio 0, training_mode true (Constant)", build: dropout(zero, func(g *testkit.Graph) string { return boolConst(g, true) })},
		{name: "ratio 0, training_mode true (initializer)", build: dropout(zero, func(g *testkit.Graph) string { return boolInit(g, true) })},
		{name: "ratio 0 from a Constant, training_mode true", build: dropout(func(g *testkit.Graph) string {
			return g.Constant(&onnx.TensorProto{DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{0}})
		}, func(g *testkit.Graph) string { return boolConst(g, true) })},
		{name: "ratio 0.5, training_mode false (initializer)", build: dropout(half, func(g *testkit.Graph) string { return boolInit(g, false) })},
		{name: "ratio computed, training_mode false", build: dropout(func(g *testkit.Graph) string { return g.Op("Abs", []string{g.Scalar(0.3)}) },
			func(g *testkit.Graph) string { return boolConst(g, false) })},
		{name: "ratio 0.5, no training_mode", build: dropout(half, nil)},
		{name: "no ratio, no training_mode", build: dropout(nil, nil)},
	})
}

// TestGradGraphDropoutTraining checks that a Dropout that can drop is
// refused, naming the node and saying to re-export in eval mode.
func TestGradGraphDropoutTraining(t *testing.T) {
	cases := []struct {
		name  string
		ratio func(g *testkit.Graph) string // "" input when nil
		why   string
	}{
		{name: "ratio 0.3", ratio: func(g *testkit.Graph) string { return g.Scalar(0.3) }, why: "ratio 0.3"},
		{name: "default ratio", why: "ratio 0.5"},
		{name: "ratio computed at run time", ratio: func(g *testkit.Graph) string { return g.Op("Abs", []string{g.Scalar(0)}) }, why: "computed at run time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testkit.NewGraph(17, 4)
			ratio := ""
			if c.ratio != nil {
				ratio = c.ratio(g)
			}
			d := g.Op("Dropout", []string{g.Op("Mul", []string{"image", "image"}), ratio, boolConst(g, true)})
			node := g.Nodes[len(g.Nodes)-1].GetName()
			m := g.Model("image", []int64{3, 4, 4}, g.Classifier(d, 48, gradTestK), gradTestK)
			spec := testSpec("image", []int64{3, 4, 4}, NCHW)
			spec.Logits = m.GetGraph().GetOutput()[0].GetName()
			_, err := Export(m, spec, engine.CrossEntropy)
			if err == nil {
				t.Fatal("a dropout in training mode was accepted")
			}
			for _, want := range []string{node, c.why, "eval mode"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
