package gui

import (
	"testing"
)

// trainTheDemo opens the workbench on be's demo and trains a patch (with
// ONNX Runtime on the other core, when be is the engine) while the UI loop runs, as a
// first-time user does by pressing the toolbar's Start.
func trainTheDemo(tb testing.TB, be Backend) uiRun {
	wb, _ := newTestWorkbench(tb, be)
	tb.Cleanup(wb.close)
	if len(wb.models) != 1 || wb.images == nil {
		tb.Fatalf("the demo did not load: %s", wb.status.Text)
	}
	wb.train.steps.Entry.SetText("60")
	noise := wb.view.Composite()
	wb.toolbarRun.button.OnTapped()
	var r uiRun
	r.busy, r.probe = uiLoop(wb, frameInterval, func() bool { return !wb.train.running })
	r.probesDuring = len(r.probe)
	wb.tasks.Wait()
	if wb.train.running || wb.train.lastRun == nil || wb.train.lastRun.Err != nil || wb.train.lastRun.Done != 60 {
		tb.Fatalf("training did not finish: %+v", wb.train.lastRun)
	}
	// … and sees a patch appear: trained for the target shown, on the canvas.
	if wb.patchMeta.Target == "" || wb.patchMeta.Target != wb.train.target.Selected || wb.view.Composite() == noise {
		tb.Errorf("no trained patch on the canvas: target %q", wb.patchMeta.Target)
	}
	return r
}

// UIHandlesEventsWhileTheDemoTrains is TestUIHandlesEventsWhileTraining on
// be (the real engine: see engine_test.go): the patch trains to the end and lands on the
// canvas, and pointer events reach the UI goroutine meanwhile. The
// latencies are BenchmarkUILatencyDemoTraining's.
func UIHandlesEventsWhileTheDemoTrains(t *testing.T, be Backend) {
	if r := trainTheDemo(t, be); r.probesDuring == 0 {
		t.Error("no event reached the UI goroutine while the demo trained")
	}
}

// UILatencyDemoTraining is BenchmarkUILatencyTraining with be (the real
// engine: see engine_test.go) training the demo's patch.
func UILatencyDemoTraining(b *testing.B, be Backend) {
	var runs []uiRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, trainTheDemo(b, be))
	}
	reportLatency(b, runs)
}
