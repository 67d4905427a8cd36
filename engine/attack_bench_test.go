package engine

import (
	"context"
	"testing"
)

// BenchmarkPGD40 measures PGD-40 (L∞, ε = 0.3 on digits, 8/255 on signs)
// on 100 MNIST digits with the zoo's CNN and on 16 colour 64×64 signs with
// the signs set's default model, in images per second.
func BenchmarkPGD40(b *testing.B) {
	cases := []struct {
		set, model string
		n          int
		eps        float64
	}{
		{"digits", "cnn", 100, 0.3},
		{"signs", defaultZooModel("signs", "resnet"), 16, 8.0 / 255},
	}
	for _, bc := range cases {
		b.Run(bc.set+"-"+bc.model, func(b *testing.B) {
			m, ds := zooModel(b, bc.set, bc.model)
			ds = ds.Subset(bc.n)
			if ds.Len() < bc.n {
				b.Skipf("%s has %d samples, want %d", bc.set, ds.Len(), bc.n)
			}
			labels, err := ds.LabelsFor(m.Labels())
			if err != nil {
				b.Fatal(err)
			}
			x, _ := ds.Tensor(m.InputShape())
			// PGD stops an image once it is fooled, so the images per second
			// depend on how fast they fall; steps/img says how many gradient
			// steps an image took on average.
			a, err := NewPGD(&PGDOptions{Eps: bc.eps, Norm: LInf, Steps: 40, Restarts: 1, RandomStart: true, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := a.Run(ctx, m, x, labels, -1, nil); err != nil { // warm-up: sessions
				b.Fatal(err)
			}
			b.ResetTimer()
			steps := 0
			for range b.N {
				res, err := a.Run(ctx, m, x, labels, -1, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res.Samples {
					steps += r.Iterations
				}
			}
			b.ReportMetric(float64(bc.n*b.N)/b.Elapsed().Seconds(), "img/s")
			b.ReportMetric(float64(steps)/float64(bc.n*b.N), "steps/img")
		})
	}
}
