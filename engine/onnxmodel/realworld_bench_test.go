package onnxmodel_test

import (
	"testing"

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
			benchGradientAndForward(b, m, images, targets, realWorldBenchBatch)
		})
	}
}
