package attack

import (
	"context"
	"testing"
	"time"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// TestPGDOnDownloadedMobileNet is the acceptance test on a model
// advlab did not make: untargeted PGD at ℓ∞ ε = 8/255 (the defaults, with
// 20 steps) drives the TF-slim MobileNet v1 of ../shared/realworld, whose
// file has a fixed batch of 1, below 5% accuracy on the 200 ImageNet photos,
// run in batches of 16, with every output in its ε-ball and in [0,1].
func TestPGDOnDownloadedMobileNet(t *testing.T) {
	if testing.Short() {
		t.Skip("200 ImageNet photos under PGD: not in -short")
	}
	m, ds := zootest.RealWorldModelNamed(t, "imagenet_mobilenet_v1_025_128.onnx").Load(t)
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := ds.TensorFor(m)
	opts := DefaultPGDOptions()
	opts.Eps, opts.Steps, opts.Seed = 8.0/255, 20, 1
	pgd, err := NewPGD(&opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := RunBatched(context.Background(), pgd, m, x, labels, -1, 16, nil)
	if err != nil {
		t.Fatal(err)
	}
	clean, adv := 0, 0
	for _, s := range res.Samples {
		if s.Clean == s.Label {
			clean++
		}
		if s.Pred == s.Label {
			adv++
		}
		if s.Linf > opts.Eps+1e-6 {
			t.Errorf("L∞ %.5f exceeds ε %.5f", s.Linf, opts.Eps)
		}
	}
	for _, v := range res.Adversarial {
		if v < 0 || v > 1 {
			t.Fatalf("adversarial pixel %g outside [0,1]", v)
		}
	}
	n := len(labels)
	t.Logf("%s: clean accuracy %.1f%%, after PGD (ε 8/255, %d steps, batch 16) %.1f%%, %d images in %v", m.Name(),
		100*float64(clean)/float64(n), opts.Steps, 100*float64(adv)/float64(n), n, time.Since(start).Round(time.Millisecond))
	if len(res.Samples) != n {
		t.Fatalf("%d results for %d images", len(res.Samples), n)
	}
	if float64(adv)/float64(n) >= 0.05 {
		t.Errorf("adversarial accuracy %.1f%%, want below 5%%", 100*float64(adv)/float64(n))
	}
}
