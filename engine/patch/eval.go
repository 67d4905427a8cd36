package patch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// EvalOptions configures Evaluate.
type EvalOptions struct {
	// Target is the label the patch aims for, matched to each model's
	// labels; "" measures only the untargeted error.
	Target string
	// Scales are the patch sizes to measure, each a fraction in (0,1] of
	// the quantity Transforms.ScaleMode names: the image's area the mask
	// covers (Brown et al.'s axis) or the patch's longer side over the
	// image's shorter side.
	Scales []float64
	// Transforms are the ranges the other parameters of every placement are
	// drawn from (rotation, location, jitter, placement mask); their scale
	// range is replaced by each scale in turn.
	Transforms imgops.Options
	// Placements is the number of random transformations per image and
	// scale (default 4).
	Placements int
	// Control is the comparison patch Brown et al. measure beside the
	// adversarial one (a photograph of the target class, say); nil means
	// uniform noise of the patch's size and mask.
	Control *imgops.Patch
	// Seed fixes the transformations; the patch and the control see the
	// same ones.
	Seed uint64
	// BatchSize is the number of images per forward run (default 64).
	BatchSize int
	// Attention, when not nil, also measures where each model looks on the
	// patched images: the attribution map of each placement's predicted
	// class, by this method (its Classes are ignored), and the share of its
	// mass inside the patch against the patch's share of the image, averaged
	// over the placements, for the patch and for the control.
	Attention *saliency.Options
	// Distractors, when not nil, are real objects filed by class: every
	// placement is also measured with one of them (of a class neither the
	// image's nor the target) pasted where it does not meet the patch, and
	// the points report how often the patch still wins and how often the
	// model names the object instead.
	Distractors *engine.Dataset
	// DistractorScale is the distractor's side over the image's shorter
	// side (default 0.3).
	DistractorScale float64
	// Sweep, when not nil, varies one transformation at the single scale
	// of Scales: the curves have one point per value instead of per scale.
	Sweep *Sweep
}

// EvalPoint is one model's outcome at one scale. Rates a run cannot
// measure (targeted ones without a target) are NaN, and null in JSON.
type EvalPoint struct {
	// Scale is the scale as given, in the report's ScaleMode.
	Scale float64
	// AreaFraction and SideFraction are the same size in both measures.
	AreaFraction, SideFraction float64
	// SuccessRate is the share of placements on images not of the target
	// class (by their folder, or their clean prediction where unlabelled)
	// classified as the target; ControlSuccessRate the same for the
	// control patch.
	SuccessRate, ControlSuccessRate float64
	// Error is the share of placements classified as anything but the
	// image's true class (untargeted success); ControlError the same for
	// the control patch.
	Error, ControlError float64
	// Trials counts the placements behind the targeted rates; Placements
	// those behind the errors.
	Trials, Placements int
	// Attention and ControlAttention are the mean attribution shares inside
	// the patch and the control (EvalOptions.Attention), or nil.
	Attention, ControlAttention *saliency.Share
	// Attracted and ControlAttracted are the shares of placements whose
	// attribution mass inside the patch (the control) exceeds its share of
	// the image: on how many images it attracts the network's attention.
	// NaN without EvalOptions.Attention.
	Attracted, ControlAttracted float64
	// Value is the swept transformation's value (EvalOptions.Sweep), or nil.
	Value *float64
	// DistractorSuccessRate is SuccessRate over the placements that also
	// got a distractor; DistractorNamed the share of those classified as
	// the distractor's class, and ControlDistractorNamed the same with the
	// control patch: how often the object beats the patch. NaN without
	// distractors.
	DistractorSuccessRate, DistractorNamed, ControlDistractorNamed float64
	// DistractorPlacements counts the placements that got a distractor
	// (the patch may leave no room for one).
	DistractorPlacements int
}

