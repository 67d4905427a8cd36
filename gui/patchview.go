package gui

import (
	"image"
	"image/color"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/imgops"
)

// Limits of the patch's placement on the canvas.
const (
	minArea     = 0.002
	maxArea     = 1.0
	handleR     = 6  // radius of a handle, in canvas units
	handleReach = 12 // how near the pointer must be to grab a handle
	rotateStem  = 26 // distance of the rotation handle from the patch's top edge
	// wheelNotch is the scroll delta of one wheel notch (Fyne's desktop
	// drivers report 25 on Linux and Windows, 10 on macOS: the larger, so
	// that a notch never jumps); a notch scales the patch's area by
	// wheelScale or turns it by wheelTurnDeg.
	wheelNotch   = 25
	wheelScale   = 1.1
	wheelTurnDeg = 5
)

// patchView is the central canvas: the current image with the current patch
// composited onto it by the same operator the models see (imgops.Apply), an
// outline of the patch, a handle at its corner to scale it and a handle above
// it to rotate it. Drag the patch to move it, the scale handle (or the scroll
// wheel) to resize it, the rotation handle (or shift+scroll, or a horizontal
// scroll) to turn it; a tap moves it to the pointer; with the canvas focused
// the arrow keys nudge it, +/− scale and [ ] rotate it. Ctrl+wheel zooms the
// view around the pointer, a middle-drag or space+drag pans it and F fits it
// again (patchzoom.go); the placement stays in image coordinates. Every
// change of the placement calls onChanged on the UI goroutine.
type patchView struct {
	widget.BaseWidget

	onChanged func(Placement)
	// onTypedKey receives the keys the view does not use (F5, …).
	onTypedKey func(*fyne.KeyEvent)
	// onGesture is told the placement before each change the user starts
	// (a drag, a tap, a key, a wheel turn), for undo.
	onGesture func(before Placement)

	base      *image.NRGBA // the image without the patch
	tensor    []float32    // base as a 3×H×W tensor, for imgops.Apply
	patch     *imgops.Patch
	pl        Placement
	composite *image.NRGBA

	comp *imgops.Composition // reused between compositions

	// vp is the zoom and pan; shownVP is its copy for the raster's
	// generator, guarded by mu.
	vp viewport

	shift, ctrl, space bool
	focused            bool
	drag               struct {
		active bool
		mode   dragMode
		ptr    fyne.Position
	}
	press       *fyne.Position
	pressButton desktop.MouseButton

	// heat is the saliency map drawn over the composite, or nil.
	heat *SaliencyResult

	mu      sync.Mutex // guards shown for the raster's generator
	shown   image.Image
	shownVP viewport
	cache   *image.RGBA
	key     patchRasterKey

	raster *canvas.Raster
}

type dragMode int

const (
	dragMove dragMode = iota
	dragScale
	dragRotate
	dragPan
)

// patchRasterKey identifies what the raster last drew.
type patchRasterKey struct {
	rasterKey
	vp viewport
}

func newPatchView() *patchView {
	v := &patchView{pl: DefaultPlacement}
	v.raster = canvas.NewRaster(v.generate)
	v.ExtendBaseWidget(v)
	return v
}

// SetImage sets the image the patch lies on (shrunk to workingSide).
func (v *patchView) SetImage(img image.Image) {
	if img == nil {
		v.base, v.tensor = nil, nil
	} else {
		v.base = fitImage(img, workingSide)
		b := v.base.Bounds()
		v.tensor, _ = imgops.ImageToTensor(v.base, 3, b.Dy(), b.Dx())
		v.setViewport(v.vp) // keep the zoom, within the new image
	}
	v.recompose()
}

// SetPatch sets the patch (nil: none) without moving it.
func (v *patchView) SetPatch(p *imgops.Patch) {
	v.patch = p
	v.recompose()
}

// SetPlacement moves the patch and calls onChanged.
func (v *patchView) SetPlacement(pl Placement) {
	v.pl = clampPlacement(pl)
	v.recompose()
	if v.onChanged != nil {
		v.onChanged(v.pl)
	}
}

// Placement returns where the patch lies.
func (v *patchView) Placement() Placement { return v.pl }

