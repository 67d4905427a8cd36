package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
	"github.com/advlab/advlab/internal/humanize"
)

func init() {
	register(&command{
		name:    "patch",
		summary: "train an adversarial patch (Brown et al. 2017) against one model or an ensemble",
		run:     runPatch,
	})
}

const patchUsage = "[--model M ...] (--target LABEL | --untargeted) [--images DIR | --labels-csv FILE] --out PATCH.png [--size 32|WxH] [--mask circle|ellipse|rect|STICKER.png] " +
	"[--scale-mode area|side] [--scale-min A] [--scale-max B] [--rotation DEG] [--perspective D] [--brightness B] [--contrast C] [--noise S] [--blur S] [--placement MASK.png] " +
	"[--steps N] [--batch B] [--lr R] [--optimizer adam|sign] [--tv W] [--nps W] [--palette FILE] [--seed N] [--defense NAME[:k=v,…]]... [--non-adaptive] [--checkpoint F [--checkpoint-every N] [--resume]] [--json]"

// patchReport is the JSON form of a training run.
type patchReport struct {
	Out         string          `json:"out"`
	Models      []string        `json:"models"`
	Target      string          `json:"target,omitempty"`
	Steps       int             `json:"steps"`
	Loss        jsonFloat       `json:"loss"`
	SuccessRate jsonFloat       `json:"running_success_rate"`
	Seconds     jsonFloat       `json:"seconds"`
	Images      int             `json:"images"`
	Interrupted bool            `json:"interrupted,omitempty"`
	Training    json.RawMessage `json:"training"`
	// Transferred is the patch's success on the defended models under
	// --non-adaptive.
	Transferred []patchTransfer `json:"transferred,omitempty"`
}

// patchTransfer is how a patch trained on the bare models fares on a
// defended one, at the middle of the training scales.
type patchTransfer struct {
	Model       string    `json:"model"`
	Scale       jsonFloat `json:"scale"`
	SuccessRate jsonFloat `json:"success_rate"`
}

