package patch

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// meanLightGrad is meanLight with its closed-form gradient: every value
// moves the "light" logit by 20/d and the "dark" one by −20/d.
type meanLightGrad struct{ meanLight }

func (m *meanLightGrad) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	d := m.InputShape().Size()
	z, err := m.Logits(ctx, images, len(targets))
	if err != nil {
		return engine.Gradients{}, err
	}
	g := engine.Gradients{Logits: z, Loss: make([]float32, len(targets)), Grad: make([]float32, len(images))}
	for i, t := range targets {
		g.Loss[i] = z[2*i+int(t)]
		for j := 0; j < d; j++ {
			g.Grad[i*d+j] = float32(20*(2*t-1)) / float32(d)
		}
	}
	return g, nil
}

// TestEvaluatePatchAttention: meanLight's gradient is the same at every
// pixel, so its saliency map is flat and any region holds exactly its share
// of the area: the attention mass must equal the coverage's area, which
// must be the patch's area fraction, for the patch and the control alike
// (ratio 1). The JSON and CSV carry the shares.
func TestEvaluatePatchAttention(t *testing.T) {
	m := &meanLightGrad{meanLight{side: 20}}
	ds := flatImages(20, 2, 60, 220)
	p := imgops.NewNoisePatch(imgops.RectMask(10, 10), 3)
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{
		Scales: []float64{0.1, 0.3}, Placements: 3, Seed: 2, Attention: &saliency.Options{},
		Transforms: imgops.Options{MaxAngleDeg: 30, ScaleMode: imgops.AreaFraction, ScaleMin: 0.3, ScaleMax: 0.3},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attention != "grad" {
		t.Fatalf("report attention %q; want grad", rep.Attention)
	}
	for _, pt := range rep.Curves[0].Points {
		for _, a := range []*saliency.Share{pt.Attention, pt.ControlAttention} {
			if a == nil {
				t.Fatalf("scale %v: no attention share", pt.Scale)
			}
			if math.Abs(a.Mass-a.Area) > 1e-6 || math.Abs(a.Area-pt.AreaFraction) > 0.02*pt.AreaFraction {
				t.Fatalf("scale %v: attention %+v; want mass = area = %v", pt.Scale, *a, pt.AreaFraction)
			}
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"attention":{"mass":`) || !strings.Contains(string(b), `"ratio":1`) {
		t.Fatalf("JSON lacks the attention shares: %s", b)
	}
	var csv strings.Builder
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.SplitN(csv.String(), "\n", 2)[0], "attention_mass") {
		t.Fatalf("CSV header lacks the attention columns: %s", csv.String())
	}
}

// darkLight is a testkit.Linear whose labels are flatImages' classes.
type darkLight struct{ *testkit.Linear }

func (d darkLight) Labels() []string { return []string{"dark", "light"} }

// TestEvaluateAttentionLinearClosedForm measures the attention share on an
// affine classifier z = W·x + b with W_light = −W_dark = w, a random
// positive weight per pixel (the same on the three channels): the gradient
// of either logit is ±w everywhere, and so is SmoothGrad's mean, so the
// map is w whatever the image or the patch, and a placement's share inside
// the patch is Σ w·cov / Σ w, cov the patch's coverage there. The test
// replays the evaluation's placements with the sampler of its seed and
// checks the mean share of the patch and of the control against that sum.
func TestEvaluateAttentionLinearClosedForm(t *testing.T) {
	const side = 12
	hw := side * side
	r := rand.New(rand.NewPCG(4, 4))
	w := make([]float64, hw)
	var total float64
	for p := range w {
		w[p] = 0.2 + r.Float64()
		if x := p % side; x < 2 || x >= side-2 {
			w[p] *= 8 // the edges weigh more, and a patch kept inside the image covers them less
		}
		total += w[p]
	}
	l := &testkit.Linear{Shape: engine.ImageShape{Channels: 3, Height: side, Width: side}, W: make([][]float64, 2), B: []float64{0, 0}}
	for k := range l.W {
		l.W[k] = make([]float64, 3*hw)
		for c := 0; c < 3; c++ {
			for p, v := range w {
				l.W[k][c*hw+p] = v * float64(2*k-1) * 0.01
			}
		}
	}
	ds := flatImages(side, 2, 60, 220)
	p := imgops.NewNoisePatch(imgops.RectMask(6, 6), 3)
	tr := imgops.Options{MaxAngleDeg: 30, ScaleMode: imgops.AreaFraction, ScaleMin: 0.2, ScaleMax: 0.2}
	scales := []float64{0.1, 0.25}
	const placements = 3
	for _, m := range []saliency.Method{saliency.Gradient, saliency.SmoothGrad} {
		t.Run(string(m), func(t *testing.T) {
			rep, err := Evaluate(context.Background(), []engine.Classifier{darkLight{l}}, ds, p, EvalOptions{
				Scales: scales, Placements: placements, Seed: 5, Transforms: tr,
				Attention: &saliency.Options{Method: m, Samples: 2},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			split := false // some scale has placements on both sides of their area
			for si, pt := range rep.Curves[0].Points {
				o := tr
				o.ScaleMin, o.ScaleMax = scales[si], scales[si]
				s, err := imgops.NewSampler(splitmix64(5^splitmix64(uint64(si)+1)), p, side, side, &o)
				if err != nil {
					t.Fatal(err)
				}
				var mass, area, above float64
				n := placements * ds.Len()
				for _, tf := range s.Sample(n) {
					cov, err := saliency.Coverage(p, side, side, []imgops.Transform{tf})
					if err != nil {
						t.Fatal(err)
					}
					var in, a float64
					for q, c := range cov {
						in += w[q] * float64(c)
						a += float64(c)
					}
					mass += in / total / float64(n)
					area += a / float64(hw) / float64(n)
					if in/total > a/float64(hw) {
						above++
					}
				}
				above /= float64(n)
				t.Logf("scale %v: %.3f of the placements draw more than their area", pt.Scale, above)
				split = split || (above > 0 && above < 1)
				if pt.Attracted != above || pt.ControlAttracted != above {
					t.Fatalf("scale %v: attracted %g (control %g); want the closed form's %g", pt.Scale, pt.Attracted, pt.ControlAttracted, above)
				}
				for name, got := range map[string]*saliency.Share{"patch": pt.Attention, "control": pt.ControlAttention} {
					if got == nil || math.Abs(got.Mass-mass) > 1e-5 || math.Abs(got.Area-area) > 1e-6 {
						t.Fatalf("scale %v, %s: attention %+v; want mass Σw·cov/Σw = %.6f on area %.6f", pt.Scale, name, got, mass, area)
					}
				}
				if ratio := mass / area; math.Abs(ratio-1) < 0.01 {
					t.Fatalf("scale %v: closed-form ratio %g is 1; the weights do not tell placements apart", pt.Scale, ratio)
				}
				t.Logf("scale %v: mass %.4f on area %.4f (ratio %.3f)", pt.Scale, mass, area, mass/area)
			}
			if !split {
				t.Fatal("every placement lies on one side of its area at every scale: the attracted share is not tested")
			}
		})
	}
}

// TestEvaluateAttentionGradCAMNeedsFeatures: Grad-CAM's attention on a
// classifier without feature maps is rejected before any model runs.
func TestEvaluateAttentionGradCAMNeedsFeatures(t *testing.T) {
	m := &meanLightGrad{meanLight{side: 20}}
	_, err := Evaluate(context.Background(), []engine.Classifier{m}, flatImages(20, 1, 60), imgops.NewNoisePatch(imgops.RectMask(8, 8), 1), EvalOptions{
		Scales: []float64{0.2}, Attention: &saliency.Options{Method: saliency.GradCAM},
		Transforms: imgops.Options{ScaleMode: imgops.AreaFraction, ScaleMin: 0.2, ScaleMax: 0.2},
	}, nil)
	if !errors.Is(err, ErrInvalidOptions) || m.calls != 0 {
		t.Fatalf("error %v after %d model calls; want ErrInvalidOptions before any", err, m.calls)
	}
}
