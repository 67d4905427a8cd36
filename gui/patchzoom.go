package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// The patch canvas's zoom and pan: Ctrl+wheel zooms around the pointer,
// a middle-drag or space+drag pans, Fit (F) shows the whole image again.
// None of them moves the patch, whose placement is in image coordinates.

// setViewport changes the zoom and pan and redraws.
func (v *patchView) setViewport(vp viewport) {
	if v.base != nil {
		b := v.base.Bounds()
		vp = vp.clamp(b.Dx(), b.Dy())
	}
	if vp.Zoom == 1 && vp.DX == 0 && vp.DY == 0 {
		vp = viewport{}
	}
	v.vp = vp
	v.mu.Lock()
	v.shownVP = vp
	v.mu.Unlock()
	v.Refresh()
}

// zoomAt zooms the view by the factor k around the view point p.
func (v *patchView) zoomAt(p fyne.Position, k float64) {
	if v.base == nil {
		return
	}
	b := v.base.Bounds()
	s := v.Size()
	v.setViewport(v.vp.zoomAt(float64(s.Width), float64(s.Height), b.Dx(), b.Dy(), float64(p.X), float64(p.Y), k))
}

// Fit shows the whole image again, as large as the view allows.
func (v *patchView) Fit() { v.setViewport(viewport{}) }

// Zoom is the view's magnification over the fitted image (1: fitted).
func (v *patchView) Zoom() float64 { return v.vp.zoom() }

// ctrlHeld says whether Ctrl (Cmd on macOS) is down: as the focused canvas
// saw it, or as the desktop driver knows it when the canvas has no focus.
func (v *patchView) ctrlHeld() bool {
	if v.ctrl {
		return true
	}
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()&(fyne.KeyModifierControl|fyne.KeyModifierShortcutDefault) != 0
	}
	return false
}

// clipSegment clips the segment a–b to the rectangle (0, 0)–size
// (Liang–Barsky), so that a zoomed view's outline never draws over the
// widgets around the canvas; ok is false when nothing of it is inside.
func clipSegment(a, b fyne.Position, size fyne.Size) (fyne.Position, fyne.Position, bool) {
	t0, t1 := float32(0), float32(1)
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, e := range [4][2]float32{{-dx, a.X}, {dx, size.Width - a.X}, {-dy, a.Y}, {dy, size.Height - a.Y}} {
		p, q := e[0], e[1]
		switch {
		case p == 0:
			if q < 0 {
				return a, b, false
			}
		case p < 0:
			t0 = max(t0, q/p)
		default:
			t1 = min(t1, q/p)
		}
	}
	if t0 > t1 {
		return a, b, false
	}
	return a.AddXY(t0*dx, t0*dy), a.AddXY(t1*dx, t1*dy), true
}

// inside says whether p lies in the rectangle (0, 0)–size.
func inside(p fyne.Position, size fyne.Size) bool {
	return p.X >= 0 && p.Y >= 0 && p.X <= size.Width && p.Y <= size.Height
}
