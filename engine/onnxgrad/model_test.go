package onnxgrad

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Whole-graph checks: the three losses, folded preprocessing, NHWC inputs,
// Model.Gradient end to end, and the graphs the exporter must reject.

// SmallCNN is a smooth little classifier (Conv, Tanh, MaxPool-free) on
// [N,3,6,6] images, or NHWC [N,6,6,3] ones behind a Transpose.
func SmallCNN(opset int64, layout Layout) *onnx.ModelProto {
	g := testkit.NewGraph(opset, 7)
	x := "pixels"
	shape := []int64{3, 6, 6}
	if layout == NHWC {
		shape = []int64{6, 6, 3}
		x = g.Op("Transpose", []string{x}, onnxproto.AttrInts("perm", []int64{0, 3, 1, 2}))
	}
	h := g.Op("Conv", []string{x, g.Weight(0.3, 4, 3, 3, 3), g.Weight(0.1, 4)}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}), onnxproto.AttrInts("strides", []int64{2, 2}))
	h = g.Op("Tanh", []string{h})
	h = g.Op("GlobalAveragePool", []string{h})
	logits := g.Op("Gemm", []string{g.Op("Flatten", []string{h}), g.Weight(2, 4, gradTestK), g.Weight(0.1, gradTestK)})
	return g.Model("pixels", shape, logits, gradTestK)
}

func TestGradGraphLosses(t *testing.T) {
	for _, c := range []struct {
		loss  engine.LossKind
		opset int64
	}{{engine.CrossEntropy, 13}, {engine.Margin, 17}, {engine.Logit, 20}} {
		t.Run(c.loss.String(), func(t *testing.T) {
			m := SmallCNN(c.opset, NCHW)
			spec := testSpec("pixels", []int64{3, 6, 6}, NCHW)
			images := RandomImages(rand.New(rand.NewPCG(3, 4)), 2*108, 1e-2, nil, false)
			checkGradient(t, m, spec, c.loss, images, 2, 1e-2, 1e-2)
		})
	}
}

// TestGradGraphPreprocessing checks that the folded preprocessing gives
// grad = (d loss/d model input)·(r1−r0)/std per channel, and matches finite
// differences in pixel space, in both layouts.
func TestGradGraphPreprocessing(t *testing.T) {
	pre := Preprocess{Range: [2]float32{0, 255}, Mean: []float32{120, 110, 100}, Std: []float32{60, 50, 70}}
	for _, layout := range []Layout{NCHW, NHWC} {
		t.Run(string(layout), func(t *testing.T) {
			m := SmallCNN(17, layout)
			shape := []int64{3, 6, 6}
			if layout == NHWC {
				shape = []int64{6, 6, 3}
			}
			plain := testSpec("pixels", shape, layout)
			plain.Logits = m.GetGraph().GetOutput()[0].GetName()
			spec := plain
			spec.Preprocess = pre
			images := RandomImages(rand.New(rand.NewPCG(5, 6)), 2*108, 1e-2, nil, false)
			got := checkGradient(t, m, spec, engine.CrossEntropy, images, 2, 1e-2, 1e-2)

			// The same model without folded preprocessing, at the model input.
			gm, err := Export(m, plain, engine.CrossEntropy)
			if err != nil {
				t.Fatal(err)
			}
			targets := []int64{1, 2} // checkGradient's
			inner := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{"pixels", "target"}, [][]int64{specImageDims(plain, 2), {2}},
				[]any{preprocessed(spec, images), targets}, []string{"grad"})[0]
			want := make([]float32, len(inner))
			for i, g := range inner {
				c := (i / 36) % 3
				if layout == NHWC {
					c = i % 3
				}
				want[i] = g * 255 / pre.Std[c]
			}
			if e := RelErr(got, want); e > 1e-5 {
				t.Errorf("grad ≠ d loss/d input · 255/std: relative error %.3g", e)
			}
		})
	}
}

