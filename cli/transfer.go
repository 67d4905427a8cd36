package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/imgops"
)

func init() {
	register(&command{
		name:    "transfer",
		summary: "craft adversarial examples on each model and measure how they fool every other model",
		run:     runTransfer,
	})
}

const transferUsage = "--models A,B,C... --method M --images DIR [attack options] [--batch B] [--limit N] [--json]"

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
	// Errors[j] is model j's error rate (prediction ≠ true label) on the set.
	Errors []jsonFloat `json:"errors"`
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
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if len(specs) < 2 {
		return usagef("--models needs at least two models, comma-separated")
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
	ds, err := loadImageSet(env, *images, *limit)
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
	runs := make([]*attackRun, len(models))
	for i, m := range models {
		if runs[i], err = prepareAttack(env, m, ds, &af); err != nil {
			return err
		}
	}
	tab, err := transferMatrix(ctx, env, runs, func(int) attack.Attack { return atk }, *batch)
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

// transferMatrix crafts adversarial images on each run's model with
// attackFor(source index) and evaluates every set on every model.
func transferMatrix(ctx context.Context, env *Env, runs []*attackRun, attackFor func(int) attack.Attack, batch int) (*transferTable, error) {
	tab := &transferTable{Images: len(runs[0].items)}
	for j, r := range runs {
		tab.Models = append(tab.Models, r.model.Name())
		preds, err := classify(ctx, r.model, r.x, len(r.items), batch)
		if err != nil {
			return nil, err
		}
		tab.CleanError = append(tab.CleanError, jsonFloat(errorRate(preds, runs[j].labels)))
	}
	for i, src := range runs {
		a := attackFor(i)
		progress, stop := progressPrinter(env, a.Name()+" on "+src.model.Name())
		err := src.attack(ctx, a, batch, progress)
		stop()
		if err != nil {
			return nil, err
		}
		row, err := crossErrors(ctx, runs, src.res.Adversarial, src.model.InputShape(), batch, tab)
		if err != nil {
			return nil, err
		}
		row.Source = src.model.Name()
		row.Seconds = jsonFloat(src.seconds)
		var ok, attacked int
		var l2, linf, rms []float64
		n := float64(src.model.InputShape().Size())
		for _, s := range src.res.Samples {
			if s.Skipped {
				continue
			}
			attacked++
			if s.Success {
				ok++
				l2, linf, rms = append(l2, s.L2), append(linf, s.Linf), append(rms, s.L2/math.Sqrt(n))
			}
		}
		row.AttackSuccessRate = jsonFloat(rate(ok, attacked))
		m, _ := meanMedian(l2)
		row.L2Mean = jsonFloat(m)
		m, _ = meanMedian(linf)
		row.LinfMean = jsonFloat(m)
		m, _ = meanMedian(rms)
		row.RMSMean = jsonFloat(m)
		row.rms = rms
		tab.Rows = append(tab.Rows, row)
	}
	return tab, nil
}

// crossErrors evaluates images x (of shape src) on every run's model. Images
// go to a model of another input size through an 8-bit image and a resize,
// which the table's notes say.
func crossErrors(ctx context.Context, runs []*attackRun, x []float32, src engine.ImageShape, batch int, tab *transferTable) (transferRow, error) {
	var row transferRow
	n := len(x) / src.Size()
	for _, r := range runs {
		xt := x
		if dst := r.model.InputShape(); dst != src {
			var err error
			if xt, err = reshapeImages(x, src, dst); err != nil {
				return row, err
			}
			note := fmt.Sprintf("images crafted at %dx%dx%d were quantised to 8 bits and resized to %dx%dx%d for %s", src.Channels, src.Height, src.Width, dst.Channels, dst.Height, dst.Width, r.model.Name())
			if !contains(tab.Notes, note) {
				tab.Notes = append(tab.Notes, note)
			}
		}
		preds, err := classify(ctx, r.model, xt, n, batch)
		if err != nil {
			return row, err
		}
		row.Errors = append(row.Errors, jsonFloat(errorRate(preds, r.labels[:n])))
	}
	return row, nil
}

// reshapeImages converts a batch from one image shape to another through
// imgops (8-bit images; luminance for one channel).
func reshapeImages(x []float32, src, dst engine.ImageShape) ([]float32, error) {
	n := len(x) / src.Size()
	out := make([]float32, 0, n*dst.Size())
	for i := 0; i < n; i++ {
		img, err := imgops.TensorToImage(x[i*src.Size():(i+1)*src.Size()], src.Channels, src.Height, src.Width)
		if err != nil {
			return nil, err
		}
		t, _ := imgops.ImageToTensor(img, dst.Channels, dst.Height, dst.Width)
		out = append(out, t...)
	}
	return out, nil
}

// errorRate is the fraction of predictions that differ from the labels.
func errorRate(preds, labels []int) float64 {
	wrong := 0
	for i, p := range preds {
		if p != labels[i] {
			wrong++
		}
	}
	return rate(wrong, len(preds))
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
}
