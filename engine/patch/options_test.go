package patch

import (
	"context"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// The effect of each training option, measured on closed-form models.

func TestPatchMaskShapeKeepsOutsideUntouched(t *testing.T) {
	for _, shape := range []imgops.MaskShape{"circle", "ellipse", "rect"} {
		res, err := trainLinear(t, context.Background(), func(o *Options) {
			o.Shape, o.Width, o.Height, o.TVWeight, o.NPSWeight = shape, 12, 8, 0, 0
			if shape == "circle" {
				o.Height = 12
			}
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := res.Patch.W * res.Patch.H
		inside, changed := 0, 0
		for k := 0; k < n; k++ {
			m := res.Patch.Mask.Pix[k]
			for c := 0; c < 3; c++ {
				v := res.Patch.Pix[c*n+k]
				if m == 0 && v != 0.5 {
					t.Fatalf("%s: colour outside the mask moved to %v", shape, v)
				}
				if m > 0 {
					inside++
					if v != 0.5 {
						changed++
					}
				}
			}
		}
		if res.Patch.Mask.Shape != shape || changed < inside/2 {
			t.Fatalf("%s: mask %q, %d of %d colours inside trained", shape, res.Patch.Mask.Shape, changed, inside)
		}
	}
}

func TestPatchRegularisersLowerTheirScores(t *testing.T) {
	train := func(tv, nps float64) *imgops.Patch {
		res, err := trainLinear(t, context.Background(), func(o *Options) {
			o.TVWeight, o.NPSWeight, o.Steps, o.Init = tv, nps, 60, randomPatch(imgops.CircleMask(8), 3)
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Patch
	}
	plain := train(0, 0)
	smooth := train(5, 0)
	printable := train(0, 1e4)
	tv0, _ := imgops.TotalVariation(plain, imgops.TVSmooth)
	tv1, _ := imgops.TotalVariation(smooth, imgops.TVSmooth)
	nps0, _ := imgops.NPS(plain, imgops.DefaultPalette())
	nps1, _ := imgops.NPS(printable, imgops.DefaultPalette())
	if !(tv1 < 0.7*tv0) {
		t.Errorf("TV weight 5: total variation %.3g; want well below %.3g without", tv1, tv0)
	}
	if !(nps1 < 0.7*nps0) {
		t.Errorf("NPS weight 1e4: non-printability %.3g; want well below %.3g without", nps1, nps0)
	}
}

func TestPatchRotationRangeMatters(t *testing.T) {
	labels := []string{"plain", "stripes"}
	ds := smoothImages(5, 32, 12, labels)
	model := &stripes{side: 32, gain: 40, bias: 3.5, tau: 0.1}
	train := func(angle float64) *imgops.Patch {
		o := DefaultOptions()
		o.Target, o.Width, o.Height, o.Steps, o.BatchSize, o.LearningRate, o.Seed = "stripes", 16, 16, 150, 8, 0.05, 7
		o.Transforms = imgops.Options{MaxAngleDeg: angle, ScaleMode: imgops.SideFraction, ScaleMin: 0.5, ScaleMax: 0.5}
		// From noise: on a flat grey patch no detector fires, and a ReLU
		// that never fires passes no gradient.
		o.Init = imgops.NewNoisePatch(imgops.CircleMask(16), 1)
		res, err := Train(context.Background(), []engine.Classifier{model}, ds, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Patch
	}
	eval := func(p *imgops.Patch, angle float64) float64 {
		rep, err := Evaluate(context.Background(), []engine.Classifier{model}, ds, p, EvalOptions{
			Target: "stripes", Scales: []float64{0.5}, Placements: 8, Seed: 11,
			Transforms: imgops.Options{MaxAngleDeg: angle, ScaleMode: imgops.SideFraction, ScaleMin: 0.5, ScaleMax: 0.5},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Curves[0].Points[0].SuccessRate
	}
	upright, turned := train(0), train(45)
	u0, u45, t45 := eval(upright, 0), eval(upright, 45), eval(turned, 45)
	t.Logf("trained upright: %.2f upright, %.2f at ±45°; trained over ±45°: %.2f at ±45°", u0, u45, t45)
	if !(u0 > 0.9) {
		t.Fatalf("the upright patch succeeds %.2f upright; the test needs a working patch", u0)
	}
	if !(t45 > u45+0.15) {
		t.Fatalf("at ±45°: trained upright %.2f, trained over ±45° %.2f; want the latter clearly higher", u45, t45)
	}
}

func TestPatchTransformsReachTheModel(t *testing.T) {
	const side = 32
	ds := smoothImages(2, side, 2, fourLabels)
	rec := &recorder{Classifier: newLinearRGB(1, 4, side, 1)}
	placement := imgops.Mask{W: side, H: side, Pix: make([]float32, side*side)}
	for y := 0; y < side; y++ {
		for x := 0; x < side/4; x++ {
			placement.Pix[y*side+x] = 1 // only the left quarter may hold the centre
		}
	}
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.Shape, o.Steps, o.BatchSize = "1", 10, 10, "rect", 3, 8
	o.Transforms = imgops.Options{ScaleMode: imgops.SideFraction, ScaleMin: 0.25, ScaleMax: 0.5, Placement: &placement}
	o.Init = imgops.NewNoisePatch(imgops.RectMask(10, 10), 1)
	if _, err := Train(context.Background(), []engine.Classifier{rec}, ds, o, nil); err != nil {
		t.Fatal(err)
	}
	all, _ := ds.Tensor(rec.InputShape())
	hw := side * side
	for _, b := range rec.batches {
		for j := 0; j < o.BatchSize; j++ {
			img := b[j*3*hw : (j+1)*3*hw]
			// The patch covers the pixels that differ from every clean image.
			changed, maxX := 0, 0
			for p := 0; p < hw; p++ {
				differs := true
				for i := 0; i < ds.Len(); i++ {
					c := all[i*3*hw : (i+1)*3*hw]
					if c[p] == img[p] && c[hw+p] == img[hw+p] && c[2*hw+p] == img[2*hw+p] {
						differs = false
						break
					}
				}
				if differs {
					changed++
					maxX = max(maxX, p%side)
				}
			}
			lo, hi := 0.25*side, 0.5*side
			if float64(changed) < 0.8*lo*lo || float64(changed) > (hi+2)*(hi+2) {
				t.Fatalf("patch covers %d pixels; want about %.0f to %.0f", changed, lo*lo, hi*hi)
			}
			// A centre in the left quarter keeps the patch left of x = 8 + 8 + 1.
			if maxX > side/4+int(hi/2)+1 {
				t.Fatalf("patch reaches x = %d; the placement mask keeps its centre below x = %d", maxX, side/4)
			}
		}
	}
}

func TestPatchJitterReachesTheModel(t *testing.T) {
	cases := []struct {
		name  string
		set   func(*imgops.Options)
		check func(imgops.Transform) bool
	}{
		{"perspective", func(o *imgops.Options) { o.Perspective = 0.3 }, func(tr imgops.Transform) bool {
			return tr.Perspective != [4][2]float64{} && math.Abs(tr.Perspective[0][0]) <= 0.3
		}},
		{"brightness", func(o *imgops.Options) { o.Brightness = 0.2 }, func(tr imgops.Transform) bool {
			return tr.Brightness != 0 && math.Abs(float64(tr.Brightness)) <= 0.2
		}},
		{"contrast", func(o *imgops.Options) { o.Contrast = 0.3 }, func(tr imgops.Transform) bool {
			return tr.Contrast != 0 && math.Abs(float64(tr.Contrast)) <= 0.3
		}},
		{"noise", func(o *imgops.Options) { o.NoiseStd = 0.1 }, func(tr imgops.Transform) bool { return tr.NoiseStd > 0 && tr.NoiseStd <= 0.1 }},
		{"blur", func(o *imgops.Options) { o.BlurSigma = 1.5 }, func(tr imgops.Transform) bool { return tr.BlurSigma > 0 && tr.BlurSigma <= 1.5 }},
	}
	ds := smoothImages(2, 16, 2, fourLabels)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{Classifier: newLinearRGB(1, 4, 16, 1)}
			o := DefaultOptions()
			o.Target, o.Width, o.Height, o.Steps, o.BatchSize, o.Seed = "1", 8, 8, 1, 4, 5
			o.Transforms = imgops.Options{ScaleMode: imgops.SideFraction, ScaleMin: 0.5, ScaleMax: 0.7}
			tc.set(&o.Transforms)
			o.Init = randomPatch(imgops.CircleMask(8), 2)
			tr, err := newPatchTrainer([]engine.Classifier{rec}, ds, o)
			if err != nil {
				t.Fatal(err)
			}
			idx, ts, err := tr.draw(0, tr.patch)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				if !tc.check(x) {
					t.Fatalf("drawn transformation %+v lacks the %s jitter", x, tc.name)
				}
			}
			if _, err := tr.gradient(context.Background(), 0, tr.patch); err != nil {
				t.Fatal(err)
			}
			all, _ := ds.Tensor(rec.InputShape())
			size := rec.InputShape().Size()
			x := make([]float32, 0, len(idx)*size)
			for _, i := range idx {
				x = append(x, all[i*size:(i+1)*size]...)
			}
			compose := func(ts []imgops.Transform) []float32 {
				cp, err := imgops.Apply(o.Init, x, len(idx), 3, 16, 16, ts)
				if err != nil {
					t.Fatal(err)
				}
				return cp.Images
			}
			plain := make([]imgops.Transform, len(ts))
			for j := range ts {
				plain[j] = ts[j].WithoutJitter()
				plain[j].Perspective = [4][2]float64{}
			}
			if !samePix(rec.batches[0], compose(ts)) {
				t.Fatal("the model's batch is not the patch composed with the drawn transformations")
			}
			if samePix(rec.batches[0], compose(plain)) {
				t.Fatalf("the model's batch is the same without the %s jitter", tc.name)
			}
		})
	}
}
