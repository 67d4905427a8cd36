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
	cache *image.RGBA
	key   rasterKey

	raster *canvas.Raster
}

type rasterKey struct {
	img  image.Image
	w, h int
}

// newImageView returns a view of img (nil shows nothing) whose minimum size
// is min.
func newImageView(img image.Image, min fyne.Size) *imageView {
	v := &imageView{img: img, minSize: min}
	v.raster = canvas.NewRaster(v.generate)
	v.ExtendBaseWidget(v)
	return v
}

// SetImage replaces the image shown. Call it on the UI goroutine.
func (v *imageView) SetImage(img image.Image) {
	v.mu.Lock()
	v.img = img
	v.mu.Unlock()
	v.raster.Refresh()
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
	k := rasterKey{v.img, w, h}
	if v.cache == nil || k != v.key {
		v.cache, v.key = drawFitted(v.img, w, h), k
	}
	return v.cache
}

// MinSize returns the size asked for at construction.
func (v *imageView) MinSize() fyne.Size { return v.minSize }

// CreateRenderer is part of fyne.Widget.
func (v *imageView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.raster)
}
