package gui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advlab/advlab/engine/patch"
)

// queued is how many UI functions wait in ts's manual queue.
func queued(ts *tasks) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.queue)
}

// TestThrottleCoalescesWhileTheUIIsBusy holds the UI goroutine (the test's
// own, in manual mode) while a producer hands the throttle a thousand
// states: one refresh is queued, never more, and when the UI gets to it it
// shows the last state, once.
func TestThrottleCoalescesWhileTheUIIsBusy(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
	}{
		{"no interval", 0},
		{"a frame", frameInterval},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ts tasks
			ts.manualLoop()
			thr := newThrottle(tc.interval, &ts)
			var seen []int
			thr.Do(func() { seen = append(seen, 1) })
			for queued(&ts) == 0 {
				time.Sleep(100 * time.Microsecond) // until the first refresh is queued
			}
			maxQueued := 1
			for i := 2; i <= 1000; i++ {
				thr.Do(func() { seen = append(seen, i) })
				if i%100 == 0 { // a trainer's step: several intervals pass
					time.Sleep(tc.interval + time.Millisecond)
					maxQueued = max(maxQueued, queued(&ts))
				}
			}
			ts.Wait()
			if maxQueued > 1 {
				t.Errorf("%d refreshes were queued at once; want at most 1", maxQueued)
			}
			if len(seen) != 1 || seen[0] != 1000 {
				t.Errorf("the UI ran states %v; want only the last, 1000", seen)
			}
		})
	}
}

// TestThrottleSlowConsumerSeesTheLatest blocks the UI goroutine inside a
// refresh while the producer goes on: the UI does not fall behind (the next
// refresh shows the newest state, not the ones in between), at most one
// refresh waits in the queue, and the last state arrives after the first.
func TestThrottleSlowConsumerSeesTheLatest(t *testing.T) {
	const n = 500
	var ts tasks
	ts.manualLoop()
	thr := newThrottle(0, &ts)
	started, release := make(chan struct{}), make(chan struct{})
	var seen []int
	show := func(i int) func() {
		return func() {
			seen = append(seen, i)
			if i == 1 {
				close(started)
				<-release // a UI goroutine stuck in a long refresh
			}
		}
	}
	thr.Do(show(1))
	ui := make(chan struct{})
	go func() { // the UI goroutine
		defer close(ui)
		ts.Wait()
	}()
	<-started
	maxQueued := 0
	for i := 2; i <= n; i++ {
		thr.Do(show(i))
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
			maxQueued = max(maxQueued, queued(&ts))
		}
	}
	close(release)
	<-ui
	if maxQueued > 0 {
		t.Errorf("%d refreshes were queued while one ran; want none until it returns", maxQueued)
	}
	if len(seen) != 2 || seen[0] != 1 || seen[1] != n {
		t.Errorf("the UI ran states %v; want [1 %d]", seen, n)
	}
}

// TestThrottleBoundsRunsAndDeliversTheLast streams states into a throttle, a
// hundred at a time as fast as a goroutine can, while another goroutine plays the UI loop: the
// states shown are in order, end with the last, never more than one refresh
// waits in the queue, and, as each run starts at least an interval after the
// one before, their number is bounded by the time the stream took.
func TestThrottleBoundsRunsAndDeliversTheLast(t *testing.T) {
	const (
		n        = 20000
		interval = 5 * time.Millisecond
	)
	var ts tasks
	ts.manualLoop()
	thr := newThrottle(interval, &ts)
	var (
		mu        sync.Mutex
		seen      []int
		maxQueued int
	)
	stop := make(chan struct{})
	ui := make(chan struct{})
	go func() { // the UI goroutine, polling its queue
		defer close(ui)
		for {
			mu.Lock()
			maxQueued = max(maxQueued, queued(&ts))
			mu.Unlock()
			if ts.RunQueued() == 0 {
				select {
				case <-stop:
					ts.Wait()
					return
				default:
					time.Sleep(100 * time.Microsecond)
				}
			}
		}
	}()
	start := time.Now()
	for i := 1; i <= n; i++ {
		thr.Do(func() {
			mu.Lock()
			seen = append(seen, i)
			mu.Unlock()
		})
		if i%100 == 0 { // a trainer's step: let the stream last several intervals
			mu.Lock()
			maxQueued = max(maxQueued, queued(&ts))
			mu.Unlock()
			time.Sleep(200 * time.Microsecond)
		}
	}
	close(stop)
	<-ui
	elapsed := time.Since(start)

	if len(seen) == 0 || seen[len(seen)-1] != n {
		t.Fatalf("the last state shown is not %d: %d runs", n, len(seen))
	}
	for k := 1; k < len(seen); k++ {
		if seen[k] <= seen[k-1] {
			t.Fatalf("run %d showed state %d after %d", k, seen[k], seen[k-1])
		}
	}
	if limit := int(elapsed/interval) + 1; len(seen) > limit {
		t.Errorf("%d runs in %v; want at most %d", len(seen), elapsed, limit)
	}
	if maxQueued > 1 {
		t.Errorf("%d refreshes were queued at once; want at most 1", maxQueued)
	}
	t.Logf("%d states, %d runs in %v", n, len(seen), elapsed)
}

