package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// centreOf is the centre of o in canvas coordinates.
func centreOf(o fyne.CanvasObject) fyne.Position {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	return p.AddXY(o.Size().Width/2, o.Size().Height/2)
}

// rectOf is o's top-left and bottom-right corners in canvas coordinates.
func rectOf(o fyne.CanvasObject) (fyne.Position, fyne.Position) {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	return p, p.AddXY(o.Size().Width, o.Size().Height)
}

// tipShown returns the text the tooltip layer draws, "" when none is
// visible.
func tipShown(wb *Workbench) string {
	if !wb.tips.box.Visible() {
		return ""
	}
	var lines []string
	for _, o := range wb.tips.lines.Objects {
		lines = append(lines, o.(*canvas.Text).Text)
	}
	return strings.Join(lines, " ")
}

// TestToolbarTooltip rests the pointer on a toolbar button, through the test
// driver's own hover search: after the delay a tooltip with the button's
// tip is drawn beside the pointer inside the window, the status bar says
// it too, a tap still reaches the button (and hides the tip), and the tip
// goes when the pointer leaves; a pointer that leaves before the delay
// shows none.
func TestToolbarTooltip(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	c := wb.win.Canvas()
	var fit *tipButton
	for _, it := range wb.tools.Items {
		if a, ok := it.(*tipAction); ok && strings.HasPrefix(a.button.tip, "Fit the canvas") {
			fit = a.button
		}
	}
	away := centreOf(wb.status)

	t.Run("leaving before the delay", func(t *testing.T) {
		test.MoveMouse(c, centreOf(fit))
		test.MoveMouse(c, away)
		wb.tasks.Wait() // the delay passes
		if s := tipShown(wb); s != "" {
			t.Errorf("a tooltip %q shows after the pointer left", s)
		}
	})
	t.Run("rest, tap, leave", func(t *testing.T) {
		wb.view.zoomAt(fyne.NewPos(10, 10), 3)
		p := centreOf(fit)
		test.MoveMouse(c, p)
		if s := tipShown(wb); s != "" {
			t.Fatalf("the tooltip %q shows before the delay", s)
		}
		wb.tasks.Wait()
		shown := tipShown(wb)
		if !strings.HasPrefix(shown, "Fit the canvas") || wb.tips.Shown() != fit.tip {
			t.Fatalf("the tooltip reads %q; want the button's tip %q", shown, fit.tip)
		}
		if wb.status.Text != fit.tip {
			t.Errorf("the status bar reads %q; want the tip too", wb.status.Text)
		}
		tl, br := rectOf(wb.tips.box)
		wtl, wbr := rectOf(wb.win.Content())
		if tl.Y <= p.Y || tl.X < wtl.X || tl.Y < wtl.Y || br.X > wbr.X || br.Y > wbr.Y {
			t.Errorf("the tooltip spans %v–%v; want it below the pointer %v, inside the window %v–%v", tl, br, p, wtl, wbr)
		}
		test.TapCanvas(c, p)
		if wb.view.Zoom() != 1 {
			t.Errorf("the tap did not reach the Fit button: zoom %v", wb.view.Zoom())
		}
		if s := tipShown(wb); s != "" {
			t.Errorf("the tooltip %q stays after the tap", s)
		}
		test.MoveMouse(c, p.AddXY(1, 1)) // the tap ended this rest; a new one shows it again
		wb.tasks.Wait()
		if tipShown(wb) == "" {
			t.Fatal("no tooltip after resting again")
		}
		test.MoveMouse(c, away)
		if s := tipShown(wb); s != "" || wb.status.Text == fit.tip {
			t.Errorf("after leaving: tooltip %q, status %q", s, wb.status.Text)
		}
	})
}

// TestParameterTooltip rests the pointer on parameters' labels: the
// tooltip gives the meaning, unit and default (the auto rule) from the
// registry, and is drawn over the field below without taking its pointer:
// a tap on the part of a check box under the tooltip ticks it.
func TestParameterTooltip(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	c := wb.win.Canvas()
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	ap.method.SetSelected(methodName(MethodPGD))
	mf := ap.forms[MethodPGD]
	rowOf := func(name string) *fieldRow {
		for i, f := range mf.fields {
			if f.param.Name == name {
				scrollIntoView(ap.scroll, mf.rows[i].content)
				return mf.rows[i]
			}
		}
		t.Fatalf("no %s row", name)
		return nil
	}

	test.MoveMouse(c, centreOf(rowOf("step-size").label))
	wb.tasks.Wait()
	shown := tipShown(wb)
	for _, want := range []string{"Step size: step length", "[0,1] pixels", "Default: auto = 2.5·ε/steps"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the tooltip reads %q; want %q in it", shown, want)
		}
	}

	row := rowOf("random-start")
	check := mf.field("random-start").check
	ltl, lbr := rectOf(row.label)
	test.MoveMouse(c, fyne.NewPos(ltl.X+6, (ltl.Y+lbr.Y)/2)) // over the check box's left
	wb.tasks.Wait()
	if s := tipShown(wb); !strings.HasPrefix(s, "Random start: ") || !strings.Contains(s, "Default: true") {
		t.Fatalf("the tooltip reads %q; want the random start's help and default", s)
	}
	// A point under the tooltip and on the check box (its box, which
	// takes the taps).
	tl, br := rectOf(wb.tips.box)
	ctl, _ := rectOf(check)
	cbr := ctl.AddXY(check.MinSize().Width, check.MinSize().Height)
	x0, y0, x1, y1 := max(tl.X, ctl.X), max(tl.Y, ctl.Y), min(br.X, cbr.X), min(br.Y, cbr.Y)
	if x0 >= x1 || y0 >= y1 {
		t.Fatalf("the tooltip %v–%v does not cover the check box %v–%v", tl, br, ctl, cbr)
	}
	under := fyne.NewPos((x0+x1)/2, (y0+y1)/2)
	was := check.Checked
	test.TapCanvas(c, under)
	if check.Checked == was {
		t.Error("a tap on the check box under the tooltip did not reach it")
	}
	test.MoveMouse(c, under) // the pointer leaves the label for the check box
	if s := tipShown(wb); s != "" {
		t.Errorf("the tooltip %q stays with the pointer off the label", s)
	}
}
