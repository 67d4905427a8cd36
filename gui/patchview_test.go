package gui

import (
	"math"
	"strings"
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
	if got := wb.placeBar.rotation.Value; got != 90 {
		t.Errorf("the rotation slider reads %v after a quarter turn clockwise; want +90", got)
	}
	wb.tasks.Wait()
}

func TestScrollScalesAndShiftScrollRotates(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.view.SetPlacement(Placement{CX: 0.5, CY: 0.5, Area: 0.1})
	c := wb.win.Canvas()
	centre, _, _, _, _ := wb.view.handles()

	// Five notches up, then five down: each notch a tenth more area, so
	// the steps stay small and undo each other (they were ×1.65 a notch:
	// 36% to 3% in five).
	for i := 0; i < 5; i++ {
		test.Scroll(c, onCanvas(wb, centre), 0, wheelNotch)
	}
	if got, want := wb.view.Placement().Area, 0.1*math.Pow(1.1, 5); math.Abs(got-want) > 1e-9 {
		t.Errorf("area after five notches up = %.4f; want 0.1 × 1.1⁵ = %.4f", got, want)
	}
	for i := 0; i < 5; i++ {
		test.Scroll(c, onCanvas(wb, centre), 0, -wheelNotch)
	}
	if got := wb.view.Placement().Area; math.Abs(got-0.1) > 1e-9 {
		t.Errorf("area after five notches back = %.4f; want 0.1", got)
	}
	wb.view.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	area := wb.view.Placement().Area
	test.Scroll(c, onCanvas(wb, centre), 0, 2*wheelNotch)
	wb.view.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	if pl := wb.view.Placement(); pl.AngleDeg != 10 || pl.Area != area {
		t.Errorf("shift+scroll of two notches gave %+v; want a 10° turn and the same area", pl)
	}
	wb.tasks.Wait()
}

func TestTapPlacesAndKeysNudge(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	g := wb.view.geom()
	at := g.toView(float64(g.iw)/4, float64(g.ih)*3/4)
	before := wb.view.Placement()
	test.TapAt(wb.view, at) // the first tap focuses only
	if wb.win.Canvas().Focused() != wb.view {
		t.Fatal("the tapped canvas did not take the focus")
	}
	if got := wb.view.Placement(); got != before {
		t.Fatalf("the tap that focused the canvas moved the patch: %+v → %+v", before, got)
	}
	test.TapAt(wb.view, at)
	pl := wb.view.Placement()
	if math.Abs(pl.CX-0.25) > 0.01 || math.Abs(pl.CY-0.75) > 0.01 {
		t.Fatalf("tap placed the patch at (%.2f, %.2f); want (0.25, 0.75)", pl.CX, pl.CY)
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
	wb.placeBar.rotation.SetValue(45) // clockwise
	wb.placeBar.scale.SetValue(math.Log(0.3))
	pl := wb.view.Placement()
	if pl.AngleDeg != -45 || math.Abs(pl.Area-0.3) > 0.005 {
		t.Errorf("sliders gave %+v; want 45° clockwise (−45° counter-clockwise) and 30%% of the area", pl)
	}
	// The handle's top then leans right, as clockwise means on screen.
	centre, _, rotate, _, _ := wb.view.handles()
	if rotate.X <= centre.X || rotate.Y >= centre.Y {
		t.Errorf("at 45° clockwise the rotation handle is at %v, centre %v; want up and to the right", rotate, centre)
	}
	if !strings.Contains(wb.placeBar.readout.Text, "turned +45° clockwise") {
		t.Errorf("readout %q", wb.placeBar.readout.Text)
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
