package gui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The Compare view's zoom: the clean image, the adversarial one and the
// heat map zoom and pan together, so that the same pixels stay side by
// side. Ctrl+wheel zooms around the pointer, + and − (or the buttons) about
// the centre, a drag pans, F, 0 or the Fit button shows the whole images,
// as on the patch canvas.

// compareImage is one of the side-by-side images.
type compareImage struct {
	imageView
	cv      *compareView
	focused bool
	ctrl    bool // Ctrl is held, as the focused image saw it
}

func newCompareImage(cv *compareView, min fyne.Size) *compareImage {
	c := &compareImage{cv: cv}
	c.minSize = min
	c.raster = newRasterOf(&c.imageView)
	c.ExtendBaseWidget(c)
	return c
}

// Scrolled zooms the three images around the pointer while Ctrl is held.
func (c *compareImage) Scrolled(ev *fyne.ScrollEvent) {
	if !c.ctrlHeld() {
		return
	}
	w, h := c.ownSize()
	c.cv.zoomAt(c.Size(), ev.Position, zoomOf(ev), w, h)
}

// Dragged pans the three images.
func (c *compareImage) Dragged(ev *fyne.DragEvent) {
	s := c.Size()
	iw, ih := c.ownSize()
	g := viewGeom(float64(s.Width), float64(s.Height), iw, ih, c.cv.vp)
	if g.f == 0 {
		return
	}
	vp := c.cv.vp
	vp.DX -= float64(ev.Dragged.DX) / g.f
	vp.DY -= float64(ev.Dragged.DY) / g.f
	c.cv.setViewportOn(vp, iw, ih)
}

// DragEnd is part of fyne.Draggable.
func (c *compareImage) DragEnd() {}

// Tapped gives the image the keyboard, for + − F.
func (c *compareImage) Tapped(*fyne.PointEvent) {
	if cnv := fyne.CurrentApp().Driver().CanvasForObject(c); cnv != nil {
		cnv.Focus(c)
	}
}

// FocusGained is part of fyne.Focusable.
func (c *compareImage) FocusGained() { c.focused = true }

// FocusLost is part of fyne.Focusable.
func (c *compareImage) FocusLost() { c.focused, c.ctrl = false, false }

// TypedRune zooms in (+) and out (−), or fits (0).
func (c *compareImage) TypedRune(r rune) { c.cv.typedRune(r) }

// TypedKey fits on F and hands other keys to the workbench (F5).
func (c *compareImage) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyF {
		c.cv.Fit()
		return
	}
	c.cv.wb.typedKey(ev)
}

// KeyDown tracks Ctrl, which turns the wheel into zoom.
func (c *compareImage) KeyDown(ev *fyne.KeyEvent) { c.trackCtrl(ev.Name, true) }

// KeyUp tracks Ctrl.
func (c *compareImage) KeyUp(ev *fyne.KeyEvent) { c.trackCtrl(ev.Name, false) }

func (c *compareImage) trackCtrl(k fyne.KeyName, down bool) {
	switch k {
	case desktop.KeyControlLeft, desktop.KeyControlRight, desktop.KeySuperLeft, desktop.KeySuperRight:
		c.ctrl = down
	}
}

// ctrlHeld says whether Ctrl (Cmd on macOS) is down, as the focused image
// saw it or as the desktop driver knows it.
func (c *compareImage) ctrlHeld() bool {
	if c.ctrl {
		return true
	}
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()&(fyne.KeyModifierControl|fyne.KeyModifierShortcutDefault) != 0
	}
	return false
}

// zoomControls are the view's zoom buttons and the magnification.
func (cv *compareView) zoomControls() fyne.CanvasObject {
	cv.zoomText = widget.NewLabel("")
	cv.zoomOut = widget.NewButtonWithIcon("", theme.ZoomOutIcon(), func() { cv.zoomBy(1 / zoomStep) })
	cv.zoomIn = widget.NewButtonWithIcon("", theme.ZoomInIcon(), func() { cv.zoomBy(zoomStep) })
	cv.fit = widget.NewButtonWithIcon("", theme.ZoomFitIcon(), cv.Fit)
	for _, b := range []*widget.Button{cv.zoomOut, cv.zoomIn, cv.fit} {
		b.Importance = widget.LowImportance
	}
	cv.showZoom()
	return container.NewHBox(cv.zoomOut, cv.zoomText, cv.zoomIn, cv.fit)
}

