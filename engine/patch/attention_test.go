package patch

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
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
