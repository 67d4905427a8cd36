package gui

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/engine/patch"
)

// uiLoop plays Fyne's event loop on the test's goroutine until until
// holds: it runs the queued UI functions one at a time, paints a frame every
// frameEvery, and measures how long the UI goroutine was busy at a stretch.
// It also measures the latency of a probe queued every few milliseconds by
// another goroutine, as a pointer event would be: the time from queueing to
// running; each probe also calls sample (when not nil) on the UI goroutine,
// where it may read the widgets. It sets no time limit (go test's -timeout
// does); the durations are for benchmarks to report, not for tests to
// judge.
func uiLoop(wb *Workbench, frameEvery time.Duration, until func() bool, sample func()) (busy, probe []time.Duration) {
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
					if sample != nil {
						sample()
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

// maxOf is the largest of xs, or zero when there are none.
func maxOf[T cmp.Ordered](xs []T) T {
	var m T
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// percentile is the q-quantile of xs (the nearest rank), or zero when there
// are none.
func percentile[T cmp.Ordered](xs []T, q float64) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// uiRun is what one scenario measured of the UI loop.
type uiRun struct {
	busy, probe []time.Duration // each busy stretch; each probe's wait
	// probesDuring is how many probes had run when the task ended, and
	// predictsDuring how many predictions had been asked for while it ran
	// (beyond those before it started).
	probesDuring, predictsDuring int
	// lag is each probe's view of the progress bar against the engine,
	// and shownAfter each step's delay from the engine to the window
	// (stepClock.shownAfter).
	lag        []lagSample
	shownAfter []time.Duration
	trained    time.Duration // how long training ran
	steps      int           // trained in that time
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportLatency reports the longest and the 99th-percentile busy stretch of
// the UI goroutine, and the median, 95th-percentile and longest wait of a
// probe event, over the runs, in milliseconds; each metric's unit starts
// with prefix.
func reportLatency(b *testing.B, prefix string, runs []uiRun) {
	var busy, probe []time.Duration
	for _, r := range runs {
		busy = append(busy, r.busy...)
		probe = append(probe, r.probe...)
	}
	b.ReportMetric(ms(maxOf(busy)), prefix+"busy-max-ms")
	b.ReportMetric(ms(percentile(busy, 0.99)), prefix+"busy-p99-ms")
	b.ReportMetric(ms(percentile(probe, 0.50)), prefix+"event-p50-ms")
	b.ReportMetric(ms(percentile(probe, 0.95)), prefix+"event-p95-ms")
	b.ReportMetric(ms(maxOf(probe)), prefix+"event-max-ms")
}

// trainWithFake streams a training run's progress (a 128-pixel patch every
// millisecond, far faster than a real trainer) into a workbench while the
// patch is dragged, and plays the UI loop until training ends.
func trainWithFake(tb testing.TB) uiRun {
	be := newFakeBackend()
	clock := &stepClock{Backend: be}
	wb, _ := newTestWorkbench(tb, clock)
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
	}, func() { r.lag = append(r.lag, clock.sample(wb, 1500)) })
	r.lag = append(r.lag, clock.sample(wb, 1500))
	r.shownAfter = clock.shownAfter(r.lag)
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
	checkShown(t, r, 1500)
}

// checkShown checks what the probes of a training run of steps saw of the
// progress bar: it never showed a step the trainer had not reported, the
// label under it named the same step, it moved while training ran, and it
// ended on the last step, whatever the throttle dropped on the way.
func checkShown(t *testing.T, r uiRun, steps int) {
	t.Helper()
	between := 0 // probes that saw the bar between the start and the end
	for _, s := range r.lag {
		if s.shown > s.engine {
			t.Errorf("the progress bar showed step %d when the trainer had reported %d", s.shown, s.engine)
			break
		}
		if s.label != s.shown {
			t.Errorf("the label under the progress bar names step %d where the bar shows %d", s.label, s.shown)
			break
		}
		if s.shown > 0 && s.shown < steps {
			between++
		}
	}
	if between == 0 {
		t.Errorf("none of %d probes while training saw the progress bar between 0 and %d steps", len(r.lag), steps)
	}
	if len(r.lag) == 0 {
		return
	}
	if end := r.lag[len(r.lag)-1]; end.engine != steps || end.shown != steps {
		t.Errorf("after training the progress bar shows step %d of the trainer's %d; want %d of %d", end.shown, end.engine, steps, steps)
	}
	if len(r.shownAfter) != steps {
		t.Errorf("the probes saw %d of the %d steps shown", len(r.shownAfter), steps)
	}
}

// BenchmarkUILatencyTraining measures how long, at worst, the UI goroutine
// is busy at a stretch (the workbench's part of painting included) and a
// pointer event waits for it while a fast training run streams in, and how
// far the progress bar lags behind the trainer (reportLag).
func BenchmarkUILatencyTraining(b *testing.B) {
	var runs []uiRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, trainWithFake(b))
	}
	reportLatency(b, "", runs)
	reportLag(b, "", runs)
}

// stepClock is a Backend whose TrainPatch notes when the engine reached
// each step, as the engine reports it and before the workbench hears of it,
// so that a probe on the UI goroutine can say how far behind the engine the
// window is.
type stepClock struct {
	Backend
	mu      sync.Mutex
	reached []time.Time // reached[s-1]: when the engine reported step s
}

