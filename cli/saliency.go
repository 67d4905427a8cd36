package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "saliency",
		summary: "attribution maps (grad, SmoothGrad, integrated gradients, Grad-CAM) as heat maps, and their share inside a patch",
		run:     runSaliency,
	})
}

const saliencyUsage = "--images DIR -o DIR [--model M] [--method grad|smoothgrad|ig|gradcam] [--reduce maxabs|sumabs] " +
	"[--samples N] [--sigma F] [--steps N] [--tolerance F] [--max-steps N] [--feature TENSOR] [--patch P.png --scale S [--scale-mode side|area] [--rotation DEG]] [--limit N] [--seed N] [--json]"

// saliencyImage is one image's entry in saliency.json.
type saliencyImage struct {
	File      string          `json:"file"`
	Class     string          `json:"class,omitempty"`
	Explained string          `json:"explained"`
	Overlay   string          `json:"overlay"`
	Share     *saliency.Share `json:"share,omitempty"`
	// Completeness is integrated gradients' Σ attributions − (f(x) − f(x')),
	// and PathSteps the gradient evaluations its adaptive grid took.
	Completeness *float64 `json:"completeness_error,omitempty"`
	PathSteps    int      `json:"path_steps,omitempty"`
}

// saliencyReport is saliency.json.
type saliencyReport struct {
	Model     string          `json:"model"`
	Method    string          `json:"method"`
	Feature   string          `json:"feature,omitempty"`
	Patch     string          `json:"patch,omitempty"`
	ScaleMode string          `json:"scale_mode,omitempty"`
	Scale     float64         `json:"scale,omitempty"`
	Images    []saliencyImage `json:"images"`
	Mean      *saliency.Share `json:"mean_share,omitempty"`
}