// Composite returns the image as shown: the patch composited onto the image.
func (v *patchView) Composite() image.Image {
	if v.composite != nil {
		return v.composite
	}
	if v.base == nil {
		return nil
	}
	return v.base
}

func clampPlacement(pl Placement) Placement {
	pl.CX = math.Min(math.Max(pl.CX, 0), 1)
	pl.CY = math.Min(math.Max(pl.CY, 0), 1)
	pl.Area = math.Min(math.Max(pl.Area, minArea), maxArea)
	pl.AngleDeg = math.Remainder(pl.AngleDeg, 360)
	if pl.AngleDeg == -180 {
		pl.AngleDeg = 180
	}
	return pl
}

// recompose composites the patch onto the image and redraws.
func (v *patchView) recompose() {
	v.composite = nil
	if v.base != nil && v.patch != nil {
		b := v.base.Bounds()
		w, h := b.Dx(), b.Dy()
		t := v.pl.Transform(v.patch, w, h)
		var err error
		if v.comp == nil {
			v.comp, err = imgops.Apply(v.patch, v.tensor, 1, 3, h, w, []imgops.Transform{t})
		} else {
			err = v.comp.Apply(v.patch, v.tensor, 1, 3, h, w, []imgops.Transform{t})
		}
		if err == nil {
			v.composite, _ = imgops.TensorToImage(v.comp.Images, 3, h, w)
		}
	}
	v.mu.Lock()
	v.shown = v.shownImage()
	v.mu.Unlock()
	v.Refresh()
}

func (v *patchView) generate(w, h int) image.Image {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := patchRasterKey{rasterKey{img: v.shown, w: w, h: h}, v.shownVP}
	if v.cache == nil || k != v.key {
		v.cache, v.key = drawViewport(v.shown, w, h, v.shownVP), k
	}
	return v.cache
}

// geom maps between the view's coordinates and the working image's, through
// the view's zoom and pan.
func (v *patchView) geom() geom {
	if v.base == nil {
		return geom{}
	}
	b := v.base.Bounds()
	s := v.Size()
	return viewGeom(float64(s.Width), float64(s.Height), b.Dx(), b.Dy(), v.vp)
}

func (g geom) toView(x, y float64) fyne.Position {
	return fyne.NewPos(float32(g.ox+x*g.f), float32(g.oy+y*g.f))
}

func (g geom) toImage(p fyne.Position) (x, y float64) {
	if g.f == 0 {
		return 0, 0
	}
	return (float64(p.X) - g.ox) / g.f, (float64(p.Y) - g.oy) / g.f
}

// patchPoint maps a point (dx, dy) of the patch, in patch pixels from its
// centre, to view coordinates, as imgops's forward transform does.
func (v *patchView) patchPoint(g geom, dx, dy float64) fyne.Position {
	t := v.pl.Transform(v.patch, g.iw, g.ih)
	c, s := math.Cos(t.AngleRad), math.Sin(t.AngleRad)
	x := t.CX + t.Scale*(c*dx+s*dy)
	y := t.CY + t.Scale*(-s*dx+c*dy)
	return g.toView(x, y)
}

// handles returns the view positions of the patch's centre, its scale
// handle (bottom-right corner) and its rotation handle (above the top edge),
// and the top edge's midpoint.
func (v *patchView) handles() (centre, scale, rotate, top fyne.Position, ok bool) {
	g := v.geom()
	if v.patch == nil || g.f == 0 {
		return
	}
	hw, hh := float64(v.patch.W)/2, float64(v.patch.H)/2
	centre = v.patchPoint(g, 0, 0)
	scale = v.patchPoint(g, hw, hh)
	top = v.patchPoint(g, 0, -hh)
	a := v.pl.AngleDeg * math.Pi / 180
	// "Up" in the patch's frame, seen on screen.
	ux, uy := -math.Sin(a), -math.Cos(a)
	rotate = top.Add(fyne.NewPos(float32(ux*rotateStem), float32(uy*rotateStem)))
	return centre, scale, rotate, top, true
}

func dist(a, b fyne.Position) float64 {
	return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y))
}

