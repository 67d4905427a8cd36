package patch

import (
	"strconv"
	"strings"

	"github.com/advlab/advlab/imgops"
)

// Param documents one parameter of patch training or evaluation for a
// front-end's flag or form field. Default is read from DefaultOptions or
// DefaultEvalOptions, so that what a front-end says cannot drift from what
// the engine does.
type Param struct {
	// Name is the parameter as a command-line flag spells it ("scale-min").
	Name string
	// Label is its name in a form ("Smallest scale").
	Label string
	// Unit says what the number counts, if anything.
	Unit string
	// Help is one line saying what the parameter does.
	Help string
	// Default is the default value as text in Unit ("" for none).
	Default string
	// Fraction is true for a fraction in (0,1] that a form may show as a
	// percentage.
	Fraction bool
}

// DefaultEvalOptions returns the options Evaluate measures with when a
// front-end sets nothing: scales of 10 to 50% of the image's area,
// imgops.DefaultOptions' rotation of ±22.5°, 4 placements per image and
// scale, batches of 64, a distractor of 0.3 of the shorter side, seed 0.
func DefaultEvalOptions() EvalOptions {
	t := imgops.DefaultOptions()
	return EvalOptions{
		Scales: []float64{0.1, 0.2, 0.3, 0.4, 0.5}, Transforms: t,
		Placements: 4, BatchSize: 64, DistractorScale: defaultDistractorScale,
	}
}

// TrainParams are the parameters of Train, in the order a form shows them,
// with DefaultOptions' values.
func TrainParams() []Param {
	o := DefaultOptions()
	t := o.Transforms
	return []Param{
		{Name: "target", Label: "Target class", Help: "the class every patched image should be classified as; without one the patch only pushes images away from their true class (untargeted)", Default: o.Target},
		{Name: "model", Label: "Models", Help: "the models the patch is trained against; several form an ensemble whose losses are averaged, for a patch that transfers", Default: "one model"},
		{Name: "mask", Label: "Mask", Help: "the patch's outline: circle, ellipse, rect, or the transparency of a PNG (a sticker's shape)", Default: string(o.Shape)},
		{Name: "size", Label: "Patch size", Unit: "pixels", Help: "the patch's side, its resolution; the scale range sets how large it appears in an image", Default: num(float64(o.Width))},
		{Name: "rotation", Label: "Rotation range", Unit: "degrees", Help: "every placement rotates the patch by an angle drawn uniformly in ±this", Default: num(t.MaxAngleDeg)},
		{Name: "scale-min", Label: "Smallest scale", Unit: "fraction of the image's area", Help: "the smallest share of the image a placed patch covers", Default: num(t.ScaleMin), Fraction: true},
		{Name: "scale-max", Label: "Largest scale", Unit: "fraction of the image's area", Help: "the largest share of the image a placed patch covers", Default: num(t.ScaleMax), Fraction: true},
		{Name: "steps", Label: "Steps", Unit: "optimiser steps", Help: "how many updates of the patch training makes", Default: num(float64(o.Steps))},
		{Name: "batch", Label: "Batch", Unit: "images per step", Help: "images drawn (with replacement) for each step, each with its own random transformation", Default: num(float64(o.BatchSize))},
		{Name: "lr", Label: "Learning rate", Unit: "[0,1] colour units", Help: "the optimiser's step size (" + string(o.Optimizer) + ")", Default: num(o.LearningRate)},
		{Name: "optimizer", Label: "Optimiser", Help: "adam, or sign (signed gradient steps)", Default: string(o.Optimizer)},
		{Name: "tv", Label: "TV weight", Help: "weight of the total variation per patch pixel, which smooths the patch for printing", Default: num(o.TVWeight)},
		{Name: "nps", Label: "NPS weight", Help: "weight of the non-printability score (Sharif et al.) per patch pixel, which pulls colours to printable ones; try 1e3 to 1e4", Default: num(o.NPSWeight)},
		{Name: "seed", Label: "Seed", Help: "fixes batches and transformations: the same seed and options give the same patch", Default: strconv.FormatUint(o.Seed, 10)},
	}
}

// EvalParams are the parameters of Evaluate, in the order a form shows
// them, with DefaultEvalOptions' values. A form that asks for a range of
// scales reads scale-min, scale-max and scales (their number).
func EvalParams() []Param {
	o := DefaultEvalOptions()
	lo, hi := o.Scales[0], o.Scales[len(o.Scales)-1]
	return []Param{
		{Name: "target", Label: "Target", Help: "the label the patch aims for; without one only the untargeted error (the top class changed) is measured", Default: o.Target},
		{Name: "scale-min", Label: "Smallest scale", Unit: "fraction of the image's area", Help: "the smallest patch size measured", Default: num(lo), Fraction: true},
		{Name: "scale-max", Label: "Largest scale", Unit: "fraction of the image's area", Help: "the largest patch size measured", Default: num(hi), Fraction: true},
		{Name: "scales", Label: "Scales", Unit: "points", Help: "how many patch sizes are measured between the smallest and the largest", Default: num(float64(len(o.Scales)))},
		{Name: "placements", Label: "Placements", Unit: "placements per image and scale", Help: "random placements (location and rotation) of the patch on every image at every scale", Default: num(float64(o.Placements))},
		{Name: "rotation", Label: "Rotation range", Unit: "degrees", Help: "every placement rotates the patch by an angle drawn uniformly in ±this", Default: num(o.Transforms.MaxAngleDeg)},
		{Name: "seed", Label: "Seed", Help: "fixes the placements; the patch and its noise control see the same ones", Default: strconv.FormatUint(o.Seed, 10)},
		{Name: "distractor-scale", Label: "Distractor scale", Unit: "fraction of the image's shorter side", Help: "the side of the real object pasted beside the patch", Default: num(o.DistractorScale)},
	}
}

// DefaultSweepKind is the sweep a form offers first: a camera off the
// patch's axis, the condition a printed patch meets most.
const DefaultSweepKind = SweepTilt

// DefaultSweepScale is the patch's share of the image's area at which a
// sweep measures when a front-end sets none: mid-range of
// DefaultEvalOptions' scales, where the plain success is neither 0 nor 1.
const DefaultSweepScale = 0.2

// SweepParams are the parameters of a sweep, in the order a form shows
// them; the values' unit and default are those of kind k (the kind's
// default is DefaultSweepKind whatever k is).
func SweepParams(k SweepKind) []Param {
	kinds := make([]string, len(SweepKinds))
	for i, sk := range SweepKinds {
		kinds[i] = string(sk)
	}
	vals := make([]string, len(k.DefaultValues()))
	for i, v := range k.DefaultValues() {
		vals[i] = num(v)
	}
	return []Param{
		{Name: "sweep", Label: "Sweep", Help: "the one transformation varied at one scale, every value on the same placements: " + strings.Join(kinds, ", "), Default: string(DefaultSweepKind)},
		{Name: "sweep-values", Label: "Values", Unit: k.Unit(), Help: "the values measured, comma-separated; the identity (0, none for jpeg) is the plain evaluation at that scale", Default: strings.Join(vals, ", ")},
		{Name: "sweep-scale", Label: "At scale", Unit: "fraction of the image's area", Help: "the one patch size every value is measured at", Default: num(DefaultSweepScale), Fraction: true},
	}
}

// LookupParam returns the parameter of ps named name.
func LookupParam(ps []Param, name string) (Param, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
