package eval

import (
	"context"
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// meanModel is a two-class linear model on side×side grey images: class 1
// ("bright") exactly when the mean pixel exceeds 0.5, logits (0, mean − 0.5).
func meanModel(name string, side int) named {
	n := side * side
	l := &testkit.Linear{Shape: engine.ImageShape{Channels: 1, Height: side, Width: side}, W: [][]float64{make([]float64, n), make([]float64, n)}, B: []float64{0, -0.5}}
	for i := range l.W[1] {
		l.W[1][i] = 1 / float64(n)
	}
	return named{l, name}
}

// greySet is perClass flat images of 0.3 in class "0" and of 0.7 in "1".
func greySet(side, perClass int) *engine.Dataset {
	ds := &engine.Dataset{Root: "grey", Classes: []string{"0", "1"}}
	for c, v := range []uint8{77, 179} {
		for k := 0; k < perClass; k++ {
			img := image.NewGray(image.Rect(0, 0, side, side))
			for i := range img.Pix {
				img.Pix[i] = v
			}
			ds.Items = append(ds.Items, engine.DatasetItem{Rel: fmt.Sprintf("%d/%d.png", c, k), Class: fmt.Sprint(c), Image: img})
		}
	}
	return ds
}

// certifying is a model that certifies every image, against 3-pixel patches.
type certifying struct{ named }

func (certifying) Certify(_ context.Context, _ []float32, labels []int) ([]bool, error) {
	out := make([]bool, len(labels))
	for i := range out {
		out[i] = true
	}
	return out, nil
}

func (certifying) PatchSide() int { return 3 }

// TestDefenseTableClosedForm measures the mean model, whose answers are
// known: images at 0.3 and 0.7 lie 0.2 from the boundary, so AutoAttack
// flips none at ε = 0.1 and all at ε = 0.3; a patch covering a share A of a
// dark image lifts its mean to at most 0.3 + 0.7A, short of 0.5 at A = 0.1
// (no success, targeted or not, whatever the training) and past it at
// A = 0.6, where a trained targeted patch wins nearly always. One untargeted
// patch cannot flip both classes there: a dark image needs the patch's mean
// above 0.63, a bright one below 0.37, so it fools at most half the images.
func TestDefenseTableClosedForm(t *testing.T) {
	ds := greySet(16, 4)
	tests := []struct {
		eps, area  float64
		robust     float64
		targeted   [2]float64 // bounds on the targeted patch's success
		untargeted [2]float64 // and on the untargeted one's
	}{
		{0.1, 0.1, 1, [2]float64{0, 0}, [2]float64{0, 0}},
		{0.3, 0.6, 0, [2]float64{0.9, 1}, [2]float64{0.4, 0.5}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("eps=%g area=%g", tc.eps, tc.area), func(t *testing.T) {
			o := DefaultDefenseOptions()
			o.Eps, o.Area, o.Target, o.PatchSize, o.PatchSteps, o.Steps, o.Queries, o.Placements = tc.eps, tc.area, "1", 8, 150, 10, 20, 2
			o.Seed = 3
			cases := []DefenseCase{{Model: meanModel("mean", 16)}, {Model: certifying{meanModel("mean+cert", 16)}, Defense: "cert"}}
			var fracs []float64
			rows, err := DefenseTable(context.Background(), cases, ds, o, func(p DefenseProgress) { fracs = append(fracs, p.Fraction) })
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Model != "mean" || rows[1].Defense != "cert" || rows[0].Target != "1" {
				t.Fatalf("rows %+v", rows)
			}
			for _, r := range rows {
				if r.CleanAccuracy != 1 || r.RobustAccuracy != tc.robust {
					t.Errorf("%s: clean %v robust %v; want 1 and %v", r.Model, r.CleanAccuracy, r.RobustAccuracy, tc.robust)
				}
				if v := r.PatchSuccess; v < tc.targeted[0] || v > tc.targeted[1] {
					t.Errorf("%s: targeted patch success %v; want in %v", r.Model, v, tc.targeted)
				}
				if v := r.UntargetedPatchSuccess; v < tc.untargeted[0] || v > tc.untargeted[1] {
					t.Errorf("%s: untargeted patch success %v; want in %v", r.Model, v, tc.untargeted)
				}
			}
			if !math.IsNaN(rows[0].CertifiedAccuracy) || rows[1].CertifiedAccuracy != 1 || rows[1].CertifiedSide != 3 {
				t.Errorf("certified accuracy %v and %v (side %d); want none for the bare model, 1 at 3 px", rows[0].CertifiedAccuracy, rows[1].CertifiedAccuracy, rows[1].CertifiedSide)
			}
			for i := 1; i < len(fracs); i++ {
				if fracs[i] < fracs[i-1] || fracs[i] > 1 {
					t.Fatalf("progress went %v → %v", fracs[i-1], fracs[i])
				}
			}
			if fracs[len(fracs)-1] != 1 {
				t.Errorf("progress ends at %v", fracs[len(fracs)-1])
			}
		})
	}
}

// TestDefenseTableRefusesBeforeRunning: bad options and a patch larger than
// a model's input are refused before any model runs.
func TestDefenseTableRefusesBeforeRunning(t *testing.T) {
	ds := greySet(16, 1)
	for _, tc := range []struct {
		name string
		set  func(*DefenseOptions)
	}{
		{"area", func(o *DefenseOptions) { o.Area = 0 }},
		{"eps", func(o *DefenseOptions) { o.Eps = -1 }},
		{"patch larger than the image", func(o *DefenseOptions) { o.PatchSize = 17 }},
		{"target", func(o *DefenseOptions) { o.Target = "zebra" }},
		{"placements", func(o *DefenseOptions) { o.Placements = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultDefenseOptions()
			o.PatchSize = 8
			tc.set(&o)
			m := &countingModel{named: meanModel("mean", 16)}
			if _, err := DefenseTable(context.Background(), []DefenseCase{{Model: m}}, ds, o, nil); err == nil || m.calls != 0 {
				t.Errorf("err %v after %d model calls; want an error before any", err, m.calls)
			}
		})
	}
}

// countingModel counts its runs.
type countingModel struct {
	named
	calls int
}

func (c *countingModel) Logits(ctx context.Context, x []float32, n int) ([]float32, error) {
	c.calls++
	return c.named.Logits(ctx, x, n)
}

func (c *countingModel) Gradient(ctx context.Context, loss engine.LossKind, x []float32, t []int64) (engine.Gradients, error) {
	c.calls++
	return c.named.Gradient(ctx, loss, x, t)
}
