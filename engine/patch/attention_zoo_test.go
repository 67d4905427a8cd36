package patch

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/engine/saliency"
)

// TestZooPatchAttractsGradCAM checks Brown et al.'s claim that a patch
// attracts the network's attention, on the zoo: a targeted patch trained
// on half of the signs samples against signs-resnet at 10% of the image's
// area, pasted on the other half, takes a larger share of Grad-CAM's mass
// than its share of the image on most placements, and on more of them
// than a noise patch of the same size in the same places.
func TestZooPatchAttractsGradCAM(t *testing.T) {
	m, ds := zootest.Model(t, "signs", "resnet")
	train, test := splitSamples(ds)
	res, tf := trainTenthPatch(t, m, train, 300)
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, test, res.Patch, EvalOptions{
		Target: "general_caution", Scales: []float64{0.1}, Placements: 2, Seed: 3, Transforms: tf,
		Attention: &saliency.Options{Method: saliency.GradCAM},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pt := rep.Curves[0].Points[0]
	a, c := pt.Attention, pt.ControlAttention
	t.Logf("signs-resnet, patch at %.3f of the area (%d placements, success %.3f): Grad-CAM mass %.3f (×%.2f its area), more than its area on %.3f of the placements; noise control %.3f (×%.2f) on %.3f",
		pt.AreaFraction, pt.Placements, pt.SuccessRate, a.Mass, a.Ratio(), pt.Attracted, c.Mass, c.Ratio(), pt.ControlAttracted)
	if pt.Attracted <= 0.5 || pt.Attracted <= pt.ControlAttracted || a.Ratio() <= 1 {
		t.Fatalf("the patch draws more than its area's share of Grad-CAM on %.3f of the placements (control %.3f), ratio %.2f; want most, more than the control, and a ratio above 1",
			pt.Attracted, pt.ControlAttracted, a.Ratio())
	}
}
