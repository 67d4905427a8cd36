package gui

import (
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestUndoRedoPlacement drags the patch, turns the wheel, nudges it and
// moves a slider, then undoes each gesture whole with Ctrl+Z and redoes
// them with Ctrl+Shift+Z.
func TestUndoRedoPlacement(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	c := wb.win.Canvas()
	sc := c.(fyne.Shortcutable)
	start := Placement{CX: 0.3, CY: 0.5, Area: 0.1}
	wb.view.SetPlacement(start)
	var states []Placement
	record := func() { states = append(states, wb.view.Placement()) }
	record()

	centre, _, _, _, _ := wb.view.handles()
	test.Drag(c, onCanvas(wb, centre), 40, 10) // one gesture of many events
	record()
	centre, _, _, _, _ = wb.view.handles()
	test.Scroll(c, onCanvas(wb, centre), 0, wheelNotch)
	record()
	wb.view.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	record()
	// A drag of the rotation slider: many changes, one gesture.
	sl := wb.placeBar.rotation
	w, h := sl.Size().Width, sl.Size().Height
	for _, x := range []float32{0.6, 0.7, 0.8} { // as the driver sends them
		sl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x*w, h/2)}})
	}
	sl.DragEnd()
	record()
	for i := 1; i < len(states); i++ {
		if states[i] == states[i-1] {
			t.Fatalf("gesture %d did not move the patch", i)
		}
	}

	for i := len(states) - 2; i >= 0; i-- {
		sc.TypedShortcut(scUndo)
		if got := wb.view.Placement(); !samePlacement(got, states[i]) {
			t.Errorf("undo to state %d: %+v; want %+v", i, got, states[i])
		}
	}
	sc.TypedShortcut(scUndo)
	if got := wb.view.Placement(); !samePlacement(got, start) || wb.status.Text != "Nothing to undo" {
		t.Errorf("an undo too many: %+v, status %q", got, wb.status.Text)
	}
	for i := 1; i < len(states); i++ {
		sc.TypedShortcut(scRedo)
		if got := wb.view.Placement(); !samePlacement(got, states[i]) {
			t.Errorf("redo to state %d: %+v; want %+v", i, got, states[i])
		}
	}
	// A new gesture after an undo forgets the redos.
	sc.TypedShortcut(scUndo)
	wb.view.TypedRune('+')
	sc.TypedShortcut(scRedo)
	if wb.status.Text != "Nothing to redo" {
		t.Errorf("redo after a new change: status %q", wb.status.Text)
	}
	wb.tasks.Wait()
}

func samePlacement(a, b Placement) bool {
	const eps = 1e-9
	return math.Abs(a.CX-b.CX) < eps && math.Abs(a.CY-b.CY) < eps && math.Abs(a.Area-b.Area) < eps && math.Abs(a.AngleDeg-b.AngleDeg) < eps
}

// TestSaveAndQuitShortcuts presses Ctrl+S, which asks where to save the
// patch and saves it there.
func TestSaveAndQuitShortcuts(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	files.save = "/out/patch.png"
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scSavePatch)
	wb.tasks.Wait()
	if !contains(be.saved, "/out/patch.png") {
		t.Errorf("Ctrl+S saved %v; asked %v", be.saved, files.asked)
	}
	wb.close()
	wb.close() // as Quit does, then the window's closing: models closed once
}
