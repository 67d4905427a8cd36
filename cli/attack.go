package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "attack",
		summary: "craft adversarial examples for a folder of images and report accuracy and distortion",
		run:     runAttack,
	})
}

const attackUsage = "--model M --method lbfgs|fgsm|pgd|cw|deepfool|square --images DIR [--eps E] [--norm inf|2] [--steps S] [--step-size A] [--restarts R] [--all-steps] [--target LABEL] [--seed N] [--batch B] [--limit N] [--out DIR] [--json]"

// attackRun is one attack of one model on one image set, with its
// evaluation: what `attack` reports and `transfer` and `szegedy` build on.
type attackRun struct {
	model    engine.Classifier
	items    []engine.DatasetItem
	labels   []int
	target   int
	x        []float32 // clean images at the model's size
	res      attack.Result
	seconds  float64
	quant    []int // predictions on the 8-bit quantised adversarials
	quantSrc string
}

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
}

// quantReport is the outcome after 8-bit quantisation of the adversarials.
type quantReport struct {
	Source              string    `json:"source"`
	AdversarialAccuracy jsonFloat `json:"adversarial_accuracy"`
	AttackSuccessRate   jsonFloat `json:"attack_success_rate"`
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
	images := fs.String("images", "", "image folder laid out as DIR/<class>/<image>")
	out := fs.String("out", "", "write adversarial images as 8-bit PNGs to DIR/<class>/<file>.png")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the summary")
	batch := fs.Int("batch", 32, "images per batch")
	limit := fs.Int("limit", 0, "attack at most N images, spread over the classes (0: all)")
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
	attack, err := af.build()
	if err != nil {
		return err
	}
	if *batch <= 0 {
		return usagef("--batch %d must be positive", *batch)
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: []fsutil.Path{{Flag: "--model", Path: *model}, {Flag: "--images", Path: *images}},
		Dirs: []fsutil.Path{{Flag: "--out", Path: *out}}}); err != nil {
		return err
	}
	ds, err := loadImageSet(env, *images, *limit)
	if err != nil {
		return err
	}
	m, err := openAttackModel(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	run, err := prepareAttack(env, m, ds, &af)
	if err != nil {
		return err
	}
	progress, stop := progressPrinter(env, attack.Name()+" on "+m.Name())
	err = run.attack(ctx, attack, *batch, progress)
	stop()
	interrupted := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	if interrupted {
		run.res = run.res.Finished() // the cut-short batch is not failures
	}
	if len(run.res.Samples) == 0 {
		return err
	}
	runErr := err
	if interrupted {
		fmt.Fprintf(env.Stderr, "advlab attack: interrupted; reporting the %d images finished (%d not attacked)\n",
			len(run.res.Samples), len(run.labels)-len(run.res.Samples))
		ctx = context.Background() // evaluate what was found
	} else if err != nil {
		return err
	}
	if err := run.evaluateQuantized(ctx, *out, *batch); err != nil {
		return err
	}
	rep := run.report(af.method, af.describe(), af.target)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printAttackReport(env.Stdout, rep, *images)
	}
	return runErr
}

// prepareAttack resolves the target and labels for model m and lays the
// images out at its input size, before any work. Notes go to stderr.
func prepareAttack(env *Env, m engine.Classifier, ds *engine.Dataset, af *attackFlags) (*attackRun, error) {
	target, err := af.targetIndex(m)
	if err != nil {
		return nil, err
	}
	labels, err := ds.LabelsFor(m.Labels())
	if err != nil {
		return nil, usagef("--images for %s: %v", m.Name(), err)
	}
	shape := m.InputShape()
	x, resized := ds.TensorFor(m)
	if resized > 0 {
		fmt.Fprintf(env.Stderr, "note: resized %d of %d images to %dx%d for %s\n", resized, ds.Len(), shape.Width, shape.Height, m.Name())
	}
	return &attackRun{model: m, items: ds.Items, labels: labels, target: target, x: x}, nil
}

