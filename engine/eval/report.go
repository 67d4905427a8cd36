package eval

import (
	"context"
	"math"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
)

// evaluate builds the report of adversarials adv (n images at the source's
// size) with the engine's samples, if any.
func evaluate(ctx context.Context, method string, adv []float32, samples []attack.SampleResult, models []Model, src, target int, opts *Options) (*Report, error) {
	s := models[src]
	shape := s.Classifier.InputShape()
	size := shape.Size()
	n := len(adv) / size
	round := RoundTrip
	if opts != nil && opts.Round != nil {
		round = opts.Round
	}
	rounded, err := round(adv, shape)
	if err != nil {
		return nil, err
	}
	rep := &Report{Method: method, Source: src, Target: target, Shape: shape, Adversarial: adv, Rounded: rounded,
		Images: make([]Image, n), Models: make([]Summary, len(models))}
	targetName := ""
	if target >= 0 && target < len(s.Classifier.Labels()) {
		targetName = s.Classifier.Labels()[target]
	}
	batch := opts.batch()
	for j, m := range models {
		if err := rep.evaluateOn(ctx, j, m, targetName, batch); err != nil {
			return nil, err
		}
	}
	for i := range rep.Images {
		im := &rep.Images[i]
		x0, x, xr := s.Images[i*size:(i+1)*size], adv[i*size:(i+1)*size], rounded[i*size:(i+1)*size]
		im.L2, im.Linf = distance(x, x0)
		im.RoundedL2, im.RoundedLinf = distance(xr, x0)
		im.RMS, im.RoundedRMS = im.L2/math.Sqrt(float64(size)), im.RoundedL2/math.Sqrt(float64(size))
		on := im.On[src]
		if i < len(samples) {
			im.Attack = samples[i]
			im.Success, im.Skipped = samples[i].Success, samples[i].Skipped
		} else {
			im.Success, im.Skipped = on.Fooled, on.CleanMet
		}
	}
	var attacked, ok, okRounded, queries int
	for _, im := range rep.Images {
		queries += im.Attack.Queries
		if im.Skipped {
			continue
		}
		attacked++
		if im.Success {
			ok++
		}
		if im.On[src].FooledRounded {
			okRounded++
		}
	}
	rep.Attacked = attacked
	rep.AttackSuccessRate, rep.RoundedSuccessRate = Rate(ok, attacked), Rate(okRounded, attacked)
	rep.MeanQueries = Rate(queries, n)
	rep.Successful = stats(rep.Images, func(im Image) bool { return !im.Skipped && im.Success }, false)
	rep.RoundedSuccessful = stats(rep.Images, func(im Image) bool { return !im.Skipped && im.On[src].FooledRounded }, true)
	rep.All = stats(rep.Images, func(Image) bool { return true }, false)
	return rep, nil
}

// evaluateOn classifies the clean, adversarial and rounded images with
// model j and fills its outcomes and summary. A model of another input size
// sees the adversarials through an 8-bit image and a resize.
func (rep *Report) evaluateOn(ctx context.Context, j int, m Model, targetName string, batch int) error {
	n := len(rep.Images)
	c := m.Classifier
	shape, k := c.InputShape(), len(c.Labels())
	reject := engine.RejectClass(c)
	clean, err := Classify(ctx, c, m.Images, n, batch)
	if err != nil {
		return err
	}
	sum := Summary{Model: c.Name(), Resized: shape != rep.Shape}
	var adv, rounded []float32
	if sum.Resized {
		x, err := Resize(rep.Rounded, rep.Shape, shape)
		if err != nil {
			return err
		}
		if adv, err = Classify(ctx, c, x, n, batch); err != nil {
			return err
		}
		rounded = adv
	} else {
		if adv, err = Classify(ctx, c, rep.Adversarial, n, batch); err != nil {
			return err
		}
		if rounded, err = Classify(ctx, c, rep.Rounded, n, batch); err != nil {
			return err
		}
	}
	tgt := -1
	if targetName != "" {
		if t, err := engine.ClassIndex(c.Labels(), targetName); err == nil {
			tgt = t
		}
	}
	var cleanOK, advOK, roundOK, hit, hitRounded int
	for i := 0; i < n; i++ {
		o := Outcome{Label: m.Labels[i], Target: tgt,
			CleanLogits: clean[i*k : (i+1)*k], AdvLogits: adv[i*k : (i+1)*k], RoundedLogits: rounded[i*k : (i+1)*k]}
		o.Clean, o.Adversarial, o.Rounded = engine.Argmax(o.CleanLogits), engine.Argmax(o.AdvLogits), engine.Argmax(o.RoundedLogits)
		if o.Label >= 0 {
			sum.Labelled++
			cleanOK += b2i(o.Clean == o.Label)
			advOK += b2i(o.Adversarial == o.Label)
			roundOK += b2i(o.Rounded == o.Label)
		} else {
			o.Label = o.Clean
		}
		meets := func(p int) bool {
			if p == reject {
				return false // a detector's rejection foils any goal
			}
			if o.Target >= 0 {
				return p == o.Target
			}
			return p != o.Label
		}
		o.CleanMet, o.Fooled, o.FooledRounded = meets(o.Clean), meets(o.Adversarial), meets(o.Rounded)
		if !o.CleanMet {
			sum.Eligible++
			hit += b2i(o.Fooled)
			hitRounded += b2i(o.FooledRounded)
		}
		if rep.Images[i].On == nil {
			rep.Images[i].On = make([]Outcome, len(rep.Models))
		}
		rep.Images[i].On[j] = o
	}
	sum.CleanAccuracy, sum.AdversarialAccuracy, sum.RoundedAccuracy = Rate(cleanOK, sum.Labelled), Rate(advOK, sum.Labelled), Rate(roundOK, sum.Labelled)
	sum.SuccessRate, sum.RoundedSuccessRate = Rate(hit, sum.Eligible), Rate(hitRounded, sum.Eligible)
	rep.Models[j] = sum
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