// TrainPatch trains on the wrapped backend, timing each step's report.
func (c *stepClock) TrainPatch(ctx context.Context, req TrainRequest, progress func(patch.Progress)) (*patch.Result, error) {
	c.mu.Lock()
	c.reached = c.reached[:0]
	c.mu.Unlock()
	return c.Backend.TrainPatch(ctx, req, func(pr patch.Progress) {
		now := time.Now()
		c.mu.Lock()
		for len(c.reached) < pr.Step {
			c.reached = append(c.reached, now)
		}
		c.mu.Unlock()
		progress(pr)
	})
}

// lagSample is one probe's comparison of the window with the engine.
type lagSample struct {
	at            time.Time
	engine, shown int // the step the engine has reached; the one the progress bar shows
	label         int // the step the label under the bar names; -1 when it names none
}

// sample compares the step the window shows of a run of steps with the
// engine's, now; on the UI goroutine.
func (c *stepClock) sample(wb *Workbench, steps int) lagSample {
	shown := int(math.Round(wb.train.progress.Value * float64(steps)))
	label := labelStep(wb.train.eta.Text)
	c.mu.Lock()
	defer c.mu.Unlock()
	return lagSample{at: time.Now(), engine: len(c.reached), shown: shown, label: label}
}

// labelStep is the step a training label names ("Step 12/60 · …", "Done: 60
// steps", "Starting…" before the first), or -1.
func labelStep(text string) int {
	var n, of int
	switch {
	case text == "Starting…":
		return 0
	case strings.HasPrefix(text, "Done:"):
		if _, err := fmt.Sscanf(text, "Done: %d steps", &n); err == nil {
			return n
		}
	default:
		if _, err := fmt.Sscanf(text, "Step %d/%d", &n, &of); err == nil {
			return n
		}
	}
	return -1
}

// shownAfter says, for each step the engine reported, how long after the
// report the probes first saw the window show it or a later step (the
// throttle skips steps when the engine is faster than a frame). Steps the
// probes never saw shown are left out.
func (c *stepClock) shownAfter(samples []lagSample) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	next := 0 // samples before next showed an earlier step than the one sought
	for s, reached := range c.reached {
		for next < len(samples) && samples[next].shown < s+1 {
			next++
		}
		if next == len(samples) {
			break
		}
		out = append(out, samples[next].at.Sub(reached))
	}
	return out
}

// reportLag reports the median, 95th-percentile and largest lag of the
// window behind the engine over the runs: in steps, the engine's step less
// the one shown, at each probe; in milliseconds, from the engine's report
// of a step to the first probe that saw it shown, for each step. Each
// metric's unit starts with prefix.
func reportLag(b *testing.B, prefix string, runs []uiRun) {
	var steps []int
	var after []time.Duration
	for _, r := range runs {
		for _, s := range r.lag {
			steps = append(steps, s.engine-s.shown)
		}
		after = append(after, r.shownAfter...)
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p95", 0.95}, {"max", 1}} {
		b.ReportMetric(float64(percentile(steps, q.q)), prefix+"lag-"+q.name+"-steps")
		b.ReportMetric(ms(percentile(after, q.q)), prefix+"lag-"+q.name+"-ms")
	}
}

// TestShownAfter checks the lag arithmetic on hand-made timelines: a step
// counts as shown at the first probe that shows it or a later one.
func TestShownAfter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	cases := []struct {
		name    string
		reached []int    // when steps 1, 2, … were reported (ms)
		probes  [][2]int // (ms, step shown)
		want    []time.Duration
	}{
		{"each step shown by the next probe", []int{0, 10}, [][2]int{{0, 0}, {5, 1}, {12, 1}, {15, 2}},
			[]time.Duration{5 * time.Millisecond, 5 * time.Millisecond}},
		{"a skipped step counts as shown with the later one", []int{0, 10, 20}, [][2]int{{5, 0}, {25, 3}},
			[]time.Duration{25 * time.Millisecond, 15 * time.Millisecond, 5 * time.Millisecond}},
		{"a step never shown is left out", []int{0, 10}, [][2]int{{5, 1}, {30, 1}},
			[]time.Duration{5 * time.Millisecond}},
		{"no probes", []int{0}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := &stepClock{}
			for _, r := range c.reached {
				clock.reached = append(clock.reached, at(r))
			}
			var samples []lagSample
			for _, p := range c.probes {
				samples = append(samples, lagSample{at: at(p[0]), engine: len(c.reached), shown: p[1]})
			}
			if got := clock.shownAfter(samples); !slices.Equal(got, c.want) {
				t.Errorf("shownAfter = %v; want %v", got, c.want)
			}
		})
	}
}

// TestLabelStep reads the step back from the training panel's own labels.
func TestLabelStep(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{etaText(patch.Progress{Step: 12, Steps: 60, Loss: 0.5, SuccessRate: 0.25, ETA: time.Minute}), 12},
		{etaText(patch.Progress{Step: 60, Steps: 60}), 60},
		{"Done: 60 steps", 60},
		{"Starting…", 0},
		{"Failed", -1},
		{"", -1},
	} {
		t.Run(c.text, func(t *testing.T) {
			if got := labelStep(c.text); got != c.want {
				t.Errorf("labelStep(%q) = %d; want %d", c.text, got, c.want)
			}
		})
	}
}
