package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

func TestTrainingRunsToTheEnd(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.train.steps.Entry.SetText("20")
	wb.train.target.SetSelected("yield")
	test.Tap(wb.train.start)
	if !wb.train.running || wb.train.start.Text != "Stop" {
		t.Fatalf("after Start: running %v, button %q", wb.train.running, wb.train.start.Text)
	}
	wb.tasks.Wait()

	if wb.train.running || wb.train.start.Text != "Start" {
		t.Errorf("after the run: running %v, button %q", wb.train.running, wb.train.start.Text)
	}
	req := be.trainReqs[0]
	if req.Target != "yield" || req.Steps != 20 || req.Size != patch.DefaultOptions().Width || req.Mask != imgops.MaskCircle || len(req.Samples) != 6 {
		t.Errorf("request = target %q, %d steps, size %d, mask %q, %d images", req.Target, req.Steps, req.Size, req.Mask, len(req.Samples))
	}
	if req.ScaleMin != 0.05 || req.ScaleMax != 0.25 {
		t.Errorf("scale range = [%v, %v]; want the percentages as fractions", req.ScaleMin, req.ScaleMax)
	}
	if v, _ := wb.train.fraction.Get(); v != 1 {
		t.Errorf("progress = %v; want 1", v)
	}
	if !samePatch(wb.patch, be.lastPatch) {
		t.Error("the canvas does not show the trained patch")
	}
	if wb.patchMeta.Target != "yield" || len(wb.patchMeta.Models) != 1 {
		t.Errorf("patch metadata = %+v", wb.patchMeta)
	}
	if n := len(wb.train.lossPlot.Series[0].X); n != 20 {
		t.Errorf("loss plot has %d points; want one per step", n)
	}
	if !strings.HasPrefix(wb.train.eta.Text, "Done") {
		t.Errorf("eta = %q", wb.train.eta.Text)
	}
}

func TestStopKeepsTheLastPatch(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.train.steps.Entry.SetText("100000")
	test.Tap(wb.train.start)
	waitFor(t, "five training steps", func() bool {
		be.mu.Lock()
		defer be.mu.Unlock()
		return len(be.steps) >= 5
	})
	test.Tap(wb.train.start) // Stop
	wb.tasks.Wait()

	if wb.train.running || wb.train.start.Text != "Start" || wb.train.start.Disabled() {
		t.Fatalf("after Stop: running %v, button %q", wb.train.running, wb.train.start.Text)
	}
	n := len(be.steps)
	if n >= 100000 {
		t.Fatal("Stop did not cancel the trainer")
	}
	if !samePatch(wb.patch, be.lastPatch) {
		t.Error("the patch of the last step was not kept")
	}
	if !strings.Contains(wb.train.eta.Text, "Stopped") {
		t.Errorf("eta = %q; want the stop reported", wb.train.eta.Text)
	}
	if top := wb.win.Canvas().Overlays().Top(); top != nil {
		t.Errorf("stopping showed a dialog: %s", topDialogText(wb.win))
	}
	time.Sleep(20 * time.Millisecond)
	if len(be.steps) != n {
		t.Error("the trainer kept running after Stop")
	}
	// Start again continues from the kept patch.
	wb.train.steps.Entry.SetText("3")
	test.Tap(wb.train.start)
	wb.tasks.Wait()
	if be.trainReqs[1].Init == nil {
		t.Error("a second run did not start from the kept patch")
	}
	// Against another model, Start says it starts afresh, and does.
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	if want := "Trains against second; starts a new patch"; wb.train.plan.Text != want {
		t.Errorf("plan %q; want %q", wb.train.plan.Text, want)
	}
	test.Tap(wb.train.start)
	wb.tasks.Wait()
	if r := be.trainReqs[2]; r.Init != nil || r.Models[0] != wb.models[1] {
		t.Errorf("training against another model continued the patch of the first (init %v)", r.Init != nil)
	}
	wb.selectModel(0)
	if want := "Trains against fake-signs; starts a new patch"; wb.train.plan.Text != want {
		t.Errorf("back on the first model: plan %q; want %q (the patch is now second's)", wb.train.plan.Text, want)
	}
	wb.selectModel(1)
	if want := "Trains against second; continues the current patch"; wb.train.plan.Text != want {
		t.Errorf("plan %q; want %q", wb.train.plan.Text, want)
	}
}

