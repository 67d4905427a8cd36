package onnxmodel_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/internal/zootest"
	"google.golang.org/protobuf/proto"
)

// TestFeatureGradientZoo checks Model.FeatureGradient on signs-resnet, at
// the default feature map and at an earlier one (the first Relu's output,
// with residual blocks after it), against the model file itself: ONNX
// Runtime runs the file with the feature's producer removed and the feature
// fed as an input, and central differences of the target logit at random
// positions must match the gradient there; the feature's value
// must be what the file computes there.
func TestFeatureGradientZoo(t *testing.T) {
	m, ds := zootest.Model(t, "signs", "resnet")
	def, err := m.DefaultFeature()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(zootest.Dir, "signs", "resnet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	file := &onnx.ModelProto{}
	if err := proto.Unmarshal(raw, file); err != nil {
		t.Fatal(err)
	}
	firstRelu := ""
	for _, n := range file.GetGraph().GetNode() {
		if n.GetOpType() == "Relu" && firstRelu == "" {
			firstRelu = n.GetOutput()[0]
		}
	}
	x, _ := ds.TensorFor(m)
	shape := m.InputShape()
	image := x[:shape.Size()]
	pre := m.Preprocess()
	input := make([]float32, len(image)) // the file's input units
	for i, v := range image {
		s, o := pre.Affine(i / (shape.Height * shape.Width))
		input[i] = v*s + o
	}
	inName := file.GetGraph().GetInput()[0].GetName()
	outName := file.GetGraph().GetOutput()[0].GetName()
	const target = 3
	for _, c := range []struct{ name, feature string }{{"default", def}, {"first relu", firstRelu}} {
		t.Run(c.name, func(t *testing.T) {
			g, err := m.FeatureGradient(context.Background(), engine.Logit, c.feature, image, []int64{target})
			if err != nil {
				t.Fatal(err)
			}
			fs := g.FeatureShape
			if c.name == "default" && (fs.Height < 2 || fs.Width < 2) {
				t.Fatalf("default feature %q is %+v; want a spatial map", c.feature, fs)
			}
			dims := []int64{1, int64(fs.Channels), int64(fs.Height), int64(fs.Width)}
			withFeature := proto.Clone(file).(*onnx.ModelProto)
			withFeature.Graph.Output = append(withFeature.Graph.Output, floatInfo(c.feature, dims))
			ref := testkit.OrtRun(t, testkit.MarshalModel(t, withFeature), []string{inName}, [][]int64{{1, 3, int64(shape.Height), int64(shape.Width)}},
				[]any{input}, []string{outName, c.feature})
			if d := testkit.RelL2(g.Feature, ref[1]); d > 1e-5 {
				t.Fatalf("feature %q differs from the file's by rel L2 %g", c.feature, d)
			}
			if d := math.Abs(float64(g.Loss[0] - ref[0][target])); d > 1e-4 {
				t.Fatalf("logit loss %g; the file's logit is %g", g.Loss[0], ref[0][target])
			}

			tail := proto.Clone(file).(*onnx.ModelProto)
			var nodes []*onnx.NodeProto
			for _, n := range tail.Graph.Node {
				if n.GetOutput()[0] != c.feature {
					nodes = append(nodes, n)
				}
			}
			tail.Graph.Node = nodes
			tail.Graph.Input = append(tail.Graph.Input, floatInfo(c.feature, dims))
			data := testkit.MarshalModel(t, tail)
			logit := func(a []float32) float64 {
				z := testkit.OrtRun(t, data, []string{inName, c.feature}, [][]int64{{1, 3, int64(shape.Height), int64(shape.Width)}, dims},
					[]any{input, a}, []string{outName})[0]
				return float64(z[target])
			}
			// One coordinate at a time: a random direction in every
			// coordinate at once crosses too many of the ReLU kinks
			// downstream for a central difference to be exact.
			rng := rand.New(rand.NewPCG(5, 7))
			const eps = 1e-2
			var got, want []float32
			for k := 0; k < 12; k++ {
				i := rng.IntN(len(g.Feature))
				a := append([]float32(nil), g.Feature...)
				a[i] += eps
				up := logit(a)
				a[i] -= 2 * eps
				want = append(want, float32((up-logit(a))/(2*eps)))
				got = append(got, g.FeatureGrad[i])
			}
			if d := testkit.RelL2(got, want); d > 1e-2 {
				t.Fatalf("feature gradient vs central differences at 12 positions: rel L2 %g\ngot  %v\nwant %v", d, got, want)
			}
			t.Logf("%s %v: rel L2 %.2g against central differences", c.feature, dims, testkit.RelL2(got, want))
		})
	}
}

func floatInfo(name string, dims []int64) *onnx.ValueInfoProto {
	var d []*onnx.TensorShapeProto_Dimension
	for _, v := range dims {
		d = append(d, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: v}})
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: d}}}}}
}
