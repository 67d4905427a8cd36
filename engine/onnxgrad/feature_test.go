package onnxgrad

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
	"google.golang.org/protobuf/proto"
)

// camNet is Conv→Relu→Conv→Tanh→GlobalAveragePool→Flatten→Gemm on
// [N,3,8,8] images. It returns the model, the name of the first feature map
// (Relu's output, [N,4,4,4]) and of the last (Tanh's, [N,5,4,4]), and the
// Gemm weight [5,K] in row-major order.
func camNet() (m *onnx.ModelProto, mid, last string, w []float32) {
	g := testkit.NewGraph(17, 11)
	h := g.Op("Conv", []string{"pixels", g.Weight(0.4, 4, 3, 3, 3), g.Weight(0.1, 4)},
		onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}), onnxproto.AttrInts("strides", []int64{2, 2}))
	mid = g.Op("Relu", []string{h})
	h = g.Op("Conv", []string{mid, g.Weight(0.4, 5, 4, 3, 3), g.Weight(0.1, 5)}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
	last = g.Op("Tanh", []string{h})
	p := g.Op("GlobalAveragePool", []string{last})
	wName := g.Weight(1.5, 5, gradTestK)
	logits := g.Op("Gemm", []string{g.Op("Flatten", []string{p}), wName, g.Weight(0.1, gradTestK)})
	for _, t := range g.Inits {
		if t.GetName() == wName {
			raw := t.GetRawData()
			for i := 0; i+4 <= len(raw); i += 4 {
				w = append(w, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
			}
		}
	}
	return g.Model("pixels", []int64{3, 8, 8}, logits, gradTestK), mid, last, w
}

// runFeature exports m's Logit gradient graph with feature and runs it.
func runFeature(t *testing.T, m *onnx.ModelProto, feature string, images []float32, targets []int64) (feat, featGrad, grad []float32) {
	t.Helper()
	spec := camSpec(m)
	spec.Feature = feature
	gm, err := Export(m, spec, engine.Logit)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(targets))
	out := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{"pixels", "target"}, [][]int64{{n, 3, 8, 8}, {n}},
		[]any{images, targets}, []string{FeatureOutput, FeatureGradOutput, "grad"})
	return out[0], out[1], out[2]
}

// TestFeatureGradientClosedForm checks the gradient at the map that enters
// global pooling against its closed form: z_t = Σ_c W[c,t]·mean(A_c) + b_t,
// so ∂z_t/∂A[c,i,j] = W[c,t]/(h·w) at every position.
func TestFeatureGradientClosedForm(t *testing.T) {
	m, _, last, w := camNet()
	images := RandomImages(rand.New(rand.NewPCG(1, 2)), 2*192, 1e-2, nil, false)
	targets := []int64{1, 3}
	feat, fg, _ := runFeature(t, m, last, images, targets)
	if len(feat) != 2*5*16 || len(fg) != 2*5*16 {
		t.Fatalf("feature outputs have %d and %d values; want %d", len(feat), len(fg), 2*5*16)
	}
	for i := range fg {
		b, c := i/80, (i/16)%5
		want := w[c*gradTestK+int(targets[b])] / 16
		if math.Abs(float64(fg[i]-want)) > 1e-6 {
			t.Fatalf("feature_grad[%d] = %g; want W[%d,%d]/16 = %g", i, fg[i], c, targets[b], want)
		}
	}
	for _, v := range feat { // Tanh's range, and not all zero
		if v <= -1 || v >= 1 {
			t.Fatalf("feature value %g outside Tanh's range", v)
		}
	}
}