// imageSize is the size of the images shown side by side (0 when none).
func (cv *compareView) imageSize() (w, h int) {
	if cv.res == nil || cv.item < 0 || cv.item >= len(cv.res.Items) || cv.res.Items[cv.item].Clean == nil {
		return 0, 0
	}
	b := cv.res.Items[cv.item].Clean.Bounds()
	return b.Dx(), b.Dy()
}

// setViewport shows the three images through vp, kept on the images.
func (cv *compareView) setViewport(vp viewport) {
	w, h := cv.imageSize()
	cv.setViewportOn(vp, w, h)
}

// setViewportOn shows every image through vp, kept on a w×h image: the one
// the pointer zoomed or panned (a grid cell's may be of another sample's
// size than the current item's).
func (cv *compareView) setViewportOn(vp viewport, w, h int) {
	if w > 0 {
		vp = vp.clamp(w, h)
	}
	if vp.Zoom == 1 && vp.DX == 0 && vp.DY == 0 {
		vp = viewport{}
	}
	cv.vp = vp
	for _, v := range []*compareImage{cv.clean, cv.adv, cv.pert} {
		v.setViewport(vp)
	}
	for _, g := range cv.cells {
		g.setViewport(vp)
	}
	cv.showZoom()
}

// zoomAt zooms by k around the point p of a view of size s that shows a
// w×h image (a side-by-side image, or a grid cell's).
func (cv *compareView) zoomAt(s fyne.Size, p fyne.Position, k float64, w, h int) {
	if w == 0 {
		return
	}
	cv.setViewportOn(cv.vp.zoomAt(float64(s.Width), float64(s.Height), w, h, float64(p.X), float64(p.Y), k), w, h)
}

// zoomBy zooms by k about the images' centre. The view's size does not
// change where the centre's image point goes, but one must be there: the
// side-by-side images have none before the grid was ever left.
func (cv *compareView) zoomBy(k float64) {
	s := cv.clean.Size()
	if s.IsZero() {
		s = fyne.NewSize(gridCellSide, gridCellSide)
	}
	w, h := cv.imageSize()
	cv.zoomAt(s, fyne.NewPos(s.Width/2, s.Height/2), k, w, h)
}

// Fit shows the whole images again.
func (cv *compareView) Fit() { cv.setViewport(viewport{}) }

// Zoom is the magnification over the fitted images (1: fitted).
func (cv *compareView) Zoom() float64 { return cv.vp.zoom() }

// typedRune zooms on + and −, and fits on 0.
func (cv *compareView) typedRune(r rune) {
	switch r {
	case '+', '=':
		cv.zoomBy(zoomStep)
	case '-', '_':
		cv.zoomBy(1 / zoomStep)
	case '0':
		cv.Fit()
	}
}

func (cv *compareView) showZoom() {
	if cv.zoomText == nil {
		return
	}
	cv.zoomText.SetText(fmt.Sprintf("%.0f%%", 100*cv.Zoom()))
	if cv.Zoom() > 1 {
		cv.fit.Enable()
	} else {
		cv.fit.Disable()
	}
}

// fitView fits the centre's view: the comparison when it is shown, the
// patch canvas otherwise.
func (wb *Workbench) fitView() {
	if wb.centerTabs.Selected() == wb.compareTab {
		wb.compare.Fit()
		return
	}
	wb.view.Fit()
}

// typedRune handles the characters no focused widget took: + − 0 zoom the
// comparison when it is shown.
func (wb *Workbench) typedRune(r rune) {
	if wb.centerTabs.Selected() == wb.compareTab {
		wb.compare.typedRune(r)
	}
}