func runSaliency(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "saliency", saliencyUsage)
	def := saliency.DefaultOptions()
	model := fs.String("model", "", "ONNX model (default: the embedded demo model)")
	images := fs.String("images", "", "image folder laid out as DIR/<class>/<image>")
	out := fs.String("o", "", "write heat-map overlays DIR/<class>/<file>.png and DIR/saliency.json")
	method := fs.String("method", "grad", "attribution method: grad, smoothgrad, ig or gradcam")
	reduce := fs.String("reduce", "maxabs", "channel reduction of the gradient methods: maxabs (max |a_c|) or sumabs (Σ |a_c|)")
	samples := fs.Int("samples", def.Samples, "SmoothGrad's noisy copies per image")
	sigma := fs.Float64("sigma", *def.Sigma, "SmoothGrad's noise deviation, as a fraction of each image's range")
	steps := fs.Int("steps", def.Steps, "integrated gradients' first grid: equal intervals of the path from the black baseline")
	tolerance := fs.Float64("tolerance", def.Tolerance, "integrated gradients refines its grid until Σ attributions is within this fraction of f(x) − f(black) (absolute under one logit)")
	maxSteps := fs.Int("max-steps", def.MaxSteps, "integrated gradients' most gradient evaluations per image")
	feature := fs.String("feature", "", "Grad-CAM's feature map, a tensor of the model (default: the last spatial map before pooling)")
	patchPath := fs.String("patch", "", "paste this patch on every image first and report the attribution's share inside it")
	scale := fs.Float64("scale", 0.3, "the patch's size, a fraction in (0,1] of --scale-mode's quantity")
	scaleMode := fs.String("scale-mode", "side", "what --scale measures: side (patch side over image side) or area")
	rotation := fs.Float64("rotation", 0, "rotation range of the patch: uniform in ±DEG degrees")
	limit := fs.Int("limit", 0, "explain at most N images, spread over the classes (0: all)")
	seed := fs.Uint64("seed", 0, "random seed of SmoothGrad's noise and the patch's placements")
	asJSON := fs.Bool("json", false, "print the JSON report instead of the summary")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	m, err := saliency.ParseMethod(*method)
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case err != nil:
		return usagef("--method: %v", err)
	case *out == "":
		return usagef("-o DIR is required")
	case *reduce != "maxabs" && *reduce != "sumabs":
		return usagef("--reduce %q: want maxabs or sumabs", *reduce)
	case *samples <= 0 || *steps <= 0 || *maxSteps <= 0:
		return usagef("--samples, --steps and --max-steps must be positive")
	case !(*tolerance > 0):
		return usagef("--tolerance %v: want a positive fraction", *tolerance)
	case !(*sigma >= 0):
		return usagef("--sigma %v: want a fraction ≥ 0", *sigma)
	case !(*scale > 0 && *scale <= 1):
		return usagef("--scale %v: want a fraction in (0, 1]", *scale)
	case !(*rotation >= 0 && *rotation <= 180):
		return usagef("--rotation %v: want 0 to 180 degrees", *rotation)
	}
	ins := []fsutil.Path{{Flag: "--model", Path: *model}, {Flag: "--images", Path: *images}, {Flag: "--patch", Path: *patchPath}}
	if err := checkOutputs(fsutil.Outputs{Inputs: ins, Dirs: []fsutil.Path{{Flag: "-o", Path: *out}}}); err != nil {
		return err
	}
	mode, err := parseScaleMode(*scaleMode)
	if err != nil {
		return err
	}
	var p *imgops.Patch
	if *patchPath != "" {
		if p, _, err = imgops.LoadPatch(*patchPath); err != nil {
			return usagef("--patch: %v", err)
		}
	}
	ds, err := loadImageSet(ctx, env, imageSetFlags{dir: *images}, *limit)
	if err != nil {
		return err
	}
	c, err := openAttackModel(*model)
	if err != nil {
		return err
	}
	defer c.Close()
	shape := c.InputShape()
	x, _ := ds.TensorFor(c)
	n := ds.Len()
	rep := saliencyReport{Model: c.Name(), Method: string(m)}
	var cov []float32
	if p != nil {
		tr := imgops.Options{MaxAngleDeg: *rotation, ScaleMode: mode, ScaleMin: *scale, ScaleMax: *scale}
		s, err := imgops.NewSampler(*seed, p, shape.Width, shape.Height, &tr)
		if err != nil {
			return usagef("--scale: %v", err)
		}
		ts := s.Sample(n)
		cp, err := imgops.Apply(p, x, n, shape.Channels, shape.Height, shape.Width, ts)
		if err != nil {
			return err
		}
		x = cp.Images
		if cov, err = saliency.Coverage(p, shape.Height, shape.Width, ts); err != nil {
			return err
		}
		rep.Patch, rep.ScaleMode, rep.Scale = *patchPath, mode.String(), *scale
	}
	opt := &saliency.Options{Method: m, Samples: *samples, Sigma: sigma, Steps: *steps, Tolerance: *tolerance, MaxSteps: *maxSteps, Feature: *feature, Seed: *seed}
	if *reduce == "sumabs" {
		opt.Reduce = saliency.SumAbs
	}
	r, err := saliency.Explain(ctx, c, x, n, opt)
	if err != nil {
		return err
	}
	rep.Feature = r.Feature
	hw, size := shape.Height*shape.Width, shape.Size()
	taken := map[string]bool{}
	var shares []saliency.Share
	for i, it := range ds.Items {
		img, err := saliency.Overlay(x[i*size:(i+1)*size], shape.Channels, shape.Height, shape.Width, r.Map(i))
		if err != nil {
			return err
		}
		path := outputPath(*out, it, taken)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("writing overlays: %w", err)
		}
		if err := fsutil.WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return fmt.Errorf("writing overlays: %w", err)
		}
		rel, _ := filepath.Rel(*out, path)
		e := saliencyImage{File: it.Rel, Class: it.Class, Explained: labelName(c.Labels(), r.Classes[i]), Overlay: filepath.ToSlash(rel)}
		if cov != nil {
			s, err := saliency.RegionShare(r.Map(i), cov[i*hw:(i+1)*hw])
			if err != nil {
				return err
			}
			e.Share = &s
			shares = append(shares, s)
		}
		if r.Completeness != nil {
			e.Completeness, e.PathSteps = &r.Completeness[i], r.PathSteps[i]
		}
		rep.Images = append(rep.Images, e)
	}
	if cov != nil {
		mean := saliency.MeanShare(shares)
		rep.Mean = &mean
	}
	jsonPath := filepath.Join(*out, "saliency.json")
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if err := fsutil.WriteFileAtomic(jsonPath, write); err != nil {
		return fmt.Errorf("writing %s: %w", jsonPath, err)
	}
	if *asJSON {
		return write(env.Stdout)
	}
	what := string(m)
	if r.Feature != "" {
		what += " at " + r.Feature
	}
	fmt.Fprintf(env.Stdout, "%s, %s: %d overlays and saliency.json in %s\n", c.Name(), what, n, *out)
	if r.Completeness != nil {
		worst, steps := 0.0, 0
		for i, g := range r.Completeness {
			worst, steps = max(worst, math.Abs(g)), steps+r.PathSteps[i]
		}
		fmt.Fprintf(env.Stdout, "integrated gradients: completeness error at most %.3g logits, %.0f gradients per image\n", worst, float64(steps)/float64(n))
	}
	if rep.Mean != nil {
		fmt.Fprintf(env.Stdout, "patch %s at %s %g: %s of the attribution on %s of the image (ratio %.2f)\n",
			*patchPath, mode, *scale, pct(rep.Mean.Mass), pct(rep.Mean.Area), rep.Mean.Ratio())
	}
	return nil
}
