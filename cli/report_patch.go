package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/advlab/advlab/engine/patch"
)

// evalJSON is what the report reads of `evalpatch --json`.
type evalJSON struct {
	Target     string `json:"target"`
	Images     int    `json:"images"`
	Placements int    `json:"placements_per_image"`
	Control    string `json:"control"`
	Attention  string `json:"attention"`
	Curves     []struct {
		Model         string  `json:"model"`
		CleanAccuracy float64 `json:"clean_accuracy"`
		Points        []struct {
			Scale                float64    `json:"scale"`
			AreaFraction         float64    `json:"area_fraction"`
			SuccessRate          *float64   `json:"success_rate"`
			ControlSuccessRate   *float64   `json:"control_success_rate"`
			Trials               int        `json:"trials"`
			Placements           int        `json:"placements"`
			Value                *float64   `json:"value"`
			DistractorSuccess    *float64   `json:"distractor_success_rate"`
			DistractorNamed      *float64   `json:"distractor_named"`
			ControlDistNamed     *float64   `json:"control_distractor_named"`
			DistractorPlacements int        `json:"distractor_placements"`
			Attention            *shareJSON `json:"attention"`
			ControlAttention     *shareJSON `json:"control_attention"`
		} `json:"points"`
	} `json:"curves"`
}

// shareJSON is a saliency.Share as evalpatch writes it (NaN as null).
type shareJSON struct {
	Mass *float64 `json:"mass"`
	Area *float64 `json:"area"`
}

// rate formats a nullable rate as pct does.
func rate(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return pct(*v)
}

// evalpatch runs evalpatch with args (and --json) and decodes its report.
func (r *reportRun) evalpatch(args ...string) (*evalJSON, error) {
	out, err := r.run(append([]string{"evalpatch"}, append(args, "--json")...)...)
	if err != nil {
		return nil, err
	}
	var rep evalJSON
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("report: reading evalpatch's JSON: %w", err)
	}
	return &rep, nil
}

// patchFile is the report's patch.
func (r *reportRun) patchFile() string { return r.path("patch.png") }

// seedArg is the seed as a flag value.
func (r *reportRun) seedArg() string { return strconv.FormatUint(r.seed, 10) }

// heldOut are the evalpatch options every patch figure shares: the held-out
// half, sides as the scale, the placements and the seed.
func (r *reportRun) heldOut() []string {
	return []string{"--patch", r.patchFile(), "--images", r.test, "--scale-mode", "side",
		"--placements", strconv.Itoa(r.n.placements), "--seed", r.seedArg()}
}

// curve trains the patch and draws Brown et al.'s Figure 2 on the zoo.
func (r *reportRun) curve() error {
	r.printf("## Patch success against size (Brown et al., Figure 2)\n\n")
	r.printf("A 24-pixel square patch targeting %q, trained on %s alone at a side of 0.25–0.35 of the image and\n", reportTarget, r.models[0])
	r.printf("±22.5°, then pasted on every held-out image at each size, rotated by up to ±22.5° and placed anywhere, for the\n")
	r.printf("model it was trained on and the two others, beside a noise patch of the same size and mask (dashed):\n\n")
	if _, err := r.run("patch", "--model", r.models[0], "--target", reportTarget, "--size", "24", "--mask", "rect",
		"--lr", "0.03", "--steps", strconv.Itoa(r.n.patchSteps), "--scale-mode", "side", "--scale-min", "0.25",
		"--scale-max", "0.35", "--images", r.train, "--seed", r.seedArg(), "--out", r.patchFile(), "--json"); err != nil {
		return err
	}
	png := r.path("patch-curve.png")
	args := append(r.heldOut(), "--model", r.models[0], "--model", r.models[1], "--model", r.models[2],
		"--scales", r.n.scales, "--csv", r.path("patch-curve.csv"), "--plot", png)
	rep, err := r.evalpatch(args...)
	if err != nil {
		return err
	}
	r.printf("![Targeted success against the patch's side, per model, with the noise control](%s)\n\n", r.rel(png))
	r.printf("%d held-out images × %d placements per point ([CSV](%s)); the patch: ![the patch](%s)\n\n",
		rep.Images, rep.Placements, r.rel(r.path("patch-curve.csv")), r.rel(r.patchFile()))
	r.printf("| model | clean accuracy | side | area | success | noise control | trials |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, c := range rep.Curves {
		for _, p := range c.Points {
			r.printf("| %s | %s | %g | %.3f | %s | %s | %d |\n", c.Model, pct(c.CleanAccuracy), p.Scale, p.AreaFraction,
				rate(p.SuccessRate), rate(p.ControlSuccessRate), p.Trials)
		}
	}
	r.printf("\n")
	return nil
}

