package gui

import (
	"testing"

	"github.com/advlab/advlab/engine/onnxrt"
)

// trainTheDemo opens the workbench on the embedded demo and trains a patch
// with ONNX Runtime on the other core while the UI loop runs, as a
// first-time user does by pressing the toolbar's Start.
func trainTheDemo(tb testing.TB) uiRun {
	if err := onnxrt.Init(); err != nil {
		tb.Skip("no ONNX Runtime:", err)
	}
	wb, _ := newTestWorkbench(tb, NewEngineBackend())
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

// TestUIHandlesEventsWhileTheDemoTrains is TestUIHandlesEventsWhileTraining
// with the real engine: the patch trains to the end and lands on the
// canvas, and pointer events reach the UI goroutine meanwhile. The
// latencies are BenchmarkUILatencyDemoTraining's.
func TestUIHandlesEventsWhileTheDemoTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	if r := trainTheDemo(t); r.probesDuring == 0 {
		t.Error("no event reached the UI goroutine while the demo trained")
	}
}

// BenchmarkUILatencyDemoTraining is BenchmarkUILatencyTraining with the
// real engine training the demo's patch.
func BenchmarkUILatencyDemoTraining(b *testing.B) {
	var runs []uiRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, trainTheDemo(b))
	}
	reportLatency(b, runs)
}
