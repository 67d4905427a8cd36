package attack

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// TestZooCNNUnderAttack is the acceptance test of the attacks on a real
// network: untargeted PGD (L∞ ε = 0.3, 40 steps of 0.01, random start)
// drives the zoo's MNIST CNN below 2% accuracy on the digit samples and FGSM
// (ε = 0.3) below 30%, with every output in [0,1] and in its ε-ball.
func TestZooCNNUnderAttack(t *testing.T) {
	m, ds := zootest.Model(t, "digits", "cnn")
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