// attention measures where the trained model looks on patched images:
// the share of the attribution inside the patch against the noise
// control's, by patch.Evaluate's attention option, and a few overlays by
// the saliency command, clean and patched.
func (r *reportRun) attention() error {
	r.printf("## Attention: where the network looks\n\n")
	r.printf("The mean share of each attribution map's mass inside the patch (and inside the noise control placed the same\n")
	r.printf("way), against the share of the image the patch covers, on %s over the held-out images: `evalpatch --attention`\n", r.models[0])
	r.printf("(the map of each placement's predicted class), at the curve's options, sides %s.\n\n", floats(r.n.attentionScales))
	var reps []*evalJSON
	for _, m := range []string{"gradient", "gradcam"} {
		rep, err := r.evalpatch(append(r.heldOut(), "--model", r.models[0], "--scales", floats(r.n.attentionScales), "--attention", m)...)
		if err != nil {
			return err
		}
		if len(rep.Curves) != 1 {
			return fmt.Errorf("report: evalpatch --attention gave %d curves; want 1", len(rep.Curves))
		}
		reps = append(reps, rep)
	}
	png := r.path("attention.png")
	if err := writeAttentionPlot(png, reps); err != nil {
		return err
	}
	r.printf("![Attribution mass inside the patch and inside the noise control against the area they cover](%s)\n\n", r.rel(png))
	r.printf("| method | side | area share | mass in the patch | mass in the noise control | success | placements |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, rep := range reps {
		for _, pt := range rep.Curves[0].Points {
			var area, mass, ctl *float64
			if pt.Attention != nil {
				area, mass = pt.Attention.Area, pt.Attention.Mass
			}
			if pt.ControlAttention != nil {
				ctl = pt.ControlAttention.Mass
			}
			r.printf("| %s | %g | %s | %s | %s | %s | %d |\n", rep.Attention, pt.Scale, rate(area),
				rate(mass), rate(ctl), rate(pt.SuccessRate), pt.Placements)
		}
	}
	r.printf("\nGrad-CAM overlays of a few held-out images, clean and with the patch at side 0.3 (red to yellow: more mass):\n\n")
	return r.overlays()
}

