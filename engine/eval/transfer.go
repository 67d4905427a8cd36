package eval

import (
	"context"
	"fmt"
	"math"

	"github.com/advlab/advlab/engine/attack"
)

// Matrix is the transfer matrix of Szegedy et al.'s Table 2: row i is the
// attack crafted on model i, evaluated on every model j.
type Matrix struct {
	// Models are the models' names.
	Models []string
	// CleanError is each model's error rate on the clean images.
	CleanError []float64
	// Rows are the reports of the attack crafted on each model.
	Rows []*Report
}

// Error returns model j's error rate (prediction ≠ true class, over the
// labelled images) on the adversarials crafted on model i, as crafted and
// after the 8-bit round trip.
func (m *Matrix) Error(i, j int) (crafted, rounded float64) {
	s := m.Rows[i].Models[j]
	return 1 - s.AdversarialAccuracy, 1 - s.RoundedAccuracy
}

// Transfer crafts adversarials on every model with attackFor(i), aimed at
// class targets[i] of model i (nil targets: untargeted), and evaluates each
// set on every model. A cancelled run returns the rows finished with
// ctx.Err().
func Transfer(ctx context.Context, attackFor func(src int) attack.Attack, models []Model, targets []int, opts *Options) (*Matrix, error) {
	return TransferFrom(ctx, attackFor, models, nil, targets, opts)
}

// TransferFrom is Transfer crafting only on the models sources lists (nil:
// every model), each set still evaluated on every model: a non-adaptive
// attacker crafts on the bare models alone and the defended ones only
// receive.
func TransferFrom(ctx context.Context, attackFor func(src int) attack.Attack, models []Model, sources []int, targets []int, opts *Options) (*Matrix, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("transfer: no models")
	}
	if targets != nil && len(targets) != len(models) {
		return nil, fmt.Errorf("transfer: %d targets for %d models", len(targets), len(models))
	}
	if sources == nil {
		for i := range models {
			sources = append(sources, i)
		}
	}
	m := &Matrix{}
	for _, i := range sources {
		if i < 0 || i >= len(models) {
			return nil, fmt.Errorf("transfer: source %d of %d models", i, len(models))
		}
		a, target := attackFor(i), -1
		if targets != nil {
			target = targets[i]
		}
		rep, err := Attack(ctx, a, models, i, target, opts)
		if rep != nil && len(rep.Images) == len(models[i].Labels) {
			m.Rows = append(m.Rows, rep)
		}
		if err != nil {
			m.names(models)
			return m, fmt.Errorf("transfer: %s on %s: %w", a.Name(), models[i].Classifier.Name(), err)
		}
	}
	m.names(models)
	return m, nil
}

// names fills the models' names and clean errors (from the first row).
func (m *Matrix) names(models []Model) {
	for j, mod := range models {
		m.Models = append(m.Models, mod.Classifier.Name())
		e := math.NaN()
		if len(m.Rows) > 0 {
			e = 1 - m.Rows[0].Models[j].CleanAccuracy
		}
		m.CleanError = append(m.CleanError, e)
	}
}