// MarshalJSON writes the point with snake_case keys and NaN as null.
func (p EvalPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scale              float64         `json:"scale"`
		AreaFraction       float64         `json:"area_fraction"`
		SideFraction       float64         `json:"side_fraction"`
		SuccessRate        *float64        `json:"success_rate"`
		ControlSuccessRate *float64        `json:"control_success_rate"`
		Error              *float64        `json:"error"`
		ControlError       *float64        `json:"control_error"`
		Trials             int             `json:"trials"`
		Placements         int             `json:"placements"`
		Attention          *saliency.Share `json:"attention,omitempty"`
		ControlAttention   *saliency.Share `json:"control_attention,omitempty"`
		Attracted          *float64        `json:"attention_attracted,omitempty"`
		ControlAttracted   *float64        `json:"control_attention_attracted,omitempty"`
		Value              *float64        `json:"value,omitempty"`
		DistractorSuccess  *float64        `json:"distractor_success_rate,omitempty"`
		DistractorNamed    *float64        `json:"distractor_named,omitempty"`
		ControlDistNamed   *float64        `json:"control_distractor_named,omitempty"`
		DistractorPlaced   int             `json:"distractor_placements,omitempty"`
	}{p.Scale, p.AreaFraction, p.SideFraction, nullable(p.SuccessRate), nullable(p.ControlSuccessRate),
		nullable(p.Error), nullable(p.ControlError), p.Trials, p.Placements, p.Attention, p.ControlAttention,
		nullable(p.Attracted), nullable(p.ControlAttracted),
		p.Value, nullable(p.DistractorSuccessRate), nullable(p.DistractorNamed), nullable(p.ControlDistractorNamed),
		p.DistractorPlacements})
}

func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// EvalCurve is one model's success rate against scale: a curve of
// Brown et al.'s Figure 2.
type EvalCurve struct {
	Model string `json:"model"`
	// Target is the target's label in this model ("" untargeted).
	Target string `json:"target,omitempty"`
	// CleanAccuracy is the model's accuracy on the unpatched images.
	CleanAccuracy float64     `json:"clean_accuracy"`
	Points        []EvalPoint `json:"points"`
}

// EvalReport is Evaluate's outcome.
type EvalReport struct {
	Target      string  `json:"target,omitempty"`
	ScaleMode   string  `json:"scale_mode"`
	MaxAngleDeg float64 `json:"max_angle_deg"`
	Images      int     `json:"images"`
	Placements  int     `json:"placements_per_image"`
	Control     string  `json:"control"`
	// Attention is the attribution method behind the points' attention
	// shares, or "".
	Attention string `json:"attention,omitempty"`
	// Sweep is the swept transformation (EvalOptions.Sweep), or "".
	Sweep SweepKind `json:"sweep,omitempty"`
	// Distractors is the number of distractor images, or 0.
	Distractors int         `json:"distractors,omitempty"`
	Curves      []EvalCurve `json:"curves"`
}

// WriteCSV writes one row per model and scale, with a header.
func (r *EvalReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(r.csvHeader())
	r.writeRows(cw)
	cw.Flush()
	return cw.Error()
}

// csvHeader is the header of WriteCSV's rows.
func (r *EvalReport) csvHeader() []string {
	header := []string{"model", "target", "scale_mode", "scale", "area_fraction", "side_fraction",
		"success_rate", "control_success_rate", "error", "control_error", "trials", "placements"}
	if r.Attention != "" {
		header = append(header, "attention_mass", "attention_area", "attention_ratio",
			"control_attention_mass", "control_attention_area", "control_attention_ratio",
			"attention_attracted", "control_attention_attracted")
	}
	if r.Sweep != "" {
		header = append(header, "sweep", "value")
	}
	if r.Distractors > 0 {
		header = append(header, "distractor_success_rate", "distractor_named", "control_distractor_named", "distractor_placements")
	}
	return header
}

// writeRows writes WriteCSV's rows, each after the columns of prefix.
func (r *EvalReport) writeRows(cw *csv.Writer, prefix ...string) {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, c := range r.Curves {
		for _, p := range c.Points {
			row := append(append([]string(nil), prefix...), c.Model, c.Target, r.ScaleMode, f(p.Scale), f(p.AreaFraction), f(p.SideFraction),
				f(p.SuccessRate), f(p.ControlSuccessRate), f(p.Error), f(p.ControlError),
				strconv.Itoa(p.Trials), strconv.Itoa(p.Placements))
			if r.Attention != "" {
				for _, a := range []*saliency.Share{p.Attention, p.ControlAttention} {
					if a == nil {
						a = &saliency.Share{Mass: math.NaN(), Area: math.NaN()}
					}
					row = append(row, f(a.Mass), f(a.Area), f(a.Ratio()))
				}
				row = append(row, f(p.Attracted), f(p.ControlAttracted))
			}
			if r.Sweep != "" {
				v := math.NaN()
				if p.Value != nil {
					v = *p.Value
				}
				row = append(row, string(r.Sweep), f(v))
			}
			if r.Distractors > 0 {
				row = append(row, f(p.DistractorSuccessRate), f(p.DistractorNamed), f(p.ControlDistractorNamed),
					strconv.Itoa(p.DistractorPlacements))
			}
			cw.Write(row)
		}
	}
}

