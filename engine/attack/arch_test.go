package attack

import (
	"context"
	"testing"
	"time"

	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/internal/zootest"
)

// TestAttacksOnRealArchitecture runs every attack, on small budgets, against
// a real torchvision architecture through ONNX Runtime's gradient graphs
// (all three loss kinds: cross-entropy, margin, logit), asserting the output
// invariants and that each attack fools the model on most images.
func TestAttacksOnRealArchitecture(t *testing.T) {
	fx := testkit.ArchFixtureNamed(t, "squeezenet1_1")
	m := zootest.LoadArch(t, fx)
	n := fx.Ref.Batch
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1 // the clean prediction stands in for the label
	}
	fgsm, _ := NewFGSM(&FGSMOptions{Eps: 8.0 / 255, Norm: LInf})
	// Budgets about twice DeepFool's minimal perturbations on this network.
	pgd, _ := NewPGD(&PGDOptions{Eps: 16.0 / 255, Norm: LInf, Steps: 20, Restarts: 1, RandomStart: true, Seed: 1})
	pgd2, _ := NewPGD(&PGDOptions{Eps: 2, Norm: L2, Steps: 20, Restarts: 1, RandomStart: true, Seed: 1})
	cw, _ := NewCW(&CWOptions{Steps: 30, BinarySteps: 3, LearningRate: 0.01, InitialConst: 1, AbortEarly: true})
	df, _ := NewDeepFool(&DeepFoolOptions{Steps: 20, Overshoot: 0.02, Candidates: 5, Norm: L2})
	lb, _ := NewLBFGS(&LBFGSOptions{InitialConst: 1, SearchSteps: 3, MaxIterations: 20, Memory: 5, Untargeted: RunnerUp})
	sq, _ := NewSquare(&SquareOptions{Eps: 8.0 / 255, Queries: 100, PInit: 0.1, Seed: 1})
	for _, tt := range []struct {
		a    Attack
		eps  float64
		norm Norm
	}{{fgsm, 8.0 / 255, LInf}, {pgd, 16.0 / 255, LInf}, {pgd2, 2, L2}, {cw, 0, L2}, {df, 0, L2}, {lb, 0, L2}, {sq, 8.0 / 255, LInf}} {
		t.Run(tt.a.Name(), func(t *testing.T) {
			start := time.Now()
			res, err := tt.a.Run(context.Background(), m, fx.Images, labels, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, m, fx.Images, res, tt.eps, tt.norm)
			ok := 0
			for _, r := range res.Samples {
				if r.Success {
					ok++
				}
			}
			t.Logf("%s: %d/%d fooled in %v", tt.a.Name(), ok, n, time.Since(start).Round(time.Millisecond))
			if tt.a.Name() != "fgsm" && tt.a.Name() != "square" && ok < n {
				t.Errorf("%s fooled %d of %d images", tt.a.Name(), ok, n)
			}
		})
	}
}
