package onnxmodel_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/internal/zootest"
)

// archBenchBatch is the batch the architecture benchmarks run, the same as
// PyTorch's timings in the fixtures (tools/fixtures/torch_archs.py).
const archBenchBatch = 8

// archBenchInputs returns a fixed pseudo-random batch of n images and targets
// for fx's model.
func archBenchInputs(fx *testkit.ArchFixture, n int) ([]float32, []int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := fx.Ref.InputShape
	images := make([]float32, n*s[0]*s[1]*s[2])
	for i := range images {
		images[i] = rng.Float32()
	}
	targets := make([]int64, n)
	for i := range targets {
		targets[i] = int64(i % fx.Ref.NumClasses)
	}
	return images, targets
}

// BenchmarkGradientGraph times one run of each real architecture's
// cross-entropy gradient graph (forward and backward to the input) at batch
// 8. Between its iterations it also times the forward pass, off the clock, so
// that grad/fwd comes from one run under one machine load; torch-ms is
// PyTorch autograd's time for the same work, recorded by the fixture
// generator (re-measure it with scripts/fixtures/torch-archs.sh --retime).
// Targets: grad/fwd ≤ 2.5, and ms/op below torch-ms.
func BenchmarkGradientGraph(b *testing.B) {
	for _, fx := range testkit.ArchFixtures(b) {
		b.Run(fx.Name, func(b *testing.B) {
			m := zootest.LoadArch(b, fx)
			images, targets := archBenchInputs(fx, archBenchBatch)
			gradMs := benchGradientAndForward(b, m, images, targets, archBenchBatch)
			b.ReportMetric(fx.Ref.TorchGradMs, "torch-ms")
			b.ReportMetric(fx.Ref.TorchGradMs/gradMs, "x-torch")
		})
	}
}

// benchGradientAndForward times m's cross-entropy gradient on a batch of n
// images, and between iterations, off the clock, its forward pass, so that
// grad/fwd comes from one run under one machine load. It reports ms/op,
// fwd-ms and grad/fwd, and returns the gradient's milliseconds per call.
func benchGradientAndForward(b *testing.B, m engine.Classifier, images []float32, targets []int64, n int) float64 {
	b.Helper()
	ctx := context.Background()
	// The first calls build the sessions; keep that out of the timing.
	if _, err := m.Gradient(ctx, engine.CrossEntropy, images, targets); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Logits(ctx, images, n); err != nil {
		b.Fatal(err)
	}
	var forward time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Gradient(ctx, engine.CrossEntropy, images, targets); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		if _, err := m.Logits(ctx, images, n); err != nil {
			b.Fatal(err)
		}
		forward += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	gradMs := float64(b.Elapsed().Microseconds()) / 1e3 / float64(b.N)
	fwdMs := float64(forward.Microseconds()) / 1e3 / float64(b.N)
	b.ReportMetric(gradMs, "ms/op")
	b.ReportMetric(fwdMs, "fwd-ms")
	b.ReportMetric(gradMs/fwdMs, "grad/fwd")
	return gradMs
}

// BenchmarkForward times the forward pass (Logits) of each real architecture
// at batch 8; torch-ms is PyTorch's forward time under torch.no_grad.
func BenchmarkForward(b *testing.B) {
	ctx := context.Background()
	for _, fx := range testkit.ArchFixtures(b) {
		b.Run(fx.Name, func(b *testing.B) {
			m := zootest.LoadArch(b, fx)
			images, _ := archBenchInputs(fx, archBenchBatch)
			if _, err := m.Logits(ctx, images, archBenchBatch); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Logits(ctx, images, archBenchBatch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
			b.ReportMetric(fx.Ref.TorchForwardMs, "torch-ms")
		})
	}
}
