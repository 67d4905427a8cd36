package patch

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/imgops"
)

// TestPatchRobustZoo checks the robust models' must-hold (c): adversarial
// training against ε-bounded perturbations does not stop an unbounded
// patch (Brown et al. 2017). A targeted patch trained on half of the signs
// samples against signs-resnet-robust, at 10% of the image's area and up to
// ±22.5°, turns more than half of the other half into "general_caution" at
// that size, while a noise patch of the same size and placements stays
// under 10%.
func TestPatchRobustZoo(t *testing.T) {
	m, ds := zootest.Model(t, "signs", "resnet-robust")
	train, test := splitSamples(ds)
	res, tf := trainTenthPatch(t, m, train, 600)
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, test, res.Patch, EvalOptions{
		Target: "general_caution", Scales: []float64{0.1}, Placements: 4, Seed: 2, Transforms: tf,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pt := rep.Curves[0].Points[0]
	t.Logf("signs-resnet-robust, patch at area %.3f trained %d steps on %d images: success %.3f on %d held-out images (%d trials), noise control %.3f",
		pt.AreaFraction, res.Steps, train.Len(), pt.SuccessRate, test.Len(), pt.Trials, pt.ControlSuccessRate)
	if pt.SuccessRate <= 0.5 || pt.ControlSuccessRate >= 0.1 {
		t.Fatalf("at 10%% of the area: success %.3f (want > 0.5), control %.3f (want < 0.1)", pt.SuccessRate, pt.ControlSuccessRate)
	}
}

// trainTenthPatch trains a 24-pixel "general_caution" patch against m on
// train for steps steps, at 10% of the image's area and up to ±22.5°, and
// returns it with those transformations, for measuring it the same way.
func trainTenthPatch(t *testing.T, m engine.Classifier, train *engine.Dataset, steps int) (*Result, imgops.Options) {
	t.Helper()
	tf := imgops.Options{MaxAngleDeg: 22.5, ScaleMode: imgops.AreaFraction, ScaleMin: 0.1, ScaleMax: 0.1}
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.Shape = "general_caution", 24, 24, "rect"
	o.Transforms = tf
	o.Steps, o.LearningRate, o.Seed = steps, 0.03, 1
	res, err := Train(context.Background(), []engine.Classifier{m}, train, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, tf
}
