package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "attack",
		summary: "craft adversarial examples for a folder of images and report accuracy and distortion",
		run:     runAttack,
	})
}

const attackUsage = "--model M --method lbfgs|fgsm|pgd|cw|deepfool|square|apgd|autoattack (--images DIR | --labels-csv FILE) [--eps E] [--norm inf|2] [--steps S] [--step-size A] [--restarts R] [--all-steps] [--target LABEL] [--seed N] [--batch B] [--limit N] [--defense NAME[:k=v,…] [--non-adaptive]] [--out DIR] [--json]"

// attackReport is the JSON form of an attack's outcome.
type attackReport struct {
	Model               string         `json:"model"`
	Method              string         `json:"method"`
	Attack              string         `json:"attack"`
	Target              string         `json:"target,omitempty"`
	Images              int            `json:"images"`
	Attacked            int            `json:"attacked"`
	CleanAccuracy       jsonFloat      `json:"clean_accuracy"`
	AdversarialAccuracy jsonFloat      `json:"adversarial_accuracy"`
	TargetedSuccessRate *jsonFloat     `json:"targeted_success_rate,omitempty"`
	AttackSuccessRate   jsonFloat      `json:"attack_success_rate"`
	L2Mean              jsonFloat      `json:"l2_mean"`
	L2Median            jsonFloat      `json:"l2_median"`
	LinfMean            jsonFloat      `json:"linf_mean"`
	LinfMedian          jsonFloat      `json:"linf_median"`
	MeanQueries         jsonFloat      `json:"mean_queries"`
	Seconds             jsonFloat      `json:"seconds"`
	Quantized           quantReport    `json:"quantized"`
	Records             []attackRecord `json:"records"`
	// Warnings are the attack's caveats (AutoAttack's gradient-masking one).
	Warnings []string `json:"warnings,omitempty"`
	// Transferred is the defended model's outcome under --non-adaptive.
	Transferred *transferredReport `json:"transferred,omitempty"`
}

// transferredReport is how adversarials crafted on the bare model fare on
// the defended one.
type transferredReport struct {
	Model               string    `json:"model"`
	CleanAccuracy       jsonFloat `json:"clean_accuracy"`
	AdversarialAccuracy jsonFloat `json:"adversarial_accuracy"`
	AttackSuccessRate   jsonFloat `json:"attack_success_rate"`
}

// quantReport is the outcome after 8-bit quantisation of the adversarials.
type quantReport struct {
	Source              string    `json:"source"`
	AdversarialAccuracy jsonFloat `json:"adversarial_accuracy"`
	AttackSuccessRate   jsonFloat `json:"attack_success_rate"`
	// L2Mean and LinfMean average the perturbations of the adversarials
	// that still succeed after quantisation.
	L2Mean   jsonFloat `json:"l2_mean"`
	LinfMean jsonFloat `json:"linf_mean"`
}

// attackRecord is one image's outcome.
type attackRecord struct {
	File        string    `json:"file"`
	Label       string    `json:"label"`
	Clean       string    `json:"clean_prediction"`
	Adversarial string    `json:"adversarial_prediction"`
	Target      string    `json:"target,omitempty"`
	Success     bool      `json:"success"`
	Skipped     bool      `json:"skipped,omitempty"`
	L2          jsonFloat `json:"l2"`
	Linf        jsonFloat `json:"linf"`
	Queries     int       `json:"queries"`
	Quantized   string    `json:"quantized_prediction"`
	QuantOK     bool      `json:"quantized_success"`
}