// hit says which part of the patch a press at p grabs.
func (v *patchView) hit(p fyne.Position) dragMode {
	_, scale, rotate, _, ok := v.handles()
	switch {
	case !ok:
		return dragMove
	case dist(p, scale) <= handleReach:
		return dragScale
	case dist(p, rotate) <= handleReach:
		return dragRotate
	}
	return dragMove
}

// MouseDown records where a drag starts: the driver's first drag event
// already carries the pointer's motion since the press.
func (v *patchView) MouseDown(ev *desktop.MouseEvent) {
	p := ev.Position
	v.press, v.pressButton = &p, ev.Button
}

// MouseUp is part of desktop.Mouseable.
func (v *patchView) MouseUp(*desktop.MouseEvent) {}

// Dragged moves, scales or rotates the patch; with the middle button, or
// with space held, it pans the view instead.
func (v *patchView) Dragged(ev *fyne.DragEvent) {
	if v.base == nil {
		return
	}
	if !v.drag.active {
		start := ev.Position
		if v.press != nil {
			start = *v.press
		}
		mode := dragPan
		if v.pressButton != desktop.MouseButtonTertiary && !v.space {
			if v.patch == nil {
				return
			}
			mode = v.hit(start)
			v.gesture()
		}
		v.drag.active, v.drag.mode, v.drag.ptr = true, mode, start
	}
	v.drag.ptr = v.drag.ptr.Add(ev.Dragged)
	g := v.geom()
	if v.drag.mode == dragPan {
		vp := v.vp
		vp.DX -= float64(ev.Dragged.DX) / g.f
		vp.DY -= float64(ev.Dragged.DY) / g.f
		v.setViewport(vp)
		return
	}
	pl := v.pl
	switch v.drag.mode {
	case dragMove:
		pl.CX += float64(ev.Dragged.DX) / g.f / float64(g.iw)
		pl.CY += float64(ev.Dragged.DY) / g.f / float64(g.ih)
	case dragScale:
		centre, _, _, _, _ := v.handles()
		halfDiag := math.Hypot(float64(v.patch.W), float64(v.patch.H)) / 2
		s := dist(v.drag.ptr, centre) / g.f / halfDiag
		pl.Area = s * s * v.patch.Mask.Area() / float64(g.iw*g.ih)
	case dragRotate:
		centre, _, _, _, _ := v.handles()
		vx, vy := float64(v.drag.ptr.X-centre.X), float64(v.drag.ptr.Y-centre.Y)
		pl.AngleDeg = math.Atan2(-vx, -vy) * 180 / math.Pi
		if v.shift {
			pl.AngleDeg = math.Round(pl.AngleDeg/15) * 15
		}
	}
	v.SetPlacement(pl)
}

// DragEnd ends a drag.
func (v *patchView) DragEnd() {
	v.drag.active = false
	v.press, v.pressButton = nil, 0
}

// Scrolled scales the patch (by 10% of its area per wheel notch, so that
// steps stay small at any size), or turns it by 5° a notch with shift held
// or on a horizontal scroll; with Ctrl held it zooms the view around the
// pointer instead, leaving the patch alone.
func (v *patchView) Scrolled(ev *fyne.ScrollEvent) {
	if v.ctrlHeld() {
		v.zoomAt(ev.Position, math.Pow(zoomStep, float64(ev.Scrolled.DY)/wheelNotch))
		return
	}
	if v.patch == nil {
		return
	}
	v.gesture()
	pl := v.pl
	dx, dy := float64(ev.Scrolled.DX)/wheelNotch, float64(ev.Scrolled.DY)/wheelNotch
	switch {
	case v.shift:
		pl.AngleDeg += (dy + dx) * wheelTurnDeg
	case dx != 0 && dy == 0:
		pl.AngleDeg += dx * wheelTurnDeg
	default:
		pl.Area *= math.Pow(wheelScale, dy)
	}
	v.SetPlacement(pl)
}

// Tapped focuses the canvas, so that the keyboard reaches it; once it has
// the focus, a tap moves the patch's centre to the pointer. (A click meant
// only to focus the canvas used to move the patch.)
func (v *patchView) Tapped(ev *fyne.PointEvent) {
	v.press, v.pressButton = nil, 0
	if !v.focused {
		if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil {
			c.Focus(v)
		}
		return
	}
	if v.patch == nil || v.base == nil {
		return
	}
	v.gesture()
	g := v.geom()
	x, y := g.toImage(ev.Position)
	pl := v.pl
	pl.CX, pl.CY = x/float64(g.iw), y/float64(g.ih)
	v.SetPlacement(pl)
}

