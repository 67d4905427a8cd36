package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func init() {
	register(&command{
		name:    "evalpatch",
		summary: "measure a patch's success rate against its size on held-out images (Brown et al.'s Figure 2)",
		run:     runEvalPatch,
	})
}

const evalPatchUsage = "--patch PATCH.png [--model M ...] [--target LABEL] [--images DIR | --labels-csv FILE] [--scales 0.1,0.2,0.3,0.4,0.5] [--scale-mode area|side] " +
	"[--rotation DEG] [--placements N] [--control noise|PHOTO.png] [--seed N] [--distractors DIR] [--distractor-scale F] " +
	"[--sweep rotation|brightness|contrast|tilt|blur|noise|jpeg] [--sweep-values V,...] [--json] [--csv F] [--plot F.png]"

// joinFloats writes vs as --scales takes them.
func joinFloats(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func runEvalPatch(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "evalpatch", evalPatchUsage)
	patchPath := fs.String("patch", "", "patch file (any PNG works; its alpha is the mask)")
	var models listFlag
	fs.Var(&models, "model", "ONNX model; repeat (or separate with commas) for several (default: the embedded demo model)")
	target := fs.String("target", "", "target label (default: the patch file's target; none: only the untargeted error)")
	var images imageSetFlags
	images.register(fs, "held-out images, DIR/<class>/<image>, or a folder of images without true labels (default: the embedded demo samples)")
	scales := fs.String("scales", joinFloats(patch.DefaultEvalOptions().Scales), "patch sizes to measure, comma-separated fractions in (0,1] of --scale-mode's quantity")
	scaleMode := fs.String("scale-mode", "area", "what scales measure: area (share of the image the patch covers) or side (patch side over image side)")
	pf := paramFlags{fs, patch.EvalParams()}
	rotation := pf.Float64("rotation")
	placements := pf.Int("placements")
	control := fs.String("control", "noise", "comparison patch of the same size: noise, or a photo (e.g. of the target class)")
	seed := pf.Uint64("seed")
	distractors := fs.String("distractors", "", "also paste a real object from DIR/<label>/<image> beside the patch in every placement")
	distractorScale := pf.Float64("distractor-scale")
	sweep := fs.String("sweep", "", "vary one transformation at one scale (--scales, default 0.2): rotation (deg), brightness, contrast, tilt (deg), blur (px), noise (std), jpeg (quality)")
	sweepValues := fs.String("sweep-values", "", "comma-separated values of --sweep (default: the sweep's own range)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	csvPath := fs.String("csv", "", "also write the curves as CSV to F")
	plotPath := fs.String("plot", "", "also draw success rate against scale as a PNG to F")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *patchPath == "" && len(pos) == 1 {
		*patchPath, pos = pos[0], nil
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *patchPath == "":
		return usagef("--patch PATCH.png is required")
	case *placements <= 0:
		return usagef("--placements %d must be positive", *placements)
	case !(*rotation >= 0 && *rotation <= 180):
		return usagef("--rotation %v: want 0 to 180 degrees", *rotation)
	case *plotPath != "" && !strings.HasSuffix(strings.ToLower(*plotPath), ".png"):
		return usagef("--plot %s: name the plot .png", *plotPath)
	}
	ins := append(pathsOf("--model", models), fsutil.Path{Flag: "--patch", Path: *patchPath})
	ins = append(ins, images.inputs()...)
	if *control != "noise" {
		ins = append(ins, fsutil.Path{Flag: "--control", Path: *control})
	}
	if *distractors != "" {
		ins = append(ins, fsutil.Path{Flag: "--distractors", Path: *distractors})
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: ins, Files: []fsutil.Path{{Flag: "--csv", Path: *csvPath}, {Flag: "--plot", Path: *plotPath}}}); err != nil {
		return err
	}
	mode, err := parseScaleMode(*scaleMode)
	if err != nil {
		return err
	}
	list, err := parseScales(*scales)
	if err != nil {
		return usagef("--scales %s: %v", *scales, err)
	}
	sw, err := parseSweep(*sweep, *sweepValues)
	if err != nil {
		return err
	}
	if sw != nil {
		if !flagSet(fs, "scales") {
			list = []float64{0.2}
		} else if len(list) != 1 {
			return usagef("--sweep measures at one scale; --scales gives %d", len(list))
		}
	}
	adv, meta, err := imgops.LoadPatch(*patchPath)
	if err != nil {
		return usagef("--patch: %v", err)
	}
	o := patch.EvalOptions{
		Target: *target, Scales: list, Placements: *placements, Seed: *seed,
		Transforms: imgops.Options{MaxAngleDeg: *rotation, ScaleMode: mode, ScaleMin: list[0], ScaleMax: list[0]},
		Sweep:      sw, DistractorScale: *distractorScale,
	}
	if *distractors != "" {
		if o.Distractors, err = engine.LoadImageFolderContext(ctx, *distractors, 0); err != nil {
			return usagef("--distractors: %v", err)
		}
	}
	if o.Target == "" {
		o.Target = meta.Target
	}
	if *control != "noise" {
		img, err := imgops.LoadImage(*control)
		if err != nil {
			return usagef("--control: %v", err)
		}
		o.Control = imgops.NewPatchFromImage(img, adv.Mask)
	}
	ds, err := loadPatchImages(ctx, env, images)
	if err != nil {
		return err
	}
	classifiers, closeModels, err := openPatchModels(models)
	if err != nil {
		return err
	}
	defer closeModels()
	noteUnlabelled(env, classifiers, ds)
	rep, err := patch.Evaluate(ctx, classifiers, ds, adv, o, nil)
	if err != nil {
		return patchError(err)
	}
	if *csvPath != "" {
		if err := fsutil.WriteFileAtomic(*csvPath, rep.WriteCSV); err != nil {
			return fmt.Errorf("writing %s: %w", *csvPath, err)
		}
	}
	if *plotPath != "" {
		if err := writeEvalPlot(*plotPath, rep); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printEvalReport(env.Stdout, rep, *patchPath)
	return nil
}

// parseSweep reads --sweep and --sweep-values; no sweep is nil.
func parseSweep(kind, values string) (*patch.Sweep, error) {
	if kind == "" {
		if values != "" {
			return nil, usagef("--sweep-values needs --sweep")
		}
		return nil, nil
	}
	k, err := patch.ParseSweepKind(kind)
	if err != nil {
		return nil, usagef("--sweep: %v", err)
	}
	sw := &patch.Sweep{Kind: k, Values: k.DefaultValues()}
	if values != "" {
		sw.Values = nil
		for _, f := range strings.Split(values, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, usagef("--sweep-values %s: %q is not a number", values, f)
			}
			sw.Values = append(sw.Values, v)
		}
	}
	return sw, nil
}