func runAttack(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "attack", attackUsage)
	var af attackFlags
	af.register(fs, false)
	model := fs.String("model", "", "ONNX model (default: the embedded demo model)")
	var images imageSetFlags
	images.register(fs, "image folder laid out as DIR/<class>/<image>, or a folder of images without true labels")
	out := fs.String("out", "", "write adversarial images as 8-bit PNGs to DIR/<class>/<file>.png")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the summary")
	batch := fs.Int("batch", 32, "images per batch")
	limit := fs.Int("limit", 0, "attack at most N images, spread over the classes (0: all)")
	var df defenseFlags
	df.register(fs, false, "the attack is adaptive: it attacks the defended model through the defense's gradient",
		"attack the bare model and report how the adversarials transfer to the defended one")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
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
	if err := df.check(); err != nil {
		return err
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: append([]fsutil.Path{{Flag: "--model", Path: *model}}, images.inputs()...),
		Dirs: []fsutil.Path{{Flag: "--out", Path: *out}}}); err != nil {
		return err
	}
	ds, err := loadImageSet(ctx, env, images, *limit)
	if err != nil {
		return err
	}
	m, err := openAttackModel(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	target, err := af.targetIndex(m)
	if err != nil {
		return err
	}
	wrapped, err := df.wrap(m)
	if err != nil {
		return err
	}
	if err := calibrateAll(ctx, env, wrapped, ds); err != nil {
		return err
	}
	cs := append([]engine.Classifier{m}, wrapped...)
	if !df.nonAdaptive {
		cs = cs[len(cs)-1:]
	}
	models, err := prepareModels(env, cs, ds)
	if err != nil {
		return err
	}
	progress, stop := progressPrinter(env, atk.Name()+" on "+cs[0].Name())
	opts := &eval.Options{Batch: *batch, Progress: func(_ int, p attack.Progress) { progress(p) }}
	source := "in-memory 8-bit round trip"
	if *out != "" {
		source = "saved PNGs re-read from " + *out
		opts.Round = func(adv []float32, shape engine.ImageShape) ([]float32, error) {
			return writeAdversarial(*out, ds.Items[:len(adv)/shape.Size()], adv, shape)
		}
	}
	if progress == nil {
		opts.Progress = nil
	}
	rep, err := eval.Attack(ctx, atk, models, 0, target, opts)
	stop()
	if rep == nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "advlab attack: interrupted; reporting the %d images finished (%d not attacked)\n", len(rep.Images), ds.Len()-len(rep.Images))
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	report := attackReportOf(rep, cs[0].Labels(), ds.Items, af.method, af.describe(), source)
	report.Warnings = rep.Warnings
	if df.nonAdaptive {
		d := rep.Models[1]
		report.Transferred = &transferredReport{Model: d.Model, CleanAccuracy: jsonFloat(d.CleanAccuracy),
			AdversarialAccuracy: jsonFloat(d.AdversarialAccuracy), AttackSuccessRate: jsonFloat(d.SuccessRate)}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printAttackReport(env.Stdout, report, images.source())
		if t := report.Transferred; t != nil {
			fmt.Fprintf(env.Stdout, "  transferred to %s (non-adaptive): clean accuracy %s, adversarial accuracy %s, attack success rate %s\n",
				t.Model, pct(float64(t.CleanAccuracy)), pct(float64(t.AdversarialAccuracy)), pct(float64(t.AttackSuccessRate)))
		}
	}
	return err
}

// prepareModels lays the images out for every model, with a note for each
// model the images had to be resized for; a class folder a model lacks is a
// usage error.
func prepareModels(env *Env, cs []engine.Classifier, ds *engine.Dataset) ([]eval.Model, error) {
	models, err := eval.Prepare(cs, ds)
	if err != nil {
		return nil, usagef("--images for %v", err)
	}
	noteUnlabelled(env, cs, ds)
	for _, c := range cs {
		shape := c.InputShape()
		if _, resized := ds.Tensor(shape); resized > 0 {
			fmt.Fprintf(env.Stderr, "note: resized %d of %d images to %dx%d for %s\n", resized, ds.Len(), shape.Width, shape.Height, c.Name())
		}
	}
	return models, nil
}

