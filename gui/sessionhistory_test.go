package gui

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestSessionKeepsAStoppedTraining saves a training stopped at step 3 of 10
// whose loss diverged (NaN and +Inf, which JSON cannot hold) and reopens it
// in another workbench: the bar stands at 3/10, the text says where it
// stopped, and the diverged losses come back as NaN, the rest exactly.
func TestSessionKeepsAStoppedTraining(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	tp := wb.train
	tp.lossX, tp.lossY, tp.rateY = []float64{1, 2, 3}, []float64{0.7, math.NaN(), math.Inf(1)}, []float64{0, 0.25, 0.5}
	tp.lastRun = &trainRun{Steps: 10, Done: 3, Err: context.Canceled}
	path := filepath.Join(t.TempDir(), "s"+sessionExt)
	if err := writeSession(path, wb.snapshotSession(path)); err != nil {
		t.Fatal(err)
	}
	s, err := readSession(path)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newTestWorkbench(t, newFakeBackend())
	other.train.restoreTraining(s.Training)
	o := other.train
	if f, _ := o.fraction.Get(); f != 0.3 || !strings.HasPrefix(o.eta.Text, "Stopped at step 3 of 10") {
		t.Errorf("progress %v, %q; want 0.3 and where it stopped", f, o.eta.Text)
	}
	if len(o.lossY) != 3 || o.lossY[0] != 0.7 || !math.IsNaN(o.lossY[1]) || !math.IsNaN(o.lossY[2]) || o.rateY[2] != 0.5 || o.lossX[2] != 3 {
		t.Errorf("curves %v %v %v", o.lossX, o.lossY, o.rateY)
	}
	if got := len(o.lossPlot.Series[0].Y); got != 3 {
		t.Errorf("the loss plot draws %d points, want 3", got)
	}
}
