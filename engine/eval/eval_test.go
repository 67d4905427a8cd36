package eval

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// named gives a testkit.Linear its own name.
type named struct {
	*testkit.Linear
	name string
}

func (n named) Name() string { return n.name }

// threshold is a two-class linear model on 1×1×w images (w ≥ 2) whose
// class is 1 exactly when pixel p exceeds t: logits (0, x_p − t), a
// boundary the tests know in closed form.
func threshold(name string, w, p int, t float64) named {
	l := &testkit.Linear{Shape: engine.ImageShape{Channels: 1, Height: 1, Width: w}, W: [][]float64{make([]float64, w), make([]float64, w)}, B: []float64{0, -t}}
	l.W[1][p] = 1
	return named{l, name}
}

// model lays images (each w pixels) out for c with true labels.
func model(c engine.Classifier, labels []int, images ...[]float32) Model {
	var x []float32
	for _, im := range images {
		x = append(x, im...)
	}
	return Model{Classifier: c, Images: x, Labels: labels}
}

// TestTransferBetweenTwoBoundaries crafts FGSM on two models whose
// boundaries lie on different pixels: a perturbation crafted on one moves
// only its own pixel (the other's gradient is 0 there), so nothing transfers,
// and only the image close enough to the boundary (0.4 + 0.25 > 0.5, but
// 0.2 + 0.25 < 0.5) is fooled.
func TestTransferBetweenTwoBoundaries(t *testing.T) {
	a, b := threshold("a", 2, 0, 0.5), threshold("b", 2, 1, 0.5)
	ims := [][]float32{{0.4, 0.4}, {0.2, 0.2}}
	models := []Model{model(a, []int{0, 0}, ims...), model(b, []int{0, 0}, ims...)}
	fgsm, err := attack.NewFGSM(&attack.FGSMOptions{Eps: 0.25, Norm: attack.LInf})
	if err != nil {
		t.Fatal(err)
	}
	var reports int
	m, err := Transfer(context.Background(), func(int) attack.Attack { return fgsm }, models, nil,
		&Options{Batch: 1, Progress: func(int, attack.Progress) { reports++ }})
	if err != nil {
		t.Fatal(err)
	}
	want := [2][2]float64{{0.5, 0}, {0, 0.5}}
	for i := range 2 {
		for j := range 2 {
			crafted, rounded := m.Error(i, j)
			if crafted != want[i][j] || rounded != want[i][j] {
				t.Errorf("crafted on %s, evaluated on %s: error %v (8-bit %v); want %v", m.Models[i], m.Models[j], crafted, rounded, want[i][j])
			}
		}
		if m.CleanError[i] != 0 {
			t.Errorf("clean error of %s %v", m.Models[i], m.CleanError[i])
		}
		r := m.Rows[i]
		if r.AttackSuccessRate != 0.5 || r.Attacked != 2 || r.Successful.N != 1 {
			t.Errorf("row %d: success %v of %d, %d successful", i, r.AttackSuccessRate, r.Attacked, r.Successful.N)
		}
		// The fooled image moved 0.25 on one of two pixels.
		if s := r.Successful; math.Abs(s.L2Mean-0.25) > 1e-6 || math.Abs(s.LinfMean-0.25) > 1e-6 || math.Abs(s.RMSMean-0.25/math.Sqrt2) > 1e-6 {
			t.Errorf("row %d distortion %+v", i, s)
		}
		if r.MeanQueries != 3 { // FGSM's count: the clean image, the gradient step, the final classification
			t.Errorf("row %d: %v queries per image", i, r.MeanQueries)
		}
	}
	if reports == 0 {
		t.Error("no progress reported")
	}
}

