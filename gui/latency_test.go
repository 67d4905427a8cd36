package gui

import (
	"sort"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// uiLoop plays Fyne's event loop on the test's goroutine until until
// holds: it runs the queued UI functions one at a time, paints a frame every
// frameEvery, and measures how long the UI goroutine was busy at a stretch.
// It also measures the latency of a probe queued every few milliseconds by
// another goroutine, as a pointer event would be: the time from queueing to
// running. It sets no time limit (go test's -timeout does); the durations
// are for benchmarks to report, not for tests to judge.
func uiLoop(wb *Workbench, frameEvery time.Duration, until func() bool) (busy, probe []time.Duration) {
	stop := make(chan struct{})
	probes := make(chan time.Duration, 1<<16)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				queued := time.Now()
				wb.tasks.ui(func() {
					select {
					case probes <- time.Since(queued):
					default:
					}
				})
			}
		}
	}()
	rasters := visibleRasters(wb)
	lastFrame := time.Now()
	for !until() {
		wb.tasks.mu.Lock()
		var f func()
		if len(wb.tasks.queue) > 0 {
			f = wb.tasks.queue[0]
			wb.tasks.queue = wb.tasks.queue[1:]
		}
		wb.tasks.mu.Unlock()
		switch {
		case f != nil:
			t0 := time.Now()
			f()
			busy = append(busy, time.Since(t0))

		case time.Since(lastFrame) >= frameEvery:
			t0 := time.Now()
			paintRasters(rasters)
			busy = append(busy, time.Since(t0))
			lastFrame = time.Now()
		default:
			time.Sleep(500 * time.Microsecond)
		}
	}
	close(stop)
	for {
		select {
		case p := <-probes:
			probe = append(probe, p)
		default:
			return busy, probe
		}
	}
}

// visibleRasters returns the rasters of the window as laid out now.
func visibleRasters(wb *Workbench) []*canvas.Raster {
	var out []*canvas.Raster
	for _, o := range test.LaidOutObjects(wb.win.Content()) {
		if r, ok := o.(*canvas.Raster); ok && r.Visible() && r.Generator != nil {
			out = append(out, r)
		}
	}
	return out
}

// paintRasters does the workbench's part of painting a frame: it asks every
// raster for its image at its size, as the GL painter does for a refreshed
// raster. (The test driver's software painter would paint the whole window
// in ~100 ms on two busy cores whatever the workbench does; a GPU paints the
// rest in a fraction of a frame.)
func paintRasters(rs []*canvas.Raster) {
	for _, r := range rs {
		if s := r.Size(); s.Width >= 1 && s.Height >= 1 {
			r.Generator(int(s.Width), int(s.Height))
		}
	}
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// uiRun is what one scenario measured of the UI loop.
type uiRun struct {
	busy, probe []time.Duration // each busy stretch; each probe's wait
	// probesDuring is how many probes had run when the task ended, and
	// predictsDuring how many predictions had been asked for while it ran
	// (beyond those before it started).
	probesDuring, predictsDuring int
}

// reportLatency reports the worst and the 99th-percentile busy stretch of
// the UI goroutine and wait of a probe event over the runs, in
// milliseconds.
func reportLatency(b *testing.B, runs []uiRun) {
	var busy, probe []time.Duration
	for _, r := range runs {
		busy = append(busy, r.busy...)
		probe = append(probe, r.probe...)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(maxDuration(busy)), "busy-max-ms")
	b.ReportMetric(ms(percentile(busy, 0.99)), "busy-p99-ms")
	b.ReportMetric(ms(maxDuration(probe)), "event-wait-max-ms")
	b.ReportMetric(ms(percentile(probe, 0.99)), "event-wait-p99-ms")
}

// trainWithFake streams a training run's progress (a 128-pixel patch every
// millisecond, far faster than a real trainer) into a workbench while the
// patch is dragged, and plays the UI loop until training ends.
func trainWithFake(tb testing.TB) uiRun {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(tb, be)
	wb.train.size.Entry.SetText("128")
	wb.train.steps.Entry.SetText("1500")
	predicts := func() int {
		be.mu.Lock()
		defer be.mu.Unlock()
		return be.predicts
	}
	before := predicts()
	test.Tap(wb.train.start)
	// A drag of the patch during training as well: predictions run too.
	for i := 0; i < 20; i++ {
		wb.view.SetPlacement(Placement{CX: 0.2 + 0.03*float64(i), CY: 0.5, Area: 0.1})
	}
	var r uiRun
	r.busy, r.probe = uiLoop(wb, frameInterval, func() bool {
		if wb.train.running {
			r.predictsDuring = predicts() - before
			return false
		}
		return true
	})
	r.probesDuring = len(r.probe)
	wb.tasks.Wait()
	if len(be.steps) != 1500 {
		tb.Fatalf("%d steps reported; want 1500", len(be.steps))
	}
	if run := wb.train.lastRun; run == nil || run.Err != nil || run.Done != 1500 || !strings.HasPrefix(wb.train.eta.Text, "Done") {
		tb.Fatalf("the end of training did not land: run %+v, %q", run, wb.train.eta.Text)
	}
	return r
}

// TestUIHandlesEventsWhileTraining streams a fast training run into the
// workbench while the patch is dragged: pointer events reach the UI
// goroutine while the trainer runs, the predictions follow the patch during
// training (they used to wait for it to end), and the last step's result
// lands. It judges what happens, not how fast: the latencies are
// BenchmarkUILatencyTraining's.
func TestUIHandlesEventsWhileTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 1500 steps")
	}
	r := trainWithFake(t)
	t.Logf("%d probes, %d predictions while training", r.probesDuring, r.predictsDuring)
	if r.probesDuring == 0 {
		t.Error("no event reached the UI goroutine while training ran")
	}
	if r.predictsDuring < 2 {
		t.Errorf("%d predictions while training ran; want the canvas classified again as the patch changes", r.predictsDuring)
	}
}

// BenchmarkUILatencyTraining measures how long, at worst, the UI goroutine
// is busy at a stretch (the workbench's part of painting included) and a
// pointer event waits for it while a fast training run streams in.
func BenchmarkUILatencyTraining(b *testing.B) {
	var runs []uiRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, trainWithFake(b))
	}
	reportLatency(b, runs)
}
