package attack

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// BenchmarkPGD40 measures PGD-40 (L∞, ε = 0.3 on digits, 8/255 on signs)
// on 100 MNIST digits with the zoo's CNN and on 16 colour 64×64 signs with
// the signs set's default model, in images per second: as PGD runs by
// default, stopping each image at its first fooling iterate, and with
// AllSteps, all 40 steps on every image.
func BenchmarkPGD40(b *testing.B) {
	cases := []struct {
		set, model string
		n          int
		eps        float64
	}{
		{"digits", "cnn", 100, 0.3},
		{"signs", zootest.DefaultName("signs", "resnet"), 16, 8.0 / 255},
	}
	for _, bc := range cases {
		for _, all := range []bool{false, true} {
			name := bc.set + "-" + bc.model
			if all {
				name += "-all-steps"
			}
			b.Run(name, func(b *testing.B) { benchPGD40(b, bc.set, bc.model, bc.n, bc.eps, all) })
		}
	}
}

// benchPGD40 runs one case of BenchmarkPGD40.
func benchPGD40(b *testing.B, set, model string, n int, eps float64, all bool) {
	m, ds := zootest.Model(b, set, model)
	ds = ds.Subset(n)
	if ds.Len() < n {
		b.Skipf("%s has %d samples, want %d", set, ds.Len(), n)
	}
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		b.Fatal(err)
	}
	x, _ := ds.Tensor(m.InputShape())
	// By default PGD stops an image once it is fooled, so the images per
	// second depend on how fast they fall; steps/img says how many
	// gradient steps an image took on average.
	a, err := NewPGD(&PGDOptions{Eps: eps, Norm: LInf, Steps: 40, Restarts: 1, RandomStart: true, Seed: 1, AllSteps: all})
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
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(steps)/float64(n*b.N), "steps/img")
}
