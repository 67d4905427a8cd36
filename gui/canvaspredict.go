package gui

import (
	"context"
)

// Predictions.

// schedulePredict asks every model to classify the canvas: at most once
// per predictDelay while the patch keeps changing (a drag, a training run),
// and always once after the last change.
func (wb *Workbench) schedulePredict() {
	if len(wb.models) == 0 {
		return // nothing to classify with (as while the window is built)
	}
	wb.predictThrottle.Do(wb.predictNow)
	wb.overlay.schedule()
}

// predictNow classifies the canvas's composite with every model off the UI
// goroutine. One request runs at a time: a request made while one runs is
// remembered, and when that one has delivered its results the canvas, as it
// is then, is classified again. So every request's results land (a newer
// one never cancels an older one before it shows anything), and the last
// change is always classified.
func (wb *Workbench) predictNow() {
	if wb.predictRunning {
		wb.predictAgain = true
		return
	}
	img := wb.view.Composite()
	models := append([]Model(nil), wb.models...)
	if img == nil || len(models) == 0 {
		return
	}
	wb.predictRunning = true
	wb.tasks.Go(func() {
		for _, m := range models {
			p, err := wb.be.Predict(context.Background(), m, img)
			wb.tasks.ui(func() { wb.preds.Set(m, p, err) })
		}
		wb.tasks.ui(func() {
			wb.predictRunning = false
			if wb.predictAgain {
				wb.predictAgain = false
				wb.predictNow()
			}
		})
	})
}
