package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/defense"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "defenses",
		summary: "compare defenses: clean accuracy, robust accuracy under adaptive AutoAttack, and targeted patch success",
		run:     runDefenses,
	})
}

const defensesUsage = "[--model M] [--images DIR | --labels-csv FILE] [--defense NAME[:k=v,…]]... [--eps E] [--steps S] [--queries Q] [--area A] [--target LABEL] [--patch-steps S] [--patch-size PX] [--placements P] [--limit N] [--batch B] [--seed N] [--json | --csv]"

// defensesReport is the comparison: one row for the bare model, one per defense.
type defensesReport struct {
	Images int `json:"images"`
	// Eps is AutoAttack's L∞ bound; Area the patch's share of the image.
	Eps    jsonFloat     `json:"eps"`
	Area   jsonFloat     `json:"area"`
	Target string        `json:"target"`
	Rows   []defensesRow `json:"rows"`
}

// defensesRow is one model's figures.
type defensesRow struct {
	Model string `json:"model"`
	// Defense is the --defense spec ("" for the bare model).
	Defense        string    `json:"defense"`
	CleanAccuracy  jsonFloat `json:"clean_accuracy"`
	RobustAccuracy jsonFloat `json:"robust_accuracy"`
	// PatchSuccess is the share of placements, on images not of the
	// target class, that the patch trained against this model turns into
	// the target.
	PatchSuccess jsonFloat `json:"patch_success"`
	// CertifiedAccuracy, for PatchCleanser, is the share of the labelled
	// images certified correct against any patch of up to CertifiedSide
	// pixels a side.
	CertifiedAccuracy *jsonFloat `json:"certified_accuracy,omitempty"`
	CertifiedSide     int        `json:"certified_side,omitempty"`
	Warnings          []string   `json:"warnings,omitempty"`
}

func runDefenses(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "defenses", defensesUsage)
	model := fs.String("model", "", "ONNX model (default: the embedded demo model)")
	var images imageSetFlags
	images.register(fs, "image folder laid out as DIR/<class>/<image> (default: the embedded demo images)")
	var specs specFlag
	fs.Var(&specs, "defense", defenseHelp()+"; repeat for more rows")
	eps := fs.Float64("eps", 8.0/255, "AutoAttack's L∞ bound, in [0,1] pixels")
	steps := fs.Int("steps", 20, "iterations of each APGD run")
	queries := fs.Int("queries", 200, "Square Attack's queries per image")
	area := fs.Float64("area", 0.1, "the patch's share of the image's area, in (0,1]")
	target := fs.String("target", "", "the patch's target class (default: the model's first)")
	patchSteps := fs.Int("patch-steps", 100, "patch training steps against each model")
	patchSize := fs.Int("patch-size", 32, "the patch's side in pixels (its resolution)")
	placements := fs.Int("placements", 2, "random placements of the patch per image when evaluating it")
	limit := fs.Int("limit", 64, "use at most N images, spread over the classes (0: all)")
	batch := fs.Int("batch", 32, "images per batch")
	seed := fs.Uint64("seed", 0, "seed of the attacks and the patch")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	asCSV := fs.Bool("csv", false, "print CSV instead of the table")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *asJSON && *asCSV:
		return usagef("--json and --csv exclude each other: give one")
	case !(*area > 0 && *area <= 1):
		return usagef("--area %v must be in (0,1]", *area)
	case *placements <= 0 || *batch <= 0 || *limit < 0:
		return usagef("--placements %d and --batch %d must be positive, --limit %d at least 0", *placements, *batch, *limit)
	}
	for _, spec := range specs {
		if _, err := defense.Parse(spec); err != nil {
			return usagef("--defense: %v", err)
		}
	}
	aa, err := attack.NewAutoAttack(&attack.AutoAttackOptions{Eps: *eps, Norm: attack.LInf, Steps: *steps,
		TargetClasses: 9, Queries: *queries, Seed: *seed})
	if err != nil {
		return usagef("--eps, --steps or --queries: %v", err)
	}
	po := patch.DefaultOptions()
	po.Width, po.Height, po.Steps, po.Seed = *patchSize, *patchSize, *patchSteps, *seed
	po.Transforms.ScaleMode, po.Transforms.ScaleMin, po.Transforms.ScaleMax = imgops.AreaFraction, *area, *area
	if err := checkOutputs(fsutil.Outputs{Inputs: append([]fsutil.Path{{Flag: "--model", Path: *model}}, images.inputs()...)}); err != nil {
		return err
	}
	ds, err := defensesImages(ctx, env, images, *limit)
	if err != nil {
		return err
	}
	m, err := openAttackModel(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	po.Target = *target
	if po.Target == "" {
		po.Target = m.Labels()[0]
	}
	if _, err := engine.ClassIndex(m.Labels(), po.Target); err != nil {
		return usagef("--target for %s: %v", m.Name(), err)
	}
	if err := po.Validate(); err != nil {
		return patchError(err)
	}
	eo := patch.EvalOptions{Target: po.Target, Scales: []float64{*area}, Placements: *placements, Seed: *seed + 1,
		Transforms: imgops.Options{MaxAngleDeg: po.Transforms.MaxAngleDeg, ScaleMode: imgops.AreaFraction, ScaleMin: *area, ScaleMax: *area}}
	rep := defensesReport{Images: ds.Len(), Eps: jsonFloat(*eps), Area: jsonFloat(*area), Target: po.Target}
	for _, spec := range append([]string{""}, specs...) {
		c, err := defended(ctx, env, spec, m, ds)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "defenses: %s\n", c.Name())
		row, err := defensesRowOf(ctx, env, c, ds, aa, po, eo, *batch)
		if err != nil {
			return err
		}
		row.Defense = spec
		rep.Rows = append(rep.Rows, row)
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case *asCSV:
		return writeDefensesCSV(env.Stdout, rep)
	}
	return printDefenses(env.Stdout, rep)
}