func runPatch(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "patch", patchUsage)
	var models listFlag
	fs.Var(&models, "model", "ONNX model; repeat (or separate with commas) to train one patch against an ensemble (default: the embedded demo model)")
	target := fs.String("target", "", "label every patched image should be classified as")
	untargeted := fs.Bool("untargeted", false, "push every image away from its true class instead of towards a target")
	var images imageSetFlags
	images.register(fs, "training images, DIR/<class>/<image>, or a folder of images for a targeted patch (default: the embedded demo samples)")
	out := fs.String("out", "", "patch file to write (PNG with the mask in alpha and the training options in a text chunk)")
	pf := paramFlags{fs, patch.TrainParams()}
	size := pf.String("size", "patch size in pixels: N (square) or WxH")
	mask := pf.String("mask", "")
	var tf transformFlags
	tf.register(pf)
	placement := fs.String("placement", "", "image (white or opaque = allowed) restricting where the patch's centre may land, sized to the first model's input")
	steps := pf.Int("steps")
	batch := pf.Int("batch")
	lr := pf.Float64("lr")
	optimizer := pf.String("optimizer", "")
	tv := pf.Float64("tv")
	nps := pf.Float64("nps")
	palette := fs.String("palette", "", "printable colours for --nps (text of R,G,B lines 0-255, or a PNG of swatches); default: advlab's 30 colours")
	seed := pf.Uint64("seed")
	checkpoint := fs.String("checkpoint", "", "checkpoint file, written atomically every --checkpoint-every steps, at the end and on Ctrl-C")
	every := fs.Int("checkpoint-every", 50, "steps between checkpoints")
	resume := fs.Bool("resume", false, "continue from --checkpoint (same options; --steps may grow)")
	force := fs.Bool("force", false, "start afresh even though --checkpoint holds a file, replacing it")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the summary")
	var df defenseFlags
	df.register(fs, true, "the patch is trained against every model defended by it, adaptively (through the defense's gradient)",
		"train against the bare models and report the patch's success on the defended ones")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := df.check(); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *out == "":
		return usagef("--out PATCH.png is required")
	case *target == "" && !*untargeted:
		return usagef("--target LABEL is required (or --untargeted)")
	case *target != "" && *untargeted:
		return usagef("--target and --untargeted exclude each other")
	case *resume && *checkpoint == "":
		return usagef("--resume needs --checkpoint FILE")
	case *every <= 0:
		return usagef("--checkpoint-every %d must be positive", *every)
	}
	ins := append(pathsOf("--model", models), fsutil.Path{Flag: "--placement", Path: *placement}, fsutil.Path{Flag: "--palette", Path: *palette})
	ins = append(ins, images.inputs()...)
	if strings.HasSuffix(strings.ToLower(*mask), ".png") {
		ins = append(ins, fsutil.Path{Flag: "--mask", Path: *mask})
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: ins, Files: []fsutil.Path{{Flag: "--out", Path: *out}, {Flag: "--checkpoint", Path: *checkpoint}}}); err != nil {
		return err
	}
	o := patch.DefaultOptions()
	o.Target, o.Steps, o.BatchSize, o.LearningRate = *target, *steps, *batch, *lr
	o.Optimizer, o.TVWeight, o.NPSWeight, o.Seed = patch.Optimizer(*optimizer), *tv, *nps, *seed
	if o.Width, o.Height, err = parseSize(*size); err != nil {
		return usagef("--size %s: %v", *size, err)
	}
	if err := setMask(&o, *mask); err != nil {
		return err
	}
	if o.Transforms, err = tf.options(set); err != nil {
		return err
	}
	if *palette != "" {
		if o.Palette, err = imgops.LoadPalette(*palette); err != nil {
			return usagef("--palette: %v", err)
		}
	}
	if err := o.Validate(); err != nil {
		return patchError(err)
	}
	if *checkpoint != "" {
		o.CheckpointPath, o.CheckpointEvery, o.OverwriteCheckpoint = *checkpoint, *every, *force
		if *resume {
			if o.Resume, err = patch.LoadCheckpoint(*checkpoint); err != nil {
				return usagef("--resume: %v", err)
			}
		} else if !*force {
			if err := patch.CheckFreshCheckpoint(*checkpoint); err != nil {
				return usagef("--checkpoint: %v (--resume continues it, --force replaces it)", err)
			}
		}
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
	var defended []engine.Classifier
	for _, c := range classifiers {
		ws, err := df.wrap(c)
		if err != nil {
			return err
		}
		defended = append(defended, ws...)
	}
	if err := calibrateAll(ctx, env, defended, ds); err != nil {
		return err
	}
	if len(defended) > 0 && !df.nonAdaptive {
		classifiers, defended = defended, nil
	}
	noteUnlabelled(env, classifiers, ds)
	if *placement != "" {
		shape := classifiers[0].InputShape()
		pm, err := imgops.LoadPlacementMask(*placement, shape.Width, shape.Height)
		if err != nil {
			return usagef("--placement: %v", err)
		}
		o.Transforms.Placement = &pm
	}
	progress, stop := trainProgressPrinter(env, o.Steps)
	res, err := patch.Train(ctx, classifiers, ds, o, progress)
	stop()
	interrupted := interrupted(err)
	if err != nil && !interrupted || res == nil || res.Steps == 0 {
		return patchError(err)
	}
	if serr := imgops.SavePatch(*out, res.Patch, res.Meta); serr != nil {
		return serr
	}
	if interrupted {
		fmt.Fprintf(env.Stderr, "advlab patch: interrupted after step %d of %d; wrote the last patch to %s\n", res.Steps, o.Steps, *out)
	}
	rep := patchReport{
		Out: *out, Models: res.Meta.Models, Target: res.Meta.Target, Steps: res.Steps, Loss: jsonFloat(res.Loss),
		SuccessRate: jsonFloat(res.SuccessRate), Seconds: jsonFloat(res.Elapsed.Seconds()), Images: ds.Len(),
		Interrupted: interrupted, Training: res.Meta.Training,
	}
	if len(defended) > 0 && !interrupted {
		if rep.Transferred, err = patchTransfers(ctx, defended, ds, res, o); err != nil {
			return patchError(err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		goal := fmt.Sprintf("target %q", rep.Target)
		if rep.Target == "" {
			goal = "untargeted"
		}
		fmt.Fprintf(env.Stdout, "wrote %s: %d×%d %s patch, %s, against %s\n", *out, res.Patch.W, res.Patch.H, res.Patch.Mask.Shape, goal, strings.Join(rep.Models, " + "))
		fmt.Fprintf(env.Stdout, "  %d steps on %d images in %.1f s; last loss %.3f, running success rate %s\n",
			rep.Steps, rep.Images, float64(rep.Seconds), float64(rep.Loss), pct(float64(rep.SuccessRate)))
		for _, t := range rep.Transferred {
			fmt.Fprintf(env.Stdout, "  on %s (non-adaptive, scale %.3g): success rate %s\n", t.Model, float64(t.Scale), pct(float64(t.SuccessRate)))
		}
	}
	return err
}

// patchTransfers measures the trained patch on each defended model at the
// middle of the training's scale range: the success rate towards the
// target, or the untargeted error.
func patchTransfers(ctx context.Context, cs []engine.Classifier, ds *engine.Dataset, res *patch.Result, o patch.Options) ([]patchTransfer, error) {
	scale := (o.Transforms.ScaleMin + o.Transforms.ScaleMax) / 2
	tf := o.Transforms
	tf.ScaleMin, tf.ScaleMax = scale, scale
	ev, err := patch.Evaluate(ctx, cs, ds, res.Patch, patch.EvalOptions{Target: res.Meta.Target, Scales: []float64{scale},
		Transforms: tf, Seed: o.Seed + 1}, nil)
	if err != nil {
		return nil, err
	}
	var out []patchTransfer
	for _, c := range ev.Curves {
		pt := c.Points[0]
		rate := pt.SuccessRate
		if res.Meta.Target == "" {
			rate = pt.Error
		}
		out = append(out, patchTransfer{Model: c.Model, Scale: jsonFloat(scale), SuccessRate: jsonFloat(rate)})
	}
	return out, nil
}

// patchError gives an error of patch.Train or patch.Evaluate its exit
// status: the engine's rejection of the request (patch.ErrInvalidOptions)
// is a usage error, exit 2; a failure while running, such as ONNX Runtime
// failing on a batch, stays a command failure, exit 1.
func patchError(err error) error {
	if errors.Is(err, patch.ErrInvalidOptions) {
		return usagef("%v", err)
	}
	return err
}

// patchModel is what the patch commands need of a model.
type patchModel = attackModel

// openPatchModels opens every --model (none: the embedded demo model),
// through openAttackModel so that tests can substitute closed-form models,
// and returns them with a function that closes them all.
func openPatchModels(specs []string) ([]engine.Classifier, func(), error) {
	if len(specs) == 0 {
		specs = []string{""}
	}
	var opened []patchModel
	closeModels := func() {
		for _, m := range opened {
			m.Close()
		}
	}
	out := make([]engine.Classifier, 0, len(specs))
	for _, s := range specs {
		m, err := openAttackModel(s)
		if err != nil {
			closeModels()
			return nil, nil, err
		}
		opened = append(opened, m)
		out = append(out, m)
	}
	return out, closeModels, nil
}

// loadPatchImages reads --images or --labels-csv, or the embedded demo
// samples when neither is given.
func loadPatchImages(ctx context.Context, env *Env, set imageSetFlags) (*engine.Dataset, error) {
	if !set.given() {
		return engine.DefaultSamples()
	}
	return loadImageSet(ctx, env, set, 0)
}

// parseSize reads "32" or "48x32".
func parseSize(s string) (w, h int, err error) {
	a, b, two := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if w, err = strconv.Atoi(a); err != nil || w <= 0 {
		return 0, 0, errors.New("want a positive number of pixels, or WxH")
	}
	h = w
	if two {
		if h, err = strconv.Atoi(b); err != nil || h <= 0 {
			return 0, 0, errors.New("want a positive number of pixels, or WxH")
		}
	}
	return w, h, nil
}

// setMask reads --mask: a shape name or a sticker PNG.
func setMask(o *patch.Options, mask string) error {
	switch s := imgops.MaskShape(mask); s {
	case imgops.MaskCircle, imgops.MaskEllipse, imgops.MaskRect:
		o.Shape = s
		return nil
	}
	if !strings.HasSuffix(strings.ToLower(mask), ".png") {
		return usagef("--mask %s: want circle, ellipse, rect or a PNG whose alpha is the outline", mask)
	}
	img, err := imgops.LoadImage(mask)
	if err != nil {
		return usagef("--mask: %v", err)
	}
	o.Shape, o.MaskImage = imgops.MaskAlpha, img
	return nil
}

// transformFlags are the ranges of the patch's random transformations,
// shared by patch and evalpatch.
type transformFlags struct {
	scaleMode                         string
	scaleMin, scaleMax                float64
	rotation, perspective             float64
	brightness, contrast, noise, blur float64
}

func (f *transformFlags) register(pf paramFlags) {
	fs := pf.fs
	fs.StringVar(&f.scaleMode, "scale-mode", "area", "what scales measure: area (share of the image the patch covers, Brown et al.'s axis) or side (patch side over image side)")
	fs.Float64Var(&f.scaleMin, "scale-min", 0, "smallest scale drawn (default 0.05 area, 0.2 side)")
	fs.Float64Var(&f.scaleMax, "scale-max", 0, "largest scale drawn (default 0.25 area, 0.4 side)")
	pf.Float64Var(&f.rotation, "rotation")
	fs.Float64Var(&f.perspective, "perspective", 0, "largest corner displacement, a fraction of the half size in [0,1)")
	fs.Float64Var(&f.brightness, "brightness", 0, "brightness jitter: ±B added to the patch's colours")
	fs.Float64Var(&f.contrast, "contrast", 0, "contrast jitter: colours scaled by 1±C")
	fs.Float64Var(&f.noise, "noise", 0, "Gaussian noise on the patch: deviation uniform in [0, S]")
	fs.Float64Var(&f.blur, "blur", 0, "Gaussian blur of the patch: sigma uniform in [0, S] pixels")
}

// parseScaleMode reads --scale-mode.
func parseScaleMode(s string) (imgops.ScaleMode, error) {
	m, err := imgops.ParseScaleMode(s)
	if err != nil {
		return 0, usagef("--scale-mode %s: want area or side", s)
	}
	return m, nil
}

// options returns the ranges; set names the flags given.
func (f *transformFlags) options(set map[string]bool) (imgops.Options, error) {
	mode, err := parseScaleMode(f.scaleMode)
	if err != nil {
		return imgops.Options{}, err
	}
	o := imgops.Options{MaxAngleDeg: f.rotation, ScaleMode: mode, ScaleMin: 0.05, ScaleMax: 0.25,
		Perspective: f.perspective, Brightness: f.brightness, Contrast: f.contrast, NoiseStd: f.noise, BlurSigma: f.blur}
	if mode == imgops.SideFraction {
		o.ScaleMin, o.ScaleMax = 0.2, 0.4
	}
	if set["scale-min"] {
		o.ScaleMin = f.scaleMin
	}
	if set["scale-max"] {
		o.ScaleMax = f.scaleMax
	}
	if set["scale-min"] && !set["scale-max"] && o.ScaleMax < o.ScaleMin {
		o.ScaleMax = o.ScaleMin
	}
	if set["scale-max"] && !set["scale-min"] && o.ScaleMin > o.ScaleMax {
		o.ScaleMin = o.ScaleMax
	}
	if err := o.Validate(1, 1); err != nil {
		return o, usagef("%v", err)
	}
	return o, nil
}

// trainProgressPrinter returns a progress callback for patch.Train: on a
// terminal, a bar redrawn at most every 100 ms with the running success
// rate and the ETA; otherwise a plain line every twentieth of the run. The
// callback never blocks training, and the last step always reaches the
// printer (engine.Latest).
func trainProgressPrinter(env *Env, steps int) (func(patch.Progress), func()) {
	ch := make(chan patch.Progress, 1)
	done := make(chan struct{})
	every := max(1, steps/20)
	go func() {
		defer close(done)
		var last time.Time
		lastStep := 0
		for p := range ch {
			if env.Interactive {
				if time.Since(last) < 100*time.Millisecond && p.Step < p.Steps {
					continue
				}
				last = time.Now()
				const width = 24
				fill := int(math.Round(width * float64(p.Step) / float64(p.Steps)))
				fmt.Fprintf(env.Stderr, "\r[%s%s] step %d/%d  loss %.3f  success %s  ETA %s   ",
					strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.Step, p.Steps, p.Loss, pct(p.SuccessRate), humanize.Duration(p.ETA))
				continue
			}
			// Lines are due every `every` steps; a skipped update is
			// made up by the next one received, and the last always comes.
			if p.Step/every > lastStep/every || p.Step == p.Steps {
				lastStep = p.Step
				fmt.Fprintf(env.Stderr, "step %d/%d loss %.4f success %s elapsed %s eta %s\n",
					p.Step, p.Steps, p.Loss, pct(p.SuccessRate), humanize.Duration(p.Elapsed), humanize.Duration(p.ETA))
			}
		}
	}()
	stop := func() {
		close(ch)
		<-done
		if env.Interactive {
			fmt.Fprint(env.Stderr, "\r\033[K")
		}
	}
	return engine.Latest(ch), stop
}
