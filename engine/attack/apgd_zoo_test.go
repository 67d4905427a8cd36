package attack

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine/internal/zootest"
)

// TestAPGDAndAutoAttackNoWeakerThanPGD runs PGD, APGD-CE and AutoAttack on
// the zoo's MNIST CNN at L∞ ε = 0.3 with the same budget of 10 gradient
// steps per run, on the same 100 digits: Croce and Hein's step-size
// schedule and AutoAttack's worst case over its members must leave no more
// digits correctly classified than PGD with a random start and a fixed step,
// Madry et al.'s 2.5ε/steps (which already fools every digit of this CNN)
// or the README's 0.01 (which, in 10 steps, leaves many standing).
func TestAPGDAndAutoAttackNoWeakerThanPGD(t *testing.T) {
	m, ds := zootest.Model(t, "digits", "cnn")
	ds = ds.Subset(100)
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := ds.Tensor(m.InputShape())
	const eps, steps = 0.3, 10
	ao := DefaultAPGDOptions()
	ao.Eps, ao.Steps, ao.Seed = eps, steps, 1
	apgd, err := NewAPGD(&ao)
	if err != nil {
		t.Fatal(err)
	}
	aa, err := NewAutoAttack(&AutoAttackOptions{Eps: eps, Norm: LInf, Steps: steps, TargetClasses: 3, Queries: 50, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	robustAccuracy := func(t *testing.T, a Attack) float64 {
		res, err := RunBatched(context.Background(), a, m, x, labels, -1, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, m, x, res, eps, LInf)
		n := 0
		for i, r := range res.Samples {
			if r.Pred == labels[i] {
				n++
			}
		}
		acc := float64(n) / float64(len(labels))
		t.Logf("%s: robust accuracy %.1f%% on %d digits", a.Name(), 100*acc, len(labels))
		return acc
	}
	accAPGD, accAA := robustAccuracy(t, apgd), robustAccuracy(t, aa)
	if accAA > accAPGD {
		t.Errorf("AutoAttack leaves %.1f%% robust, above its own first member APGD-CE's %.1f%%", 100*accAA, 100*accAPGD)
	}
	for _, tc := range []struct {
		name string
		step float64
	}{{"madry-step", 0}, {"step-0.01", 0.01}} {
		t.Run(tc.name, func(t *testing.T) {
			pgd, err := NewPGD(&PGDOptions{Eps: eps, Norm: LInf, Steps: steps, StepSize: tc.step, Restarts: 1, RandomStart: true, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			accPGD := robustAccuracy(t, pgd)
			if accAPGD > accPGD || accAA > accPGD {
				t.Errorf("APGD-CE leaves %.1f%% and AutoAttack %.1f%% robust, above PGD's %.1f%%", 100*accAPGD, 100*accAA, 100*accPGD)
			}
		})
	}
}
