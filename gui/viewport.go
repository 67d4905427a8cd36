package gui

import (
	"image"
	"math"

	"golang.org/x/image/draw"
)

// Limits of the canvas's zoom: 1 fits the image to the view, maxZoom
// magnifies it sixteen times more (a 224-pixel input then shows each pixel
// as a block); a Ctrl+wheel notch multiplies the zoom by zoomStep.
const (
	maxZoom  = 16
	zoomStep = 1.25
)

// viewport is how much of the working image a view shows: the zero value
// fits the whole image, letterboxed; Zoom magnifies it beyond that and
// (DX, DY) moves the view's centre away from the image's, in image pixels.
// The patch's placement never depends on it: a viewport only changes the
// mapping between the pointer and the image.
type viewport struct {
	Zoom   float64 // 0 or 1: fit
	DX, DY float64 // the view's centre minus the image's, in image pixels
}

// zoom is v's magnification over the fitted view, at least 1.
func (vp viewport) zoom() float64 { return math.Max(vp.Zoom, 1) }

// clamp keeps the zoom in [1, maxZoom] and the view's centre on the image,
// so that the image can never be panned out of sight.
func (vp viewport) clamp(iw, ih int) viewport {
	vp.Zoom = math.Min(vp.zoom(), maxZoom)
	vp.DX = math.Min(math.Max(vp.DX, -float64(iw)/2), float64(iw)/2)
	vp.DY = math.Min(math.Max(vp.DY, -float64(ih)/2), float64(ih)/2)
	return vp
}

// geom maps between a view's coordinates and the image's: a view point is
// (ox + x·f, oy + y·f) for an image point (x, y).
type geom struct {
	f, ox, oy float64
	iw, ih    int
}

// viewGeom is the geometry of an iw×ih image seen through vp in a w×h view
// (in any unit: canvas units for the pointer, pixels for the raster).
func viewGeom(w, h float64, iw, ih int, vp viewport) geom {
	if iw <= 0 || ih <= 0 || w <= 0 || h <= 0 {
		return geom{}
	}
	f := math.Min(w/float64(iw), h/float64(ih)) * vp.zoom()
	cx, cy := float64(iw)/2+vp.DX, float64(ih)/2+vp.DY
	return geom{f: f, ox: w/2 - cx*f, oy: h/2 - cy*f, iw: iw, ih: ih}
}

// zoomAt returns vp zoomed by the factor k around the view point (px, py)
// of a w×h view: the image point under it stays under it, unless the zoom
// or the pan reaches its limit.
func (vp viewport) zoomAt(w, h float64, iw, ih int, px, py, k float64) viewport {
	g := viewGeom(w, h, iw, ih, vp)
	if g.f == 0 {
		return vp
	}
	x, y := (px-g.ox)/g.f, (py-g.oy)/g.f
	out := vp
	out.Zoom = math.Min(math.Max(vp.zoom()*k, 1), maxZoom)
	f := g.f / vp.zoom() * out.Zoom
	// Solve px = w/2 − (iw/2 + DX)·f + x·f for DX.
	out.DX = x - (px-w/2)/f - float64(iw)/2
	out.DY = y - (py-h/2)/f - float64(ih)/2
	return out.clamp(iw, ih)
}

// drawViewport draws src as seen through vp into a w×h transparent image.
// Magnified images show their pixels unsmoothed, as drawFitted does.
func drawViewport(src image.Image, w, h int, vp viewport) *image.RGBA {
	if vp == (viewport{}) {
		return drawFitted(src, w, h)
	}
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	if src == nil {
		return dst
	}
	b := src.Bounds()
	g := viewGeom(float64(w), float64(h), b.Dx(), b.Dy(), vp)
	if g.f == 0 {
		return dst
	}
	r := image.Rect(int(math.Round(g.ox)), int(math.Round(g.oy)),
		int(math.Round(g.ox+float64(b.Dx())*g.f)), int(math.Round(g.oy+float64(b.Dy())*g.f)))
	if r.Empty() {
		return dst
	}
	var s draw.Scaler = draw.ApproxBiLinear
	if g.f >= 2 {
		s = draw.NearestNeighbor
	}
	// Scale clips r to dst and samples only the visible part of src.
	s.Scale(dst, r, src, b, draw.Src, nil)
	return dst
}
