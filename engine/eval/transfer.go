package eval

import (
	"context"
	"fmt"

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

// Transfer crafts adversarials on every model with attackFor(i) and
// evaluates each set on every model. A cancelled run returns the rows
// finished with ctx.Err().
func Transfer(ctx context.Context, attackFor func(src int) attack.Attack, models []Model, target int, opts *Options) (*Matrix, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("transfer: no models")
	}
	m := &Matrix{}
	for i := range models {
		a := attackFor(i)
		rep, err := Attack(ctx, a, models, i, target, opts)
		if rep != nil && len(rep.Images) == len(models[i].Labels) {
			m.Rows = append(m.Rows, rep)
		}
		if err != nil {
			return m, fmt.Errorf("transfer: %s on %s: %w", a.Name(), models[i].Classifier.Name(), err)
		}
	}
	for j, mod := range models {
		m.Models = append(m.Models, mod.Classifier.Name())
		m.CleanError = append(m.CleanError, 1-m.Rows[0].Models[j].CleanAccuracy)
	}
	return m, nil
}