// TestThrottleRunsAgainAfterIdle checks that a throttle that has delivered
// everything and gone idle delivers a later state too, and that Wait sees
// it idle in between.
func TestThrottleRunsAgainAfterIdle(t *testing.T) {
	var ts tasks
	ts.manualLoop()
	thr := newThrottle(time.Millisecond, &ts)
	var seen []string
	for _, s := range []string{"first", "second", "third"} {
		thr.Do(func() { seen = append(seen, s) })
		ts.Wait()
	}
	thr.Do(nil) // ignored: nothing to run, nothing to wait for
	ts.Wait()
	if len(seen) != 3 || seen[0] != "first" || seen[2] != "third" {
		t.Errorf("ran %v; want each state once, in order", seen)
	}
}

// TestPredictionsFollowAPatchThatKeepsChanging changes the patch every few
// milliseconds, as training does: the canvas is classified again while the
// changes go on (a quiet-period debounce waited for them to stop, so the
// predictions froze until training ended), and the last change's canvas is
// the one the panel shows at the end.
// It changes the patch until three predictions have run or two thousand
// changes (at least 10 s, 170 × predictDelay) have gone without them.
func TestPredictionsFollowAPatchThatKeepsChanging(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	predicts := func() int {
		be.mu.Lock()
		defer be.mu.Unlock()
		return be.predicts
	}
	const maxChanges = 2000
	before := predicts()
	changes, during := 0, 0
	for ; changes < maxChanges && during < 3; changes++ {
		p := wb.patch.Clone()
		for k := range p.Pix {
			p.Pix[k] = float32(changes%100) / 100
		}
		wb.setPatch(p, wb.patchMeta)
		time.Sleep(5 * time.Millisecond)
		wb.tasks.RunQueued()
		during = predicts() - before
	}
	last := wb.view.Composite()
	wb.tasks.Wait()
	if during < 3 {
		t.Errorf("%d predictions while the patch changed %d times; want it classified as it changes", during, changes)
	}
	m := wb.models[0]
	want := labelOf(m.Labels(), m.(*fakeModel).predict(last).Top(1)[0].Class)
	if got := wb.preds.Top(m); !strings.HasPrefix(got, want+"  ") {
		t.Errorf("the predictions show %q; the last canvas is %q", got, want)
	}
	t.Logf("%d predictions during %d changes", during, changes)
}

// burstBackend is the fake engine, checking after every progress report
// how many UI tasks wait, and saying when training has returned.
type burstBackend struct {
	*fakeBackend
	tasks     *tasks
	maxQueued int
	reports   int
	finished  chan struct{}
}

func (b *burstBackend) TrainPatch(ctx context.Context, req TrainRequest, progress func(patch.Progress)) (*patch.Result, error) {
	defer close(b.finished)
	return b.fakeBackend.TrainPatch(ctx, req, func(pr patch.Progress) {
		progress(pr)
		b.reports++
		b.maxQueued = max(b.maxQueued, queued(b.tasks))
	})
}

// TestProgressBurstLeavesOnePendingUITask is the words: a burst of
// 10,000 progress updates leaves at most one pending UI task and ends with
// the final step shown. The UI goroutine (the test's) is held for the whole
// burst, the worst case, and the queue is counted after every update: for
// the throttle alone, and for a patch training in the workbench.
func TestProgressBurstLeavesOnePendingUITask(t *testing.T) {
	const n = 10000
	t.Run("throttle", func(t *testing.T) {
		var ts tasks
		ts.manualLoop()
		thr := newThrottle(frameInterval, &ts)
		var shown []int
		maxQueued := 0
		for i := 1; i <= n; i++ {
			thr.Do(func() { shown = append(shown, i) })
			maxQueued = max(maxQueued, queued(&ts))
		}
		for queued(&ts) == 0 {
			time.Sleep(100 * time.Microsecond) // the refresh's timer fires
		}
		maxQueued = max(maxQueued, queued(&ts))
		ts.Wait()
		if maxQueued > 1 {
			t.Errorf("%d UI tasks were pending at once; want at most 1", maxQueued)
		}
		if len(shown) != 1 || shown[0] != n {
			t.Errorf("the UI showed %v; want the final step, %d, alone", shown, n)
		}
	})
	t.Run("training", func(t *testing.T) {
		fb := newFakeBackend()
		fb.stepDelay = 0
		be := &burstBackend{fakeBackend: fb, finished: make(chan struct{})}
		wb, _ := newTestWorkbench(t, be)
		be.tasks = &wb.tasks
		tp := wb.train
		tp.steps.Entry.SetText(strconv.Itoa(n))
		tp.size.Entry.SetText("8")
		tp.toggle()
		<-be.finished // the UI goroutine has run nothing meanwhile
		queuedAtEnd := queued(&wb.tasks)
		wb.tasks.Wait()
		if be.reports != n {
			t.Fatalf("%d progress updates; want %d", be.reports, n)
		}
		if be.maxQueued > 1 || queuedAtEnd > 1 {
			t.Errorf("%d UI tasks were pending at once during the burst, %d at its end; want at most 1", be.maxQueued, queuedAtEnd)
		}
		if got, want := tp.eta.Text, fmt.Sprintf("Done: %d steps", n); got != want {
			t.Errorf("the panel shows %q; want %q", got, want)
		}
		if f, _ := tp.fraction.Get(); f != 1 {
			t.Errorf("the progress bar shows %v; want 1", f)
		}
		// The fake's patch at step s is filled with s/n: the final step's is all ones.
		if wb.patch == nil || wb.patch.Pix[0] != 1 || wb.patch.Pix[len(wb.patch.Pix)-1] != 1 {
			t.Errorf("the canvas shows a patch of an earlier step")
		}
	})
}
