package eval

import (
	"context"
	"fmt"
	"math"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

// DefenseCase is one row of a defense comparison: a model, bare or already
// wrapped in a defense, and the defense's spec ("" for the bare model).
type DefenseCase struct {
	Model   engine.Classifier
	Defense string
}

// DefenseOptions say how each row is measured: robust accuracy under an
// adaptive attack, and the success of a targeted and an untargeted patch
// trained against the row's model at one area.
type DefenseOptions struct {
	// Eps, Steps and Queries drive AutoAttack L∞ (APGD-CE, APGD-DLR,
	// targeted APGD-DLR, Square).
	Eps     float64
	Steps   int
	Queries int
	// Area is the patch's share of the image's area, in (0,1].
	Area float64
	// Target is the targeted patch's class ("": the model's first label).
	Target string
	// PatchSteps and PatchSize are the patch's training steps and side in
	// pixels; Placements the random placements per image when evaluating.
	PatchSteps, PatchSize, Placements int
	// Batch is the number of images per attack batch.
	Batch int
	// Seed fixes the attacks, the patches and their placements.
	Seed uint64
}

// DefaultDefenseOptions are the comparison's defaults, which every front-end
// offers.
func DefaultDefenseOptions() DefenseOptions {
	return DefenseOptions{Eps: 8.0 / 255, Steps: 20, Queries: 200, Area: 0.1, PatchSteps: 100, PatchSize: 32,
		Placements: 2, Batch: 32}
}

// DefenseRow is one model's figures.
type DefenseRow struct {
	// Model is the case's model's name ("signs-resnet+jpeg75").
	Model string
	// Defense is the case's spec ("" for the bare model).
	Defense string
	// CleanAccuracy and RobustAccuracy are the shares of the labelled
	// images classified right, clean and under adaptive AutoAttack.
	CleanAccuracy, RobustAccuracy float64
	// PatchSuccess is the share of placements, on images not of the target
	// class, that the targeted patch trained against this model turns into
	// the target (Target names it in this model's labels).
	PatchSuccess float64
	Target       string
	// UntargetedPatchSuccess is the share of placements that an untargeted
	// patch trained against this model makes it misclassify.
	UntargetedPatchSuccess float64
	// CertifiedAccuracy, for a Certifier (PatchCleanser), is the share of
	// the labelled images certified correct against any patch of up to
	// CertifiedSide pixels a side; NaN otherwise.
	CertifiedAccuracy float64
	CertifiedSide     int
	Warnings          []string
}

// Certifier is a defense that certifies images against any patch up to a
// side (defense.Cleanser).
type Certifier interface {
	engine.Classifier
	// Certify reports, per image, whether it is certified as its label.
	Certify(ctx context.Context, images []float32, labels []int) ([]bool, error)
	// PatchSide is the largest patch side certified against, in pixels.
	PatchSide() int
}

// DefenseProgress says where a comparison is.
type DefenseProgress struct {
	// Row of Rows is the case being measured; Model its name.
	Row, Rows int
	Model     string
	// Stage is "autoattack", "targeted patch", "untargeted patch" or
	// "certifying".
	Stage string
	// Fraction is the estimated completion of the whole run, in [0,1].
	Fraction float64
}

// defenseStages is the number of progress stages per row.
const defenseStages = 4

// patchOptions are the training options of the row's patches.
func (o DefenseOptions) patchOptions(target string) patch.Options {
	po := patch.DefaultOptions()
	po.Width, po.Height, po.Steps, po.Seed, po.Target = o.PatchSize, o.PatchSize, o.PatchSteps, o.Seed, target
	po.Transforms.ScaleMode, po.Transforms.ScaleMin, po.Transforms.ScaleMax = imgops.AreaFraction, o.Area, o.Area
	return po
}

// Validate checks the options alone, before any model is loaded; the patch
// is checked against each model's input by CheckDefenseCase.
func (o DefenseOptions) Validate() error {
	_, err := o.autoAttack()
	return err
}

// autoAttack checks the options and builds the table's AutoAttack.
func (o DefenseOptions) autoAttack() (attack.Attack, error) {
	if !(o.Area > 0 && o.Area <= 1) {
		return nil, fmt.Errorf("area %v must be in (0,1]", o.Area)
	}
	if o.Placements <= 0 || o.Batch <= 0 {
		return nil, fmt.Errorf("placements %d and batch %d must be positive", o.Placements, o.Batch)
	}
	aa, err := attack.NewAutoAttack(&attack.AutoAttackOptions{Eps: o.Eps, Norm: attack.LInf, Steps: o.Steps,
		TargetClasses: 9, Queries: o.Queries, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	po := o.patchOptions("x")
	if err := po.Validate(); err != nil {
		return nil, err
	}
	return aa, nil
}

// CheckDefenseCase checks that the patch fits c's input and that the target
// is one of c's classes, before anything runs; it returns the target's
// label. Its errors wrap patch.ErrInvalidOptions.
func (o DefenseOptions) CheckDefenseCase(c engine.Classifier) (string, error) {
	target := o.Target
	if target == "" {
		target = c.Labels()[0]
	}
	i, err := engine.ClassIndex(c.Labels(), target)
	if err != nil {
		return "", fmt.Errorf("%w: target for %s: %v", patch.ErrInvalidOptions, c.Name(), err)
	}
	if s := c.InputShape(); o.PatchSize > s.Width || o.PatchSize > s.Height {
		return "", fmt.Errorf("%w: patch size %d px is larger than %s's %dx%d input; give a smaller patch size",
			patch.ErrInvalidOptions, o.PatchSize, c.Name(), s.Width, s.Height)
	}
	return c.Labels()[i], nil
}

// DefenseTable measures every case on ds: clean and robust accuracy under
// adaptive AutoAttack (through each defense's gradient), a targeted and an
// untargeted patch trained against the case's model and evaluated on it,
// and a Certifier's certified accuracy. progress, when not nil, is called
// from this goroutine and must not block. A cancelled run returns the rows
// finished with the context's error.
func DefenseTable(ctx context.Context, cases []DefenseCase, ds *engine.Dataset, o DefenseOptions, progress func(DefenseProgress)) ([]DefenseRow, error) {
	aa, err := o.autoAttack()
	if err != nil {
		return nil, err
	}
	for _, c := range cases {
		if _, err := o.CheckDefenseCase(c.Model); err != nil {
			return nil, err
		}
	}
	if progress == nil {
		progress = func(DefenseProgress) {}
	}
	var rows []DefenseRow
	for i, c := range cases {
		report := func(stage int, name string, within float64) {
			progress(DefenseProgress{Row: i, Rows: len(cases), Model: c.Model.Name(), Stage: name,
				Fraction: (float64(i) + (float64(stage)+within)/defenseStages) / float64(len(cases))})
		}
		row, err := defenseRow(ctx, c, ds, aa, o, report)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// defenseRow measures one case.
func defenseRow(ctx context.Context, dc DefenseCase, ds *engine.Dataset, aa attack.Attack, o DefenseOptions,
	report func(stage int, name string, within float64)) (DefenseRow, error) {
	c := dc.Model
	target, err := o.CheckDefenseCase(c)
	if err != nil {
		return DefenseRow{}, err
	}
	row := DefenseRow{Model: c.Name(), Defense: dc.Defense, Target: target, CertifiedAccuracy: math.NaN()}
	models, err := Prepare([]engine.Classifier{c}, ds)
	if err != nil {
		return row, err
	}
	report(0, "autoattack", 0)
	r, err := Attack(ctx, aa, models, 0, -1, &Options{Batch: o.Batch,
		Progress: func(_ int, p attack.Progress) { report(0, "autoattack", p.Fraction) }})
	if err != nil {
		return row, fmt.Errorf("autoattack on %s: %w", c.Name(), err)
	}
	row.CleanAccuracy, row.RobustAccuracy = r.Models[0].CleanAccuracy, r.Models[0].AdversarialAccuracy
	row.Warnings = r.Warnings
	for k, goal := range []string{target, ""} {
		name := map[bool]string{true: "targeted patch", false: "untargeted patch"}[goal != ""]
		rate, err := patchSuccess(ctx, c, ds, o, goal, func(f float64) { report(1+k, name, f) })
		if err != nil {
			return row, err
		}
		if goal != "" {
			row.PatchSuccess = rate
		} else {
			row.UntargetedPatchSuccess = rate
		}
	}
	if pc, ok := c.(Certifier); ok {
		report(3, "certifying", 0)
		if row.CertifiedAccuracy, err = certifiedAccuracy(ctx, pc, models[0]); err != nil {
			return row, err
		}
		row.CertifiedSide = pc.PatchSide()
	}
	report(defenseStages, "done", 0)
	return row, nil
}

// patchSuccess trains a patch for goal ("" untargeted) against c and
// returns its success at the options' area: the targeted success rate, or
// the untargeted error.
func patchSuccess(ctx context.Context, c engine.Classifier, ds *engine.Dataset, o DefenseOptions, goal string, frac func(float64)) (float64, error) {
	po := o.patchOptions(goal)
	res, err := patch.Train(ctx, []engine.Classifier{c}, ds, po, func(p patch.Progress) {
		frac(float64(p.Step) / float64(max(p.Steps, 1)))
	})
	if err != nil {
		return 0, fmt.Errorf("training a patch against %s: %w", c.Name(), err)
	}
	eo := patch.EvalOptions{Target: goal, Scales: []float64{o.Area}, Placements: o.Placements, Seed: o.Seed + 1,
		Transforms: imgops.Options{MaxAngleDeg: po.Transforms.MaxAngleDeg, ScaleMode: imgops.AreaFraction, ScaleMin: o.Area, ScaleMax: o.Area}}
	ev, err := patch.Evaluate(ctx, []engine.Classifier{c}, ds, res.Patch, eo, nil)
	if err != nil {
		return 0, fmt.Errorf("evaluating the patch on %s: %w", c.Name(), err)
	}
	p := ev.Curves[0].Points[0]
	if goal == "" {
		return p.Error, nil
	}
	return p.SuccessRate, nil
}

// certifiedAccuracy is the share of m's labelled images that c certifies
// (NaN when none is labelled).
func certifiedAccuracy(ctx context.Context, c Certifier, m Model) (float64, error) {
	size := c.InputShape().Size()
	var x []float32
	var labels []int
	for i, l := range m.Labels {
		if l >= 0 {
			x, labels = append(x, m.Images[i*size:(i+1)*size]...), append(labels, l)
		}
	}
	if len(labels) == 0 {
		return math.NaN(), nil
	}
	ok, err := c.Certify(ctx, x, labels)
	if err != nil {
		return 0, fmt.Errorf("certifying %s: %w", c.Name(), err)
	}
	n := 0
	for _, b := range ok {
		if b {
			n++
		}
	}
	return Rate(n, len(ok)), nil
}
