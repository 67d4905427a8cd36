package patch

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// meanLight is a closed-form two-class classifier on 3×side×side images:
// "light" when the mean of all values is above 0.5, "dark" below, with
// logits ±20·(mean − 0.5).
type meanLight struct {
	side  int
	calls int
}

func (m *meanLight) Name() string     { return "meanlight" }
func (m *meanLight) Labels() []string { return []string{"dark", "light"} }
func (m *meanLight) InputShape() engine.ImageShape {
	return engine.ImageShape{Channels: 3, Height: m.side, Width: m.side}
}

func (m *meanLight) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.calls++
	d := m.InputShape().Size()
	out := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range images[i*d : (i+1)*d] {
			s += float64(v)
		}
		z := 20 * (s/float64(d) - 0.5)
		out = append(out, float32(-z), float32(z))
	}
	return out, nil
}

func (m *meanLight) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	return engine.Gradients{}, fmt.Errorf("meanlight: evaluation needs no gradient")
}

// flatImages returns perClass flat images of each of the given grey levels,
// filed under the classes "dark" (below 0.5) and "light".
func flatImages(side, perClass int, levels ...uint8) *engine.Dataset {
	ds := &engine.Dataset{Root: "flat"}
	for _, l := range levels {
		class := "dark"
		if l >= 128 {
			class = "light"
		}
		if len(ds.Classes) == 0 || ds.Classes[len(ds.Classes)-1] != class {
			ds.Classes = append(ds.Classes, class)
		}
		for k := 0; k < perClass; k++ {
			img := image.NewGray(image.Rect(0, 0, side, side))
			for p := range img.Pix {
				img.Pix[p] = l
			}
			ds.Items = append(ds.Items, engine.DatasetItem{Rel: fmt.Sprintf("%s/%d-%d.png", class, l, k), Class: class, Image: img})
		}
	}
	return ds
}

// TestEvaluatePatchAgainstClosedForm: a white square on a flat image of
// level μ raises its mean to μ + a(1 − μ), a the area fraction it covers, so
// the image turns "light" exactly when a > (0.5 − μ)/(1 − μ). For μ = 0.3
// that is 2/7 ≈ 0.286: at 20% of the area no dark image flips, at 40% all
// do. A mid-grey control (0.5) never lifts a dark image over 0.5.
func TestEvaluatePatchAgainstClosedForm(t *testing.T) {
	m := &meanLight{side: 20}
	ds := flatImages(20, 3, uint8(0.3*255+0.5), 220)
	p := imgops.NewGreyPatch(imgops.RectMask(10, 10))
	for i := range p.Pix {
		p.Pix[i] = 1
	}
	control := imgops.NewGreyPatch(imgops.RectMask(10, 10))
	var fractions []float64
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{
		Target: "light", Scales: []float64{0.2, 0.4}, Placements: 5, Control: control, Seed: 1,
		Transforms: imgops.Options{MaxAngleDeg: 0, ScaleMode: imgops.AreaFraction, ScaleMin: 0.3, ScaleMax: 0.3},
	}, func(f float64) { fractions = append(fractions, f) })
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Curves[0]
	if c.Model != "meanlight" || c.Target != "light" || c.CleanAccuracy != 1 || rep.Control != "photo" {
		t.Fatalf("curve %+v, control %q", c, rep.Control)
	}
	for i, want := range []float64{0, 1} {
		pt := c.Points[i]
		if pt.SuccessRate != want || pt.ControlSuccessRate != 0 {
			t.Errorf("area %v: success %v, control %v; want %v and 0", pt.Scale, pt.SuccessRate, pt.ControlSuccessRate, want)
		}
		// The light images stay light: only the dark half can err.
		if pt.Error != want/2 || pt.Trials != 3*5 || pt.Placements != 6*5 {
			t.Errorf("area %v: error %v over %d placements, %d trials", pt.Scale, pt.Error, pt.Placements, pt.Trials)
		}
		if math.Abs(pt.AreaFraction-pt.Scale) > 1e-9 || math.Abs(pt.SideFraction-math.Sqrt(pt.Scale)) > 1e-9 {
			t.Errorf("area %v: reported area %v, side %v", pt.Scale, pt.AreaFraction, pt.SideFraction)
		}
	}
	if len(fractions) != 3 || fractions[2] != 1 {
		t.Errorf("progress %v; want three reports ending at 1", fractions)
	}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][6] != "0" || rows[2][6] != "1" {
		t.Fatalf("CSV %v, %v", rows, err)
	}
}

// TestEvaluatePatchUntargetedJSON: without a target the targeted rates are
// NaN in Go and null in JSON, and the report is deterministic.
func TestEvaluatePatchUntargetedJSON(t *testing.T) {
	m := &meanLight{side: 16}
	ds := flatImages(16, 2, 60, 200)
	p := imgops.NewNoisePatch(imgops.CircleMask(8), 2)
	run := func() []byte {
		rep, err := Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{
			Scales: []float64{0.3}, Seed: 4, Transforms: imgops.DefaultOptions(),
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(rep.Curves[0].Points[0].SuccessRate) {
			t.Fatal("untargeted success rate is a number")
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) || !strings.Contains(string(a), `"success_rate":null`) || !strings.Contains(string(a), `"error":`) {
		t.Fatalf("JSON %s / %s", a, b)
	}
}

func TestEvaluatePatchRejectsBadOptions(t *testing.T) {
	ds := flatImages(16, 1, 60, 200)
	p := imgops.NewGreyPatch(imgops.RectMask(8, 8))
	cases := []struct {
		name string
		o    EvalOptions
		data *engine.Dataset
		want string
	}{
		{"no scales", EvalOptions{Transforms: imgops.DefaultOptions()}, ds, "no scale"},
		{"scale above 1", EvalOptions{Scales: []float64{1.2}, Transforms: imgops.DefaultOptions()}, ds, "scale"},
		{"unknown target", EvalOptions{Target: "toaster", Scales: []float64{0.2}, Transforms: imgops.DefaultOptions()}, ds, "toaster"},
		{"bad rotation", EvalOptions{Scales: []float64{0.2}, Transforms: imgops.Options{MaxAngleDeg: 400}}, ds, "rotation"},
		{"no images", EvalOptions{Scales: []float64{0.2}, Transforms: imgops.DefaultOptions()}, &engine.Dataset{}, "no images"},
		{"control size", EvalOptions{Scales: []float64{0.2}, Transforms: imgops.DefaultOptions(), Control: imgops.NewGreyPatch(imgops.RectMask(4, 4))}, ds, "control"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &meanLight{side: 16}
			_, err := Evaluate(context.Background(), []engine.Classifier{m}, tc.data, p, tc.o, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one about %q", err, tc.want)
			}
			if m.calls != 0 {
				t.Fatal("the model ran before the options were checked")
			}
		})
	}
}
