package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "evalpatch",
		summary: "measure a patch's success rate against its size on held-out images (Brown et al.'s Figure 2)",
		run:     runEvalPatch,
	})
}

const evalPatchUsage = "--patch PATCH.png [--patch OTHER.png ...] [--model M ...] [--target LABEL] [--images DIR | --labels-csv FILE] [--scales 0.1,0.2,0.3,0.4,0.5] [--scale-mode area|side] " +
	"[--rotation DEG] [--placements N] [--control noise|PHOTO.png] [--seed N] [--distractors DIR] [--distractor-scale F] " +
	"[--sweep rotation|brightness|contrast|tilt|blur|noise|jpeg] [--sweep-values V,...] [--attention gradient|smoothgrad|ig|gradcam] [--defense NAME[:k=v,…]]... [--json] [--csv F] [--plot F.png]"

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
	var patchPaths listFlag
	fs.Var(&patchPaths, "patch", "patch file (any PNG works; its alpha is the mask); repeat (or separate with commas) to compare several, one curve per patch and model")
	var comparePaths listFlag
	fs.Var(&comparePaths, "compare-patch", "another patch to measure beside --patch with the same placements (same as another --patch)")
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
	sweep := fs.String("sweep", "", "vary one transformation at one scale (--scales, default "+joinFloats([]float64{patch.DefaultSweepScale})+"): rotation (deg), brightness, contrast, tilt (deg), blur (px), noise (std), jpeg (quality)")
	sweepValues := fs.String("sweep-values", "", "comma-separated values of --sweep (default: the sweep's own range)")
	attention := fs.String("attention", "", "also measure where each model looks: the share of the attribution map (gradient, smoothgrad, ig or gradcam) inside the patch and the control, against their share of the image")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	csvPath := fs.String("csv", "", "also write the curves as CSV to F")
	plotPath := fs.String("plot", "", "also draw success rate against scale as a PNG to F")
	var df defenseFlags
	df.register(fs, true, "every model is also evaluated defended by it, one curve each", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := df.check(); err != nil {
		return err
	}
	if len(patchPaths) == 0 && len(pos) == 1 {
		patchPaths, pos = listFlag{pos[0]}, nil
	}
	patchPaths = append(patchPaths, comparePaths...)
	var attn *saliency.Options
	if *attention != "" {
		m, err := saliency.ParseMethod(*attention)
		if err != nil {
			return usagef("--attention: %v", err)
		}
		attn = &saliency.Options{Method: m, Seed: *seed}
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case len(patchPaths) == 0:
		return usagef("--patch PATCH.png is required")
	case *placements <= 0:
		return usagef("--placements %d must be positive", *placements)
	case !(*rotation >= 0 && *rotation <= 180):
		return usagef("--rotation %v: want 0 to 180 degrees", *rotation)
	case *plotPath != "" && !strings.HasSuffix(strings.ToLower(*plotPath), ".png"):
		return usagef("--plot %s: name the plot .png", *plotPath)
	}
	ins := append(pathsOf("--model", models), pathsOf("--patch", patchPaths)...)
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
			list = []float64{patch.DefaultSweepScale}
		} else if len(list) != 1 {
			return usagef("--sweep measures at one scale; --scales gives %d", len(list))
		}
	}
	patches := make([]patch.NamedPatch, len(patchPaths))
	for i, path := range patchPaths {
		adv, meta, err := imgops.LoadPatch(path)
		if err != nil {
			return usagef("--patch %s: %v", path, err)
		}
		patches[i] = patch.NamedPatch{Name: path, Patch: adv, Target: meta.Target}
		if *target != "" {
			patches[i].Target = *target
		}
	}
	adv := patches[0].Patch
	o := patch.EvalOptions{
		Target: *target, Scales: list, Placements: *placements, Seed: *seed,
		Transforms: imgops.Options{MaxAngleDeg: *rotation, ScaleMode: mode, ScaleMin: list[0], ScaleMax: list[0]},
		Sweep:      sw, DistractorScale: *distractorScale, Attention: attn,
	}
	if *distractors != "" {
		if o.Distractors, err = engine.LoadImageFolderContext(ctx, *distractors, 0); err != nil {
			return usagef("--distractors: %v", err)
		}
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
	if classifiers, _, err = df.withDefended(classifiers); err != nil {
		return err
	}
	if err := calibrateAll(ctx, env, classifiers, ds); err != nil {
		return err
	}
	noteUnlabelled(env, classifiers, ds)
	cmp, err := patch.Compare(ctx, classifiers, ds, patches, o, nil)
	if err != nil {
		return patchError(err)
	}
	return writeEvalOutputs(env, cmp, *csvPath, *plotPath, *asJSON)
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
