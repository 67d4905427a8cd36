package engine

import (
	"image"
	"math"
)

// Resize is how an image of another size is brought to a classifier's input
// size. The zero value stretches the whole image to the input size.
type Resize struct {
	// CenterCrop scales the image so that the input covers CropFraction of
	// it (for a square input: the short side to S/CropFraction) and keeps
	// the centre, as ImageNet evaluations do.
	CenterCrop bool
	// CropFraction is the centre crop's fraction, in (0,1].
	CropFraction float64
}

// Resizer is implemented by classifiers that say how images are resized for
// them, such as ONNX models whose preprocessing asks for a centre crop.
type Resizer interface {
	Resize() Resize
}

// ResizeOf returns how images are resized for c: its own choice when it is a
// Resizer, else stretching.
func ResizeOf(c Classifier) Resize {
	if r, ok := c.(Resizer); ok {
		return r.Resize()
	}
	return Resize{}
}

// centerCrop returns the centre of img that, scaled to h×w, is what resizing
// img so the input covers fraction f of it and cropping the centre gives.
// The crop keeps the input's aspect ratio; an image already of the input's
// size is cropped too, as the preprocessing demands.
func centerCrop(img image.Image, h, w int, f float64) image.Image {
	if f <= 0 || f > 1 {
		f = 1
	}
	b := img.Bounds()
	iw, ih := float64(b.Dx()), float64(b.Dy())
	// scale k maps image pixels to input pixels: the image, scaled by k,
	// covers the input divided by f on its tighter axis.
	k := math.Max(float64(h)/ih, float64(w)/iw) / f
	cw, ch := int(math.Round(float64(w)/k)), int(math.Round(float64(h)/k))
	cw, ch = max(1, min(cw, b.Dx())), max(1, min(ch, b.Dy()))
	x0 := b.Min.X + (b.Dx()-cw)/2
	y0 := b.Min.Y + (b.Dy()-ch)/2
	r := image.Rect(x0, y0, x0+cw, y0+ch)
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	out := image.NewNRGBA(image.Rect(0, 0, cw, ch))
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			out.Set(x, y, img.At(x0+x, y0+y))
		}
	}
	return out
}
