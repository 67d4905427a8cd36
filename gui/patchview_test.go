package gui

import (
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// onCanvas returns the canvas position of a point of the patch view. The
// test driver's AbsolutePositionForObject is relative to the interactive
// area, and test.Drag's positions to the canvas.
func onCanvas(wb *Workbench, p fyne.Position) fyne.Position {
	inset, _ := wb.win.Canvas().InteractiveArea()
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(wb.view).Add(inset).Add(p)
}

func TestDraggingThePatchMovesItAndThePredictions(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	m := wb.models[0]
	wb.view.SetPlacement(Placement{CX: 0.15, CY: 0.5, Area: 0.2})
	wb.tasks.Wait()
	before, top := wb.view.Placement(), wb.preds.Top(m)
	predicts := be.predicts

	centre, _, _, _, ok := wb.view.handles()
	if !ok {
		t.Fatal("no patch handles on the canvas")
	}
	g := wb.view.geom()
	dx := float32(0.7 * float64(g.iw) * g.f) // 70% of the image to the right
	test.Drag(wb.win.Canvas(), onCanvas(wb, centre), dx, 0)
	wb.tasks.Wait()

	after := wb.view.Placement()
	if math.Abs(after.CX-before.CX-0.7) > 0.01 || after.CY != before.CY || after.Area != before.Area {
		t.Errorf("placement %+v → %+v; want CX moved by 0.7 only", before, after)
	}
	if got := wb.preds.Top(m); got == top {
		t.Errorf("top prediction stayed %q after moving the patch across the image", got)
	}
	if be.predicts <= predicts {
		t.Error("no prediction ran after the drag")
	}
	if wb.placeBar.readout.Text == "" {
		t.Error("the placement readout is empty")
	}
}

func TestHandlesScaleAndRotate(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.view.SetPlacement(Placement{CX: 0.5, CY: 0.5, Area: 0.05})
	c := wb.win.Canvas()

	centre, scale, _, _, _ := wb.view.handles()
	d := scale.Subtract(centre) // drag the corner twice as far out
	test.Drag(c, onCanvas(wb, scale), d.X, d.Y)
	if got := wb.view.Placement().Area; math.Abs(got-0.2) > 0.01 {
		t.Errorf("area after doubling the handle's distance = %.3f; want 4 × 0.05", got)
	}

	_, _, rotate, _, _ := wb.view.handles()
	// Drag the rotation handle to the right of the centre: a quarter turn
	// clockwise, i.e. −90°.
	target := centre.Add(fyne.NewPos(float32(dist(rotate, centre)), 0))
	test.Drag(c, onCanvas(wb, rotate), target.X-rotate.X, target.Y-rotate.Y)
	if got := wb.view.Placement().AngleDeg; math.Abs(got+90) > 0.5 {
		t.Errorf("angle after dragging the handle right = %.1f°; want −90°", got)
	}
	wb.tasks.Wait()
}

func TestScrollScalesAndShiftScrollRotates(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.view.SetPlacement(Placement{CX: 0.5, CY: 0.5, Area: 0.1})
	c := wb.win.Canvas()
	centre, _, _, _, _ := wb.view.handles()

	test.Scroll(c, onCanvas(wb, centre), 0, 10)
	if got := wb.view.Placement().Area; !(got > 0.1) {
		t.Errorf("area after scrolling up = %.3f; want larger than 0.1", got)
	}
	wb.view.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	area := wb.view.Placement().Area
	test.Scroll(c, onCanvas(wb, centre), 0, 20)
	wb.view.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	if pl := wb.view.Placement(); pl.AngleDeg != 10 || pl.Area != area {
		t.Errorf("shift+scroll gave %+v; want a 10° turn and the same area", pl)
	}
	wb.tasks.Wait()
}

func TestTapPlacesAndKeysNudge(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	g := wb.view.geom()
	test.TapAt(wb.view, g.toView(float64(g.iw)/4, float64(g.ih)*3/4))
	pl := wb.view.Placement()
	if math.Abs(pl.CX-0.25) > 0.01 || math.Abs(pl.CY-0.75) > 0.01 {
		t.Fatalf("tap placed the patch at (%.2f, %.2f); want (0.25, 0.75)", pl.CX, pl.CY)
	}
	if wb.win.Canvas().Focused() != wb.view {
		t.Fatal("the tapped canvas did not take the focus")
	}
	wb.view.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	wb.view.TypedRune('+')
	wb.view.TypedRune('[')
	got := wb.view.Placement()
	if math.Abs(got.CX-0.26) > 1e-9 || math.Abs(got.Area-pl.Area*1.1) > 1e-9 || got.AngleDeg != 5 {
		t.Errorf("after →, +, [: %+v", got)
	}
	wb.view.TypedKey(&fyne.KeyEvent{Name: fyne.KeyF5}) // handed on: starts training
	if !wb.train.running {
		t.Error("F5 on the focused canvas did not start training")
	}
	wb.train.stop()
	wb.tasks.Wait()
}

func TestSlidersMoveThePatch(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.placeBar.rotation.SetValue(45)
	wb.placeBar.scale.SetValue(math.Log(0.3))
	pl := wb.view.Placement()
	if pl.AngleDeg != 45 || math.Abs(pl.Area-0.3) > 0.005 {
		t.Errorf("sliders gave %+v; want 45° and 30%% of the area", pl)
	}
	wb.tasks.Wait()
}

func TestPlacementClamps(t *testing.T) {
	got := clampPlacement(Placement{CX: -1, CY: 2, Area: 5, AngleDeg: 540})
	want := Placement{CX: 0, CY: 1, Area: maxArea, AngleDeg: 180}
	if got != want {
		t.Errorf("clampPlacement = %+v; want %+v", got, want)
	}
}
