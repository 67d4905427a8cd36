package patch

import (
	"context"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/imgops"
)

// sceneBackground is the scenes' grey: a table the sign lies on.
const sceneBackground = 0.45

// signScenes puts each image of ds, shrunk to a side×side square, on a
// grey w×h canvas centred at (cx, cy): a real sign with room beside it. The
// scenes keep the images' classes.
func signScenes(t testing.TB, ds *engine.Dataset, side int, cx, cy float64, w, h int) *engine.Dataset {
	t.Helper()
	out := &engine.Dataset{Root: ds.Root + " (scenes)", Classes: ds.Classes}
	canvas := make([]float32, 3*w*h)
	for i := range canvas {
		canvas[i] = sceneBackground
	}
	var cp imgops.Composition
	mask := imgops.RectMask(side, side)
	for _, it := range ds.Items {
		sign := imgops.NewPatchFromImage(it.Image, mask)
		if err := cp.Apply(sign, canvas, 1, 3, h, w, []imgops.Transform{{Scale: 1, CX: cx, CY: cy}}); err != nil {
			t.Fatal(err)
		}
		img, err := imgops.TensorToImage(cp.Images, 3, h, w)
		if err != nil {
			t.Fatal(err)
		}
		it.Image, it.Path = img, ""
		out.Items = append(out.Items, it)
	}
	return out
}

// Figure 1's scene: a 64×64 canvas with the sign, 36 pixels square, at its
// left edge (x in [1, 37)), and room on the right for a patch at 30% of the
// image's side rotated by up to ±15°: its half extent is at most
// 0.3·64·(cos 15° + sin 15°)/2 ≈ 11.8 pixels, so a centre at x ≥ 50 keeps
// it clear of the sign.
const (
	fig1Side, fig1SignSide     = 64, 36
	fig1SignRight              = 1 + fig1SignSide
	fig1PatchSide, fig1MaxDeg  = 0.3, 15.0
	fig1CentreX0, fig1CentreX1 = 50, 53
)

// fig1Transforms are the patch's placements beside the sign: rotation,
// and a centre drawn from the strip the placement mask leaves.
func fig1Transforms() imgops.Options {
	pl := imgops.Mask{W: fig1Side, H: fig1Side, Pix: make([]float32, fig1Side*fig1Side)}
	for y := 13; y < fig1Side-13; y++ {
		for x := fig1CentreX0; x < fig1CentreX1; x++ {
			pl.Pix[y*fig1Side+x] = 1
		}
	}
	return imgops.Options{MaxAngleDeg: fig1MaxDeg, ScaleMode: imgops.SideFraction, ScaleMin: fig1PatchSide, ScaleMax: fig1PatchSide, Placement: &pl}
}

// TestPatchZooFigure1 is Brown et al.'s Figure 1 on the zoo: a real sign
// (a held-out signs sample of a class other than the target, which
// signs-resnet names correctly in the scene) lies on a table, and a
// targeted patch trained for a few hundred steps is placed beside it,
// never over it. Without the patch the model names the sign; with the
// patch it names the target on most placements, while the noise control
// of the same size leaves it naming the sign.
func TestPatchZooFigure1(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a patch on the zoo model for about a minute")
	}
	m, ds := zootest.Model(t, "signs", zootest.DefaultName("signs", "resnet"))
	const target = "general_caution"
	ti, err := engine.ClassIndex(m.Labels(), target)
	if err != nil {
		t.Fatal(err)
	}
	train, test := splitSamples(ds)
	cy := float64(fig1Side) / 2
	cx := 1 + float64(fig1SignSide)/2
	trainScenes := signScenes(t, train, fig1SignSide, cx, cy, fig1Side, fig1Side)
	scenes := signScenes(t, test, fig1SignSide, cx, cy, fig1Side, fig1Side)

	// Without the patch: keep the scenes of another class whose sign the model names.
	x, _ := scenes.TensorFor(m)
	labels, err := scenes.LabelsFor(m.Labels())
	if err != nil {
		t.Fatal(err)
	}
	z, err := m.Logits(context.Background(), x, scenes.Len())
	if err != nil {
		t.Fatal(err)
	}
	named := &engine.Dataset{Root: scenes.Root + " (named)", Classes: scenes.Classes}
	others := 0
	for i, l := range labels {
		if l == ti {
			continue
		}
		others++
		if engine.Argmax(z[i*m.NumClasses():(i+1)*m.NumClasses()]) == l {
			named.Items = append(named.Items, scenes.Items[i])
		}
	}
	t.Logf("without a patch the model names the sign in %d of %d scenes", named.Len(), others)
	if named.Len() < others*3/4 {
		t.Fatalf("the model names the sign in %d of %d scenes; want the scene to show a recognisable sign (≥ 75%%)", named.Len(), others)
	}

	o := zooPatchOptions(400)
	o.Target, o.Transforms = target, fig1Transforms()
	res, err := Train(context.Background(), []engine.Classifier{m}, trainScenes, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every placement the evaluation can draw keeps the patch off the sign.
	tr := fig1Transforms()
	s, err := imgops.NewSampler(3, res.Patch, fig1Side, fig1Side, &tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range s.Sample(2000) {
		if x0, _, _, _ := tf.Footprint(res.Patch.W, res.Patch.H); x0 < fig1SignRight+0.5 {
			t.Fatalf("a placement reaches x = %.2f, over the sign (x < %d)", x0, fig1SignRight)
		}
	}
	rep, err := Evaluate(context.Background(), []engine.Classifier{m}, named, res.Patch, EvalOptions{
		Target: target, Scales: []float64{fig1PatchSide}, Placements: 4, Seed: 7, Transforms: fig1Transforms(),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pt := rep.Curves[0].Points[0]
	t.Logf("beside the sign: the patch makes the model say %q on %.1f%% of %d placements; the noise control %.1f%%, and the model still names the sign beside it on %.1f%%",
		target, 100*pt.SuccessRate, pt.Trials, 100*pt.ControlSuccessRate, 100*(1-pt.ControlError))
	if pt.SuccessRate <= 0.5 || pt.ControlSuccessRate >= 0.1 || pt.ControlError >= 0.5 {
		t.Fatalf("patch %.3f (want most placements, > 0.5), control %.3f (want < 0.1), sign lost beside the control %.3f (want < 0.5)",
			pt.SuccessRate, pt.ControlSuccessRate, pt.ControlError)
	}
}