// TestRoundingFlipsTheResult builds adversarials a fraction of an 8-bit
// level past a boundary at 128.2/255: 128.4/255 rounds to 128/255 and falls
// back, 128.6/255 rounds to 129/255 and stays past it. The report must give
// both figures.
func TestRoundingFlipsTheResult(t *testing.T) {
	a := threshold("a", 2, 0, 128.2/255)
	clean := [][]float32{{100.0 / 255, 0}, {100.0 / 255, 0}}
	adv := []float32{128.4 / 255, 0, 128.6 / 255, 0}
	models := []Model{model(a, []int{0, 0}, clean...)}
	r, err := Perturbed(context.Background(), "nudge", adv, models, 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Rounded; got[0] != 128.0/255 || got[2] != 129.0/255 {
		t.Errorf("rounded pixels %v, want 128/255 and 129/255", got)
	}
	s := r.Models[0]
	if s.AdversarialAccuracy != 0 || s.RoundedAccuracy != 0.5 || s.SuccessRate != 1 || s.RoundedSuccessRate != 0.5 {
		t.Errorf("summary %+v; want every image fooled as crafted, one after rounding", s)
	}
	if r.AttackSuccessRate != 1 || r.RoundedSuccessRate != 0.5 || r.Successful.N != 2 || r.RoundedSuccessful.N != 1 {
		t.Errorf("report: success %v, rounded %v, %d and %d successful", r.AttackSuccessRate, r.RoundedSuccessRate, r.Successful.N, r.RoundedSuccessful.N)
	}
	im := r.Images[0]
	if !im.On[0].Fooled || im.On[0].FooledRounded || im.On[0].Rounded != 0 || !r.Images[1].On[0].FooledRounded {
		t.Errorf("image outcomes %+v, %+v", im.On[0], r.Images[1].On[0])
	}
	if math.Abs(im.L2-28.4/255) > 1e-6 || math.Abs(im.RoundedL2-28.0/255) > 1e-6 || math.Abs(im.RoundedRMS-28.0/255/math.Sqrt2) > 1e-6 {
		t.Errorf("distortions L2 %v, rounded %v (RMS %v)", im.L2, im.RoundedL2, im.RoundedRMS)
	}
	if d := r.RoundedSuccessful.L2Mean; math.Abs(d-29.0/255) > 1e-6 {
		t.Errorf("rounded successful L2 %v; want 29/255", d)
	}
}

// TestTargetsAndUnknownLabels checks goals on models whose classes differ:
// the target exists on one model only (the other judges untargeted), and an
// image of unknown class takes the clean prediction as its label.
func TestTargetsAndUnknownLabels(t *testing.T) {
	// Three classes on pixel 0: z = (0, x−0.3, 2(x−0.6)): class 0 below
	// 0.3, 1 up to 0.9, then 2.
	l3 := &testkit.Linear{Shape: engine.ImageShape{Channels: 1, Height: 1, Width: 2}, W: [][]float64{{0, 0}, {1, 0}, {2, 0}}, B: []float64{0, -0.3, -1.2}}
	three := named{l3, "three"}
	two := threshold("two", 2, 0, 0.5)
	clean := [][]float32{{0.1, 0}, {0.6, 0}}
	models := []Model{model(three, []int{0, -1}, clean...), model(two, []int{0, -1}, clean...)}
	adv := []float32{0.95, 0, 0.95, 0}
	r, err := Perturbed(context.Background(), "nudge", adv, models, 0, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := r.Images[1].On
	if o[0].Label != 1 || o[0].Target != 2 || o[0].CleanMet || !o[0].Fooled {
		t.Errorf("three-class outcome %+v", o[0])
	}
	if o[1].Label != 1 || o[1].Target != -1 || o[1].Fooled {
		t.Errorf("two-class outcome %+v: it lacks class 2, so its goal is leaving class 1, which 0.95 does not", o[1])
	}
	if s := r.Models[0]; s.Labelled != 1 || s.CleanAccuracy != 1 || s.AdversarialAccuracy != 0 || s.SuccessRate != 1 {
		t.Errorf("three-class summary %+v", s)
	}
	if s := r.Models[1]; s.Eligible != 2 || s.SuccessRate != 0.5 || s.Labelled != 1 || s.AdversarialAccuracy != 0 {
		t.Errorf("two-class summary %+v: image 0 leaves class 0, image 1 stays in class 1", s)
	}
}

// TestResizedModelSeesTheEightBitImage evaluates on a model of another
// input size: it gets the adversarial through an 8-bit image and a resize,
// so its crafted and rounded figures coincide, and the summary says so.
func TestResizedModelSeesTheEightBitImage(t *testing.T) {
	small := threshold("small", 2, 0, 0.5)
	big := threshold("big", 4, 0, 0.5)
	models := []Model{model(small, []int{0}, []float32{0.4, 0.4}), model(big, []int{0}, []float32{0.4, 0.4, 0.4, 0.4})}
	r, err := Perturbed(context.Background(), "nudge", []float32{0.6, 0.6}, models, 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Models[0].Resized || !r.Models[1].Resized {
		t.Errorf("resized flags %v %v", r.Models[0].Resized, r.Models[1].Resized)
	}
	o := r.Images[0].On[1]
	if want := float32(153.0/255 - 0.5); math.Abs(float64(o.AdvLogits[1]-want)) > 1e-6 || o.AdvLogits[1] != o.RoundedLogits[1] || !o.Fooled {
		t.Errorf("resized outcome %+v; want logit %v", o, want)
	}
}

func TestBadInputs(t *testing.T) {
	a := threshold("a", 2, 0, 0.5)
	good := model(a, []int{0}, []float32{0.4, 0.4})
	short := Model{Classifier: a, Images: []float32{0.4}, Labels: []int{0}}
	tests := []struct {
		name   string
		models []Model
		src    int
		x      []float32
	}{
		{"source out of range", []Model{good}, 1, []float32{0.5, 0.5}},
		{"images do not match labels", []Model{good, short}, 0, []float32{0.5, 0.5}},
		{"half an image", []Model{good}, 0, []float32{0.5}},
		{"more images than the set", []Model{good}, 0, []float32{0.5, 0.5, 0.5, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Perturbed(context.Background(), "x", tt.x, tt.models, tt.src, -1, nil); err == nil {
				t.Error("accepted")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fgsm, _ := attack.NewFGSM(nil)
	if r, err := Attack(ctx, fgsm, []Model{good}, 0, -1, nil); err == nil || r != nil {
		t.Errorf("a cancelled attack with nothing done gave %v, %v", r, err)
	}
}

// TestInterruptedAttackReportsWhatFinished cancels after the first of two
// batches: the report holds the first image, evaluated, with the error.
func TestInterruptedAttackReportsWhatFinished(t *testing.T) {
	a := threshold("a", 2, 0, 0.5)
	models := []Model{model(a, []int{0, 0}, []float32{0.4, 0.4}, []float32{0.45, 0.45})}
	fgsm, err := attack.NewFGSM(&attack.FGSMOptions{Eps: 0.25, Norm: attack.LInf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := Attack(ctx, fgsm, models, 0, -1, &Options{Batch: 1, Progress: func(int, attack.Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) || r == nil {
		t.Fatalf("report %v, error %v; want the finished image and context.Canceled", r, err)
	}
	if len(r.Images) != 1 || len(r.Adversarial) != 2 || !r.Images[0].On[0].Fooled || r.Models[0].AdversarialAccuracy != 0 {
		t.Errorf("partial report: %d images, %+v", len(r.Images), r.Models[0])
	}
}
