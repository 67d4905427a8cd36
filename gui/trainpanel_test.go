package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
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
	if req.Target != "yield" || req.Steps != 20 || req.Size != 64 || req.Mask != MaskCircle || len(req.Samples) != 6 {
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

func TestThrottleDeliversTheLast(t *testing.T) {
	var ts tasks
	ts.manualLoop()
	thr := newThrottle(5*time.Millisecond, &ts)
	got := 0
	for i := 1; i <= 1000; i++ {
		i := i
		thr.Do(func() { got = i })
	}
	ts.Wait()
	if got != 1000 {
		t.Errorf("throttle ran %d last; want 1000", got)
	}
}

func TestDebouncerRunsOnceAfterQuiet(t *testing.T) {
	var ts tasks
	d := newDebouncer(5*time.Millisecond, &ts)
	runs := 0
	for i := 0; i < 50; i++ {
		d.Trigger(func() { runs++ })
	}
	ts.Wait()
	if runs != 1 {
		t.Errorf("debouncer ran %d times; want 1", runs)
	}
}

func TestETA(t *testing.T) {
	s := etaText(TrainProgress{Step: 10, Steps: 100, Loss: 0.5, SuccessRate: 0.25, Elapsed: 10 * time.Second})
	if !strings.Contains(s, "1m30s left") || !strings.Contains(s, "25%") {
		t.Errorf("etaText = %q", s)
	}
}
