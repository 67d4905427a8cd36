package gui

import (
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// TestCompareGridZoom zooms the Compare view's grid as the side-by-side
// view zooms: Ctrl+wheel over a cell keeps the pixel under the pointer and
// zooms every cell and the side-by-side images alike, + and − zoom about the
// centre, a drag pans, F fits; a plain wheel scrolls the grid instead, and a
// tap still opens the cell side by side.
func TestCompareGridZoom(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.win.Resize(fyne.NewSize(1024, 560)) // the grid scrolls
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodFGSM))
	wb.attackPanel.scope.SetSelected(scopeAll)
	test.Tap(wb.attackPanel.run)
	wb.tasks.Wait()
	cv := wb.compare
	if cv.res == nil || len(cv.res.Items) < 2 {
		t.Fatal("the attack left no results to show in a grid")
	}
	cv.mode.SetSelected(modeGrid)
	for i := range cv.res.Items {
		cv.res.Items[i].Adversarial = gradientImage()
	}
	cv.grid.Refresh()
	var cell *gridImage
	for _, g := range cv.cells {
		if g.id >= 0 && g.Visible() && g.Size().Width >= 64 {
			cell = g
			break
		}
	}
	if cell == nil {
		t.Fatalf("no grid cell is laid out among %d", len(cv.cells))
	}
	s := cell.Size()
	allShare := func(what string, want float64) {
		t.Helper()
		if math.Abs(cv.Zoom()-want) > 1e-9 {
			t.Errorf("%s: zoom %v; want %v", what, cv.Zoom(), want)
		}
		for _, g := range cv.cells {
			if g.vp != cv.vp {
				t.Errorf("%s: cell %d shows %+v, the view %+v", what, g.id, g.vp, cv.vp)
			}
		}
		if cv.clean.vp != cv.vp {
			t.Errorf("%s: the side-by-side images do not share the grid's zoom", what)
		}
	}

	p := fyne.NewPos(s.Width*0.3, s.Height*0.6)
	before := shownAt(&cell.compareImage, p)
	off := cv.grid.GetScrollOffset()
	cell.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: p}, Scrolled: fyne.Delta{DY: -wheelNotch}})
	allShare("a plain wheel notch", 1)
	if cv.grid.GetScrollOffset() <= off {
		t.Errorf("a plain wheel notch down over a cell left the grid at offset %v", cv.grid.GetScrollOffset())
	}
	cv.grid.ScrollToOffset(0)

	cell.KeyDown(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	for i := 0; i < 4; i++ {
		cell.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: p}, Scrolled: fyne.Delta{DY: wheelNotch}})
	}
	cell.KeyUp(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	allShare("four Ctrl+wheel notches", math.Pow(zoomStep, 4))
	if after := shownAt(&cell.compareImage, p); !near(after, before, 3) {
		t.Errorf("under the pointer %v after the zoom; want %v as before", after, before)
	}
	if far := shownAt(&cell.compareImage, fyne.NewPos(s.Width*0.7, s.Height*0.3)); near(far, before, 20) {
		t.Errorf("two points far apart both show %v: the test image is not drawn", far)
	}

	wb.win.Canvas().OnTypedRune()('+')
	allShare("+", math.Pow(zoomStep, 5))
	wb.win.Canvas().OnTypedRune()('-')
	wb.win.Canvas().OnTypedRune()('-')
	allShare("− twice", math.Pow(zoomStep, 3))

	q := fyne.NewPos(s.Width*0.5, s.Height*0.5)
	was := shownAt(&cell.compareImage, q)
	cell.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: q.AddXY(10, 8)}, Dragged: fyne.Delta{DX: 10, DY: 8}})
	cell.DragEnd()
	if now := shownAt(&cell.compareImage, q.AddXY(10, 8)); !near(now, was, 3) {
		t.Errorf("after a drag by (10, 8) the pixel %v is not where the pointer took it (%v)", now, was)
	}
	allShare("a drag", math.Pow(zoomStep, 3))

	wb.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF})
	allShare("F", 1)

	id := cell.id
	test.Tap(cell)
	if cv.mode.Selected != modeSide || cv.item != id {
		t.Errorf("a tap on cell %d shows %q at item %d; want it side by side", id, cv.mode.Selected, cv.item)
	}
}
