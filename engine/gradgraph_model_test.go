package engine

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// Whole-graph checks: the three losses, folded preprocessing, NHWC inputs,
// Model.Gradient end to end, and the graphs the exporter must reject.

// smallCNN is a smooth little classifier (Conv, Tanh, MaxPool-free) on
// [N,3,6,6] images, or NHWC [N,6,6,3] ones behind a Transpose.
func smallCNN(opset int64, layout Layout) *onnx.ModelProto {
	g := newTestGraph(opset, 7)
	x := "pixels"
	shape := []int64{3, 6, 6}
	if layout == NHWC {
		shape = []int64{6, 6, 3}
		x = g.op("Transpose", []string{x}, attrIs("perm", []int64{0, 3, 1, 2}))
	}
	h := g.op("Conv", []string{x, g.weight(0.3, 4, 3, 3, 3), g.weight(0.1, 4)}, attrIs("pads", []int64{1, 1, 1, 1}), attrIs("strides", []int64{2, 2}))
	h = g.op("Tanh", []string{h})
	h = g.op("GlobalAveragePool", []string{h})
	logits := g.op("Gemm", []string{g.op("Flatten", []string{h}), g.weight(2, 4, gradTestK), g.weight(0.1, gradTestK)})
	return g.model("pixels", shape, logits, gradTestK)
}

func TestGradGraphLosses(t *testing.T) {
	for _, c := range []struct {
		loss  LossKind
		opset int64
	}{{CrossEntropy, 13}, {Margin, 17}, {Logit, 20}} {
		t.Run(c.loss.String(), func(t *testing.T) {
			m := smallCNN(c.opset, NCHW)
			spec := testSpec("pixels", []int64{3, 6, 6}, NCHW)
			images := testImages(rand.New(rand.NewPCG(3, 4)), 2*108, 1e-2, nil, false)
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
			m := smallCNN(17, layout)
			shape := []int64{3, 6, 6}
			if layout == NHWC {
				shape = []int64{6, 6, 3}
			}
			plain := testSpec("pixels", shape, layout)
			plain.Logits = m.GetGraph().GetOutput()[0].GetName()
			spec := plain
			spec.Preprocess = pre
			images := testImages(rand.New(rand.NewPCG(5, 6)), 2*108, 1e-2, nil, false)
			got := checkGradient(t, m, spec, CrossEntropy, images, 2, 1e-2, 1e-2)

			// The same model without folded preprocessing, at the model input.
			gm, err := ExportGradientGraph(m, plain, CrossEntropy)
			if err != nil {
				t.Fatal(err)
			}
			targets := []int64{1, 2} // checkGradient's
			inner := ortRun(t, marshalModel(t, gm), []string{"pixels", "target"}, [][]int64{specImageDims(plain, 2), {2}},
				[]any{preprocessed(spec, images), targets}, []string{"grad"})[0]
			want := make([]float32, len(inner))
			for i, g := range inner {
				c := (i / 36) % 3
				if layout == NHWC {
					c = i % 3
				}
				want[i] = g * 255 / pre.Std[c]
			}
			if e := relErr(got, want); e > 1e-5 {
				t.Errorf("grad ≠ d loss/d input · 255/std: relative error %.3g", e)
			}
		})
	}
}