// flagSet reports whether the flag name was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseScales reads a comma-separated list of fractions in (0,1].
func parseScales(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("%q is not a fraction in (0, 1]", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scale given")
	}
	return out, nil
}

// printEvalReport writes the human table.
func printEvalReport(w io.Writer, r *patch.EvalReport, path string) {
	goal := fmt.Sprintf("target %q", r.Target)
	if r.Target == "" {
		goal = "untargeted"
	}
	fmt.Fprintf(w, "%s, %s: %d images × %d placements per scale, rotation ±%g°, %s control\n",
		path, goal, r.Images, r.Placements, r.MaxAngleDeg, r.Control)
	first := r.ScaleMode
	if r.Sweep != "" {
		first = string(r.Sweep)
	}
	for _, c := range r.Curves {
		fmt.Fprintf(w, "%s (clean accuracy %s)\n", c.Model, pct(c.CleanAccuracy))
		head := fmt.Sprintf("  %-10s %-8s %-9s %-9s %-9s %-9s", first, "area", "success", "control", "error", "control")
		if r.Distractors > 0 {
			head += fmt.Sprintf(" %-10s %-9s %-9s", "w/ object", "named", "control")
		}
		fmt.Fprintln(w, head)
		for _, p := range c.Points {
			x := p.Scale
			if p.Value != nil {
				x = *p.Value
			}
			row := fmt.Sprintf("  %-10.3g %-8.3f %-9s %-9s %-9s %-9s", x, p.AreaFraction,
				pct(p.SuccessRate), pct(p.ControlSuccessRate), pct(p.Error), pct(p.ControlError))
			if r.Distractors > 0 {
				row += fmt.Sprintf(" %-10s %-9s %-9s", pct(p.DistractorSuccessRate), pct(p.DistractorNamed), pct(p.ControlDistractorNamed))
			}
			fmt.Fprintln(w, row)
		}
	}
}

// writeEvalPlot draws each model's success rate against scale, with its
// control dashed beside it: Brown et al.'s Figure 2. Untargeted reports plot
// the error instead.
func writeEvalPlot(path string, r *patch.EvalReport) error {
	p := plot.New()
	what := "targeted success rate"
	if r.Target == "" {
		what = "untargeted error"
	}
	p.Title.Text = fmt.Sprintf("Patch %s against size", what)
	if r.Target != "" {
		p.Title.Text = fmt.Sprintf("Patch success (target %q) against size", r.Target)
	}
	p.X.Label.Text = map[string]string{"area": "share of the image's area the patch covers", "side": "patch side / image side"}[r.ScaleMode]
	if r.Sweep != "" {
		p.Title.Text = fmt.Sprintf("Patch %s against %s", what, r.Sweep)
		p.X.Label.Text = string(r.Sweep)
	}
	p.Y.Label.Text = what
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	for i, c := range r.Curves {
		pts, ctl := make(plotter.XYs, 0, len(c.Points)), make(plotter.XYs, 0, len(c.Points))
		for _, pt := range c.Points {
			y, yc := pt.SuccessRate, pt.ControlSuccessRate
			if r.Target == "" {
				y, yc = pt.Error, pt.ControlError
			}
			x := pt.Scale
			if pt.Value != nil {
				x = *pt.Value
			}
			if !math.IsNaN(y) {
				pts = append(pts, plotter.XY{X: x, Y: y})
			}
			if !math.IsNaN(yc) {
				ctl = append(ctl, plotter.XY{X: x, Y: yc})
			}
		}
		for k, xy := range []plotter.XYs{pts, ctl} {
			if len(xy) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return fmt.Errorf("plotting %s: %w", c.Model, err)
			}
			l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
			s.Shape = plotutil.Shape(i)
			name := c.Model
			if k == 1 {
				l.Dashes = plotutil.Dashes(1)
				name += " (" + r.Control + " control)"
			}
			p.Add(l, s)
			p.Legend.Add(name, l, s)
		}
	}
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("drawing the plot: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
