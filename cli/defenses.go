package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/internal/fsutil"
	"github.com/advlab/advlab/zoo"
)

func init() {
	register(&command{
		name:    "defenses",
		summary: "compare defenses: clean accuracy, robust accuracy under adaptive AutoAttack, targeted and untargeted patch success",
		run:     runDefenses,
	})
}

const defensesUsage = "[--model M]... [--zoo DIR] [--images DIR | --labels-csv FILE] [--defense NAME[:k=v,…]]... [--eps E] [--steps S] [--queries Q] [--area A] [--target LABEL] [--patch-steps S] [--patch-size PX] [--placements P] [--limit N] [--batch B] [--seed N] [--json | --csv] [--plot F.png]"

// robustZooModel is the zoo's adversarially trained signs model, compared
// beside the default one when no --model is given and the zoo has it.
const robustZooModel = "signs-resnet-robust"

// defensesReport is the comparison: per model, one row bare and one per defense.
type defensesReport struct {
	Images int `json:"images"`
	// Eps is AutoAttack's L∞ bound; Area the patches' share of the image.
	Eps    jsonFloat `json:"eps"`
	Area   jsonFloat `json:"area"`
	Target string    `json:"target"`
	// Rows are the engine's, as eval.DefenseTable measured them.
	Rows []defensesRow `json:"rows"`
}

// defensesRow is eval.DefenseRow with NaN written as null.
type defensesRow struct {
	Model                  string     `json:"model"`
	Defense                string     `json:"defense"`
	CleanAccuracy          jsonFloat  `json:"clean_accuracy"`
	RobustAccuracy         jsonFloat  `json:"robust_accuracy"`
	Target                 string     `json:"target"`
	PatchSuccess           jsonFloat  `json:"patch_success"`
	UntargetedPatchSuccess jsonFloat  `json:"untargeted_patch_success"`
	CertifiedAccuracy      *jsonFloat `json:"certified_accuracy,omitempty"`
	CertifiedSide          int        `json:"certified_side,omitempty"`
	Warnings               []string   `json:"warnings,omitempty"`
}

func rowOf(r eval.DefenseRow) defensesRow {
	row := defensesRow{Model: r.Model, Defense: r.Defense, CleanAccuracy: jsonFloat(r.CleanAccuracy),
		RobustAccuracy: jsonFloat(r.RobustAccuracy), Target: r.Target, PatchSuccess: jsonFloat(r.PatchSuccess),
		UntargetedPatchSuccess: jsonFloat(r.UntargetedPatchSuccess), Warnings: r.Warnings}
	if !math.IsNaN(r.CertifiedAccuracy) {
		c := jsonFloat(r.CertifiedAccuracy)
		row.CertifiedAccuracy, row.CertifiedSide = &c, r.CertifiedSide
	}
	return row
}

