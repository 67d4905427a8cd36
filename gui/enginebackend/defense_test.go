package enginebackend

import (
	"context"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/gui"
)

// TestEngineBackendDefends puts the demo model in bits:bits=1 and checks it
// against the bare model on images binarised by hand (each value ≥ 0.5 to
// 1, else 0: the defense's transform written independently), then runs a
// tiny defenses table on the bare and the defended model.
func TestEngineBackendDefends(t *testing.T) {
	be, m, set := openDemo(t)
	ctx := context.Background()
	d, err := be.DefendModel(ctx, m, "bits:bits=1", set.Samples)
	if err != nil {
		t.Fatal(err)
	}
	dm, ok := d.(gui.DefendedModel)
	if !ok || d.Name() != m.Name()+"+bits1" || dm.Bare() != m || dm.Defense() != "bits:bits=1" {
		t.Fatalf("defended model %q (%T)", d.Name(), d)
	}
	if f := d.Details().Findings; !strings.Contains(f[len(f)-1], "BPDA") {
		t.Errorf("the details do not say the defense and its gradient: %q", f)
	}
	for _, s := range set.Samples[:4] {
		got, err := be.Predict(ctx, d, s.Image)
		if err != nil {
			t.Fatal(err)
		}
		b := s.Image.Bounds()
		bin := image.NewNRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := s.Image.At(x, y).RGBA()
				v := func(c uint32) uint8 { return uint8(255 * math.Round(float64(c)/0xffff)) }
				bin.Set(x, y, color.NRGBA{v(r), v(g), v(bl), 255})
			}
		}
		want, err := be.Predict(ctx, m, bin)
		if err != nil {
			t.Fatal(err)
		}
		for k := range want.Probs {
			if math.Abs(float64(got.Probs[k]-want.Probs[k])) > 1e-5 {
				t.Fatalf("%s: class %d probability %v through the defense, %v on the binarised image", s.Name, k, got.Probs[k], want.Probs[k])
			}
		}
	}
	if back, err := be.DefendModel(ctx, d, "", nil); err != nil || back != m {
		t.Errorf("removing the defense gave %v, %v; want the bare model", back, err)
	}
	if _, err := be.DefendModel(ctx, m, "bits:bits=9", nil); err == nil {
		t.Error("bits=9 was accepted")
	}
	o := eval.DefaultDefenseOptions()
	o.Steps, o.Queries, o.PatchSteps, o.PatchSize, o.Placements = 2, 2, 1, 8, 1
	rows, err := be.DefenseTable(ctx, gui.DefenseTableRequest{Models: []gui.Model{m, d}, Samples: set.Samples, Limit: 4, Options: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Defense != "" || rows[1].Defense != "bits:bits=1" || rows[1].Model != d.Name() {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		if r.RobustAccuracy > r.CleanAccuracy || r.CleanAccuracy < 0 || r.CleanAccuracy > 1 {
			t.Errorf("%s: clean %v robust %v", r.Model, r.CleanAccuracy, r.RobustAccuracy)
		}
	}
}
