package patch

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// withBudget sets the memory budget to b bytes for the test.
func withBudget(t *testing.T, b float64) {
	old := memoryBudget
	memoryBudget = func() (float64, string) { return b, "the test's budget" }
	t.Cleanup(func() { memoryBudget = old })
}

// countingClassifier counts the runs of the classifier it wraps.
type countingClassifier struct {
	engine.Classifier
	runs int
}

func (c *countingClassifier) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	c.runs++
	return c.Classifier.Logits(ctx, images, n)
}

func (c *countingClassifier) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	c.runs++
	return c.Classifier.Gradient(ctx, loss, images, targets)
}

// TestTrainRefusesWhatMemoryCannotHold checks that a batch or a patch too
// large for the memory budget is refused before any model runs, as an
// invalid option, in one line that says what would fit.
func TestTrainRefusesWhatMemoryCannotHold(t *testing.T) {
	withBudget(t, 1<<30)
	ds := smoothImages(2, 16, 4, fourLabels)
	cases := []struct {
		name        string
		size, batch int
		want        string // "" means it trains
	}{
		{"batch 100000000", 8, 100000000, "lower the batch size to "},
		{"4096-pixel patch", 4096, 16, "a 4096×4096 patch at batch size 16 needs about"},
		{"4096-pixel patch, batch 1", 4096, 1, "use a smaller patch"},
		{"what fits", 8, 6, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &countingClassifier{Classifier: newLinearRGB(1, 4, 16, 1)}
			o := DefaultOptions()
			o.Target, o.Width, o.Height, o.BatchSize, o.Steps = "2", c.size, c.size, c.batch, 1
			_, err := Train(context.Background(), []engine.Classifier{m}, ds, o, nil)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %v; want one line containing %q", err, c.want)
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("%v does not match ErrInvalidOptions", err)
			}
			if m.runs != 0 {
				t.Errorf("the model ran %d times before the refusal", m.runs)
			}
			t.Log(err)
		})
	}
}

// TestTrainSuggestedBatchFits checks the batch size the refusal suggests:
// it is accepted, and one more is not.
func TestTrainSuggestedBatchFits(t *testing.T) {
	withBudget(t, 256<<20)
	shapes := []engine.ImageShape{{Channels: 3, Height: 64, Width: 64}}
	o := DefaultOptions()
	o.Width, o.Height, o.BatchSize = 64, 64, 1<<20
	o = o.withDefaults()
	fixed, per := trainBytes(o, 100, shapes)
	fit := int((256<<20 - fixed) / per)
	err := checkTrainMemory(o, 100, shapes)
	if err == nil || !strings.Contains(err.Error(), "lower the batch size to "+itoa(fit)+" ") {
		t.Fatalf("error %v; want it to suggest batch %d", err, fit)
	}
	o.BatchSize = fit
	if err := checkTrainMemory(o, 100, shapes); err != nil {
		t.Errorf("the suggested batch %d is refused: %v", fit, err)
	}
	o.BatchSize = fit + 1
	if err := checkTrainMemory(o, 100, shapes); err == nil {
		t.Errorf("batch %d, one above the suggestion, is accepted", fit+1)
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestTrainBytesCoversAllocations measures what one training step really
// allocates (Go's own count, runtime.MemStats.TotalAlloc, which can only
// exceed what is live at once) on a large patch whose per-image
// compositions dominate, and checks the estimate is not below it.
func TestTrainBytesCoversAllocations(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	o := DefaultOptions()
	o.Target, o.Width, o.Height, o.BatchSize, o.Steps = "2", 256, 256, 8, 1
	lin := newLinearRGB(1, 4, 16, 1)
	fixed, per := trainBytes(o.withDefaults(), ds.Len(), []engine.ImageShape{lin.InputShape()})
	estimate := fixed + float64(o.BatchSize)*per
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Train(context.Background(), []engine.Classifier{lin}, ds, o, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	got := float64(after.TotalAlloc - before.TotalAlloc)
	if got > estimate {
		t.Errorf("one step allocated %.1f MiB; the estimate is %.1f MiB", got/(1<<20), estimate/(1<<20))
	}
	t.Logf("allocated %.1f MiB, estimated %.1f MiB", got/(1<<20), estimate/(1<<20))
}

// TestEvaluateRefusesWhatMemoryCannotHold checks that an 8192² patch, the
// largest a patch file may hold, is refused before any model runs where
// the budget cannot hold its evaluation, and evaluated where it can.
func TestEvaluateRefusesWhatMemoryCannotHold(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	m := &countingClassifier{Classifier: newLinearRGB(1, 4, 16, 1)}
	big := &imgops.Patch{W: 8192, H: 8192}
	shapes := []engine.ImageShape{m.InputShape()}
	withBudget(t, 1<<30)
	err := checkEvalMemory(big.W, big.H, ds.Len(), 64, shapes)
	if err == nil || !strings.Contains(err.Error(), "evaluating a 8192×8192 patch on 16 images at batch size 64 needs about") || strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error %v; want a one-line refusal of the 8192² patch", err)
	}
	withBudget(t, 64<<30)
	if err := checkEvalMemory(big.W, big.H, ds.Len(), 64, shapes); err != nil {
		t.Errorf("a 64 GiB budget refuses it: %v", err)
	}
	// Through Evaluate, on a patch small enough to allocate in a test.
	withBudget(t, 1<<20)
	p := imgops.NewGreyPatch(imgops.CircleMask(512))
	_, err = Evaluate(context.Background(), []engine.Classifier{m}, ds, p, EvalOptions{Scales: []float64{0.3}}, nil)
	if err == nil || !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "512×512 patch") {
		t.Fatalf("Evaluate: %v; want the 512² patch refused as an invalid option", err)
	}
	if m.runs != 0 {
		t.Errorf("the model ran %d times before the refusal", m.runs)
	}
}

// cancelAt cancels the run's context on its model's given run, as Ctrl-C
// would, and never checks the context itself.
type cancelAt struct {
	countingClassifier
	at     int
	cancel context.CancelFunc
}

func (c *cancelAt) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if c.runs+1 == c.at {
		c.cancel()
	}
	return c.countingClassifier.Logits(context.Background(), images, n)
}

// TestEvaluateChecksContextBetweenBatches cancels an evaluation during
// its second batch: Evaluate must return context.Canceled without running
// another.
func TestEvaluateChecksContextBetweenBatches(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &cancelAt{countingClassifier: countingClassifier{Classifier: newLinearRGB(1, 4, 16, 1)}, at: 2, cancel: cancel}
	p := imgops.NewGreyPatch(imgops.CircleMask(6))
	_, err := Evaluate(ctx, []engine.Classifier{m}, ds, p, EvalOptions{Scales: []float64{0.3, 0.4}, BatchSize: 4}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", err)
	}
	if m.runs != 2 {
		t.Errorf("the model ran %d batches; want 2 (none after the cancellation)", m.runs)
	}
}
