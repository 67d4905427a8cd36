package enginebackend

import (
	"context"

	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// SweepPatch measures the patch with patch.Evaluate's sweep at one area
// fraction, for every model beside a noise patch of the same size, and
// returns the engine's report.
func (Backend) SweepPatch(ctx context.Context, req gui.SweepRequest, progress func(float64)) (*patch.EvalReport, error) {
	cs, err := classifiers(req.Models)
	if err != nil {
		return nil, err
	}
	sw := req.Sweep
	o := patch.EvalOptions{
		Target: req.Target, Scales: []float64{req.Area}, Placements: req.Placements, Seed: req.Seed, Sweep: &sw,
		Transforms: imgops.Options{MaxAngleDeg: req.MaxAngleDeg, ScaleMode: imgops.AreaFraction},
	}
	return patch.Evaluate(ctx, cs, datasetOf(req.Samples), req.Patch, o, progress)
}
