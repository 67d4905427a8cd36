package gui

import (
	"sync"
	"time"

	"fyne.io/fyne/v2"
)

// frameInterval is how often, at most, background work refreshes a widget:
// about one display frame.
const frameInterval = 17 * time.Millisecond

// tasks tracks the workbench's background goroutines and timers, so that a
// test can wait until the work it started has landed in the widgets, and
// hands functions to the UI goroutine.
//
// In production ui is fyne.Do. Fyne's test driver would run such functions
// at once on the background goroutine that asks, concurrently with the test
// and with each other, which the real event loop never does; so tests call
// manualLoop, which makes ui queue the functions and Wait run them on the
// caller's goroutine. The test's goroutine is then the one UI goroutine, as
// the main goroutine is in the real application.
type tasks struct {
	mu      sync.Mutex
	changed *sync.Cond // signalled when pending drops or queue grows
	pending int        // goroutines and timers not yet finished
	manual  bool       // queue UI functions for Wait (tests)
	queue   []func()
}

// manualLoop makes ui queue its functions, to be run by Wait and RunQueued on
// the goroutine that calls them.
func (t *tasks) manualLoop() {
	t.mu.Lock()
	t.manual = true
	t.mu.Unlock()
}

func (t *tasks) cond() *sync.Cond {
	if t.changed == nil {
		t.changed = sync.NewCond(&t.mu)
	}
	return t.changed
}

// ui runs f on the UI goroutine. Every widget change made from a background
// goroutine goes through it (or through a throttle, which uses it), so that
// no call site forgets fyne.Do.
func (t *tasks) ui(f func()) {
	t.mu.Lock()
	if t.manual {
		t.queue = append(t.queue, f)
		t.cond().Broadcast()
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	fyne.Do(f)
}

// add counts one more goroutine or timer; done counts one finished.
func (t *tasks) add() {
	t.mu.Lock()
	t.pending++
	t.mu.Unlock()
}

func (t *tasks) done() {
	t.mu.Lock()
	t.pending--
	t.cond().Broadcast()
	t.mu.Unlock()
}

// Go runs f on a new goroutine.
func (t *tasks) Go(f func()) {
	t.add()
	go func() {
		defer t.done()
		f()
	}()
}

// RunQueued runs the UI functions queued so far (manual mode) on the
// caller's goroutine and returns how many ran.
func (t *tasks) RunQueued() int {
	n := 0
	for {
		t.mu.Lock()
		if len(t.queue) == 0 {
			t.mu.Unlock()
			return n
		}
		f := t.queue[0]
		t.queue = t.queue[1:]
		t.mu.Unlock()
		f()
		n++
	}
}

// Wait blocks until every goroutine and pending timer has finished and, in
// manual mode, runs the UI functions they queue until none is left.
func (t *tasks) Wait() {
	for {
		t.RunQueued()
		t.mu.Lock()
		for t.pending > 0 && len(t.queue) == 0 {
			t.cond().Wait()
		}
		idle := t.pending == 0 && len(t.queue) == 0
		t.mu.Unlock()
		if idle {
			return
		}
	}
}

// throttle coalesces UI refreshes from a fast producer (a training loop, an
// attack's progress): Do hands the latest of the functions given to it to
// the UI goroutine, at most once per interval.
//
// At most one refresh is queued for the UI goroutine at a time. While it
// waits there, a newer Do replaces the function it will run (latest wins),
// so a UI that is slower than the producer shows the newest state when it
// gets to it instead of working through a backlog of old ones. The next
// refresh is queued only once the previous one has run. The function given
// last always runs, after every earlier one that runs: the final state and
// the result are never dropped nor overtaken. Do never blocks.
type throttle struct {
	interval time.Duration
	tasks    *tasks

	mu     sync.Mutex
	latest func()    // the function the next run will call; nil when none
	busy   bool      // a timer is armed, or a run is queued or running
	last   time.Time // when the last run began
}

func newThrottle(interval time.Duration, t *tasks) *throttle {
	return &throttle{interval: interval, tasks: t}
}

// Do schedules f to run on the UI goroutine, replacing a function given
// before that has not run yet. A nil f is ignored.
func (t *throttle) Do(f func()) {
	if f == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.latest = f
	if t.busy {
		return // the queued or coming run will pick f up
	}
	t.busy = true
	t.tasks.add() // done when the throttle is idle again
	t.armLocked()
}

// armLocked queues a run for when interval has passed since the last one
// began; t.mu is held.
func (t *throttle) armLocked() {
	time.AfterFunc(max(0, t.interval-time.Since(t.last)), func() { t.tasks.ui(t.run) })
}

// run is the one queued refresh, on the UI goroutine: it calls the latest
// function and, if Do was called meanwhile, queues the next run.
func (t *throttle) run() {
	t.mu.Lock()
	f := t.latest
	t.latest, t.last = nil, time.Now()
	t.mu.Unlock()
	if f != nil {
		f()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.latest != nil {
		t.armLocked()
		return
	}
	t.busy = false
	t.tasks.done()
}
