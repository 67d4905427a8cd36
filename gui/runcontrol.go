package gui

import (
	"context"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// runControl is a panel's Start/Stop button for its one background job:
// pressed while idle it starts the job, while running it cancels it and
// stays disabled until the job reports that it has stopped.
type runControl struct {
	run     *widget.Button
	running bool
	// cancel ends the running job; the job's start sets it.
	cancel context.CancelFunc

	startText, stopText string
	idle                widget.Importance
	start               func()
}

// init makes rc an idle control, in place (its button's action is bound to
// rc), whose button reads startText (with importance idle) and starts the
// job with start.
func (rc *runControl) init(startText, stopText string, idle widget.Importance, start func()) {
	*rc = runControl{startText: startText, stopText: stopText, idle: idle, start: start}
	rc.run = widget.NewButtonWithIcon(startText, theme.MediaPlayIcon(), rc.toggle)
	rc.run.Importance = idle
}

// toggle is the button's action.
func (rc *runControl) toggle() {
	if rc.running {
		if rc.cancel != nil {
			rc.cancel()
			rc.run.Disable()
		}
		return
	}
	rc.start()
}

// setRunning shows the job as running or stopped; stopped forgets cancel.
func (rc *runControl) setRunning(on bool) {
	rc.running = on
	rc.run.Enable()
	if on {
		rc.run.SetText(rc.stopText)
		rc.run.SetIcon(theme.MediaStopIcon())
		rc.run.Importance = widget.DangerImportance
	} else {
		rc.run.SetText(rc.startText)
		rc.run.SetIcon(theme.MediaPlayIcon())
		rc.run.Importance = rc.idle
		rc.cancel = nil
	}
	rc.run.Refresh()
}

// launch starts a job: it shows rc running and status in the status bar,
// runs work off the UI goroutine with a context that Stop cancels and post,
// which hands a UI update to the UI goroutine throttled to a frame (the
// latest replacing a pending one), then, on the UI goroutine, shows rc
// stopped and calls done with work's error.
func (rc *runControl) launch(wb *Workbench, status string, work func(ctx context.Context, post func(func())) error, done func(error)) {
	ctx, cancel := context.WithCancel(context.Background())
	rc.cancel = cancel
	rc.setRunning(true)
	end := wb.begin(status)
	thr := newThrottle(frameInterval, &wb.tasks)
	wb.tasks.Go(func() {
		defer cancel()
		err := work(ctx, thr.Do)
		thr.Do(func() {
			end()
			rc.setRunning(false)
			done(err)
		})
	})
}