// specFlag is a flag that may be repeated; unlike listFlag it keeps commas,
// which separate a defense's parameters.
type specFlag []string

func (l *specFlag) String() string { return fmt.Sprint([]string(*l)) }

func (l *specFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// defensesImages reads --images, or the embedded demo images, keeping limit.
func defensesImages(ctx context.Context, env *Env, set imageSetFlags, limit int) (*engine.Dataset, error) {
	if set.given() {
		return loadImageSet(ctx, env, set, limit)
	}
	ds, err := engine.DefaultSamples()
	if err != nil {
		return nil, err
	}
	return ds.Subset(limit), nil
}

// defensesRowOf measures one model: AutoAttack against it, then a patch
// trained against it and evaluated on it.
func defensesRowOf(ctx context.Context, env *Env, c engine.Classifier, ds *engine.Dataset, aa attack.Attack,
	po patch.Options, eo patch.EvalOptions, batch int) (defensesRow, error) {
	row := defensesRow{Model: c.Name()}
	models, err := prepareModels(env, []engine.Classifier{c}, ds)
	if err != nil {
		return row, err
	}
	r, err := eval.Attack(ctx, aa, models, 0, -1, &eval.Options{Batch: batch})
	if err != nil {
		return row, fmt.Errorf("autoattack on %s: %w", c.Name(), err)
	}
	row.CleanAccuracy, row.RobustAccuracy = jsonFloat(r.Models[0].CleanAccuracy), jsonFloat(r.Models[0].AdversarialAccuracy)
	row.Warnings = r.Warnings
	res, err := patch.Train(ctx, []engine.Classifier{c}, ds, po, nil)
	if err != nil {
		return row, patchError(err)
	}
	ev, err := patch.Evaluate(ctx, []engine.Classifier{c}, ds, res.Patch, eo, nil)
	if err != nil {
		return row, patchError(err)
	}
	row.PatchSuccess = jsonFloat(ev.Curves[0].Points[0].SuccessRate)
	if pc, ok := c.(*defense.Cleanser); ok {
		acc, err := certifiedAccuracy(ctx, pc, models[0])
		if err != nil {
			return row, err
		}
		row.CertifiedAccuracy, row.CertifiedSide = &acc, pc.PatchSide()
	}
	return row, nil
}

// certifiedAccuracy is the share of m's labelled images that c certifies
// (NaN when none is labelled).
func certifiedAccuracy(ctx context.Context, c *defense.Cleanser, m eval.Model) (jsonFloat, error) {
	size := c.InputShape().Size()
	var x []float32
	var labels []int
	for i, l := range m.Labels {
		if l >= 0 {
			x, labels = append(x, m.Images[i*size:(i+1)*size]...), append(labels, l)
		}
	}
	if len(labels) == 0 {
		return jsonFloat(math.NaN()), nil
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
	return jsonFloat(float64(n) / float64(len(ok))), nil
}

// defensesColumns are the table's and the CSV's columns.
var defensesColumns = []string{"model", "defense", "clean_accuracy", "robust_accuracy", "patch_success", "certified_accuracy"}

// cells are the row's columns; a row without a certificate has an empty last one.
func (r defensesRow) cells(format func(float64) string) []string {
	d := r.Defense
	if d == "" {
		d = "none"
	}
	cert := ""
	if r.CertifiedAccuracy != nil {
		cert = format(float64(*r.CertifiedAccuracy))
	}
	return []string{r.Model, d, format(float64(r.CleanAccuracy)), format(float64(r.RobustAccuracy)), format(float64(r.PatchSuccess)), cert}
}

// printDefenses writes the table.
func printDefenses(w io.Writer, r defensesReport) error {
	fmt.Fprintf(w, "%d images; robust accuracy under adaptive AutoAttack L∞ %.4g; patch of %.3g of the area targeting %q\n",
		r.Images, float64(r.Eps), float64(r.Area), r.Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tDEFENSE\tCLEAN\tROBUST\tPATCH SUCCESS\tCERTIFIED (PATCH)")
	for _, row := range r.Rows {
		c := row.cells(pct)
		if row.CertifiedAccuracy != nil {
			c[5] = fmt.Sprintf("%s (%dpx)", c[5], row.CertifiedSide)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c[0], c[1], c[2], c[3], c[4], c[5])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, row := range r.Rows {
		for _, warn := range row.Warnings {
			fmt.Fprintf(w, "warning (%s): %s\n", row.Model, warn)
		}
	}
	return nil
}

// writeDefensesCSV writes one line per row, rates in [0,1] (empty when not measured).
func writeDefensesCSV(w io.Writer, r defensesReport) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(defensesColumns); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(row.cells(func(v float64) string {
			if math.IsNaN(v) {
				return ""
			}
			return strconv.FormatFloat(v, 'g', 6, 64)
		})); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
