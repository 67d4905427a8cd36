package patch

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// TestSweepIdentityMatchesPlainEvaluation: each sweep's identity value sees
// the same placements as the plain evaluation at that scale and seed, so
// its figures are the same; a value away from the identity changes them.
func TestSweepIdentityMatchesPlainEvaluation(t *testing.T) {
	m := newLinearRGB(3, 4, 16, 1)
	ds := smoothImages(5, 16, 3, []string{"0", "1", "2", "3"})
	p := imgops.NewNoisePatch(imgops.RectMask(8, 8), 9)
	base := EvalOptions{Target: "2", Scales: []float64{0.3}, Placements: 3, Seed: 7,
		Transforms: imgops.Options{ScaleMode: imgops.AreaFraction, ScaleMin: 0.3, ScaleMax: 0.3}}
	plain, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := plain.Curves[0].Points[0]
	for _, k := range []SweepKind{SweepRotation, SweepBrightness, SweepContrast, SweepTilt, SweepBlur, SweepNoise} {
		t.Run(string(k), func(t *testing.T) {
			o := base
			o.Sweep = &Sweep{Kind: k, Values: []float64{0}}
			rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Curves[0].Points[0]
			if rep.Sweep != k || got.Value == nil || *got.Value != 0 {
				t.Fatalf("report sweep %q, value %v", rep.Sweep, got.Value)
			}
			if got.SuccessRate != want.SuccessRate || got.ControlSuccessRate != want.ControlSuccessRate || got.Error != want.Error || got.ControlError != want.ControlError {
				t.Fatalf("identity %+v; plain %+v", got, want)
			}
		})
	}
}

// TestSweepBrightnessClosedForm: a grey patch of level g covering the share
// a of a flat image of level μ, brightened by b, makes the mean
// μ(1 − a) + a·clip(g + b); meanLight calls it light above 0.5, so with
// μ = 0.3, a = 0.5, g = 0.4 the patch wins exactly when b > 0.3.
func TestSweepBrightnessClosedForm(t *testing.T) {
	m := &meanLight{side: 20}
	ds := flatImages(20, 3, uint8(0.3*255+0.5))
	p := imgops.NewGreyPatch(imgops.RectMask(10, 10))
	for i := range p.Pix {
		p.Pix[i] = 0.4
	}
	values := []float64{-0.3, 0, 0.2, 0.4, 0.6}
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{
		Target: "light", Scales: []float64{0.5}, Placements: 4, Seed: 2, Sweep: &Sweep{Kind: SweepBrightness, Values: values},
		Transforms: imgops.Options{ScaleMode: imgops.AreaFraction, ScaleMin: 0.5, ScaleMax: 0.5},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range values {
		mean := 0.3*0.5 + 0.5*math.Min(1, math.Max(0, 0.4+b))
		want := float64(b2i(mean > 0.5))
		if got := rep.Curves[0].Points[i].SuccessRate; got != want {
			t.Errorf("brightness %v: success %v; want %v (mean %v)", b, got, want, mean)
		}
	}
}

// colourMean is a closed-form three-class classifier: the logit of class c
// is 20 times the mean of channel c, so the dominant colour wins.
type colourMean struct{ side int }

func (m *colourMean) Name() string     { return "colourmean" }
func (m *colourMean) Labels() []string { return []string{"red", "green", "blue"} }
func (m *colourMean) InputShape() engine.ImageShape {
	return engine.ImageShape{Channels: 3, Height: m.side, Width: m.side}
}

func (m *colourMean) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	hw := m.side * m.side
	out := make([]float32, 0, 3*n)
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			var s float64
			for _, v := range images[(3*i+c)*hw : (3*i+c+1)*hw] {
				s += float64(v)
			}
			out = append(out, float32(20*s/float64(hw)))
		}
	}
	return out, nil
}

func (m *colourMean) Gradient(context.Context, engine.LossKind, []float32, []int64) (engine.Gradients, error) {
	return engine.Gradients{}, fmt.Errorf("colourmean: evaluation needs no gradient")
}

func flatRGB(class string, side, n int, c color.NRGBA) *engine.Dataset {
	ds := &engine.Dataset{Root: class, Classes: []string{class}}
	for k := 0; k < n; k++ {
		img := image.NewNRGBA(image.Rect(0, 0, side, side))
		for p := 0; p < len(img.Pix); p += 4 {
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, 255
		}
		ds.Items = append(ds.Items, engine.DatasetItem{Rel: fmt.Sprintf("%s/%d.png", class, k), Class: class, Image: img})
	}
	return ds
}

// TestEvaluateDistractorsClosedForm: on a flat (0.4, 0.3, 0.3) image a
// green patch of area a = 0.12 and a blue square of area d give channel
// means R = 0.4r, G = 0.3r + a, B = 0.3r + d with r = 1 − a − d: the patch
// wins while d < a (d = 0.09: side 0.3) and the distractor wins beyond
// (d = 0.16: side 0.4), whatever the control does to green.
func TestEvaluateDistractorsClosedForm(t *testing.T) {
	m := &colourMean{side: 40}
	ds := flatRGB("red", 40, 4, color.NRGBA{102, 77, 77, 255})
	blue := flatRGB("blue", 8, 2, color.NRGBA{0, 0, 255, 255})
	p := imgops.NewGreyPatch(imgops.RectMask(10, 10))
	p.Pix = make([]float32, 3*100)
	for i := 100; i < 200; i++ {
		p.Pix[i] = 1
	}
	for _, tc := range []struct {
		side         float64
		success, nam float64
	}{{0.3, 1, 0}, {0.4, 0, 1}} {
		t.Run(fmt.Sprint(tc.side), func(t *testing.T) {
			rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{
				Target: "green", Scales: []float64{0.12}, Placements: 5, Seed: 3, Distractors: blue, DistractorScale: tc.side,
				Transforms: imgops.Options{ScaleMode: imgops.AreaFraction, ScaleMin: 0.12, ScaleMax: 0.12},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			pt := rep.Curves[0].Points[0]
			// A central patch may leave no room for the larger square.
			if pt.SuccessRate != 1 || pt.DistractorPlacements < 15 || pt.DistractorPlacements > 20 {
				t.Fatalf("plain success %v, %d of 20 placements with a distractor; want 1 and most", pt.SuccessRate, pt.DistractorPlacements)
			}
			if pt.DistractorSuccessRate != tc.success || pt.DistractorNamed != tc.nam {
				t.Fatalf("with distractors: success %v, named %v; want %v and %v", pt.DistractorSuccessRate, pt.DistractorNamed, tc.success, tc.nam)
			}
			if tc.nam == 1 && pt.ControlDistractorNamed != 1 {
				t.Fatalf("control named the distractor on %v; want all", pt.ControlDistractorNamed)
			}
		})
	}
}