// Validate checks the options before any work. Its errors match
// ErrInvalidOptions.
func (o *EvalOptions) Validate() error { return invalid(o.validate()) }

func (o *EvalOptions) validate() error {
	if len(o.Scales) == 0 {
		return errors.New("no scale to measure")
	}
	for _, s := range o.Scales {
		if !(s > 0 && s <= 1) {
			return fmt.Errorf("scale %v: want a fraction in (0, 1]", s)
		}
	}
	if o.Placements < 0 {
		return fmt.Errorf("placements %d: want a positive number", o.Placements)
	}
	if o.BatchSize < 0 {
		return fmt.Errorf("batch size %d: want a positive number", o.BatchSize)
	}
	if a := o.Attention; a != nil && a.Method != "" {
		if _, err := saliency.ParseMethod(string(a.Method)); err != nil {
			return err
		}
	}
	if o.Sweep != nil {
		if len(o.Scales) != 1 {
			return fmt.Errorf("a sweep measures at one scale; got %d", len(o.Scales))
		}
		if err := o.Sweep.validate(); err != nil {
			return err
		}
	}
	return o.validateDistractors()
}

// Evaluate measures patch p on every model over the images of data: at
// each scale, every image gets Placements random transformations (rotation,
// location and jitter from opts.Transforms, at exactly that scale) and is
// classified with p composed in, and with the control patch composed in the
// same way. It reports the targeted success rate and the untargeted error
// for both. Options, target and labels are checked before any model runs,
// and what they reject matches ErrInvalidOptions;
// progress, when not nil, gets the completed fraction and must not block.
func Evaluate(ctx context.Context, models []engine.Classifier, data *engine.Dataset, p *imgops.Patch, opts EvalOptions, progress func(float64)) (*EvalReport, error) {
	o, def := opts, DefaultEvalOptions()
	if o.Placements == 0 {
		o.Placements = def.Placements
	}
	if o.BatchSize == 0 {
		o.BatchSize = def.BatchSize
	}
	if o.DistractorScale == 0 {
		o.DistractorScale = def.DistractorScale
	}
	if err := o.Validate(); err != nil {
		return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
	}
	if o.Attention != nil { // a copy, its method by its canonical name
		a := *o.Attention
		if a.Method != "" {
			a.Method, _ = saliency.ParseMethod(string(a.Method))
		}
		o.Attention = &a
	}
	if len(models) == 0 {
		return nil, invalid(errors.New("patch evaluation: no model given"))
	}
	if data == nil || data.Len() == 0 {
		return nil, invalid(fmt.Errorf("patch evaluation: %w to evaluate on", engine.ErrNoImages))
	}
	if err := p.Validate(); err != nil {
		return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
	}
	shapes := make([]engine.ImageShape, len(models))
	for i, c := range models {
		shapes[i] = c.InputShape()
	}
	if err := checkEvalMemory(p.W, p.H, data.Len(), o.BatchSize, shapes); err != nil {
		return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
	}
	control, controlName := o.Control, "photo"
	if control == nil {
		control, controlName = imgops.NewNoisePatch(p.Mask, o.Seed^0x5eed), "noise"
	} else if control.W != p.W || control.H != p.H || control.Validate() != nil {
		return nil, invalid(fmt.Errorf("patch evaluation: the control patch is %d×%d; want the patch's %d×%d", control.W, control.H, p.W, p.H))
	}
	evals := make([]*evalModel, len(models))
	for i, c := range models {
		em, err := newEvalModel(c, data, o.Target)
		if err != nil {
			return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
		}
		tr := o.Transforms
		tr.ScaleMin, tr.ScaleMax = o.Scales[0], o.Scales[0]
		if _, err := imgops.NewSampler(0, p, em.shape.Width, em.shape.Height, &tr); err != nil {
			return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
		}
		if a := o.Attention; a != nil && a.Method == saliency.GradCAM {
			if _, ok := c.(engine.FeatureGradienter); !ok {
				return nil, invalid(fmt.Errorf("patch evaluation: %s cannot differentiate an internal feature map; measure Grad-CAM's attention on an ONNX model, or pick another method", c.Name()))
			}
		}
		if o.Distractors != nil {
			if em.distractors, err = newDistractorSet(c, o.Distractors, o.DistractorScale); err != nil {
				return nil, invalid(fmt.Errorf("patch evaluation: %w", err))
			}
		}
		evals[i] = em
	}
	rep := &EvalReport{
		Target: o.Target, ScaleMode: o.Transforms.ScaleMode.String(), MaxAngleDeg: o.Transforms.MaxAngleDeg,
		Images: data.Len(), Placements: o.Placements, Control: controlName,
	}
	steps := make([]measureStep, len(o.Scales))
	for si, sc := range o.Scales {
		steps[si] = measureStep{scale: sc, seedIndex: si}
	}
	if sw := o.Sweep; sw != nil {
		rep.Sweep = sw.Kind
		steps = steps[:0]
		for _, v := range sw.Values {
			steps = append(steps, measureStep{scale: o.Scales[0], kind: sw.Kind, value: v})
		}
	}
	if o.Distractors != nil {
		rep.Distractors = o.Distractors.Len()
	}
	if o.Attention != nil {
		rep.Attention = string(o.Attention.Method)
		if rep.Attention == "" {
			rep.Attention = string(saliency.Gradient)
		}
	}
	total := float64(len(models) * (len(steps) + 1))
	done := 0.0
	report := func() {
		done++
		if progress != nil {
			progress(done / total)
		}
	}
	for _, em := range evals {
		clean, err := em.predict(ctx, em.x, data.Len(), o.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("patch evaluation: %w", err)
		}
		em.clean = clean
		curve := EvalCurve{Model: em.c.Name(), CleanAccuracy: em.accuracy()}
		if em.target >= 0 {
			curve.Target = em.c.Labels()[em.target]
		}
		report()
		for _, st := range steps {
			pt, err := em.measure(ctx, p, control, st, &o)
			if err != nil {
				return nil, fmt.Errorf("patch evaluation: %w", err)
			}
			curve.Points = append(curve.Points, pt)
			report()
		}
		rep.Curves = append(rep.Curves, curve)
	}
	return rep, nil
}

