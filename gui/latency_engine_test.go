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
	shown := func() { r.lag = append(r.lag, clock.sample(wb, trainSteps)) }
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
// engine: see engine_test.go) training the demo's patch. Each iteration
// trains twice, on the machine as it is (metrics idle-…) and then beside a
// competing process that keeps every core busy (startCPUHog; load-…), so
// that the two share the machine's state even where other work comes and
// goes. Besides the UI goroutine's latencies it reports how far the
// progress bar lags behind the engine (reportLag), the engine's pace, how
// many cores the competing process got (hog-cores), and the loaded runs'
// p95 event wait and lag in milliseconds as multiples of the idle runs'
// (…-x-idle).
func UILatencyDemoTraining(b *testing.B, be Backend) {
	var idle, loaded []uiRun
	var hogCores float64
	for i := 0; i < b.N; i++ {
		idle = append(idle, trainTheDemo(b, be))
		stop := startCPUHog(b)
		loaded = append(loaded, trainTheDemo(b, be))
		hogCores += stop() / float64(b.N)
	}
	reportDemoRuns(b, "idle-", idle)
	reportDemoRuns(b, "load-", loaded)
	b.ReportMetric(hogCores, "hog-cores")
	p95 := func(runs []uiRun, of func(uiRun) []time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range runs {
			ds = append(ds, of(r)...)
		}
		return percentile(ds, 0.95)
	}
	for _, m := range []struct {
		name string
		of   func(uiRun) []time.Duration
	}{
		{"event-p95-x-idle", func(r uiRun) []time.Duration { return r.probe }},
		{"lag-p95-ms-x-idle", func(r uiRun) []time.Duration { return r.shownAfter }},
	} {
		if base := p95(idle, m.of); base > 0 {
			b.ReportMetric(float64(p95(loaded, m.of))/float64(base), m.name)
		}
	}
}

// reportDemoRuns reports the latencies, the lag and the engine's pace, each
// metric's unit starting with prefix.
func reportDemoRuns(b *testing.B, prefix string, runs []uiRun) {
	reportLatency(b, prefix, runs)
	reportLag(b, prefix, runs)
	var steps int
	var took time.Duration
	for _, r := range runs {
		steps += r.steps
		took += r.trained
	}
	b.ReportMetric(float64(steps)/took.Seconds(), prefix+"engine-steps/s")
}
