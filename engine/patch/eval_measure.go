package patch

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// measureStep is one point of a curve: a scale, the index seeding its
// placements, and the swept transformation's value when kind is set.
type measureStep struct {
	scale     float64
	seedIndex int
	kind      SweepKind
	value     float64
}

// trialCounts are the tallies behind one point.
type trialCounts struct {
	hits, chits, errs, cerrs int
	dTrials, dHits, dNamed   int
	cdNamed, placed          int
}

// measure evaluates the patch and the control at one step.
func (em *evalModel) measure(ctx context.Context, p, control *imgops.Patch, st measureStep, o *EvalOptions) (EvalPoint, error) {
	tr := o.Transforms
	tr.ScaleMin, tr.ScaleMax = st.scale, st.scale
	w, h, c := em.shape.Width, em.shape.Height, em.shape.Channels
	seed := splitmix64(o.Seed ^ splitmix64(uint64(st.seedIndex)+1))
	s, err := imgops.NewSampler(seed, p, w, h, &tr)
	if err != nil {
		return EvalPoint{}, err
	}
	drng := rand.New(rand.NewPCG(seed, 0xd157))
	n := len(em.labels)
	size := em.shape.Size()
	pt := EvalPoint{Scale: st.scale}
	if st.kind != "" {
		v := st.value
		pt.Value = &v
	}
	// The scale in both measures, from the transformation itself.
	t0 := s.Next()
	pt.AreaFraction = t0.Scale * t0.Scale * p.Mask.Area() / float64(w*h)
	pt.SideFraction = t0.Scale * float64(max(p.W, p.H)) / float64(min(w, h))
	var ct trialCounts
	var shares [2][]saliency.Share // patch, control
	var cp, dcp imgops.Composition
	batch := make([]float32, 0, o.BatchSize*size)
	var items, dk []int
	var ts, dts []imgops.Transform
	classify := func(q *imgops.Patch, x []float32) ([]int, error) {
		if err := cp.Apply(q, x, len(items), c, h, w, ts); err != nil {
			return nil, err
		}
		if st.kind == SweepJPEG {
			if err := compressJPEG(cp.Images, len(items), c, h, w, int(st.value)); err != nil {
				return nil, err
			}
		}
		return em.predict(ctx, cp.Images, len(items), len(items))
	}
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		var cov []float32
		if o.Attention != nil {
			var err error
			if cov, err = saliency.Coverage(p, h, w, ts); err != nil {
				return err
			}
		}
		for pass, q := range []*imgops.Patch{p, control} {
			pred, err := classify(q, batch)
			if err != nil {
				return err
			}
			if cov != nil {
				s, err := attentionShares(ctx, em.c, cp.Images, pred, cov, *o.Attention)
				if err != nil {
					return err
				}
				shares[pass] = append(shares[pass], s...)
			}
			for j, i := range items {
				y := em.truth(i)
				hit := em.target >= 0 && y != em.target && pred[j] == em.target
				miss := pred[j] != y
				if pass == 0 {
					ct.hits, ct.errs = ct.hits+b2i(hit), ct.errs+b2i(miss)
				} else {
					ct.chits, ct.cerrs = ct.chits+b2i(hit), ct.cerrs+b2i(miss)
				}
			}
		}
		if em.distractors != nil {
			if err := em.measureDistractors(&dcp, batch, items, dk, dts, classify, p, control, &ct); err != nil {
				return err
			}
		}
		batch, items, ts, dk, dts = batch[:0], items[:0], ts[:0], dk[:0], dts[:0]
		return nil
	}
	for k := 0; k < o.Placements; k++ {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return pt, err
			}
			t := t0
			if k > 0 || i > 0 {
				t = s.Next()
			}
			if st.kind != "" {
				t = st.kind.apply(t, st.value, splitmix64(seed^uint64(k*n+i+1)), p.W, p.H, w, h)
			}
			batch = append(batch, em.x[i*size:(i+1)*size]...)
			items, ts = append(items, i), append(ts, t)
			if em.distractors != nil {
				d, dt, ok := em.distractors.place(drng, t, p.W, p.H, w, h, em.truth(i), em.target)
				if !ok {
					d = -1
				}
				dk, dts = append(dk, d), append(dts, dt)
			}
			pt.Placements++
			if em.target >= 0 && em.truth(i) != em.target {
				pt.Trials++
			}
			if len(items) == o.BatchSize {
				if err := flush(); err != nil {
					return pt, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return pt, err
	}
	pt.SuccessRate, pt.ControlSuccessRate = math.NaN(), math.NaN()
	if em.target >= 0 {
		pt.SuccessRate, pt.ControlSuccessRate = ratio(ct.hits, pt.Trials), ratio(ct.chits, pt.Trials)
	}
	pt.Error, pt.ControlError = ratio(ct.errs, pt.Placements), ratio(ct.cerrs, pt.Placements)
	pt.DistractorPlacements = ct.placed
	pt.DistractorSuccessRate, pt.DistractorNamed, pt.ControlDistractorNamed = math.NaN(), math.NaN(), math.NaN()
	if em.distractors != nil {
		if em.target >= 0 {
			pt.DistractorSuccessRate = ratio(ct.dHits, ct.dTrials)
		}
		pt.DistractorNamed = ratio(ct.dNamed, pt.DistractorPlacements)
		pt.ControlDistractorNamed = ratio(ct.cdNamed, pt.DistractorPlacements)
	}
	pt.Attracted, pt.ControlAttracted = math.NaN(), math.NaN()
	if o.Attention != nil {
		a, c := saliency.MeanShare(shares[0]), saliency.MeanShare(shares[1])
		pt.Attention, pt.ControlAttention = &a, &c
		pt.Attracted, pt.ControlAttracted = attracted(shares[0]), attracted(shares[1])
	}
	return pt, nil
}

// attracted is the share of shares whose mass exceeds their area.
func attracted(shares []saliency.Share) float64 {
	n := 0
	for _, s := range shares {
		if s.Mass > s.Area {
			n++
		}
	}
	return ratio(n, len(shares))
}
