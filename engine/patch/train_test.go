package patch

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/imgops"
)

var fourLabels = []string{"0", "1", "2", "3"}

// jitterOptions turns every transformation on, so that tests cover them all.
func jitterOptions() imgops.Options {
	return imgops.Options{MaxAngleDeg: 30, ScaleMode: imgops.SideFraction, ScaleMin: 0.5, ScaleMax: 0.8,
		Perspective: 0.2, Brightness: 0.05, Contrast: 0.1, NoiseStd: 0.02, BlurSigma: 0.8}
}

// randomPatch returns a patch with mask m and colours uniform in [0.25, 0.75].
func randomPatch(m imgops.Mask, seed uint64) *imgops.Patch {
	p := imgops.NewGreyPatch(m)
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range p.Pix {
		p.Pix[i] = float32(0.25 + 0.5*r.Float64())
	}
	return p
}

// TestPatchGradientMatchesFiniteDifferences checks the gradient a training
// step follows against central differences of the objective, computed
// independently: the batch composed with imgops.Apply, logits from the
// closed-form models, cross-entropy in float64, and the regularisers' values.
func TestPatchGradientMatchesFiniteDifferences(t *testing.T) {
	cases := []struct {
		name   string
		target string
		sides  []int
	}{
		{"targeted", "2", []int{16}},
		{"untargeted", "", []int{16}},
		{"ensemble of two input sizes", "1", []int{16, 24}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var models []engine.Classifier
			var lins []*testkit.Linear
			for i, s := range tc.sides {
				l := newLinearRGB(uint64(1+i), 4, s, 1)
				lins, models = append(lins, l), append(models, l)
			}
			ds := smoothImages(2, 20, 3, fourLabels)
			o := DefaultOptions()
			o.Target, o.Width, o.Height, o.BatchSize = tc.target, 8, 8, 4
			o.Transforms = jitterOptions()
			o.TVWeight, o.NPSWeight = 0.3, 0.2
			tr, err := newPatchTrainer(models, ds, o)
			if err != nil {
				t.Fatal(err)
			}
			p := randomPatch(tr.patch.Mask, 9)
			st, err := tr.gradient(context.Background(), 0, p)
			if err != nil {
				t.Fatal(err)
			}
			objective := func(q *imgops.Patch) float64 {
				idx, ts, err := tr.draw(0, q)
				if err != nil {
					t.Fatal(err)
				}
				var ce float64
				for mi, l := range lins {
					shape := l.Shape
					all, _ := ds.Tensor(shape)
					labels, _ := ds.LabelsFor(l.Labels())
					size := shape.Size()
					x := make([]float32, 0, len(idx)*size)
					mts := make([]imgops.Transform, len(ts))
					for j, i := range idx {
						x = append(x, all[i*size:(i+1)*size]...)
						mts[j] = rescaleTransform(ts[j], models[0].InputShape(), shape, o.Transforms.ScaleMode)
					}
					cp, err := imgops.Apply(q, x, len(idx), 3, shape.Height, shape.Width, mts)
					if err != nil {
						t.Fatal(err)
					}
					for j, i := range idx {
						z := l.RawLogits(cp.Images[j*size : (j+1)*size])
						goal := labels[i]
						if tc.target != "" {
							goal, _ = engine.ClassIndex(l.Labels(), tc.target)
						}
						m := math.Inf(-1)
						for _, v := range z {
							m = math.Max(m, v)
						}
						var s float64
						for _, v := range z {
							s += math.Exp(v - m)
						}
						ce += (m + math.Log(s) - z[goal]) / float64(len(idx)*len(lins))
					}
					_ = mi
				}
				if tc.target == "" {
					ce = -ce
				}
				tv, _ := imgops.TotalVariation(q, imgops.TVSmooth)
				nps, _ := imgops.NPS(q, imgops.DefaultPalette())
				area := q.Mask.Area()
				return ce + 0.3*tv/area + 0.2*nps/area
			}
			const h = 1e-2
			r := rand.New(rand.NewPCG(4, 4))
			checked, large := 0, 0
			for checked < 24 {
				k := r.IntN(len(p.Pix))
				if p.Mask.Pix[k%(p.W*p.H)] < 1 {
					continue
				}
				checked++
				q := p.Clone()
				q.Pix[k] = p.Pix[k] + h
				fp := objective(q)
				q.Pix[k] = p.Pix[k] - h
				fm := objective(q)
				fd := (fp - fm) / (2 * h)
				if math.Abs(fd) > 1e-2 {
					large++
				}
				if d := math.Abs(fd - st.grad[k]); d > 2e-3+2e-2*math.Abs(fd) {
					t.Errorf("colour %d: gradient %.6g, central difference %.6g", k, st.grad[k], fd)
				}
			}
			if large < checked/2 {
				t.Fatalf("only %d of %d checked gradients are above 1e-2: the test says little", large, checked)
			}
		})
	}
}

