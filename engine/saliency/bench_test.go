package saliency

import (
	"context"
	"testing"
	"time"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// BenchmarkExplain measures each method's time per image on signs-resnet
// with its default options (SmoothGrad 32 samples, integrated gradients
// refined to completeness 1e-3 from 32 intervals, Grad-CAM at the default
// feature map), eight images spread over the classes per iteration:
//
//	go test ./engine/saliency -run '^$' -bench Explain -benchtime 2x
func BenchmarkExplain(b *testing.B) {
	m, ds := zootest.Model(b, "signs", "resnet")
	x, _ := ds.TensorFor(m)
	size := m.InputShape().Size()
	const n = 8
	images := make([]float32, 0, n*size)
	for i := 0; i < n; i++ {
		j := i * ds.Len() / n
		images = append(images, x[j*size:(j+1)*size]...)
	}
	ctx := context.Background()
	classes, err := topClasses(ctx, m, images, n, n)
	if err != nil {
		b.Fatal(err)
	}
	for _, method := range Methods() {
		b.Run(string(method), func(b *testing.B) {
			o := &Options{Method: method, Classes: classes}
			if _, err := Explain(ctx, m, images[:size], 1, &Options{Method: method, Classes: classes[:1]}); err != nil { // sessions start here
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			steps := 0
			for i := 0; i < b.N; i++ {
				r, err := Explain(ctx, m, images, n, o)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range r.PathSteps {
					steps += s
				}
			}
			per := time.Since(start).Seconds() / float64(b.N*n)
			b.ReportMetric(1000*per, "ms/image")
			b.ReportMetric(1/per, "images/s")
			if steps > 0 {
				b.ReportMetric(float64(steps)/float64(b.N*n), "gradients/image")
			}
		})
	}
}
