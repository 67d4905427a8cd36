package attack

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// BenchmarkAutoAttack measures one AutoAttack run (L∞ ε = 0.3, its default
// 100 APGD steps, 9 APGD-T targets, 1000 Square queries) on 100 MNIST
// digits with the zoo's CNN, in images per second. Each member runs only on
// the images the previous ones left, so on this CNN APGD-CE does nearly all
// the work.
func BenchmarkAutoAttack(b *testing.B) {
	m, ds := zootest.Model(b, "digits", "cnn")
	ds = ds.Subset(100)
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		b.Fatal(err)
	}
	x, _ := ds.Tensor(m.InputShape())
	o := DefaultAutoAttackOptions()
	o.Eps, o.Seed = 0.3, 1
	a, err := NewAutoAttack(&o)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Logits(ctx, x[:m.InputShape().Size()], 1); err != nil { // warm-up: sessions
		b.Fatal(err)
	}
	b.ResetTimer()
	robust := 0
	for range b.N {
		res, err := RunBatched(ctx, a, m, x, labels, -1, 100, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res.Samples {
			if r.Pred == labels[i] {
				robust++
			}
		}
	}
	b.ReportMetric(float64(ds.Len()*b.N)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(robust)/float64(ds.Len()*b.N), "robust-acc")
}