// trainLinear trains on the four-class linear model with every jitter on.
func trainLinear(t *testing.T, ctx context.Context, mutate func(*Options), progress func(Progress)) (*Result, error) {
	t.Helper()
	ds := smoothImages(2, 16, 4, fourLabels)
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.BatchSize, o.Steps, o.Seed = "2", 8, 8, 6, 30, 42
	o.Transforms = jitterOptions()
	o.TVWeight, o.NPSWeight = 0.05, 0.05
	if mutate != nil {
		mutate(&o)
	}
	return Train(ctx, []engine.Classifier{newLinearRGB(1, 4, 16, 1)}, ds, o, progress)
}

func samePix(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestPatchTrainingIsDeterministic trains twice with the same seed on more
// goroutines than cores and compares the patch files byte for byte.
func TestPatchTrainingIsDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	encode := func(r *Result) []byte {
		var b bytes.Buffer
		meta := r.Meta
		meta.Created = time.Date(2017, 12, 27, 0, 0, 0, 0, time.UTC)
		if err := imgops.EncodePatch(&b, r.Patch, meta, 0); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, err := trainLinear(t, context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := trainLinear(t, context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !samePix(a.Patch.Pix, b.Patch.Pix) || !bytes.Equal(encode(a), encode(b)) {
		t.Fatal("two runs with the same seed gave different patches")
	}
	c, err := trainLinear(t, context.Background(), func(o *Options) { o.Seed = 43 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if samePix(a.Patch.Pix, c.Patch.Pix) {
		t.Fatal("a different seed gave the same patch")
	}
}

// TestPatchResumeMatchesUninterruptedRun stops runs part way, by reaching
// their step count or by cancellation, and resumes them from the
// checkpoint: the final patch must equal the uninterrupted run's bit for bit.
func TestPatchResumeMatchesUninterruptedRun(t *testing.T) {
	full, err := trainLinear(t, context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	resume := func(path string) *Result {
		cp, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := trainLinear(t, context.Background(), func(o *Options) { o.Resume = cp }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Run("stopped after fewer steps", func(t *testing.T) {
		path := filepath.Join(dir, "short.json")
		if _, err := trainLinear(t, context.Background(), func(o *Options) {
			o.Steps, o.CheckpointPath, o.CheckpointEvery = 13, path, 5
		}, nil); err != nil {
			t.Fatal(err)
		}
		if cp, _ := LoadCheckpoint(path); cp == nil || cp.Step != 13 {
			t.Fatalf("checkpoint %+v; want step 13", cp)
		}
		if res := resume(path); !samePix(res.Patch.Pix, full.Patch.Pix) || res.Steps != full.Steps {
			t.Fatal("resumed run differs from the uninterrupted one")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		path := filepath.Join(dir, "cancel.json")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := trainLinear(t, ctx, func(o *Options) { o.CheckpointPath, o.CheckpointEvery = path, 5 },
			func(p Progress) {
				if p.Step == 17 {
					cancel()
				}
			})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v; want context.Canceled", err)
		}
		if res := resume(path); !samePix(res.Patch.Pix, full.Patch.Pix) {
			t.Fatal("run resumed after cancellation differs from the uninterrupted one")
		}
	})
	t.Run("other options refused", func(t *testing.T) {
		path := filepath.Join(dir, "short.json")
		cp, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = trainLinear(t, context.Background(), func(o *Options) { o.Resume, o.LearningRate = cp, 0.02 }, nil)
		if err == nil || !strings.Contains(err.Error(), "options differ") {
			t.Fatalf("error %v; want a refusal naming the options", err)
		}
	})
}

// TestPatchCancelStopsWithinOneStep cancels between steps and inside a
// step's gradient run: training returns the patch of the last completed
// step.
func TestPatchCancelStopsWithinOneStep(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.BatchSize, o.Steps = "2", 8, 8, 4, 50
	for _, inside := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		rec := &recorder{Classifier: newLinearRGB(1, 4, 16, 1), cancel: cancel}
		var seen []*imgops.Patch
		progress := func(p Progress) {
			seen = append(seen, p.Patch)
			if !inside && p.Step == 5 {
				cancel()
			}
		}
		if inside {
			rec.failAt = 6 // step 6's gradient run is interrupted
		}
		res, err := Train(ctx, []engine.Classifier{rec}, ds, o, progress)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("inside %v: error %v; want context.Canceled", inside, err)
		}
		if res == nil || res.Steps != 5 || len(seen) != 5 || !samePix(res.Patch.Pix, seen[4].Pix) {
			t.Fatalf("inside %v: stopped at step %d after %d reports; want the patch of step 5", inside, res.Steps, len(seen))
		}
		if want := 5 + b2i(inside); len(rec.batches) != want {
			t.Fatalf("inside %v: %d gradient runs; want %d (none after the cancellation)", inside, len(rec.batches), want)
		}
	}
}

// TestPatchOptimizersFirstSteps checks the update rules in closed form: the
// first Adam step and every signed step move each colour with a non-zero
// gradient by exactly the learning rate against its gradient's sign.
func TestPatchOptimizersFirstSteps(t *testing.T) {
	for _, opt := range []Optimizer{Adam, SignSGD} {
		const lr = 0.03
		var reports []Progress
		_, err := trainLinear(t, context.Background(), func(o *Options) {
			o.Optimizer, o.LearningRate, o.Steps, o.TVWeight, o.NPSWeight = opt, lr, 3, 0, 0
		}, func(p Progress) { reports = append(reports, p) })
		if err != nil {
			t.Fatal(err)
		}
		steps := 1
		if opt == SignSGD {
			steps = 3
		}
		prev := imgops.NewGreyPatch(reports[0].Patch.Mask).Pix
		for s := 0; s < steps; s++ {
			moved := 0
			for i, v := range reports[s].Patch.Pix {
				d := math.Abs(float64(v) - float64(prev[i]))
				if d == 0 {
					continue
				}
				moved++
				// Adam's first step is lr·g/(|g|+ε): exact up to ε/|g|,
				// and float32 rounding of the colour.
				tol := 1e-6
				if opt == Adam {
					tol = 1e-3 * lr
				}
				if math.Abs(d-lr) > tol && v != 0 && v != 1 {
					t.Fatalf("%s step %d: colour %d moved by %v; want %v", opt, s+1, i, d, lr)
				}
			}
			if moved == 0 {
				t.Fatalf("%s step %d: nothing moved", opt, s+1)
			}
			prev = reports[s].Patch.Pix
		}
	}
}

// TestPatchMaskShapeKeepsOutsideUntouched: colours outside the mask never
// reach an image, so training leaves them at their start.
// TestPatchRegularisersLowerTheirScores: a heavy TV weight gives a
// smoother patch, a heavy NPS weight a more printable one, as measured by
// imgops.
// TestPatchRotationRangeMatters is Brown et al.'s point about expectation
// over transformation: on a detector of horizontal edges, a patch trained
// upright fails more often at ±45° than one trained over ±45°.
// TestPatchTransformsReachTheModel checks, on the batches a model is given,
// that the scale range and the placement mask shape where the patch lands.
// TestPatchOptionsRejectedBeforeWork: bad options fail with a reason
// before any model runs.
func TestPatchOptionsRejectedBeforeWork(t *testing.T) {
	ds := smoothImages(2, 16, 2, fourLabels)
	cases := []struct {
		name   string
		mutate func(*Options)
		data   *engine.Dataset
		want   string
	}{
		{"unknown target", func(o *Options) { o.Target = "toaster" }, ds, "toaster"},
		{"no steps", func(o *Options) { o.Steps = 0 }, ds, "steps"},
		{"no batch", func(o *Options) { o.BatchSize = -1 }, ds, "batch"},
		{"no size", func(o *Options) { o.Width = 0 }, ds, "patch size"},
		{"bad scale", func(o *Options) { o.Transforms.ScaleMax = 1.5 }, ds, "scale"},
		{"bad rate", func(o *Options) { o.LearningRate = 0 }, ds, "learning rate"},
		{"bad optimizer", func(o *Options) { o.Optimizer = "sgd" }, ds, "optimizer"},
		{"bad mask", func(o *Options) { o.Shape = "star" }, ds, "mask shape"},
		{"alpha without image", func(o *Options) { o.Shape = "alpha" }, ds, "mask image"},
		{"no images", func(o *Options) {}, &engine.Dataset{}, "no images"},
		{"only the target", func(o *Options) { o.Target = "0" }, smoothImages(2, 16, 2, []string{"0"}), "target class"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lin := newLinearRGB(1, 4, 16, 1)
			o := DefaultOptions()
			o.Target, o.Width, o.Height = "2", 8, 8
			tc.mutate(&o)
			_, err := Train(context.Background(), []engine.Classifier{lin}, tc.data, o, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v; want one line about %q", err, tc.want)
			}
			if lin.Forwards+lin.Gradients != 0 {
				t.Fatal("the model ran before the options were checked")
			}
		})
	}
}

// TestPatchTargetedAndUntargetedSucceed trains both kinds on the linear
// model and measures them with Evaluate against the noise control.
func TestPatchTargetedAndUntargetedSucceed(t *testing.T) {
	lin := newLinearRGB(1, 4, 16, 1)
	ds := labelByModel(t, smoothImages(2, 16, 6, fourLabels), lin)
	for _, target := range []string{"3", ""} {
		o := DefaultOptions()
		o.Target, o.Width, o.Height, o.Steps, o.LearningRate = target, 8, 8, 150, 0.05
		o.Transforms = imgops.Options{MaxAngleDeg: 22.5, ScaleMode: imgops.SideFraction, ScaleMin: 0.6, ScaleMax: 0.8}
		res, err := Train(context.Background(), []engine.Classifier{lin}, ds, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Evaluate(context.Background(), []engine.Classifier{lin}, ds, res.Patch, EvalOptions{
			Target: target, Scales: []float64{0.7}, Transforms: o.Transforms, Seed: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pt := rep.Curves[0].Points[0]
		if target != "" && !(pt.SuccessRate > 0.9 && pt.ControlSuccessRate < pt.SuccessRate-0.5) {
			t.Errorf("targeted: success %.2f, control %.2f", pt.SuccessRate, pt.ControlSuccessRate)
		}
		// An untargeted patch on a linear model pushes every image towards
		// one class, so the images of that class keep their label: the
		// error is at most 1 − (that class's share), about 0.75 to 0.9 here.
		if target == "" && !(pt.Error > 0.7 && pt.ControlError < pt.Error-0.3) {
			t.Errorf("untargeted: error %.2f, control %.2f", pt.Error, pt.ControlError)
		}
	}
}

// labelByModel files every image under the class c predicts for it, so
// that the model is exactly right on the clean images.
func labelByModel(t *testing.T, ds *engine.Dataset, c engine.Classifier) *engine.Dataset {
	t.Helper()
	x, _ := ds.Tensor(c.InputShape())
	z, err := c.Logits(context.Background(), x, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	k := len(c.Labels())
	out := &engine.Dataset{Root: ds.Root}
	count := map[string]int{}
	for i, it := range ds.Items {
		it.Class = c.Labels()[engine.Argmax(z[i*k:(i+1)*k])]
		count[it.Class]++
		out.Items = append(out.Items, it)
	}
	for _, l := range c.Labels() {
		if count[l] > 0 {
			out.Classes = append(out.Classes, l)
		}
	}
	t.Logf("images per predicted class: %v", count)
	return out
}

// TestPatchJitterReachesTheModel checks, for each jitter option alone, that
// the drawn transformations carry it within its range and that the batch
// the model is given is the patch composed with exactly those
// transformations (by imgops.Apply), and not without the jitter.
