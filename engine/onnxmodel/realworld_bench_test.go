package onnxmodel_test

import (
	"context"
	"testing"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
)

// realWorldBenchBatch is the batch of BenchmarkRealWorldGradient.
const realWorldBenchBatch = 16

// BenchmarkRealWorldGradient times one batch-16 run of the cross-entropy
// gradient graph of the downloaded MobileNet v1 (128×128) and SqueezeNet 1.1
// (224×224), whose files have a fixed batch of 1, on their ImageNet photos,
// and between iterations, off the clock, the forward pass of the same batch,
// so that grad/fwd comes from one run under one machine load. Target:
// grad/fwd ≤ 2.5 (reported, not asserted).
func BenchmarkRealWorldGradient(b *testing.B) {
	ctx := context.Background()
	for _, file := range []string{"imagenet_mobilenet_v1_025_128.onnx", "imagenet_squeezenet11_caffe2_fp16.onnx"} {
		b.Run(file, func(b *testing.B) {
			m, ds := zootest.RealWorldModelNamed(b, file).Load(b)
			labels, err := ds.LabelsFor(m.Labels())
			if err != nil {
				b.Fatal(err)
			}
			x, _ := ds.TensorFor(m)
			images := x[:realWorldBenchBatch*m.InputShape().Size()]
			targets := make([]int64, realWorldBenchBatch)
			for i := range targets {
				targets[i] = int64(labels[i])
			}
			// The first calls build the sessions; keep that out of the timing.
			if _, err := m.Gradient(ctx, engine.CrossEntropy, images, targets); err != nil {
				b.Fatal(err)
			}
			if _, err := m.Logits(ctx, images, realWorldBenchBatch); err != nil {
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
				if _, err := m.Logits(ctx, images, realWorldBenchBatch); err != nil {
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
		})
	}
}
