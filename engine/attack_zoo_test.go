package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zooDir is the demo zoo, relative to this package.
const zooDir = "../zoo"

// zooModel loads zoo/<set>/<name>.onnx with the sample images of the set,
// skipping the test with the reason when the zoo or the gradient graph
// exporter is not there.
func zooModel(tb testing.TB, set, name string) (*Model, *Dataset) {
	tb.Helper()
	path := filepath.Join(zooDir, set, name+".onnx")
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("zoo model %s absent: build the zoo with tools/zoo (%v)", path, err)
	}
	samples := filepath.Join(zooDir, set, "samples")
	if _, err := os.Stat(samples); err != nil {
		tb.Skipf("zoo samples %s absent: build the zoo with tools/zoo", samples)
	}
	m, err := LoadModel(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	ds, err := LoadImageFolder(samples)
	if err != nil {
		tb.Fatal(err)
	}
	x, _ := ds.Tensor(m.InputShape())
	if _, err := m.Gradient(context.Background(), CrossEntropy, x[:m.InputShape().Size()], []int64{0}); err != nil {
		if strings.Contains(err.Error(), "under construction") || strings.Contains(err.Error(), "shared library") || strings.Contains(err.Error(), "onnxruntime") {
			tb.Skipf("%s: no gradients yet: %v", name, err)
		}
		tb.Fatal(err)
	}
	return m, ds
}

// defaultZooModel returns the name of the model of a zoo set whose sidecar
// says it is the default, else fallback.
func defaultZooModel(set, fallback string) string {
	files, _ := filepath.Glob(filepath.Join(zooDir, set, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), " ", ""), `"default":true`) {
			return strings.TrimSuffix(filepath.Base(f), ".json")
		}
	}
	return fallback
}

// TestZooCNNUnderAttack is the acceptance test of the attacks on a real
// network: untargeted PGD (L∞ ε = 0.3, 40 steps of 0.01, random start)
// drives the zoo's MNIST CNN below 2% accuracy on the digit samples and FGSM
// (ε = 0.3) below 30%, with every output in [0,1] and in its ε-ball.
func TestZooCNNUnderAttack(t *testing.T) {
	m, ds := zooModel(t, "digits", "cnn")
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := ds.Tensor(m.InputShape())
	pgd, err := NewPGD(&PGDOptions{Eps: 0.3, Norm: LInf, Steps: 40, StepSize: 0.01, Restarts: 1, RandomStart: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fgsm, err := NewFGSM(&FGSMOptions{Eps: 0.3, Norm: LInf})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a   Attack
		max float64
	}{{pgd, 0.02}, {fgsm, 0.30}} {
		t.Run(tt.a.Name(), func(t *testing.T) {
			res, err := RunBatched(context.Background(), tt.a, m, x, labels, -1, 100, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, m, x, res, 0.3, LInf)
			clean, adv := 0, 0
			for i, r := range res.Samples {
				if r.Clean == labels[i] {
					clean++
				}
				if r.Pred == labels[i] {
					adv++
				}
			}
			n := float64(len(labels))
			t.Logf("%s on %d digit samples: clean accuracy %.1f%%, adversarial accuracy %.1f%%", tt.a.Name(), len(labels), 100*float64(clean)/n, 100*float64(adv)/n)
			if acc := float64(adv) / n; acc >= tt.max {
				t.Errorf("%s: adversarial accuracy %.1f%%, want below %.0f%%", tt.a.Name(), 100*acc, 100*tt.max)
			}
		})
	}
}