// overlays explains a few images clean and patched with the saliency
// command and shows them side by side.
func (r *reportRun) overlays() error {
	common := []string{"saliency", "--model", r.models[0], "--images", r.test, "--method", "gradcam",
		"--limit", strconv.Itoa(r.n.overlays), "--seed", r.seedArg(), "--json"}
	var reps [2]saliencyReport
	for k, extra := range [][]string{{"-o", r.path("saliency", "clean")},
		{"-o", r.path("saliency", "patched"), "--patch", r.patchFile(), "--scale", "0.3", "--scale-mode", "side"}} {
		out, err := r.run(append(append([]string{}, common...), extra...)...)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(out, &reps[k]); err != nil {
			return fmt.Errorf("report: reading saliency's JSON: %w", err)
		}
	}
	clean, patched := reps[0], reps[1]
	if len(clean.Images) != len(patched.Images) {
		return fmt.Errorf("report: saliency explained %d clean and %d patched images; want the same", len(clean.Images), len(patched.Images))
	}
	r.printf("| image | clean | explained | patched | explained | mass in the patch |\n| --- | --- | --- | --- | --- | --- |\n")
	for i, ci := range clean.Images {
		pi := patched.Images[i]
		share := "n/a"
		if pi.Share != nil {
			share = fmt.Sprintf("%s on %s of the image", pct(pi.Share.Mass), pct(pi.Share.Area))
		}
		r.printf("| %s | ![clean](%s) | %s | ![patched](%s) | %s | %s |\n", ci.File,
			r.rel(r.path("saliency", "clean", ci.Overlay)), ci.Explained, r.rel(r.path("saliency", "patched", pi.Overlay)), pi.Explained, share)
	}
	if m := patched.Mean; m != nil {
		r.printf("\nOver these %d images the patch draws %s of Grad-CAM's mass on %s of the image (ratio %.2f).\n",
			len(patched.Images), pct(m.Mass), pct(m.Area), m.Ratio())
	}
	r.printf("\n")
	return nil
}

// distractors measures the patch beside a real object.
func (r *reportRun) distractors() error {
	r.printf("## Distractors: the patch beside a real object\n\n")
	r.printf("Every placement also gets a real sign from the training half (of a class neither the image's nor the target)\n")
	r.printf("pasted where it does not meet the patch, at a side of 0.3: does the patch still win, and how often does the model\n")
	r.printf("name the object instead (beside the patch, and beside the noise control)?\n\n")
	rep, err := r.evalpatch(append(r.heldOut(), "--model", r.models[0], "--scales", "0.3", "--distractors", r.train)...)
	if err != nil {
		return err
	}
	r.printf("| model | side | alone | beside an object | object named | object named (noise control) | trials | with an object |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, c := range rep.Curves {
		for _, p := range c.Points {
			r.printf("| %s | %g | %s | %s | %s | %s | %d | %d |\n", c.Model, p.Scale, rate(p.SuccessRate), rate(p.DistractorSuccess),
				rate(p.DistractorNamed), rate(p.ControlDistNamed), p.Trials, p.DistractorPlacements)
		}
	}
	r.printf("\n")
	return nil
}

// sweeps measures the patch as one condition varies, one figure per kind.
func (r *reportRun) sweeps() error {
	r.printf("## Sweeps: success as one condition varies\n\n")
	r.printf("The patch at side 0.3 on %s, with one transformation swept (rotation and tilt in degrees, brightness and\n", r.models[0])
	r.printf("contrast as offsets and factors, blur in pixels, noise as a deviation, JPEG as the quality), beside the noise control.\n\n")
	for _, kind := range r.n.sweeps {
		k, err := patch.ParseSweepKind(kind)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		values := k.DefaultValues()
		if r.quick {
			values = values[:min(2, len(values))]
		}
		r.printf("### %s\n\n", kind)
		png := r.path("sweep-" + kind + ".png")
		rep, err := r.evalpatch(append(r.heldOut(), "--model", r.models[0], "--scales", "0.3", "--sweep", kind,
			"--sweep-values", floats(values), "--plot", png)...)
		if err != nil {
			return err
		}
		r.printf("![Success against %s](%s)\n\n", kind, r.rel(png))
		r.printf("| %s | success | noise control | trials |\n| --- | --- | --- | --- |\n", kind)
		for _, p := range rep.Curves[0].Points {
			v := "?"
			if p.Value != nil {
				v = strconv.FormatFloat(*p.Value, 'g', -1, 64)
			}
			r.printf("| %s | %s | %s | %d |\n", v, rate(p.SuccessRate), rate(p.ControlSuccessRate), p.Trials)
		}
		r.printf("\n")
	}
	return nil
}

// floats joins values with commas, as the flags take them.
func floats(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