// attack runs a over the images, timing it.
func (r *attackRun) attack(ctx context.Context, a attack.Attack, batch int, progress func(attack.Progress)) error {
	start := time.Now()
	res, err := attack.RunBatched(ctx, a, r.model, r.x, r.labels, r.target, batch, progress)
	r.seconds = time.Since(start).Seconds()
	r.res = res
	return err
}

// evaluateQuantized classifies the adversarials as 8-bit images: the PNGs
// written to outDir and read back when outDir is set, else the same
// quantisation in memory.
func (r *attackRun) evaluateQuantized(ctx context.Context, outDir string, batch int) error {
	n := len(r.res.Samples)
	shape := r.model.InputShape()
	var q []float32
	var err error
	if outDir != "" {
		q, err = writeAdversarial(outDir, r.items[:n], r.res.Adversarial, shape)
		r.quantSrc = "saved PNGs re-read from " + outDir
	} else {
		q, err = quantize(r.res.Adversarial, shape)
		r.quantSrc = "in-memory 8-bit round trip"
	}
	if err != nil {
		return err
	}
	r.quant, err = classify(ctx, r.model, q, n, batch)
	return err
}

// report summarises the run.
func (r *attackRun) report(method, describe, targetName string) attackReport {
	labels := r.model.Labels()
	n := len(r.res.Samples)
	rep := attackReport{Model: r.model.Name(), Method: method, Attack: describe, Images: n}
	var clean, adv, attacked, succ, tgtDen, tgtHit, qAdv, qSucc, queries int
	var l2s, linfs []float64
	for i, s := range r.res.Samples {
		y := r.labels[i]
		if y < 0 {
			y = s.Label
		}
		if s.Clean == y {
			clean++
		}
		if s.Pred == y {
			adv++
		}
		if r.quant[i] == y {
			qAdv++
		}
		queries += s.Queries
		if r.target >= 0 && y != r.target {
			tgtDen++
			if s.Pred == r.target {
				tgtHit++
			}
		}
		qOK := r.quant[i] != s.Label
		if s.Target >= 0 {
			qOK = r.quant[i] == s.Target
		}
		if !s.Skipped {
			attacked++
			if s.Success {
				succ++
				l2s, linfs = append(l2s, s.L2), append(linfs, s.Linf)
			}
			if qOK {
				qSucc++
			}
		}
		rec := attackRecord{
			File: r.items[i].Rel, Label: labelName(labels, y), Clean: labelName(labels, s.Clean),
			Adversarial: labelName(labels, s.Pred), Success: s.Success, Skipped: s.Skipped,
			L2: jsonFloat(s.L2), Linf: jsonFloat(s.Linf), Queries: s.Queries,
			Quantized: labelName(labels, r.quant[i]), QuantOK: qOK,
		}
		if s.Target >= 0 {
			rec.Target = labelName(labels, s.Target)
		}
		rep.Records = append(rep.Records, rec)
	}
	rep.Attacked = attacked
	rep.CleanAccuracy = jsonFloat(rate(clean, n))
	rep.AdversarialAccuracy = jsonFloat(rate(adv, n))
	rep.AttackSuccessRate = jsonFloat(rate(succ, attacked))
	if r.target >= 0 {
		t := jsonFloat(rate(tgtHit, tgtDen))
		rep.TargetedSuccessRate = &t
		rep.Target = labelName(labels, r.target)
	}
	m, med := meanMedian(l2s)
	rep.L2Mean, rep.L2Median = jsonFloat(m), jsonFloat(med)
	m, med = meanMedian(linfs)
	rep.LinfMean, rep.LinfMedian = jsonFloat(m), jsonFloat(med)
	rep.MeanQueries = jsonFloat(rate(queries, n))
	rep.Seconds = jsonFloat(r.seconds)
	rep.Quantized = quantReport{Source: r.quantSrc, AdversarialAccuracy: jsonFloat(rate(qAdv, n)), AttackSuccessRate: jsonFloat(rate(qSucc, attacked))}
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
