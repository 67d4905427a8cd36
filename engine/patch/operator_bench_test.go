package patch

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/imgops"
)

// resizedModel loads the ONNX file at path with its image input's height and
// width set to h and w and its intermediate shapes dropped, for a network
// (such as torchvision's ResNet18, which ends in a global pool) that runs at
// any resolution.
func resizedModel(tb testing.TB, path string, h, w int64) *onnxmodel.Model {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	mp := &onnx.ModelProto{}
	if err := proto.Unmarshal(data, mp); err != nil {
		tb.Fatal(err)
	}
	dims := mp.Graph.Input[0].GetType().GetTensorType().GetShape().GetDim()
	if len(dims) != 4 {
		tb.Fatalf("%s: input has %d dimensions; want NCHW", path, len(dims))
	}
	dims[2].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: h}
	dims[3].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: w}
	mp.Graph.ValueInfo = nil
	data, err = proto.Marshal(mp)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := onnxmodel.LoadData("resnet18-224", data, nil, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkPatchOperatorShare is imgops issue's budget for the patch
// operator: Apply and PullBack of a 50×50 patch on 16 images of 3×224×224,
// against one ResNet18 gradient-graph run on the same batch, timed in the
// same run. The share (patch-op/grad) should stay under 10%.
func BenchmarkPatchOperatorShare(b *testing.B) {
	const n, c, h, w = 16, 3, 224, 224
	m := resizedModel(b, testkit.ArchFixtureNamed(b, "resnet18").ModelPath(), h, w)
	rng := rand.New(rand.NewPCG(3, 4))
	images := make([]float32, n*c*h*w)
	for i := range images {
		images[i] = rng.Float32()
	}
	targets := make([]int64, n)
	ctx := context.Background()
	if _, err := m.Gradient(ctx, engine.CrossEntropy, images, targets); err != nil { // builds the session
		b.Fatal(err)
	}
	p := imgops.NewNoisePatch(imgops.CircleMask(50), 1)
	sampler, err := imgops.NewSampler(1, p, w, h, &imgops.Options{
		ScaleMode: imgops.SideFraction, ScaleMin: 50.0 / w, ScaleMax: 50.0 / w, MaxAngleDeg: 22.5})
	if err != nil {
		b.Fatal(err)
	}
	composed := make([]float32, len(images))
	var cp imgops.Composition
	var patchOp, grad time.Duration
	for b.Loop() {
		copy(composed, images)
		start := time.Now()
		if err := cp.Apply(p, composed, n, c, h, w, sampler.Sample(n)); err != nil {
			b.Fatal(err)
		}
		patchOp += time.Since(start)
		start = time.Now()
		g, err := m.Gradient(ctx, engine.CrossEntropy, composed, targets)
		if err != nil {
			b.Fatal(err)
		}
		grad += time.Since(start)
		start = time.Now()
		if _, err := cp.PullBack(g.Grad); err != nil {
			b.Fatal(err)
		}
		patchOp += time.Since(start)
	}
	b.ReportMetric(float64(patchOp.Microseconds())/1e3/float64(b.N), "patch-op-ms")
	b.ReportMetric(float64(grad.Microseconds())/1e3/float64(b.N), "grad-ms")
	b.ReportMetric(100*float64(patchOp)/float64(grad), "patch-op-%")
}
