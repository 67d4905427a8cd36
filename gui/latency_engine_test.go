package gui

import (
	"testing"
	"time"

	"github.com/advlab/advlab/engine/onnxrt"
)

// TestUIStaysResponsiveWhileTheDemoTrains is TestUIStaysResponsiveWhileTraining
// with the real engine: the workbench opened on the embedded demo, a patch
// trained by ONNX Runtime on the other core while the UI loop runs.
func TestUIStaysResponsiveWhileTheDemoTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	checkResponsive(t, func(t *testing.T) (busy, probe []time.Duration) {
		wb := newDemoWorkbench(t)
		wb.train.steps.Entry.SetText("60")
		noise := wb.view.Composite()
		// A first-time user presses one button: the toolbar's Start.
		wb.toolbarRun.OnActivated()
		busy, probe = uiLoop(wb, 60*time.Second, frameInterval, func() bool { return !wb.train.running })
		wb.tasks.Wait()
		if wb.train.running || wb.train.lastRun == nil || wb.train.lastRun.Err != nil || wb.train.lastRun.Done != 60 {
			t.Fatalf("training did not finish: %+v", wb.train.lastRun)
		}
		// … and sees a patch appear: trained for the target shown, on the canvas.
		if wb.patchMeta.Target == "" || wb.patchMeta.Target != wb.train.target.Selected || wb.view.Composite() == noise {
			t.Errorf("no trained patch on the canvas: target %q", wb.patchMeta.Target)
		}
		return busy, probe
	})
}
