package patch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// defaultDistractorScale is the distractor's side over the image's shorter
// side when EvalOptions.DistractorScale is 0.
const defaultDistractorScale = 0.3

// distractorTries bounds the random draws of a distractor's place before a
// placement goes without one (the patch leaves no room).
const distractorTries = 64

// distractorSet is the distractors of one model: the images as square
// patches of the model's input scale and their classes in its labels.
type distractorSet struct {
	patches []*imgops.Patch
	classes []int
	side    int
}

// newDistractorSet keeps the distractors whose class is one of c's labels,
// each resized to a square of scale times the shorter side of c's input.
func newDistractorSet(c engine.Classifier, data *engine.Dataset, scale float64) (*distractorSet, error) {
	shape := c.InputShape()
	labels, err := data.LabelsFor(c.Labels())
	if err != nil {
		return nil, fmt.Errorf("distractors for %s: %w", c.Name(), err)
	}
	side := max(1, int(math.Round(scale*float64(min(shape.Width, shape.Height)))))
	ds := &distractorSet{side: side}
	mask := imgops.RectMask(side, side)
	for i, it := range data.Items {
		if labels[i] < 0 || it.Image == nil {
			continue
		}
		ds.patches = append(ds.patches, imgops.NewPatchFromImage(it.Image, mask))
		ds.classes = append(ds.classes, labels[i])
	}
	if len(ds.patches) == 0 {
		return nil, fmt.Errorf("distractors for %s: no distractor's class folder names one of its labels; file them as DIR/<label>/<image>", c.Name())
	}
	return ds, nil
}

// place draws a distractor whose class is neither the image's truth nor
// the target, and a centre where its square does not meet the footprint of
// the patch placed by t; ok is false when none was found.
func (ds *distractorSet) place(r *rand.Rand, t imgops.Transform, pw, ph, w, h, truth, target int) (k int, dt imgops.Transform, ok bool) {
	for range distractorTries {
		k = r.IntN(len(ds.patches))
		if c := ds.classes[k]; c != truth && c != target {
			ok = true
			break
		}
	}
	if !ok {
		return -1, dt, false
	}
	minX, minY, maxX, maxY := t.Footprint(pw, ph)
	half := float64(ds.side) / 2
	lo, hiX, hiY := half, float64(w)-half, float64(h)-half
	if hiX < lo || hiY < lo {
		return -1, dt, false
	}
	for range distractorTries {
		cx, cy := lo+r.Float64()*(hiX-lo), lo+r.Float64()*(hiY-lo)
		// The distractor's square, grown by the bilinear reach of half a
		// pixel, must miss the patch's footprint along one axis.
		if cx+half+0.5 <= minX || cx-half-0.5 >= maxX || cy+half+0.5 <= minY || cy-half-0.5 >= maxY {
			return k, imgops.Transform{Scale: 1, CX: cx, CY: cy}, true
		}
	}
	return -1, dt, false
}

// validateDistractors checks the distractor options before any work.
func (o *EvalOptions) validateDistractors() error {
	if s := o.DistractorScale; !(s >= 0 && s < 1) {
		return fmt.Errorf("distractor scale %v: want a fraction of the image's side in (0, 1)", s)
	}
	if o.Distractors != nil && o.Distractors.Len() == 0 {
		return errors.New("the distractor set has no image")
	}
	return nil
}

// measureDistractors pastes each item's distractor (dk[j] < 0: none) into
// a copy of the batch, classifies it with the patch and with the control
// through classify, and adds the outcomes to ct.
func (em *evalModel) measureDistractors(dcp *imgops.Composition, batch []float32, items, dk []int, dts []imgops.Transform,
	classify func(*imgops.Patch, []float32) ([]int, error), p, control *imgops.Patch, ct *trialCounts) error {
	size := em.shape.Size()
	c, h, w := em.shape.Channels, em.shape.Height, em.shape.Width
	x := append([]float32(nil), batch...)
	for j, k := range dk {
		if k < 0 {
			continue
		}
		img := x[j*size : (j+1)*size]
		if err := dcp.Apply(em.distractors.patches[k], img, 1, c, h, w, dts[j:j+1]); err != nil {
			return fmt.Errorf("pasting a distractor: %w", err)
		}
		copy(img, dcp.Images)
	}
	for pass, q := range []*imgops.Patch{p, control} {
		pred, err := classify(q, x)
		if err != nil {
			return err
		}
		for j, i := range items {
			k := dk[j]
			if k < 0 {
				continue
			}
			named := pred[j] == em.distractors.classes[k]
			if pass == 1 {
				ct.cdNamed += b2i(named)
				continue
			}
			ct.placed++
			ct.dNamed += b2i(named)
			if y := em.truth(i); em.target >= 0 && y != em.target {
				ct.dTrials++
				ct.dHits += b2i(pred[j] == em.target)
			}
		}
	}
	return nil
}
