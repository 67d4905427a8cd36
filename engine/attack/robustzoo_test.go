package attack

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// robustPair is an adversarially trained zoo model, its standard
// counterpart of the same architecture, the ε it was trained at and the
// number of sample images the AutoAttack check runs on (every class in
// turn).
type robustPair struct {
	set, standard, robust string
	eps                   float64
	attacked              int
}

var robustPairs = []robustPair{
	{set: "digits", standard: "cnn", robust: "cnn-robust", eps: 0.3, attacked: 40},
	{set: "signs", standard: "resnet", robust: "resnet-robust", eps: 8.0 / 255, attacked: 48},
}

// robustSidecar reads a zoo model's sidecar through modelconfig.
func robustSidecar(t *testing.T, set, name string) modelconfig.Config {
	t.Helper()
	path := filepath.Join(zootest.Dir, set, name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := modelconfig.Parse(data, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleAccuracy is the fraction of the images x that m classifies as labels.
func sampleAccuracy(t *testing.T, m *onnxmodel.Model, x []float32, labels []int) float64 {
	t.Helper()
	logits, err := m.Logits(context.Background(), x, len(labels))
	if err != nil {
		t.Fatal(err)
	}
	k, right := len(m.Labels()), 0
	for i, l := range labels {
		if engine.Argmax(logits[i*k:(i+1)*k]) == l {
			right++
		}
	}
	return float64(right) / float64(len(labels))
}

// TestRobustZooCleanAccuracy checks must-hold (a) of the robust models: on
// the zoo's samples, through ONNX Runtime, each adversarially trained model
// is within 10 points of its standard counterpart, and each model's sample
// accuracy is the one PyTorch measured on the same PNGs (the sidecar's
// sample_accuracy, to one image).
func TestRobustZooCleanAccuracy(t *testing.T) {
	for _, p := range robustPairs {
		t.Run(p.robust, func(t *testing.T) {
			robust, ds := zootest.Model(t, p.set, p.robust)
			standard, _ := zootest.Model(t, p.set, p.standard)
			labels, err := ds.LabelsFor(robust.Labels())
			if err != nil {
				t.Fatal(err)
			}
			x, _ := ds.Tensor(robust.InputShape())
			acc := map[string]float64{}
			for name, m := range map[string]*onnxmodel.Model{p.robust: robust, p.standard: standard} {
				acc[name] = sampleAccuracy(t, m, x, labels)
				want := robustSidecar(t, p.set, name).SampleAccuracy
				if math.Abs(acc[name]-want) > 1.01/float64(len(labels)) {
					t.Errorf("%s-%s: sample accuracy %.4f through ONNX Runtime, the sidecar's (PyTorch) %.4f", p.set, name, acc[name], want)
				}
			}
			t.Logf("clean accuracy on %d %s samples: %s-%s %.1f%%, %s-%s %.1f%%", len(labels), p.set,
				p.set, p.robust, 100*acc[p.robust], p.set, p.standard, 100*acc[p.standard])
			if acc[p.robust] < acc[p.standard]-0.10 {
				t.Errorf("%s-%s: clean accuracy %.1f%%, more than 10 points below %s-%s's %.1f%%",
					p.set, p.robust, 100*acc[p.robust], p.set, p.standard, 100*acc[p.standard])
			}
		})
	}
}

// robustAutoAttack runs the AutoAttack-style ensemble (APGD-CE, APGD-T with
// the DLR loss, Square) at eps on m and returns the robust accuracy: the
// fraction of images classified right clean and after every member.
func robustAutoAttack(t *testing.T, m *onnxmodel.Model, x []float32, labels []int, eps float64) float64 {
	t.Helper()
	aa, err := NewAutoAttack(&AutoAttackOptions{Eps: eps, Norm: LInf, Steps: 25, TargetClasses: 3, Queries: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunBatched(context.Background(), aa, m, x, labels, -1, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, m, x, res, eps, LInf)
	for _, w := range res.Warnings {
		t.Logf("%s: %s", m.Name(), w)
	}
	right := 0
	for i, s := range res.Samples {
		if s.Pred == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(labels))
}

// TestRobustZooAutoAttack checks must-hold (b): under the engine's
// AutoAttack at the training ε read from the robust model's sidecar, on a
// few dozen samples covering every class, the adversarially trained model
// keeps at least 30 points more accuracy than its standard counterpart,
// and no more than 20 points above the PGD-20 robust accuracy PyTorch
// measured on the test split (the sidecar's robust_accuracy): a stronger
// attack must not find the model much more robust.
func TestRobustZooAutoAttack(t *testing.T) {
	for _, p := range robustPairs {
		t.Run(p.robust, func(t *testing.T) {
			robust, all := zootest.Model(t, p.set, p.robust)
			standard, _ := zootest.Model(t, p.set, p.standard)
			side := robustSidecar(t, p.set, p.robust)
			at := side.AdversarialTraining
			if at == nil || at.Norm != "linf" || math.Abs(at.Eps-p.eps) > 1e-6 {
				t.Fatalf("%s-%s: sidecar adversarial_training %+v, want L∞ ε %g", p.set, p.robust, at, p.eps)
			}
			ds := all.Subset(p.attacked)
			labels, err := ds.LabelsFor(robust.Labels())
			if err != nil {
				t.Fatal(err)
			}
			x, _ := ds.Tensor(robust.InputShape())
			r := robustAutoAttack(t, robust, x, labels, at.Eps)
			s := robustAutoAttack(t, standard, x, labels, at.Eps)
			t.Logf("AutoAttack L∞ ε=%.4f on %d %s samples: robust accuracy %s-%s %.1f%%, %s-%s %.1f%% (sidecar PGD-20 on the test split: %.1f%%)",
				at.Eps, len(labels), p.set, p.set, p.robust, 100*r, p.set, p.standard, 100*s, 100*side.RobustAccuracy)
			if r < s+0.30 {
				t.Errorf("%s-%s: robust accuracy %.1f%%, want at least %s-%s's %.1f%% + 30 points", p.set, p.robust, 100*r, p.set, p.standard, 100*s)
			}
			if r > side.RobustAccuracy+0.20 {
				t.Errorf("%s-%s: AutoAttack leaves %.1f%%, far above PyTorch's PGD-20 %.1f%%: the engine's attack is too weak",
					p.set, p.robust, 100*r, 100*side.RobustAccuracy)
			}
		})
	}
}
