package gui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine"
)

// TestUIStaysResponsiveWhileTheDemoTrains is TestUIStaysResponsiveWhileTraining
// with the real engine: the workbench opened on the embedded demo, a patch
// trained by ONNX Runtime on the other core while the UI loop runs.
func TestUIStaysResponsiveWhileTheDemoTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	if err := engine.InitRuntime(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	checkResponsive(t, func(t *testing.T) (busy, probe []time.Duration) {
		a := test.NewTempApp(t)
		w := test.NewTempWindow(t, widget.NewLabel(""))
		wb := newWorkbench(a, w, NewEngineBackend())
		wb.tasks.manualLoop()
		w.Resize(fyne.NewSize(1280, 800))
		wb.start(nil)
		wb.tasks.Wait()
		t.Cleanup(wb.close)
		if len(wb.models) != 1 || wb.images == nil {
			t.Fatalf("the demo did not load: %s", wb.status.Text)
		}
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
