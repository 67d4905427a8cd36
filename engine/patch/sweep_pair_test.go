package patch

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/imgops"
)

// TestSweepTrainingRange checks which training range each sweep sets, and
// that JPEG and out-of-range bounds are refused.
func TestSweepTrainingRange(t *testing.T) {
	base := imgops.DefaultOptions()
	for _, c := range []struct {
		kind SweepKind
		v    float64
		get  func(o imgops.Options) float64
		want float64
	}{
		{SweepRotation, 60, func(o imgops.Options) float64 { return o.MaxAngleDeg }, 60},
		{SweepBrightness, 0.3, func(o imgops.Options) float64 { return o.Brightness }, 0.3},
		{SweepContrast, 0.2, func(o imgops.Options) float64 { return o.Contrast }, 0.2},
		{SweepBlur, 1.5, func(o imgops.Options) float64 { return o.BlurSigma }, 1.5},
		{SweepNoise, 0.1, func(o imgops.Options) float64 { return o.NoiseStd }, 0.1},
		// the receding side of a patch tilted by 30°, at sin 30° = 0.5
		{SweepTilt, 30, func(o imgops.Options) float64 { return o.Perspective }, 1 - math.Cos(math.Pi/6)*tiltViewDistance/(tiltViewDistance+0.5)},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			o, err := c.kind.TrainingRange(base, c.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.get(o); math.Abs(got-c.want) > 1e-12 {
				t.Fatalf("range %v; want %v", got, c.want)
			}
			if o.ScaleMin != base.ScaleMin || o.ScaleMax != base.ScaleMax {
				t.Fatalf("the scale range changed: %+v", o)
			}
			if _, err := c.kind.TrainingRange(base, -1); err == nil {
				t.Fatal("no error for a negative bound")
			}
		})
	}
	for _, bad := range []struct {
		kind SweepKind
		v    float64
	}{{SweepJPEG, 50}, {SweepBrightness, 2}, {SweepTilt, 85}, {SweepRotation, math.NaN()}} {
		if _, err := bad.kind.TrainingRange(base, bad.v); err == nil {
			t.Errorf("%s %v: no error", bad.kind, bad.v)
		}
	}
}

// trainedTransforms reads back the transformation ranges a patch was
// trained with from its metadata.
func trainedTransforms(t *testing.T, r *Result) imgops.Options {
	t.Helper()
	var o struct {
		Transforms imgops.Options `json:"transforms"`
	}
	if err := json.Unmarshal(r.Meta.Training, &o); err != nil {
		t.Fatal(err)
	}
	return o.Transforms
}

// TestTrainEOTPairDiffersOnlyInTheRange trains a pair on the linear model:
// the two runs' recorded options differ in the swept range alone, the
// patches differ, and a run without the range is Train without it, bit for
// bit.
func TestTrainEOTPairDiffersOnlyInTheRange(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	m := newLinearRGB(1, 4, 16, 1)
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.BatchSize, o.Steps, o.Seed = "2", 8, 8, 6, 20, 42
	o.Transforms = jitterOptions()
	calls := map[bool]int{}
	pair, err := TrainEOTPair(context.Background(), []engine.Classifier{m}, ds, o, SweepBrightness, 0.4, func(with bool, _ Progress) { calls[with]++ })
	if err != nil {
		t.Fatal(err)
	}
	with, without := trainedTransforms(t, pair.With), trainedTransforms(t, pair.Without)
	if with.Brightness != 0.4 || without.Brightness != 0 {
		t.Fatalf("brightness ranges %v and %v; want 0.4 and 0", with.Brightness, without.Brightness)
	}
	with.Brightness = 0
	if with != without {
		t.Fatalf("the runs differ beyond the range:\n%+v\n%+v", with, without)
	}
	if samePix(pair.With.Patch.Pix, pair.Without.Patch.Pix) {
		t.Fatal("the two patches are the same: the range did not reach training")
	}
	if calls[true] != o.Steps || calls[false] != o.Steps {
		t.Fatalf("progress calls %v; want %d per run", calls, o.Steps)
	}
	plain := o
	plain.Transforms.Brightness = 0
	ref, err := Train(context.Background(), []engine.Classifier{m}, ds, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !samePix(ref.Patch.Pix, pair.Without.Patch.Pix) {
		t.Fatal("the run without the range is not Train without it")
	}
	if _, err := TrainEOTPair(context.Background(), []engine.Classifier{m}, ds, o, SweepJPEG, 50, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("JPEG pair: error %v; want ErrInvalidOptions", err)
	}
}

// TestPatchZooEOTPair measures what a transformation in training buys on
// the demo model: a patch trained with rotations of ±90° (brightness
// offsets of ±0.4) against one trained with none, all else equal (400
// steps, side 25–35%), both swept over that transformation on held-out
// images. Inside the trained range, away from the identity, the patch
// trained with the range must hold up better: by 20 points on average for
// rotation (30–90°), by 3 for brightness (±0.4), which the patch trained
// without it already withstands well. (400 steps cannot fit ±90° as well as
// no rotation: at 0° the patch trained without wins.)
func TestPatchZooEOTPair(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four patches on the zoo model for about two minutes")
	}
	m, ds := zootest.Model(t, "signs", zootest.DefaultName("signs", "resnet"))
	train, test := splitSamples(ds)
	for _, c := range []struct {
		kind   SweepKind
		r      float64
		values []float64
		far    []int   // indices of values inside the trained range, away from the identity
		gain   float64 // the least mean gain there
	}{
		{SweepRotation, 90, []float64{0, 30, 60, 90, 135, 180}, []int{1, 2, 3}, 0.2},
		{SweepBrightness, 0.4, []float64{-0.4, -0.2, 0, 0.2, 0.4}, []int{0, 4}, 0.03},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			o := zooPatchOptions(400)
			o.Transforms.MaxAngleDeg = 0 // the rotation run's baseline; brightness keeps none either
			pair, err := TrainEOTPair(context.Background(), []engine.Classifier{m}, train, o, c.kind, c.r, nil)
			if err != nil {
				t.Fatal(err)
			}
			cmp, err := Compare(context.Background(), []engine.Classifier{m}, test, []NamedPatch{
				{Name: "with", Patch: pair.With.Patch}, {Name: "without", Patch: pair.Without.Patch},
			}, EvalOptions{
				Target: "general_caution", Scales: []float64{0.3}, Placements: 2, Seed: 2,
				Transforms: imgops.Options{ScaleMode: imgops.SideFraction, ScaleMin: 0.3, ScaleMax: 0.3},
				Sweep:      &Sweep{Kind: c.kind, Values: c.values},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, wo := cmp.Patches[0].Curves[0].Points, cmp.Patches[1].Curves[0].Points
			for i, v := range c.values {
				t.Logf("%s %v: trained with ±%v %.1f%%, without %.1f%% (control %.1f%%)", c.kind, v, c.r,
					100*w[i].SuccessRate, 100*wo[i].SuccessRate, 100*w[i].ControlSuccessRate)
			}
			var gain float64
			for _, i := range c.far {
				gain += w[i].SuccessRate - wo[i].SuccessRate
			}
			if gain/float64(len(c.far)) < c.gain {
				t.Fatalf("away from the identity the patch trained with the range gains %.3f on average over the one without; want ≥ %v", gain/float64(len(c.far)), c.gain)
			}
		})
	}
}
