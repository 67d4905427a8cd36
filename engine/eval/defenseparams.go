package eval

import (
	"strconv"

	"github.com/advlab/advlab/engine/patch"
)

// DefaultDefenseImages is how many images a defense comparison measures on
// when a front-end sets none, spread over the classes: enough that a rate
// moves by a few points at most between draws, few enough that AutoAttack
// and two patches per row end in minutes on a CPU.
const DefaultDefenseImages = 64

// DefenseParams are the parameters of DefenseTable, as patch.Param
// documents patch training's, in the order a form shows them, with
// DefaultDefenseOptions' values; "limit" is DefaultDefenseImages, which a
// front-end applies to the images it hands over.
func DefenseParams() []patch.Param {
	o := DefaultDefenseOptions()
	n := func(v int) string { return strconv.Itoa(v) }
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []patch.Param{
		{Name: "eps", Label: "AutoAttack ε", Unit: "[0,1] colour units", Help: "the L∞ bound of the adaptive AutoAttack (APGD-CE, APGD-DLR, targeted APGD-DLR, Square) behind the robust accuracy", Default: g(o.Eps)},
		{Name: "steps", Label: "APGD steps", Unit: "iterations", Help: "iterations of each APGD run of AutoAttack", Default: n(o.Steps)},
		{Name: "queries", Label: "Square queries", Unit: "queries per image", Help: "the budget of AutoAttack's Square Attack", Default: n(o.Queries)},
		{Name: "area", Label: "Patch scale", Unit: "fraction of the image's area", Help: "the share of the image the targeted and the untargeted patch cover", Default: g(o.Area), Fraction: true},
		{Name: "target", Label: "Target", Help: "the targeted patch's class; without one each model's first label", Default: o.Target},
		{Name: "patch-steps", Label: "Patch steps", Unit: "optimiser steps", Help: "training steps of each patch against each row's model, defended as it is", Default: n(o.PatchSteps)},
		{Name: "patch-size", Label: "Patch size", Unit: "pixels", Help: "the patches' side, their resolution", Default: n(o.PatchSize)},
		{Name: "placements", Label: "Placements", Unit: "placements per image", Help: "random placements of a patch on every image when measuring it", Default: n(o.Placements)},
		{Name: "limit", Label: "Images", Unit: "images (0: all)", Help: "the images measured, at most, spread over the classes", Default: n(DefaultDefenseImages)},
		{Name: "batch", Label: "Batch", Unit: "images per batch", Help: "images per attack batch", Default: n(o.Batch)},
		{Name: "seed", Label: "Seed", Help: "fixes the attacks, the patches and their placements", Default: strconv.FormatUint(o.Seed, 10)},
	}
}