// evalModel is one model under evaluation with its images.
type evalModel struct {
	patchSubject
	clean       []int // clean predictions
	distractors *distractorSet
}

func newEvalModel(c engine.Classifier, data *engine.Dataset, target string) (*evalModel, error) {
	subject, err := newPatchSubject(c, data, target)
	if err != nil {
		return nil, err
	}
	return &evalModel{patchSubject: subject}, nil
}

// truth returns image i's true class, or its clean prediction when unlabelled.
func (em *evalModel) truth(i int) int {
	if em.labels[i] >= 0 {
		return em.labels[i]
	}
	return em.clean[i]
}

// accuracy is the clean accuracy over the labelled images.
func (em *evalModel) accuracy() float64 {
	var ok, n int
	for i, l := range em.labels {
		if l >= 0 {
			n++
			if em.clean[i] == l {
				ok++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(ok) / float64(n)
}

// predict returns the top-1 classes of n images, in batches.
func (em *evalModel) predict(ctx context.Context, x []float32, n, batch int) ([]int, error) {
	size := em.shape.Size()
	out := make([]int, 0, n)
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, n)
		z, err := em.c.Logits(ctx, x[lo*size:hi*size], hi-lo)
		if err != nil {
			return nil, err
		}
		for i := 0; i < hi-lo; i++ {
			out = append(out, engine.Argmax(z[i*em.k:(i+1)*em.k]))
		}
	}
	return out, nil
}

// attentionShares explains each patched image's predicted class and
// returns the share of each map inside the patch's coverage.
func attentionShares(ctx context.Context, c engine.Classifier, images []float32, pred []int, cov []float32, opt saliency.Options) ([]saliency.Share, error) {
	opt.Classes = pred
	r, err := saliency.Explain(ctx, c, images, len(pred), &opt)
	if err != nil {
		return nil, err
	}
	hw := r.Shape.Height * r.Shape.Width
	out := make([]saliency.Share, len(pred))
	for j := range pred {
		if out[j], err = saliency.RegionShare(r.Map(j), cov[j*hw:(j+1)*hw]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}