// TestGradGraphModelGradient runs Model.Gradient on an NHWC model with a
// sidecar, whose gradients come back NCHW, against finite differences of
// Model.Logits.
func TestGradGraphModelGradient(t *testing.T) {
	sc, _ := json.Marshal(Sidecar{Layout: NHWC, InputRange: []float32{0, 255}, Mean: []float32{120, 110, 100}, Std: []float32{60, 50, 70}})
	m, err := LoadModelData("nhwc", marshalModel(t, smallCNN(17, NHWC)), sc, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const n, size, eps = 2, 108, 1e-2
	images := testImages(rand.New(rand.NewPCG(8, 9)), n*size, eps, nil, false)
	targets := []int64{3, 0}
	ctx := context.Background()
	g, err := m.Gradient(ctx, CrossEntropy, images, targets)
	if err != nil {
		t.Fatal(err)
	}
	var batch []float32
	for j := range images {
		b := j / size
		for _, s := range []float32{eps, -eps} {
			img := append([]float32(nil), images[b*size:(b+1)*size]...)
			img[j%size] += s
			batch = append(batch, img...)
		}
	}
	z, err := m.Logits(ctx, batch, len(batch)/size)
	if err != nil {
		t.Fatal(err)
	}
	k := m.NumClasses()
	fd := make([]float32, len(images))
	for j := range fd {
		tj := int(targets[j/size])
		fd[j] = float32((refLoss(CrossEntropy, z[2*j*k:(2*j+1)*k], tj) - refLoss(CrossEntropy, z[(2*j+1)*k:(2*j+2)*k], tj)) / (2 * eps))
	}
	if e := relErr(g.Grad, fd); e > 1e-2 {
		t.Errorf("Model.Gradient vs finite differences of Model.Logits: relative error %.3g", e)
	}
	want, err := m.Logits(ctx, images, n)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(g.Logits, want); e > 1e-5 {
		t.Errorf("Gradient's logits differ from Logits: %.3g", e)
	}
}

func TestGradGraphErrors(t *testing.T) {
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	cases := []struct {
		name  string
		edit  func(g *testGraph, x string) string // returns the tensor fed to the classifier
		opset int64
		loss  LossKind
		want  []string
	}{
		{name: "operator without a backward rule", edit: func(g *testGraph, x string) string {
			return g.op("Sin", []string{x})
		}, want: []string{"operator Sin", `node "Sin_`, "supported operators:", "Conv", "MaxPool"}},
		{name: "custom operator", edit: func(g *testGraph, x string) string {
			y := g.op("Relu", []string{x})
			g.nodes[len(g.nodes)-1].Domain = "com.example"
			return y
		}, want: []string{"custom operator", "com.example"}},
		{name: "opset 12", opset: 12, edit: func(g *testGraph, x string) string {
			return g.op("Relu", []string{x})
		}, want: []string{"opset 12", "opset 13 or newer", "re-export"}},
		{name: "convolution weights from the image", edit: func(g *testGraph, x string) string {
			w := g.op("Mul", []string{g.weight(1, 3, 3, 3, 3), g.op("ReduceMean", []string{x}, attrI("keepdims", 0))})
			return g.op("Conv", []string{x, w}, attrIs("pads", []int64{1, 1, 1, 1}))
		}, want: []string{"Conv", "input 1", "only differentiates Conv through input 0"}},
		{name: "float16 on the path", edit: func(g *testGraph, x string) string {
			h := g.op("Relu", []string{g.op("Cast", []string{x}, attrI("to", int64(onnx.TensorProto_FLOAT16)))})
			return g.op("Cast", []string{h}, attrI("to", int64(onnx.TensorProto_FLOAT)))
		}, want: []string{"not float32"}},
		{name: "reflect padding", edit: func(g *testGraph, x string) string {
			p := g.op("Pad", []string{x, g.ints(0, 0, 1, 1, 0, 0, 1, 1)}, attrS("mode", "reflect"))
			return g.op("AveragePool", []string{p}, attrIs("kernel_shape", []int64{3, 3}))
		}, want: []string{"Pad", "reflect", "constant padding"}},
		{name: "subgraph", edit: func(g *testGraph, x string) string {
			y := g.op("Relu", []string{x})
			g.nodes[len(g.nodes)-1].Attribute = []*onnx.AttributeProto{{Name: "body", Type: onnx.AttributeProto_GRAPH, G: &onnx.GraphProto{}}}
			return y
		}, want: []string{"subgraph"}},
		{name: "unknown loss", loss: LossKind(9), edit: func(g *testGraph, x string) string { return x }, want: []string{"unknown loss"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opset := c.opset
			if opset == 0 {
				opset = 17
			}
			g := newTestGraph(opset, 1)
			out := c.edit(g, "image")
			m := g.model("image", []int64{3, 4, 4}, g.classifier(out, 48, gradTestK), gradTestK)
			s := spec
			s.Logits = m.GetGraph().GetOutput()[0].GetName()
			_, err := ExportGradientGraph(m, s, c.loss)
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
	g := newTestGraph(17, 2)
	g.opTo("Tanh", []string{"image"}, "loss")
	g.opTo("Mul", []string{"loss", g.weight(1, 3, 1, 1)}, "target")
	g.opTo("Add", []string{"target", "loss"}, "grad")
	m := g.model("image", []int64{3, 4, 4}, g.classifier("grad", 48, gradTestK), gradTestK)
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	images := testImages(rand.New(rand.NewPCG(1, 1)), 96, 1e-2, nil, false)
	checkGradient(t, m, spec, Margin, images, 2, 1e-2, 1e-2)
}

// TestGradGraphConstantLogits checks a classifier whose logits do not depend
// on the image: the gradient is zero.
func TestGradGraphConstantLogits(t *testing.T) {
	g := newTestGraph(17, 3)
	shape := g.op("Concat", []string{g.op("Slice", []string{g.op("Shape", []string{"image"}), g.ints(0), g.ints(1)}), g.ints(gradTestK)}, attrI("axis", 0))
	logits := g.op("Expand", []string{g.weight(1, gradTestK), shape})
	m := g.model("image", []int64{3, 4, 4}, logits, gradTestK)
	spec := testSpec("image", []int64{3, 4, 4}, NCHW)
	spec.Logits = logits
	gm, err := ExportGradientGraph(m, spec, CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	images := make([]float32, 96)
	res := ortRun(t, marshalModel(t, gm), []string{"image", "target"}, [][]int64{{2, 3, 4, 4}, {2}}, []any{images, []int64{0, 1}}, []string{"grad", "loss"})
	for _, v := range res[0] {
		if v != 0 {
			t.Fatalf("grad has %g; want zeros", v)
		}
	}
	if math.IsNaN(float64(res[1][0])) {
		t.Error("loss is NaN")
	}
}