func TestGradGraphErrors(t *testing.T) {
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	cases := []struct {
		name  string
		edit  func(g *testkit.Graph, x string) string // returns the tensor fed to the classifier
		opset int64
		loss  engine.LossKind
		want  []string
	}{
		{name: "operator without a backward rule", edit: func(g *testkit.Graph, x string) string {
			return g.Op("Shrink", []string{x})
		}, want: []string{"operator Shrink", `node "Shrink_`, "supported operators:", "Conv", "MaxPool"}},
		{name: "custom operator", edit: func(g *testkit.Graph, x string) string {
			y := g.Op("Relu", []string{x})
			g.Nodes[len(g.Nodes)-1].Domain = "com.example"
			return y
		}, want: []string{"custom operator", "com.example"}},
		{name: "opset 12", opset: 12, edit: func(g *testkit.Graph, x string) string {
			return g.Op("Relu", []string{x})
		}, want: []string{"opset 12", "opset 13 or newer", "re-export"}},
		{name: "convolution weights from the image", edit: func(g *testkit.Graph, x string) string {
			w := g.Op("Mul", []string{g.Weight(1, 3, 3, 3, 3), g.Op("ReduceMean", []string{x}, onnxproto.AttrInt("keepdims", 0))})
			return g.Op("Conv", []string{x, w}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
		}, want: []string{"Conv", "input 1", "only differentiates Conv through input 0"}},
		{name: "float16 on the path", edit: func(g *testkit.Graph, x string) string {
			h := g.Op("Relu", []string{g.Op("Cast", []string{x}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT16)))})
			return g.Op("Cast", []string{h}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
		}, want: []string{"not float32"}},
		{name: "reflect padding", edit: func(g *testkit.Graph, x string) string {
			p := g.Op("Pad", []string{x, g.Ints(0, 0, 1, 1, 0, 0, 1, 1)}, onnxproto.AttrString("mode", "reflect"))
			return g.Op("AveragePool", []string{p}, onnxproto.AttrInts("kernel_shape", []int64{3, 3}))
		}, want: []string{"Pad", "reflect", "constant padding"}},
		{name: "subgraph", edit: func(g *testkit.Graph, x string) string {
			y := g.Op("Relu", []string{x})
			g.Nodes[len(g.Nodes)-1].Attribute = []*onnx.AttributeProto{{Name: "body", Type: onnx.AttributeProto_GRAPH, G: &onnx.GraphProto{}}}
			return y
		}, want: []string{"subgraph"}},
		{name: "unknown loss", loss: engine.LossKind(9), edit: func(g *testkit.Graph, x string) string { return x }, want: []string{"unknown loss"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opset := c.opset
			if opset == 0 {
				opset = 17
			}
			g := testkit.NewGraph(opset, 1)
			out := c.edit(g, "image")
			m := g.Model("image", []int64{3, 4, 4}, g.Classifier(out, 48, gradTestK), gradTestK)
			s := spec
			s.Logits = m.GetGraph().GetOutput()[0].GetName()
			_, err := Export(m, s, c.loss)
			if err == nil {
				t.Fatal("exported; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

// TestGradGraphReservedNames checks a classifier whose own tensors are
// called "loss", "grad" and "target", and whose logits are not "logits".
func TestGradGraphReservedNames(t *testing.T) {
	g := testkit.NewGraph(17, 2)
	g.OpTo("Tanh", []string{"image"}, "loss")
	g.OpTo("Mul", []string{"loss", g.Weight(1, 3, 1, 1)}, "target")
	g.OpTo("Add", []string{"target", "loss"}, "grad")
	m := g.Model("image", []int64{3, 4, 4}, g.Classifier("grad", 48, gradTestK), gradTestK)
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	images := RandomImages(rand.New(rand.NewPCG(1, 1)), 96, 1e-2, nil, false)
	checkGradient(t, m, spec, engine.Margin, images, 2, 1e-2, 1e-2)
}

// TestGradGraphConstantLogits checks a classifier whose logits do not depend
// on the image: the gradient is zero.
func TestGradGraphConstantLogits(t *testing.T) {
	g := testkit.NewGraph(17, 3)
	shape := g.Op("Concat", []string{g.Op("Slice", []string{g.Op("Shape", []string{"image"}), g.Ints(0), g.Ints(1)}), g.Ints(gradTestK)}, onnxproto.AttrInt("axis", 0))
	logits := g.Op("Expand", []string{g.Weight(1, gradTestK), shape})
	m := g.Model("image", []int64{3, 4, 4}, logits, gradTestK)
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	spec.Logits = logits
	gm, err := Export(m, spec, engine.CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	images := make([]float32, 96)
	res := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{"image", "target"}, [][]int64{{2, 3, 4, 4}, {2}}, []any{images, []int64{0, 1}}, []string{"grad", "loss"})
	for _, v := range res[0] {
		if v != 0 {
			t.Fatalf("grad has %g; want zeros", v)
		}
	}
	if math.IsNaN(float64(res[1][0])) {
		t.Error("loss is NaN")
	}
}
