package gui

import (
	"strconv"
	"testing"
	"time"
)

// trainSteps is how long the demo's patch trains in these checks: long
// enough for a few hundred probes, short enough for a benchmark run.
const trainSteps = 60

// trainTheDemo opens the workbench on be's demo and trains a patch (with
// ONNX Runtime on the other core, when be is the engine) while the UI loop
// runs, as a first-time user does by pressing the toolbar's Start. Each
// probe compares the step the progress bar shows with the step the engine
// has reported.
func trainTheDemo(tb testing.TB, be Backend) uiRun {
	clock := &stepClock{Backend: be}
	wb, _ := newTestWorkbench(tb, clock)
	tb.Cleanup(wb.close)
	if len(wb.models) != 1 || wb.images == nil {
		tb.Fatalf("the demo did not load: %s", wb.status.Text)
	}
	wb.train.steps.Entry.SetText(strconv.Itoa(trainSteps))
	noise := wb.view.Composite()
	r := uiRun{steps: trainSteps}
	t0 := time.Now()
	wb.toolbarRun.button.OnTapped()
	shown := func() { r.lag = append(r.lag, clock.sample(shownStep(wb, trainSteps))) }
	r.busy, r.probe = uiLoop(wb, frameInterval, func() bool { return !wb.train.running }, shown)
	r.trained = time.Since(t0)
	shown() // the end, which the loop stopped at
	r.shownAfter = clock.shownAfter(r.lag)
	r.probesDuring = len(r.probe)
	wb.tasks.Wait()
	if wb.train.running || wb.train.lastRun == nil || wb.train.lastRun.Err != nil || wb.train.lastRun.Done != trainSteps {
		tb.Fatalf("training did not finish: %+v", wb.train.lastRun)
	}
	// … and sees a patch appear: trained for the target shown, on the canvas.
	if wb.patchMeta.Target == "" || wb.patchMeta.Target != wb.train.target.Selected || wb.view.Composite() == noise {
		tb.Errorf("no trained patch on the canvas: target %q", wb.patchMeta.Target)
	}
	return r
}

// UIHandlesEventsWhileTheDemoTrains is TestUIHandlesEventsWhileTraining on
// be (the real engine: see engine_test.go): the patch trains to the end and
// lands on the canvas, pointer events reach the UI goroutine meanwhile, and
// the progress bar follows the engine: it moves while training runs and
// never shows a step the engine has not reported. The latencies and the
// lag are BenchmarkUILatencyDemoTraining's.
func UIHandlesEventsWhileTheDemoTrains(t *testing.T, be Backend) {
	r := trainTheDemo(t, be)
	if r.probesDuring == 0 {
		t.Error("no event reached the UI goroutine while the demo trained")
	}
	checkShown(t, r, trainSteps)
}

// UILatencyDemoTraining is BenchmarkUILatencyTraining with be (the real
// engine: see engine_test.go) training the demo's patch, on an idle
// machine and then beside a competing process that keeps every core busy
// (startCPUHog). Besides the UI goroutine's latencies it reports how far
// the progress bar lags behind the engine's step (reportLag), the engine's
// pace, how many cores the competing load took (hog-cores), and the loaded
// run's p95 event wait and lag as multiples of the idle run's
// (x-idle, measured in one run so that they share the machine's state).
func UILatencyDemoTraining(b *testing.B, be Backend) {
	var idle []uiRun
	b.Run("idle", func(b *testing.B) {
		idle = demoRuns(b, be)
		reportDemoRuns(b, idle)
	})
	b.Run("loaded", func(b *testing.B) {
		stop := startCPUHog(b)
		runs := demoRuns(b, be)
		b.ReportMetric(stop(), "hog-cores")
		reportDemoRuns(b, runs)
		if len(idle) == 0 {
			return // the idle variant did not run (-bench …/loaded)
		}
		var loadedP, idleP, loadedLag, idleLag []time.Duration
		for _, r := range runs {
			loadedP = append(loadedP, r.probe...)
			loadedLag = append(loadedLag, r.shownAfter...)
		}
		for _, r := range idle {
			idleP = append(idleP, r.probe...)
			idleLag = append(idleLag, r.shownAfter...)
		}
		if p := percentile(idleP, 0.95); p > 0 {
			b.ReportMetric(float64(percentile(loadedP, 0.95))/float64(p), "event-p95-x-idle")
		}
		if p := percentile(idleLag, 0.95); p > 0 {
			b.ReportMetric(float64(percentile(loadedLag, 0.95))/float64(p), "lag-p95-ms-x-idle")
		}
	})
}

// demoRuns trains the demo b.N times.
func demoRuns(b *testing.B, be Backend) []uiRun {
	var runs []uiRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, trainTheDemo(b, be))
	}
	return runs
}

// reportDemoRuns reports the latencies, the lag and the engine's pace.
func reportDemoRuns(b *testing.B, runs []uiRun) {
	reportLatency(b, runs)
	reportLag(b, runs)
	var steps int
	var took time.Duration
	for _, r := range runs {
		steps += r.steps
		took += r.trained
	}
	b.ReportMetric(float64(steps)/took.Seconds(), "engine-steps/s")
}
