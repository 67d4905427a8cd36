package gui

import (
	"image"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// imageView shows an image scaled to fit, keeping its aspect ratio; small
// images are magnified with visible pixels. It wraps a canvas.Raster whose
// output is cached per image and size, so that a redraw costs nothing.
type imageView struct {
	widget.BaseWidget

	minSize fyne.Size

	mu    sync.Mutex // the raster's generator runs on the render thread
	img   image.Image
	vp    viewport // the zero value fits the image
	cache *image.RGBA
	key   rasterKey

	raster *canvas.Raster
}

type rasterKey struct {
	img  image.Image
	vp   viewport
	w, h int
}

// newImageView returns a view of img (nil shows nothing) whose minimum size
// is min.
func newImageView(img image.Image, min fyne.Size) *imageView {
	v := &imageView{img: img, minSize: min}
	v.raster = newRasterOf(v)
	v.ExtendBaseWidget(v)
	return v
}

// newRasterOf is the raster that draws v.
func newRasterOf(v *imageView) *canvas.Raster { return canvas.NewRaster(v.generate) }

// SetImage replaces the image shown. Call it on the UI goroutine.
func (v *imageView) SetImage(img image.Image) {
	v.mu.Lock()
	v.img = img
	v.mu.Unlock()
	v.raster.Refresh()
}

// setViewport shows the image through vp (see viewport). Call it on the UI
// goroutine.
func (v *imageView) setViewport(vp viewport) {
	v.mu.Lock()
	changed := v.vp != vp
	v.vp = vp
	v.mu.Unlock()
	if changed {
		v.raster.Refresh()
	}
}

// Image returns the image shown.
func (v *imageView) Image() image.Image {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.img
}

func (v *imageView) generate(w, h int) image.Image {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := rasterKey{img: v.img, vp: v.vp, w: w, h: h}
	if v.cache == nil || k != v.key {
		v.cache, v.key = drawViewport(v.img, w, h, v.vp), k
	}
	return v.cache
}

// MinSize returns the size asked for at construction.
func (v *imageView) MinSize() fyne.Size { return v.minSize }

// CreateRenderer is part of fyne.Widget.
func (v *imageView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.raster)
}
