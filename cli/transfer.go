package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/eval"
)

func init() {
	register(&command{
		name:    "transfer",
		summary: "craft adversarial examples on each model and measure how they fool every other model",
		run:     runTransfer,
	})
}

const transferUsage = "--models A,B,C... --method M --images DIR [attack options] [--defense NAME[:k=v,…]]... [--non-adaptive] [--batch B] [--limit N] [--json]"

// transferTable is a cross-model matrix in the form of Szegedy et al.'s
// Table 2: rows are the models the examples were crafted on (or a noise
// baseline), columns the models evaluated, cells their error rates.
type transferTable struct {
	Method     string        `json:"method"`
	Attack     string        `json:"attack"`
	Images     int           `json:"images"`
	Models     []string      `json:"models"`
	CleanError []jsonFloat   `json:"clean_error"`
	Rows       []transferRow `json:"rows"`
	Notes      []string      `json:"notes,omitempty"`
}

// transferRow is one source's adversarial set evaluated on every model.
type transferRow struct {
	Source string `json:"source"`
	// Errors[j] is model j's error rate (prediction ≠ true label) on the
	// set as crafted; RoundedErrors[j] after the 8-bit round trip (the same
	// where model j's input size differs: it sees a resized 8-bit image).
	Errors        []jsonFloat `json:"errors"`
	RoundedErrors []jsonFloat `json:"rounded_errors"`
	// AttackSuccessRate is the source's own success on the images it attacked.
	AttackSuccessRate jsonFloat `json:"attack_success_rate"`
	// L2Mean and LinfMean average the successful perturbations.
	L2Mean   jsonFloat `json:"l2_mean"`
	LinfMean jsonFloat `json:"linf_mean"`
	// RMSMean is Szegedy's distortion, sqrt(Σr²/n) with n pixels, averaged.
	RMSMean jsonFloat `json:"rms_mean"`
	Seconds jsonFloat `json:"seconds"`
	// rms holds the successful examples' distortions, for intervals.
	rms []float64
}

func runTransfer(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "transfer", transferUsage)
	var af attackFlags
	af.register(fs, true) // transfer needs confident examples: see engine.PGDOptions.AllSteps
	var specs listFlag
	fs.Var(&specs, "models", "ONNX models, comma-separated or repeated (at least 2)")
	images := fs.String("images", "", "image folder laid out as DIR/<class>/<image>")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	batch := fs.Int("batch", 32, "images per batch")
	limit := fs.Int("limit", 0, "use at most N images, spread over the classes (0: all)")
	var df defenseFlags
	df.register(fs, true, "each model joins the matrix also defended by it, as a row (crafted adaptively, through the defense's gradient) and a column",
		"craft on the bare models only: the defended ones are columns, not rows")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if len(specs) < 2 && !(len(specs) == 1 && df.given()) {
		return usagef("--models needs at least two models, comma-separated (or one and a --defense)")
	}
	if err := df.check(); err != nil {
		return err
	}
	if err := af.check(fs); err != nil {
		return err
	}
	atk, err := af.build()
	if err != nil {
		return err
	}
	if *batch <= 0 {
		return usagef("--batch %d must be positive", *batch)
	}
	ds, err := loadImageSet(ctx, env, imageSetFlags{dir: *images}, *limit)
	if err != nil {
		return err
	}
	var models []attackModel
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	for _, s := range specs {
		m, err := openAttackModel(s)
		if err != nil {
			return err
		}
		models = append(models, m)
	}
	bare := make([]engine.Classifier, len(models))
	for i, m := range models {
		bare[i] = m
	}
	cs, isBare, err := df.withDefended(bare)
	if err != nil {
		return err
	}
	var targets []int
	var sources []int
	for i, m := range cs {
		if isBare[i] || !df.nonAdaptive {
			sources = append(sources, i)
		}
		t, err := af.targetIndex(m)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	set, err := prepareModels(env, cs, ds)
	if err != nil {
		return err
	}
	if err := calibrateAll(ctx, env, cs, ds); err != nil {
		return err
	}
	tab, err := transferMatrixFrom(ctx, env, set, func(int) attack.Attack { return atk }, sources, targets, *batch)
	if err != nil {
		return err
	}
	tab.Method, tab.Attack = af.method, af.describe()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tab)
	}
	fmt.Fprintf(env.Stdout, "%s on %d images from %s\n", tab.Attack, tab.Images, *images)
	fmt.Fprintf(env.Stdout, "Cells: error rate of the column model on the adversarial images crafted on the row model.\n\n")
	printTransferTable(env.Stdout, tab)
	for _, n := range tab.Notes {
		fmt.Fprintf(env.Stdout, "\nNote: %s\n", n)
	}
	return nil
}