func TestTrainFormErrors(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.train.batch.Entry.SetText("0")
	test.Tap(wb.train.start)
	wb.tasks.Wait()
	if msg := topDialogText(wb.win); !strings.Contains(msg, "Batch") || !strings.Contains(msg, "from 1 to") {
		t.Errorf("dialog = %q; want the field and its range", msg)
	}
	if wb.train.running || len(be.trainReqs) != 0 {
		t.Error("training started with a bad batch")
	}
}

// TestETA checks that the Patch tab shows the engine's ETA as it is, not one
// of its own: the elapsed time here would give 1m30s at a steady pace.
func TestETA(t *testing.T) {
	tests := []struct {
		name string
		pr   patch.Progress
		want string
	}{
		{"engine's estimate", patch.Progress{Step: 10, Steps: 100, Loss: 0.5, SuccessRate: 0.25, Elapsed: 10 * time.Second, ETA: 42 * time.Second},
			"Step 10/100 · loss 0.5 · success 25% · 42s left"},
		{"minutes", patch.Progress{Step: 1, Steps: 3, Loss: 2, ETA: 125 * time.Second}, "Step 1/3 · loss 2 · success 0% · 2m05s left"},
		{"last step", patch.Progress{Step: 3, Steps: 3, Loss: 2, SuccessRate: 1, Elapsed: time.Minute}, "Step 3/3 · loss 2 · success 100%"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := etaText(tc.pr); got != tc.want {
				t.Errorf("etaText = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestTrainOptionsReachTheTrainer sets each option of the Patch tab as a user
// would and checks what Start hands the trainer.
func TestTrainOptionsReachTheTrainer(t *testing.T) {
	tests := []struct {
		name  string
		set   func(wb *Workbench, files *fakeFiles)
		check func(r TrainRequest) bool
	}{
		{"target", func(wb *Workbench, _ *fakeFiles) { wb.train.target.SetSelected("no-entry") },
			func(r TrainRequest) bool { return r.Target == "no-entry" }},
		{"mask ellipse", func(wb *Workbench, _ *fakeFiles) { wb.train.mask.SetSelected("ellipse") },
			func(r TrainRequest) bool { return r.Mask == imgops.MaskEllipse && r.MaskPath == "" }},
		{"mask alpha", func(wb *Workbench, files *fakeFiles) {
			files.open = "/masks/star.png"
			wb.train.mask.SetSelected("alpha")
		}, func(r TrainRequest) bool { return r.Mask == imgops.MaskAlpha && r.MaskPath == "/masks/star.png" }},
		{"size", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.size, "40") },
			func(r TrainRequest) bool { return r.Size == 40 }},
		{"rotation range", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.maxAngle, "45") },
			func(r TrainRequest) bool { return r.MaxAngleDeg == 45 }},
		{"scale range", func(wb *Workbench, _ *fakeFiles) {
			typeInto(wb.train.scaleMin, "10")
			typeInto(wb.train.scaleMax, "40")
		}, func(r TrainRequest) bool { return r.ScaleMin == 0.1 && r.ScaleMax == 0.4 }},
		{"steps", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.steps, "3") },
			func(r TrainRequest) bool { return r.Steps == 3 }},
		{"batch", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.batch, "7") },
			func(r TrainRequest) bool { return r.Batch == 7 }},
		{"learning rate", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.lr, "0.25") },
			func(r TrainRequest) bool { return r.LearningRate == 0.25 }},
		{"TV weight", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.tv, "0.003") },
			func(r TrainRequest) bool { return r.TVWeight == 0.003 }},
		{"NPS weight", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.nps, "0.5") },
			func(r TrainRequest) bool { return r.NPSWeight == 0.5 }},
		{"seed", func(wb *Workbench, _ *fakeFiles) { typeInto(wb.train.seed, "42") },
			func(r TrainRequest) bool { return r.Seed == 42 }},
		{"against every model", func(wb *Workbench, _ *fakeFiles) {
			wb.openModel("/m/second.onnx")
			wb.tasks.Wait()
			wb.selectModel(0)
			wb.train.against.SetChecked(true)
		}, func(r TrainRequest) bool {
			return len(r.Models) == 2 && r.Models[0].Name() == "fake-signs" && r.Models[1].Name() == "second"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be := newFakeBackend()
			wb, files := newTestWorkbench(t, be)
			if tc.name != "steps" {
				typeInto(wb.train.steps, "2")
			}
			tc.set(wb, files)
			test.Tap(wb.train.start)
			wb.tasks.Wait()
			if len(be.trainReqs) != 1 {
				t.Fatalf("%d training runs; dialog %q", len(be.trainReqs), topDialogText(wb.win))
			}
			if r := be.trainReqs[0]; !tc.check(r) {
				t.Errorf("the trainer got %+v", r)
			}
		})
	}
}

