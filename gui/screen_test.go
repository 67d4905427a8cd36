package gui

import (
	"testing"

	"fyne.io/fyne/v2"
)

func TestFitWindow(t *testing.T) {
	content := fyne.NewSize(900, 580)
	tests := []struct {
		name         string
		screen, want fyne.Size
	}{
		{"unknown screen", fyne.Size{}, preferredSize},
		{"large screen", fyne.NewSize(1920, 1080), preferredSize},
		{"1024×700", fyne.NewSize(1024, 700), fyne.NewSize(1024*screenMargin, 700*screenMargin)},
		{"smaller than the content", fyne.NewSize(800, 500), content},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fitWindow(preferredSize, tc.screen, content); got != tc.want {
				t.Errorf("fitWindow on %v = %v; want %v", tc.screen, got, tc.want)
			}
		})
	}
}

// TestWindowFitsA1024x700Screen lays the workbench out at the size it takes
// on a 1024×700 screen: its content fits, and Start and Run lie inside the
// window in every tab.
func TestWindowFitsA1024x700Screen(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	size := fitWindow(preferredSize, fyne.NewSize(1024, 700), wb.win.Content().MinSize())
	wb.win.Resize(size)
	if m := wb.win.Content().MinSize(); m.Width > size.Width || m.Height > size.Height {
		t.Fatalf("the content needs %v; the window is %v", m, size)
	}
	inside := func(what string, o fyne.CanvasObject) {
		t.Helper()
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
		if s := o.Size(); p.X < 0 || p.Y < 0 || p.X+s.Width > size.Width || p.Y+s.Height > size.Height || s.Width == 0 {
			t.Errorf("%s lies at %v, size %v: outside the %v window", what, p, s, size)
		}
	}
	wb.rightTabs.Select(wb.patchTab)
	inside("Start", wb.train.start)
	if h, row := wb.train.scroll.Size().Height, wb.train.size.Entry.MinSize().Height; h < 3*row {
		t.Errorf("the Patch tab's parameters get %.0f units, under three rows of %.0f", h, row)
	}
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodPGD))
	scrollIntoView(wb.attackPanel.scroll, wb.attackPanel.run)
	inside("Run", wb.attackPanel.run)
}
