package patch

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// TestInvalidOptionsAreMarked checks that what Train and Evaluate reject
// before running a model matches ErrInvalidOptions and keeps its message,
// and that a model failing mid-run does not match it.
func TestInvalidOptionsAreMarked(t *testing.T) {
	ds := smoothImages(2, 16, 4, fourLabels)
	lin := newLinearRGB(1, 4, 16, 1)
	patch := imgops.NewGreyPatch(imgops.CircleMask(8))
	tests := []struct {
		name    string
		run     func() error
		invalid bool
		msg     string
	}{
		{"train: zero steps", func() error {
			_, err := trainLinear(t, context.Background(), func(o *Options) { o.Steps = 0 }, nil)
			return err
		}, true, "steps 0"},
		{"train: unknown mask", func() error {
			_, err := trainLinear(t, context.Background(), func(o *Options) { o.Shape = "star" }, nil)
			return err
		}, true, `mask shape "star"`},
		{"train: unknown target", func() error {
			_, err := trainLinear(t, context.Background(), func(o *Options) { o.Target = "zebra" }, nil)
			return err
		}, true, `"zebra" is not one of the model's classes`},
		{"train: model fails at step 2", func() error {
			o := DefaultOptions()
			o.Target, o.Width, o.Height, o.Steps, o.BatchSize = "2", 8, 8, 5, 4
			_, err := Train(context.Background(), []engine.Classifier{&failingModel{Classifier: lin, after: 1}}, ds, o, nil)
			return err
		}, false, "run failed"},
		{"evaluate: bad scale", func() error {
			_, err := Evaluate(context.Background(), []engine.Classifier{lin}, ds, patch, EvalOptions{Scales: []float64{2}}, nil)
			return err
		}, true, "scale 2"},
		{"evaluate: model fails", func() error {
			_, err := Evaluate(context.Background(), []engine.Classifier{&failingModel{Classifier: lin}}, ds, patch, EvalOptions{Scales: []float64{0.2}}, nil)
			return err
		}, false, "run failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrInvalidOptions); got != tc.invalid {
				t.Errorf("errors.Is(%q, ErrInvalidOptions) = %v; want %v", err, got, tc.invalid)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), ErrInvalidOptions.Error()) {
				t.Errorf("error %q; want it to say %q, without the sentinel's words", err, tc.msg)
			}
		})
	}
	o := EvalOptions{Placements: -1, Scales: []float64{0.1}}
	if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("EvalOptions.Validate: %v does not match ErrInvalidOptions", err)
	}
}

// failingModel is a classifier whose runs fail once after calls succeeded,
// as ONNX Runtime does when it cannot run a node.
type failingModel struct {
	engine.Classifier
	after, calls int
}

var errRun = errors.New("run failed: ONNX Runtime could not run node Conv_3")

func (f *failingModel) Logits(ctx context.Context, x []float32, n int) ([]float32, error) {
	if f.calls++; f.calls > f.after {
		return nil, errRun
	}
	return f.Classifier.Logits(ctx, x, n)
}

func (f *failingModel) Gradient(ctx context.Context, loss engine.LossKind, x []float32, targets []int64) (engine.Gradients, error) {
	if f.calls++; f.calls > f.after {
		return engine.Gradients{}, errRun
	}
	return f.Classifier.Gradient(ctx, loss, x, targets)
}

// TestProgressCarriesTheResultsMetadata checks that every progress report
// describes its patch as the result will, so a patch saved mid-run records
// the same target, models, options and mask.
func TestProgressCarriesTheResultsMetadata(t *testing.T) {
	var reports []Progress
	res, err := trainLinear(t, context.Background(), func(o *Options) { o.Steps = 4 }, func(p Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 4 {
		t.Fatalf("%d reports; want 4", len(reports))
	}
	for _, p := range reports {
		if !reflect.DeepEqual(p.Meta, res.Meta) {
			t.Fatalf("step %d's metadata %+v; the result's %+v", p.Step, p.Meta, res.Meta)
		}
	}
	if res.Meta.Target != "2" || res.Meta.TargetIndex == nil || *res.Meta.TargetIndex != 2 || res.Meta.MaskShape != imgops.MaskCircle {
		t.Errorf("result metadata %+v", res.Meta)
	}
	if last := reports[3]; last.ETA != 0 || last.Step != last.Steps {
		t.Errorf("last report: step %d/%d, ETA %v; want no time left", last.Step, last.Steps, last.ETA)
	}
}