// attackReportOf formats eval's report of an attack on one model.
func attackReportOf(r *eval.Report, labels []string, items []engine.DatasetItem, method, describe, source string) attackReport {
	s := r.Models[r.Source]
	rep := attackReport{Model: s.Model, Method: method, Attack: describe, Images: len(r.Images), Attacked: r.Attacked,
		CleanAccuracy: jsonFloat(s.CleanAccuracy), AdversarialAccuracy: jsonFloat(s.AdversarialAccuracy),
		AttackSuccessRate: jsonFloat(r.AttackSuccessRate),
		L2Mean:            jsonFloat(r.Successful.L2Mean), L2Median: jsonFloat(r.Successful.L2Median),
		LinfMean: jsonFloat(r.Successful.LinfMean), LinfMedian: jsonFloat(r.Successful.LinfMedian),
		MeanQueries: jsonFloat(r.MeanQueries), Seconds: jsonFloat(r.Seconds),
		Quantized: quantReport{Source: source, AdversarialAccuracy: jsonFloat(s.RoundedAccuracy), AttackSuccessRate: jsonFloat(r.RoundedSuccessRate),
			L2Mean: jsonFloat(r.RoundedSuccessful.L2Mean), LinfMean: jsonFloat(r.RoundedSuccessful.LinfMean)},
	}
	if r.Target >= 0 {
		t := jsonFloat(s.SuccessRate)
		rep.TargetedSuccessRate = &t
		rep.Target = labelName(labels, r.Target)
	}
	for i, im := range r.Images {
		o := im.On[r.Source]
		rec := attackRecord{
			File: items[i].Rel, Label: labelName(labels, o.Label), Clean: labelName(labels, o.Clean),
			Adversarial: labelName(labels, o.Adversarial), Success: im.Success, Skipped: im.Skipped,
			L2: jsonFloat(im.L2), Linf: jsonFloat(im.Linf), Queries: im.Attack.Queries,
			Quantized: labelName(labels, o.Rounded), QuantOK: o.FooledRounded,
		}
		if o.Target >= 0 {
			rec.Target = labelName(labels, o.Target)
		}
		rep.Records = append(rep.Records, rec)
	}
	return rep
}

func labelName(labels []string, i int) string {
	if i >= 0 && i < len(labels) {
		return labels[i]
	}
	return fmt.Sprint(i)
}

// printAttackReport writes the human summary.
func printAttackReport(w io.Writer, r attackReport, dir string) {
	fmt.Fprintf(w, "%s on %s, %d images from %s\n", r.Attack, r.Model, r.Images, dir)
	fmt.Fprintf(w, "  clean accuracy         %s\n", pct(float64(r.CleanAccuracy)))
	fmt.Fprintf(w, "  adversarial accuracy   %s\n", pct(float64(r.AdversarialAccuracy)))
	if r.TargetedSuccessRate != nil {
		fmt.Fprintf(w, "  targeted success rate  %s  (images now classified %q, of those not labelled %q)\n", pct(float64(*r.TargetedSuccessRate)), r.Target, r.Target)
	}
	fmt.Fprintf(w, "  attack success rate    %s  of %d attacked (images already misclassified%s are not attacked)\n",
		pct(float64(r.AttackSuccessRate)), r.Attacked, map[bool]string{true: " or already of the target", false: ""}[r.Target != ""])
	fmt.Fprintf(w, "  distortion (successful adversarials, [0,1] pixels)\n")
	fmt.Fprintf(w, "    L2   mean %.4f  median %.4f\n", float64(r.L2Mean), float64(r.L2Median))
	fmt.Fprintf(w, "    L∞   mean %.4f  median %.4f\n", float64(r.LinfMean), float64(r.LinfMedian))
	fmt.Fprintf(w, "  after 8-bit quantisation (%s): adversarial accuracy %s, attack success rate %s\n",
		r.Quantized.Source, pct(float64(r.Quantized.AdversarialAccuracy)), pct(float64(r.Quantized.AttackSuccessRate)))
	fmt.Fprintf(w, "  queries per image %.1f; time %.2f s (%.1f images/s)\n", float64(r.MeanQueries), float64(r.Seconds), float64(r.Images)/float64(r.Seconds))
}
