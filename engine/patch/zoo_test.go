package patch

import (
	"context"
	"testing"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/imgops"
)

// splitSamples splits a dataset into two halves, alternating within each
// class, so that a patch trained on one half is measured on images it has
// never seen.
func splitSamples(ds *engine.Dataset) (train, test *engine.Dataset) {
	train, test = &engine.Dataset{Root: ds.Root + " (train half)"}, &engine.Dataset{Root: ds.Root + " (held-out half)"}
	seen := map[string]int{}
	for _, it := range ds.Items {
		d := train
		if seen[it.Class]%2 == 1 {
			d = test
		}
		seen[it.Class]++
		if len(d.Classes) == 0 || d.Classes[len(d.Classes)-1] != it.Class {
			d.Classes = append(d.Classes, it.Class)
		}
		d.Items = append(d.Items, it)
	}
	return train, test
}

// zooPatchOptions are the acceptance run's options: a 24-pixel square patch
// aimed at "general_caution", trained at 25–35% of the image's side over
// ±22.5°.
func zooPatchOptions(steps int) Options {
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.Shape = "general_caution", 24, 24, "rect"
	o.Transforms = imgops.Options{MaxAngleDeg: 22.5, ScaleMode: imgops.SideFraction, ScaleMin: 0.25, ScaleMax: 0.35}
	o.Steps, o.LearningRate, o.Seed = steps, 0.03, 1
	return o
}

// zooEval measures p at 30% of the image's side over ±22.5° and random
// locations.
func zooEval(t *testing.T, models []engine.Classifier, ds *engine.Dataset, p *imgops.Patch, scales ...float64) *EvalReport {
	t.Helper()
	rep, err := Evaluate(context.Background(), models, ds, p, EvalOptions{
		Target: "general_caution", Scales: scales, Placements: 4, Seed: 2,
		Transforms: imgops.Options{MaxAngleDeg: 22.5, ScaleMode: imgops.SideFraction, ScaleMin: 0.3, ScaleMax: 0.3},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestPatchZooAcceptance is the acceptance test on the default
// signs model: a patch trained for well under 3 minutes on half of the
// sample images fools the model into "general_caution" on ≥ 90% of the
// other half at 30% of the image's side, rotated by up to ±22.5° and placed
// anywhere; the noise control of the same size stays under 10%.
func TestPatchZooAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a patch on the zoo model for about half a minute")
	}
	m, ds := zootest.Model(t, "signs", zootest.DefaultName("signs", "resnet"))
	train, test := splitSamples(ds)
	start := time.Now()
	res, err := Train(context.Background(), []engine.Classifier{m}, train, zooPatchOptions(800), nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	rep := zooEval(t, []engine.Classifier{m}, test, res.Patch, 0.1, 0.2, 0.3, 0.4)
	for _, pt := range rep.Curves[0].Points {
		t.Logf("side %.1f (area %.3f): success %.3f, control %.3f; error %.3f, control %.3f (%d trials)",
			pt.Scale, pt.AreaFraction, pt.SuccessRate, pt.ControlSuccessRate, pt.Error, pt.ControlError, pt.Trials)
	}
	t.Logf("trained %d steps in %v on %d images; measured on %d held-out images", res.Steps, took, train.Len(), test.Len())
	if took > 3*time.Minute {
		t.Errorf("training took %v; want at most 3 minutes", took)
	}
	pt := rep.Curves[0].Points[2]
	if pt.SuccessRate < 0.9 || pt.ControlSuccessRate >= 0.1 {
		t.Fatalf("at side 0.3: success %.3f (want ≥ 0.9), control %.3f (want < 0.1)", pt.SuccessRate, pt.ControlSuccessRate)
	}
}

// TestPatchZooDeterministic trains twice for a few steps through ONNX
// Runtime and compares the patches bit for bit.
func TestPatchZooDeterministic(t *testing.T) {
	m, ds := zootest.Model(t, "signs", zootest.DefaultName("signs", "resnet"))
	o := zooPatchOptions(8)
	o.Transforms = jitterOptions()
	a, err := Train(context.Background(), []engine.Classifier{m}, ds, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), []engine.Classifier{m}, ds, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !samePix(a.Patch.Pix, b.Patch.Pix) {
		t.Fatal("two runs through ONNX Runtime with the same seed gave different patches")
	}
}

// TestPatchZooEnsembleTransfer trains one patch on signs-resnet alone and
// one on the ensemble of signs-resnet and signs-mobilenet, and measures
// both on signs-vgg, which neither saw: the ensemble's patch should
// transfer better (Brown et al., §3).
func TestPatchZooEnsembleTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two patches on zoo models for about a minute")
	}
	resnet, ds := zootest.Model(t, "signs", "resnet")
	mobilenet, _ := zootest.Model(t, "signs", "mobilenet")
	vgg, _ := zootest.Model(t, "signs", "vgg")
	train, test := splitSamples(ds)
	o := zooPatchOptions(400)
	single, err := Train(context.Background(), []engine.Classifier{resnet}, train, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	ensemble, err := Train(context.Background(), []engine.Classifier{resnet, mobilenet}, train, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := zooEval(t, []engine.Classifier{vgg, resnet}, test, single.Patch, 0.3, 0.4)
	e := zooEval(t, []engine.Classifier{vgg, resnet, mobilenet}, test, ensemble.Patch, 0.3, 0.4)
	for i, side := range []float64{0.3, 0.4} {
		t.Logf("side %.1f on signs-vgg (held out): single-model patch %.3f, ensemble patch %.3f; white-box: resnet %.3f, ensemble on resnet %.3f, mobilenet %.3f",
			side, s.Curves[0].Points[i].SuccessRate, e.Curves[0].Points[i].SuccessRate,
			s.Curves[1].Points[i].SuccessRate, e.Curves[1].Points[i].SuccessRate, e.Curves[2].Points[i].SuccessRate)
	}
	if !(e.Curves[0].Points[1].SuccessRate > s.Curves[0].Points[1].SuccessRate) {
		t.Fatalf("at side 0.4 on signs-vgg: ensemble %.3f, single model %.3f; want the ensemble ahead",
			e.Curves[0].Points[1].SuccessRate, s.Curves[0].Points[1].SuccessRate)
	}
}

// BenchmarkPatchTrainStep measures training throughput at batch 16 on the
// default signs model: images per second through sampling, composition,
// the fused gradient run, pull-back and the Adam update, and the share of
// the time spent outside Classifier.Gradient (ONNX Runtime with its input
// and output copies).
func BenchmarkPatchTrainStep(b *testing.B) {
	m, ds := zootest.Model(b, "signs", zootest.DefaultName("signs", "resnet"))
	o := zooPatchOptions(1 << 30)
	o.BatchSize = 16
	tr, err := newPatchTrainer([]engine.Classifier{m}, ds, o)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tr.gradient(ctx, 0, tr.patch); err != nil { // sessions start here
		b.Fatal(err)
	}
	tr.gradTime = 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		st, err := tr.gradient(ctx, tr.step, tr.patch)
		if err != nil {
			b.Fatal(err)
		}
		tr.update(st.grad)
		tr.step++
	}
	total := time.Since(start)
	b.ReportMetric(float64(b.N*o.BatchSize)/total.Seconds(), "images/s")
	b.ReportMetric(100*(1-tr.gradTime.Seconds()/total.Seconds()), "%outside-ORT")
}