// TestFeatureGradientFiniteDifferences splits the graph at an internal map
// (Relu's output, with a Conv and a Tanh after it) and checks the exported
// gradient with respect to it against central differences of the tail
// graph, which takes the map as its input; the feature output must equal
// what the original model computes there.
func TestFeatureGradientFiniteDifferences(t *testing.T) {
	m, mid, _, _ := camNet()
	images := RandomImages(rand.New(rand.NewPCG(3, 4)), 192, 1e-2, nil, false)
	targets := []int64{2}
	feat, fg, _ := runFeature(t, m, mid, images, targets)

	// The original model with the map as a second output.
	withMid := cloneModel(m)
	withMid.Graph.Output = append(withMid.Graph.Output, floatValue(mid, 1, 4, 4, 4))
	ref := testkit.OrtRun(t, testkit.MarshalModel(t, withMid), []string{"pixels"}, [][]int64{{1, 3, 8, 8}}, []any{images}, []string{mid})[0]
	if d := testkit.RelL2(feat, ref); d > 1e-6 {
		t.Fatalf("feature output differs from the model's tensor by rel L2 %g", d)
	}

	// The tail: every node after the map's producer, fed the map.
	tail := cloneModel(m)
	var nodes []*onnx.NodeProto
	after := false
	for _, n := range tail.Graph.Node {
		if after {
			nodes = append(nodes, n)
		}
		after = after || n.GetOutput()[0] == mid
	}
	tail.Graph.Node = nodes
	tail.Graph.Input = []*onnx.ValueInfoProto{floatValue(mid, 1, 4, 4, 4)}
	data := testkit.MarshalModel(t, tail)
	logit := func(a []float32) float64 {
		z := testkit.OrtRun(t, data, []string{mid}, [][]int64{{1, 4, 4, 4}}, []any{a}, []string{tail.Graph.Output[0].GetName()})[0]
		return float64(z[targets[0]])
	}
	const eps = 1e-2
	want := make([]float32, len(feat))
	for i := range feat {
		if feat[i] == 0 {
			continue // Relu's kink: the map is not an input there, only its positive part matters for the check
		}
		a := append([]float32(nil), feat...)
		a[i] = feat[i] + eps
		up := logit(a)
		a[i] = feat[i] - eps
		want[i] = float32((up - logit(a)) / (2 * eps))
	}
	got := append([]float32(nil), fg...)
	for i := range feat {
		if feat[i] == 0 {
			got[i] = 0
		}
	}
	if d := testkit.RelL2(got, want); d > 1e-3 {
		t.Fatalf("feature gradient vs central differences: rel L2 %g", d)
	}
}

// TestFeatureRejected checks the features the exporter refuses.
func TestFeatureRejected(t *testing.T) {
	m, _, _, _ := camNet()
	for _, c := range []struct{ name, feature, want string }{
		{"unknown", "no-such-tensor", "not a tensor the logits"},
		{"image", "pixels", "image input"},
		{"weight", m.GetGraph().GetInitializer()[0].GetName(), "does not lie on the path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := camSpec(m)
			spec.Feature = c.feature
			_, err := Export(m, spec, engine.Logit)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Export with feature %q: %v; want an error saying %q", c.feature, err, c.want)
			}
		})
	}
}

// TestDefaultFeature checks that the finder picks the last spatial map
// before pooling, not the [N,C,1,1] tensor Flatten receives after it.
func TestDefaultFeature(t *testing.T) {
	m, _, last, _ := camNet()
	f, err := DefaultFeature(m, camSpec(m))
	if err != nil {
		t.Fatal(err)
	}
	if want := (FeatureMap{Name: last, Channels: 5, Height: 4, Width: 4}); f != want {
		t.Fatalf("DefaultFeature = %+v; want %+v", f, want)
	}
	g := testkit.NewGraph(17, 1) // no spatial map at all
	logits := g.Op("Gemm", []string{g.Op("Flatten", []string{"pixels"}), g.Weight(1, 192, gradTestK)})
	lin := g.Model("pixels", []int64{3, 8, 8}, logits, gradTestK)
	if _, err := DefaultFeature(lin, camSpec(lin)); err == nil {
		t.Fatal("DefaultFeature found a feature map in a linear model")
	}
}

// camSpec is the spec of a model on [N,3,8,8] "pixels".
func camSpec(m *onnx.ModelProto) Spec {
	spec := testSpec("pixels", []int64{3, 8, 8}, NCHW)
	spec.Logits = m.GetGraph().GetOutput()[0].GetName()
	return spec
}

func cloneModel(m *onnx.ModelProto) *onnx.ModelProto {
	return proto.Clone(m).(*onnx.ModelProto)
}

func floatValue(name string, dims ...int64) *onnx.ValueInfoProto {
	var d []*onnx.TensorShapeProto_Dimension
	for _, v := range dims {
		d = append(d, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: v}})
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: d}}}}}
}
