package onnxmodel_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// TestRealWorldCorpus loads each downloaded classifier of ../shared/realworld
// the way a user would (a copy with a sidecar stating only its README's
// facts) and holds advlab to the original file run by ONNX Runtime directly:
// the README's accuracy on the corpus's images within 3 points; and, on a
// few images at batch 1, the gradient graph's probabilities within 1e-3 of
// the original's, its loss equal to the original's −log p(target), and its
// input gradient equal to central finite differences of that loss through
// the original.
func TestRealWorldCorpus(t *testing.T) {
	for _, rw := range zootest.RealWorldModels {
		t.Run(rw.File, func(t *testing.T) {
			m, ds := rw.Load(t)
			labels, err := ds.LabelsFor(m.Labels())
			if err != nil {
				t.Fatal(err)
			}
			x, _ := ds.TensorFor(m)
			acc := accuracy(t, m, x, labels)
			t.Logf("%s: accuracy %.1f%% on %d images (README %.1f%%)", m.Name(), 100*acc, ds.Len(), 100*rw.Accuracy)
			if math.Abs(acc-rw.Accuracy) > 0.03 {
				t.Errorf("accuracy %.1f%%, README %.1f%%", 100*acc, 100*rw.Accuracy)
			}
			orig := newOriginal(t, rw, testkit.RealWorldDir())
			n, size := ds.Len(), m.InputShape().Size()
			for _, i := range []int{0, n / 3, 2 * n / 3} {
				img := x[i*size : (i+1)*size]
				if !rw.Float16 { // the float16 original has no finite-difference check
					img = offTies(img, uint64(i))
				}
				checkAgainstOriginal(t, m, orig, img, uint64(i))
			}
		})
	}
}

// offTies returns img plus uniform noise of at most 1e-3 (a quarter of an
// 8-bit level). MNIST's background is exactly 0, so whole max-pool windows
// tie, where the loss has no gradient: finite differences there measure a
// one-sided slope, while advlab (like PyTorch) gives the first maximum's.
// The noise moves the check off those ties.
func offTies(img []float32, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 20131221))
	out := make([]float32, len(img))
	for i, v := range img {
		out[i] = v + 1e-3*rng.Float32()
	}
	return out
}

// accuracy classifies images in batches and returns the top-1 accuracy.
func accuracy(t *testing.T, m *onnxmodel.Model, x []float32, labels []int) float64 {
	t.Helper()
	const batch = 25
	n, k, size := len(labels), m.NumClasses(), m.InputShape().Size()
	correct := 0
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		z, err := m.Logits(context.Background(), x[lo*size:hi*size], hi-lo)
		if err != nil {
			t.Fatal(err)
		}
		for i := lo; i < hi; i++ {
			if engine.Argmax(z[(i-lo)*k:(i-lo+1)*k]) == labels[i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(n)
}

// Tolerances of checkAgainstOriginal. A float16 original computes in half
// precision (a unit in the last place of 2^-11 relative), advlab in float32
// from the same rounded weights; a float32 original differs from advlab's
// graph only by operator order.
const (
	probTol           = 1e-3
	lossTol32         = 1e-4 // relative, float32 originals
	lossTol16         = 2e-3 // relative, float16 originals
	gradRelTol        = 0.05
	gradFloor         = 0.02 // of the gradient's root mean square
	fdStep            = 1e-3 // in [0,1] pixel units
	fdStepDirection   = 4.0 / 255
	fdPoints, fdTries = 4, 40
)

// checkAgainstOriginal compares one image's gradient graph run with the
// original model. The target is the original's runner-up class, whose loss
// is far from 0 even where the model is certain of the top class (the
// MNIST models are), so that the gradient is well above rounding.
func checkAgainstOriginal(t *testing.T, m *onnxmodel.Model, orig *originalModel, img []float32, seed uint64) {
	t.Helper()
	po := orig.probs(t, img)
	order := make([]int, len(po))
	for c := range order {
		order[c] = c
	}
	slices.SortFunc(order, func(a, b int) int { return -cmpFloat(po[a], po[b]) })
	target := order[1]
	g, err := m.Gradient(context.Background(), engine.CrossEntropy, img, []int64{int64(target)})
	if err != nil {
		t.Fatal(err)
	}
	pa := engine.Softmax(g.Logits)
	if len(pa) != len(po) {
		t.Fatalf("advlab has %d classes, the original %d", len(pa), len(po))
	}
	worst := 0.0
	for c := range pa {
		worst = math.Max(worst, math.Abs(pa[c]-po[c]))
	}
	if worst > probTol || math.IsNaN(worst) {
		t.Errorf("image %d: probabilities differ from the original's by up to %.3g", seed, worst)
	}
	l0 := -math.Log(po[target])
	tol := lossTol32
	if orig.rw.Float16 {
		tol = lossTol16
	}
	if d := math.Abs(float64(g.Loss[0]) - l0); d > tol*math.Max(1, l0) || math.IsNaN(d) {
		t.Errorf("image %d: loss %.6f, the original's −log p(%d) %.6f", seed, g.Loss[0], target, l0)
	}
	var rms float64
	for _, v := range g.Grad {
		rms += float64(v) * float64(v)
	}
	rms = math.Sqrt(rms / float64(len(g.Grad)))
	if rms == 0 || math.IsNaN(rms) {
		t.Fatalf("image %d: gradient of RMS %g", seed, rms)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	if orig.rw.Float16 {
		// One pixel's effect on the loss lies below half precision's
		// resolution (a step of 1e-3 leaves the float16 loss unchanged), and
		// whole-image directions cross so many ReLU kinks that their
		// one-sided differences disagree in sign: the float16 original
		// checks the probabilities and the loss only.
		return
	}
	accepted := 0
	floor := gradFloor * rms
	for try := 0; try < fdTries && accepted < fdPoints; try++ {
		j := rng.IntN(len(img))
		fd := func(h float64) (fwd, bwd, central float64) {
			lp, lm := orig.loss(t, nudge(img, j, h), target), orig.loss(t, nudge(img, j, -h), target)
			return (lp - l0) / h, (l0 - lm) / h, (lp - lm) / (2 * h)
		}
		fwd, bwd, central := fd(fdStep)
		_, _, half := fd(fdStep / 2)
		// A ReLU kink or a max-pool switch within the step shows as one-sided
		// differences that disagree, or a central difference that changes
		// with the step.
		if math.Abs(fwd-bwd) > gradRelTol*math.Abs(central)+floor/4 || math.Abs(central-half) > gradRelTol*math.Abs(half)+floor/4 {
			continue
		}
		accepted++
		if d := math.Abs(float64(g.Grad[j]) - half); d > gradRelTol*math.Abs(half)+floor {
			t.Errorf("image %d pixel %d: gradient %.5g, central difference of the original %.5g (step %g: %.5g, one-sided %.5g, %.5g)", seed, j, g.Grad[j], half, fdStep, central, fwd, bwd)
		}
	}
	if accepted < fdPoints {
		t.Errorf("image %d: only %d of %d pixels lie away from kinks", seed, accepted, fdTries)
	}
}

// nudge returns a copy of img with pixel j moved by h.
func nudge(img []float32, j int, h float64) []float32 {
	out := append([]float32(nil), img...)
	out[j] += float32(h)
	return out
}

// cmpFloat orders float64s.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