// Cursor shows a crosshair over the canvas.
func (v *patchView) Cursor() desktop.Cursor { return desktop.CrosshairCursor }

// MinSize is the smallest useful canvas.
func (v *patchView) MinSize() fyne.Size { return fyne.NewSize(240, 240) }

// CreateRenderer is part of fyne.Widget.
func (v *patchView) CreateRenderer() fyne.WidgetRenderer {
	r := &patchViewRenderer{v: v, stem: canvas.NewLine(color.White)}
	for i := range r.outline {
		r.outline[i] = canvas.NewLine(color.White)
	}
	r.scale = canvas.NewCircle(color.White)
	r.rotate = canvas.NewCircle(color.White)
	r.focus = canvas.NewRectangle(color.Transparent)
	r.Refresh()
	return r
}

type patchViewRenderer struct {
	v             *patchView
	outline       [4]*canvas.Line
	stem          *canvas.Line
	scale, rotate *canvas.Circle
	focus         *canvas.Rectangle
}

func (r *patchViewRenderer) Destroy() {}

func (r *patchViewRenderer) MinSize() fyne.Size { return r.v.MinSize() }

func (r *patchViewRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.v.raster, r.focus}
	for _, l := range r.outline {
		objs = append(objs, l)
	}
	return append(objs, r.stem, r.scale, r.rotate)
}

func (r *patchViewRenderer) Layout(size fyne.Size) {
	r.v.raster.Resize(size)
	r.focus.Resize(size)
	r.placeOverlay()
}

func (r *patchViewRenderer) Refresh() {
	th := r.v.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	primary := th.Color(theme.ColorNamePrimary, variant)
	r.focus.StrokeWidth = 0
	if r.v.focused {
		r.focus.StrokeColor = th.Color(theme.ColorNameFocus, variant)
		r.focus.StrokeWidth = 2
	}
	for _, l := range r.outline {
		l.StrokeColor, l.StrokeWidth = primary, 1.5
	}
	r.stem.StrokeColor, r.stem.StrokeWidth = primary, 1.5
	for _, c := range []*canvas.Circle{r.scale, r.rotate} {
		c.FillColor, c.StrokeColor, c.StrokeWidth = primary, color.White, 1.5
	}
	r.placeOverlay()
	r.focus.Refresh()
	r.v.raster.Refresh()
}

// placeOverlay positions the outline and handles over the patch.
func (r *patchViewRenderer) placeOverlay() {
	v := r.v
	_, scale, rotate, top, ok := v.handles()
	for _, o := range []fyne.CanvasObject{r.outline[0], r.outline[1], r.outline[2], r.outline[3], r.stem, r.scale, r.rotate} {
		if ok {
			o.Show()
		} else {
			o.Hide()
		}
	}
	if !ok {
		return
	}
	g := v.geom()
	hw, hh := float64(v.patch.W)/2, float64(v.patch.H)/2
	corners := [4]fyne.Position{
		v.patchPoint(g, -hw, -hh), v.patchPoint(g, hw, -hh), v.patchPoint(g, hw, hh), v.patchPoint(g, -hw, hh),
	}
	size := v.Size()
	segment := func(l *canvas.Line, a, b fyne.Position) {
		var in bool
		if l.Position1, l.Position2, in = clipSegment(a, b, size); !in {
			l.Hide()
		}
		l.Refresh()
	}
	for i, l := range r.outline {
		segment(l, corners[i], corners[(i+1)%4])
	}
	segment(r.stem, top, rotate)
	d := fyne.NewSize(2*handleR, 2*handleR)
	off := fyne.NewPos(handleR, handleR)
	for _, h := range []struct {
		c  *canvas.Circle
		at fyne.Position
	}{{r.scale, scale}, {r.rotate, rotate}} {
		h.c.Resize(d)
		h.c.Move(h.at.Subtract(off))
		if !inside(h.at, size) {
			h.c.Hide()
		}
	}
	r.scale.Refresh()
	r.rotate.Refresh()
}
