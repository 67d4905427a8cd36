package gui

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// TestCurrentThumbnailIsFramed selects images of a set of square images
// (which hide the grid's own highlight): the canvas's image, and only it,
// has a visible frame.
func TestCurrentThumbnailIsFramed(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	framed := func(id int) bool {
		cell := wb.thumbStrip.grid.CreateItem()
		wb.thumbStrip.grid.UpdateItem(id, cell)
		r := cell.(*fyne.Container).Objects[1].(*canvas.Rectangle)
		_, _, _, a := r.StrokeColor.RGBA()
		return r.StrokeWidth > 0 && a > 0 && r.StrokeColor != color.Transparent
	}
	for _, cur := range []int{0, 3, 5} {
		if b := wb.images.Samples[cur].Image.Bounds(); b.Dx() != b.Dy() {
			t.Fatalf("sample %d is %v; the test wants square images", cur, b)
		}
		wb.selectImage(cur)
		if s := wb.images.Samples[cur]; wb.thumbStrip.current.Text != "On the canvas: "+s.Name+" · true class "+s.Class {
			t.Errorf("current %d: the strip says %q", cur, wb.thumbStrip.current.Text)
		}
		for id := range wb.thumbs {
			if framed(id) != (id == cur) {
				t.Errorf("current %d: thumbnail %d framed %v", cur, id, framed(id))
			}
		}
	}
}

// TestToolbarButtonsSayWhatTheyDo hovers every toolbar button: each shows
// its tip in the status bar, and the status comes back when the pointer
// leaves; a tap still runs the action.
func TestToolbarButtonsSayWhatTheyDo(t *testing.T) {
	wb, files := newTestWorkbench(t, newFakeBackend())
	wb.setStatus("Ready")
	n := 0
	for _, item := range wb.tools.Items {
		a, ok := item.(*tipAction)
		if !ok {
			continue
		}
		n++
		a.button.MouseIn(&desktop.MouseEvent{})
		if wb.status.Text != a.button.tip || a.button.tip == "" {
			t.Errorf("hovering: status %q; want the tip %q", wb.status.Text, a.button.tip)
		}
		a.button.MouseOut()
		if wb.status.Text != "Ready" {
			t.Errorf("after leaving %q: status %q", a.button.tip, wb.status.Text)
		}
	}
	if n != 8 {
		t.Errorf("%d toolbar buttons have tips; want all 8", n)
	}
	open := wb.tools.Items[0].(*tipAction).button
	test.Tap(open)
	if len(files.asked) != 1 || files.asked[0] != "open Open a model" {
		t.Errorf("tapping the first button asked %v", files.asked)
	}
}