func runDefenses(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "defenses", defensesUsage)
	d := eval.DefaultDefenseOptions()
	var models listFlag
	fs.Var(&models, "model", "ONNX model; repeat for rows per model (default: the embedded demo model and, where --zoo has it, "+robustZooModel+")")
	zooDir := fs.String("zoo", "zoo", "the zoo folder where "+robustZooModel+" is looked for when no --model is given")
	var images imageSetFlags
	images.register(fs, "image folder laid out as DIR/<class>/<image> (default: the embedded demo images)")
	var df defenseFlags
	df.register(fs, true, "one row per model and defense", "")
	pf := paramFlags{fs, eval.DefenseParams()}
	pf.Float64Var(&d.Eps, "eps")
	pf.IntVar(&d.Steps, "steps")
	pf.IntVar(&d.Queries, "queries")
	pf.Float64Var(&d.Area, "area")
	pf.StringVar(&d.Target, "target", "")
	pf.IntVar(&d.PatchSteps, "patch-steps")
	pf.IntVar(&d.PatchSize, "patch-size")
	pf.IntVar(&d.Placements, "placements")
	limit := pf.Int("limit")
	pf.IntVar(&d.Batch, "batch")
	pf.Uint64Var(&d.Seed, "seed")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	asCSV := fs.Bool("csv", false, "print CSV instead of the table")
	plotPath := fs.String("plot", "", "also draw the rows' figures as grouped bars to F.png")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *asJSON && *asCSV:
		return usagef("--json and --csv exclude each other: give one")
	case *limit < 0:
		return usagef("--limit %d must be at least 0", *limit)
	case *plotPath != "" && !strings.HasSuffix(strings.ToLower(*plotPath), ".png"):
		return usagef("--plot %s: name the plot .png", *plotPath)
	}
	if err := d.Validate(); err != nil {
		return usagef("%v", err)
	}
	if err := df.check(); err != nil {
		return err
	}
	if len(models) == 0 {
		models = []string{""}
		if p, ok := zoo.ModelPath(*zooDir, robustZooModel); ok {
			models = append(models, p)
		}
	}
	ins := append(pathsOf("--model", models), images.inputs()...)
	if err := checkOutputs(fsutil.Outputs{Inputs: ins, Files: []fsutil.Path{{Flag: "--plot", Path: *plotPath}}}); err != nil {
		return err
	}
	ds, err := defensesImages(ctx, env, images, *limit)
	if err != nil {
		return err
	}
	bare, closeModels, err := openPatchModels(models)
	if err != nil {
		return err
	}
	defer closeModels()
	cs, isBare, err := df.withDefended(bare)
	if err != nil {
		return err
	}
	var cases []eval.DefenseCase
	for i, c := range cs {
		if _, err := d.CheckDefenseCase(c); err != nil {
			return patchError(err)
		}
		dc := eval.DefenseCase{Model: c}
		if !isBare[i] {
			dc.Defense = df.raw[i%(len(df.raw)+1)-1]
		}
		cases = append(cases, dc)
	}
	if _, err := prepareModels(env, cs, ds); err != nil {
		return err
	}
	if err := calibrateAll(ctx, env, cs, ds); err != nil {
		return err
	}
	rows, err := eval.DefenseTable(ctx, cases, ds, d, defensesProgress(env))
	if err != nil {
		return patchError(err)
	}
	rep := defensesReport{Images: ds.Len(), Eps: jsonFloat(d.Eps), Area: jsonFloat(d.Area), Target: rows[0].Target}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, rowOf(r))
	}
	if *plotPath != "" {
		if err := writeDefensesPlot(*plotPath, rep); err != nil {
			return err
		}
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

// defensesProgress prints a line as each row and stage begins.
func defensesProgress(env *Env) func(eval.DefenseProgress) {
	last := ""
	return func(p eval.DefenseProgress) {
		if line := fmt.Sprintf("defenses: %d/%d %s: %s", p.Row+1, p.Rows, p.Model, p.Stage); line != last && p.Stage != "done" {
			last = line
			fmt.Fprintln(env.Stderr, line)
		}
	}
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

// defensesColumns are the table's and the CSV's columns.
var defensesColumns = []string{"model", "defense", "clean_accuracy", "robust_accuracy", "patch_success", "untargeted_patch_success", "certified_accuracy"}

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
	return []string{r.Model, d, format(float64(r.CleanAccuracy)), format(float64(r.RobustAccuracy)), format(float64(r.PatchSuccess)),
		format(float64(r.UntargetedPatchSuccess)), cert}
}

// printDefenses writes the table.
func printDefenses(w io.Writer, r defensesReport) error {
	fmt.Fprintf(w, "%d images; robust accuracy under adaptive AutoAttack L∞ %.4g; patches of %.3g of the area, targeted at %q and untargeted\n",
		r.Images, float64(r.Eps), float64(r.Area), r.Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tDEFENSE\tCLEAN\tROBUST\tPATCH SUCCESS\tUNTARGETED PATCH\tCERTIFIED (PATCH)")
	for _, row := range r.Rows {
		c := row.cells(pct)
		if row.CertifiedAccuracy != nil {
			c[6] = fmt.Sprintf("%s (%dpx)", c[6], row.CertifiedSide)
		}
		fmt.Fprintln(tw, strings.Join(c, "\t"))
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
