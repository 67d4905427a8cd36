package patch

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// NamedPatch is a patch with the name a comparison reports it under (its
// file, say).
type NamedPatch struct {
	Name  string
	Patch *imgops.Patch
	// Target, when not "", replaces EvalOptions.Target for this patch (the
	// target its file records).
	Target string
}

// PatchReport is one patch's evaluation within a comparison.
type PatchReport struct {
	Patch string `json:"patch"`
	*EvalReport
}

// Comparison is several patches measured by the same evaluation: one curve
// per patch and model, so that a patch trained with a transformation's
// range can be read against one trained without it.
type Comparison struct {
	Patches []PatchReport `json:"patches"`
}

// Compare evaluates every patch with the same options (and so the same
// placements) on every model. The patches are checked before any model
// runs, each patch's target before its evaluation; progress, when not nil, gets the completed fraction over all
// patches.
func Compare(ctx context.Context, models []engine.Classifier, data *engine.Dataset, patches []NamedPatch, opts EvalOptions, progress func(float64)) (*Comparison, error) {
	if len(patches) == 0 {
		return nil, invalid(errors.New("patch comparison: no patch given"))
	}
	for _, np := range patches {
		if np.Patch == nil {
			return nil, invalid(fmt.Errorf("patch comparison: %s has no patch", np.Name))
		}
		if err := np.Patch.Validate(); err != nil {
			return nil, invalid(fmt.Errorf("patch comparison: %s: %w", np.Name, err))
		}
		if opts.Control != nil && (opts.Control.W != np.Patch.W || opts.Control.H != np.Patch.H) {
			return nil, invalid(fmt.Errorf("patch comparison: %s is %d×%d and the control %d×%d; give patches of the control's size",
				np.Name, np.Patch.W, np.Patch.H, opts.Control.W, opts.Control.H))
		}
	}
	cmp := &Comparison{}
	for i, np := range patches {
		o := opts
		if np.Target != "" {
			o.Target = np.Target
		}
		var sub func(float64)
		if progress != nil {
			sub = func(f float64) { progress((float64(i) + f) / float64(len(patches))) }
		}
		rep, err := Evaluate(ctx, models, data, np.Patch, o, sub)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", np.Name, err)
		}
		cmp.Patches = append(cmp.Patches, PatchReport{Patch: np.Name, EvalReport: rep})
	}
	return cmp, nil
}

// WriteCSV writes one row per patch, model and point: the patch's name,
// then the columns of EvalReport.WriteCSV (those of the first report, which
// the others share: one evaluation's options).
func (c *Comparison) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if len(c.Patches) > 0 {
		cw.Write(append([]string{"patch"}, c.Patches[0].csvHeader()...))
	}
	for _, pr := range c.Patches {
		pr.writeRows(cw, pr.Patch)
	}
	cw.Flush()
	return cw.Error()
}
