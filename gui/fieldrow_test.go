package gui

import (
	"strconv"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/patch"
)

// inView reports whether obj lies wholly inside the viewport of s.
func inView(s *container.Scroll, obj fyne.CanvasObject) bool {
	d := fyne.CurrentApp().Driver()
	y := d.AbsolutePositionForObject(obj).Y - d.AbsolutePositionForObject(s.Content).Y
	return y >= s.Offset.Y && y+obj.Size().Height <= s.Offset.Y+s.Size().Height
}

// TestTabScrollsTheFocusedFieldIntoView tabs through the Patch tab's
// parameters in a short window: each focused entry is scrolled into view
// before anything is typed into it, and typing lands in the field seen.
func TestTabScrollsTheFocusedFieldIntoView(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	wb.win.Resize(fyne.NewSize(1024, 600))
	tp := wb.train
	c := wb.win.Canvas()
	if inView(tp.scroll, tp.seed.Entry) {
		t.Fatal("the seed is in view at the start: the window is too tall to test scrolling")
	}
	c.Focus(tp.size.Entry)
	for i := 0; i < 40 && c.Focused() != tp.seed.Entry; i++ {
		c.FocusNext()
		if e, ok := c.Focused().(*fieldEntry); ok && !inView(tp.scroll, e) {
			t.Errorf("focused entry %q is out of view (offset %v)", e.Text, tp.scroll.Offset)
		}
	}
	if c.Focused() != tp.seed.Entry || tp.scroll.Offset.Y <= 0 {
		t.Fatalf("tabbing did not reach the seed (focused %T), scroll offset %v", c.Focused(), tp.scroll.Offset)
	}
	// And back up: focusing the first field scrolls back.
	c.Focus(tp.size.Entry)
	if !inView(tp.scroll, tp.size.Entry) {
		t.Errorf("the size field is out of view after focusing it (offset %v)", tp.scroll.Offset)
	}
	test.Type(tp.steps.Entry, "9")
	if !inView(tp.scroll, tp.steps.Entry) {
		t.Error("typing into Steps left it out of view")
	}
}

// TestF5InAFieldStartsTheTask presses F5 while a parameter field has the
// focus: training starts, and a second F5 stops it, instead of the entry
// swallowing the key.
func TestF5InAFieldStartsTheTask(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	tp := wb.train
	tp.steps.Entry.SetText("100000")
	c := wb.win.Canvas()
	c.Focus(tp.lr.Entry)
	f5 := &fyne.KeyEvent{Name: fyne.KeyF5}
	c.Focused().TypedKey(f5)
	if !tp.running {
		t.Fatalf("F5 in the learning-rate field did not start training; dialog %q", topDialogText(wb.win))
	}
	c.Focused().TypedKey(f5)
	wb.tasks.Wait()
	if tp.running || len(be.trainReqs) != 1 {
		t.Errorf("after a second F5: running %v, %d runs", tp.running, len(be.trainReqs))
	}
	if want := strconv.FormatFloat(patch.DefaultOptions().LearningRate, 'g', -1, 64); tp.lr.Entry.Text != want {
		t.Errorf("the field took the key: %q, not the default %s", tp.lr.Entry.Text, want)
	}
}

// TestWheelOverAFieldScrollsTheForm turns the wheel with the pointer over
// the Patch tab's first entry: the form scrolls, as it does elsewhere.
func TestWheelOverAFieldScrollsTheForm(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	tp := wb.train
	c := wb.win.Canvas()
	inset, _ := c.InteractiveArea()
	e := tp.size.Entry
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(e).Add(inset).Add(fyne.NewPos(e.Size().Width/2, e.Size().Height/2))
	test.Scroll(c, at, 0, -60)
	if tp.scroll.Offset.Y <= 0 {
		t.Errorf("the wheel over the Size field left the form at offset %v", tp.scroll.Offset)
	}
}

// TestETAWidthIsFixed sets the Patch and Attack tabs' progress texts to a
// short and a long reading: the labels ask for the same size, so that the
// layout does not jump as the digits change.
func TestETAWidthIsFixed(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	for name, l := range map[string]*widget.Label{"patch": wb.train.eta, "attack": wb.attackPanel.eta} {
		l.SetText("Step 1/300 · loss 1 · success 0% · 1s left")
		short := l.MinSize()
		l.SetText("Step 299/300 · loss 0.000123 · success 100% · 1h59m59s left")
		if long := l.MinSize(); long != short || !l.TextStyle.Monospace {
			t.Errorf("%s: min size %v then %v (monospace %v)", name, short, long, l.TextStyle.Monospace)
		}
	}
}