// transferMatrix crafts adversarial images on each model with
// attackFor(source index) and formats eval's matrix.
func transferMatrix(ctx context.Context, env *Env, models []eval.Model, attackFor func(int) attack.Attack, targets []int, batch int) (*transferTable, error) {
	return transferMatrixFrom(ctx, env, models, attackFor, nil, targets, batch)
}

// transferMatrixFrom is transferMatrix crafting on the models of sources
// alone (nil: all).
func transferMatrixFrom(ctx context.Context, env *Env, models []eval.Model, attackFor func(int) attack.Attack, sources, targets []int, batch int) (*transferTable, error) {
	var stop func()
	progress := func(src int, p attack.Progress) {}
	if env.Interactive {
		var print func(attack.Progress)
		last := -1
		progress = func(src int, p attack.Progress) {
			if src != last {
				if stop != nil {
					stop()
				}
				print, stop = progressPrinter(env, p.Attack+" on "+models[src].Classifier.Name())
				last = src
			}
			print(p)
		}
	}
	m, err := eval.TransferFrom(ctx, attackFor, models, sources, targets, &eval.Options{Batch: batch, Progress: progress})
	if stop != nil {
		stop()
	}
	if err != nil {
		return nil, err
	}
	tab := &transferTable{Images: len(models[0].Labels), Models: m.Models}
	for _, e := range m.CleanError {
		tab.CleanError = append(tab.CleanError, jsonFloat(e))
	}
	for _, rep := range m.Rows {
		row := tab.row(rep)
		row.AttackSuccessRate = jsonFloat(rep.AttackSuccessRate)
		row.L2Mean, row.LinfMean = jsonFloat(rep.Successful.L2Mean), jsonFloat(rep.Successful.LinfMean)
		row.RMSMean, row.rms = jsonFloat(rep.Successful.RMSMean), rep.Successful.RMS
		row.Seconds = jsonFloat(rep.Seconds)
		tab.Rows = append(tab.Rows, row)
	}
	return tab, nil
}

// row formats the error rates of one source's images on every model, and
// notes the models that saw them resized.
func (tab *transferTable) row(rep *eval.Report) transferRow {
	row := transferRow{Source: rep.Models[rep.Source].Model}
	for _, s := range rep.Models {
		row.Errors = append(row.Errors, jsonFloat(1-s.AdversarialAccuracy))
		row.RoundedErrors = append(row.RoundedErrors, jsonFloat(1-s.RoundedAccuracy))
		if s.Resized {
			note := fmt.Sprintf("images crafted at %dx%dx%d on %s were quantised to 8 bits and resized for %s", rep.Shape.Channels, rep.Shape.Height, rep.Shape.Width, row.Source, s.Model)
			if !contains(tab.Notes, note) {
				tab.Notes = append(tab.Notes, note)
			}
		}
	}
	return row
}

// printTransferTable writes the matrix as a Markdown table.
func printTransferTable(w io.Writer, t *transferTable) {
	head := append([]string{"crafted on \\ evaluated on"}, t.Models...)
	head = append(head, "attack success", "av. L2", "av. distortion (RMS)", "time")
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	clean := []string{"clean error"}
	for _, e := range t.CleanError {
		clean = append(clean, pct(float64(e)))
	}
	clean = append(clean, "", "", "", "")
	fmt.Fprintf(w, "| %s |\n", strings.Join(clean, " | "))
	for _, r := range t.Rows {
		cells := []string{r.Source}
		for _, e := range r.Errors {
			cells = append(cells, pct(float64(e)))
		}
		cells = append(cells, pct(float64(r.AttackSuccessRate)), fmt.Sprintf("%.3f", float64(r.L2Mean)),
			fmt.Sprintf("%.3f", float64(r.RMSMean)), time.Duration(float64(r.Seconds)*float64(time.Second)).Round(time.Millisecond).String())
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "\nAfter the 8-bit round trip of a saved image:\n\n| %s |\n|%s\n", strings.Join(append([]string{"crafted on \\ evaluated on"}, t.Models...), " | "), strings.Repeat(" --- |", len(t.Models)+1))
	for _, r := range t.Rows {
		cells := []string{r.Source}
		for _, e := range r.RoundedErrors {
			cells = append(cells, pct(float64(e)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
