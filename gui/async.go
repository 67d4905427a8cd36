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
type tasks struct {
	wg sync.WaitGroup
	// do runs a function on the UI goroutine; nil means fyne.Do. Tests set
	// it to a loop that runs the functions one at a time and counts them
	// in wg, as Fyne's test driver would otherwise run them at once, on the
	// caller's goroutine, concurrently with each other.
	do func(func())
}

// ui runs f on the UI goroutine. Every widget change made from a background
// goroutine goes through it (or through a throttle, which uses it), so that
// no call site forgets fyne.Do.
func (t *tasks) ui(f func()) {
	if t.do != nil {
		t.do(f)
		return
	}
	fyne.Do(f)
}

// Go runs f on a new goroutine.
func (t *tasks) Go(f func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// Wait blocks until every goroutine and pending timer has finished.
func (t *tasks) Wait() { t.wg.Wait() }

// throttle hands the latest of the functions given to Do to the UI goroutine,
// at most once per interval, and always the last one: a producer as fast as a
// training loop cannot flood the UI, and the final state is never dropped.
// Do never blocks.
type throttle struct {
	interval time.Duration
	tasks    *tasks

	mu     sync.Mutex
	latest func()
	armed  bool
	last   time.Time
}

func newThrottle(interval time.Duration, t *tasks) *throttle {
	return &throttle{interval: interval, tasks: t}
}

// Do schedules f to run on the UI goroutine, replacing a pending function.
func (t *throttle) Do(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.latest = f
	if t.armed {
		return
	}
	t.armed = true
	t.tasks.wg.Add(1)
	time.AfterFunc(max(0, t.interval-time.Since(t.last)), t.fire)
}

func (t *throttle) fire() {
	defer t.tasks.wg.Done()
	t.mu.Lock()
	f := t.latest
	t.latest, t.armed, t.last = nil, false, time.Now()
	t.mu.Unlock()
	if f != nil {
		t.tasks.ui(f)
	}
}

// debouncer runs a function once its trigger has been quiet for delay, so
// that dragging the patch asks for one prediction when the pointer rests
// rather than one per motion event. The function runs on a timer goroutine.
type debouncer struct {
	delay time.Duration
	tasks *tasks

	mu    sync.Mutex
	timer *time.Timer
	f     func()
}

func newDebouncer(delay time.Duration, t *tasks) *debouncer {
	return &debouncer{delay: delay, tasks: t}
}

// Trigger (re)starts the quiet period; f replaces a pending function.
func (d *debouncer) Trigger(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.f = f
	if d.timer != nil && d.timer.Stop() {
		d.tasks.wg.Done() // the stopped timer will not run
	}
	d.tasks.wg.Add(1)
	d.timer = time.AfterFunc(d.delay, func() {
		defer d.tasks.wg.Done()
		d.mu.Lock()
		f := d.f
		d.f = nil
		d.mu.Unlock()
		if f != nil {
			f()
		}
	})
}
