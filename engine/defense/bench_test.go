package defense

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// BenchmarkDefenseForward measures each defense of the registry, at its
// defaults, classifying 16 demo signs through the signs set's default model
// (one Logits call), in images per second; "none" is the bare model. The
// feature-squeezing detector is calibrated on the same images first.
func BenchmarkDefenseForward(b *testing.B) {
	m, ds := zootest.Model(b, "signs", zootest.DefaultName("signs", "resnet"))
	ds = ds.Subset(16)
	x, _ := ds.Tensor(m.InputShape())
	n := ds.Len()
	ctx := context.Background()
	if _, err := m.Logits(ctx, x, n); err != nil { // warm-up: sessions
		b.Fatal(err)
	}
	b.Run("none", func(b *testing.B) {
		for range b.N {
			if _, err := m.Logits(ctx, x, n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
	})
	for _, d := range Defenses() {
		b.Run(d.Name, func(b *testing.B) {
			s, err := Parse(d.Name)
			if err != nil {
				b.Fatal(err)
			}
			c, err := s.Wrap(m)
			if err != nil {
				b.Fatal(err)
			}
			if cal, ok := c.(Calibrator); ok {
				if err := cal.Calibrate(ctx, x, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := c.Logits(ctx, x, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