// typeInto replaces a field's text by typing, as a user does.
func typeInto(f *numField, s string) {
	f.Entry.SetText("")
	test.Type(f.Entry, s)
}

// TestTrainingShowsItsProgressLive checks the Patch tab while the trainer
// runs: the progress bar and the time left move, the canvas and the preview
// show the patch of a recent step, and both plots grow.
func TestTrainingShowsItsProgressLive(t *testing.T) {
	be := newFakeBackend()
	be.stepDelay = 2 * time.Millisecond
	wb, _ := newTestWorkbench(t, be)
	typeInto(wb.train.steps, "100000")
	before := wb.train.preview.Image()
	test.Tap(wb.train.start)
	t.Cleanup(func() { wb.train.stop(); wb.tasks.Wait() })

	waitFor(t, "ten training steps", func() bool {
		be.mu.Lock()
		defer be.mu.Unlock()
		return len(be.steps) >= 10
	})
	// Play the UI loop until the throttle has handed over a refresh.
	waitFor(t, "a progress refresh", func() bool {
		wb.tasks.RunQueued()
		f, _ := wb.train.fraction.Get()
		return f > 0
	})

	be.mu.Lock()
	done := len(be.steps)
	be.mu.Unlock()
	if !wb.train.running {
		t.Fatal("training is not running")
	}
	if f, _ := wb.train.fraction.Get(); !(f > 0 && f < 1) {
		t.Errorf("progress = %v mid-run; want between 0 and 1", f)
	}
	if eta := wb.train.eta.Text; !strings.Contains(eta, "left") || !strings.Contains(eta, "Step ") {
		t.Errorf("eta = %q mid-run; want the step and the time left", eta)
	}
	// The fake's patch of step k is filled with k/steps: the canvas shows a
	// patch of a step already reached, not the starting noise.
	if wb.patch == nil || wb.patchMeta.Target == "" {
		t.Fatal("the canvas has no trained patch mid-run")
	}
	step := float64(wb.patch.Pix[0]) * 100000
	if step < 1 || step > float64(done)+0.5 {
		t.Errorf("the canvas shows the patch of step %.1f; %d steps were done", step, done)
	}
	if wb.train.preview.Image() == before || wb.train.preview.Image() == nil {
		t.Error("the preview still shows the patch from before training")
	}
	if n := len(wb.train.lossPlot.Series[0].X); n < 1 || n > done {
		t.Errorf("loss plot has %d points after %d steps", n, done)
	}
	if n := len(wb.train.ratePlot.Series[0].Y); n != len(wb.train.lossPlot.Series[0].X) {
		t.Errorf("success-rate plot has %d points; loss plot %d", n, len(wb.train.lossPlot.Series[0].X))
	}
	if !wb.activity.Visible() {
		t.Error("the status bar shows no activity while training")
	}
}
