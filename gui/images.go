package gui

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"
)

// workingSide bounds the longer side of the image the canvas composes the
// patch onto: large photos are shrunk once, so that moving the patch stays
// interactive; the models see the composite resized to their input anyway.
const workingSide = 512

// fitImage returns img shrunk (bilinear) to fit a side×side box, or img
// itself converted to NRGBA when it already fits.
func fitImage(img image.Image, side int) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		f := float64(side) / float64(max(w, h))
		w, h = max(1, int(math.Round(float64(w)*f))), max(1, int(math.Round(float64(h)*f)))
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// letterbox returns the rectangle of a w×h area that an iw×ih image fills
// when scaled to fit, keeping its aspect ratio, centred.
func letterbox(w, h, iw, ih int) image.Rectangle {
	if iw <= 0 || ih <= 0 || w <= 0 || h <= 0 {
		return image.Rectangle{}
	}
	f := math.Min(float64(w)/float64(iw), float64(h)/float64(ih))
	dw, dh := int(math.Round(float64(iw)*f)), int(math.Round(float64(ih)*f))
	x0, y0 := (w-dw)/2, (h-dh)/2
	return image.Rect(x0, y0, x0+dw, y0+dh)
}

// drawFitted draws src scaled to fit a w×h transparent image. Small images
// are magnified without smoothing, so that a 32×32 input shows its pixels as
// the model sees them. The result is an RGBA image: x/image/draw scales
// into RGBA on a fast path (into NRGBA pixel by pixel, ten times slower),
// and Fyne's painter uploads RGBA textures without converting them.
func drawFitted(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	if src == nil {
		return dst
	}
	b := src.Bounds()
	r := letterbox(w, h, b.Dx(), b.Dy())
	if r.Empty() {
		return dst
	}
	var s draw.Scaler = draw.ApproxBiLinear
	if r.Dx() >= 2*b.Dx() {
		s = draw.NearestNeighbor
	}
	s.Scale(dst, r, src, b, draw.Src, nil)
	return dst
}

// heatMap shows |adv − clean| per pixel, the largest over the channels,
// multiplied by amp, through the inferno colour map: black where the images
// agree, yellow where the attack changed a pixel by 1/amp or more. adv is
// resized to clean's size when they differ.
func heatMap(clean, adv image.Image, amp float64) *image.NRGBA {
	b := clean.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for i, d := range pixelDiffs(clean, adv) {
		col := inferno(d * amp)
		o := 4 * i
		out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = col.R, col.G, col.B, 255
	}
	return out
}

// toNRGBA returns img as a w×h NRGBA image, resized when its size differs.
func toNRGBA(img image.Image, w, h int) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) && n.Rect.Dx() == w && n.Rect.Dy() == h {
		return n
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	} else {
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	}
	return dst
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// infernoStops are control points of matplotlib's inferno colour map, which
// reads as brightness in grey and to colour-blind readers alike.
var infernoStops = [...]color.NRGBA{
	{0, 0, 4, 255}, {40, 11, 84, 255}, {101, 21, 110, 255}, {159, 42, 99, 255},
	{212, 72, 66, 255}, {245, 125, 21, 255}, {250, 193, 39, 255}, {252, 255, 164, 255},
}

// inferno maps v in [0,1] (clipped) to the inferno colour map.
func inferno(v float64) color.NRGBA {
	v = math.Min(math.Max(v, 0), 1) * float64(len(infernoStops)-1)
	i := int(v)
	if i >= len(infernoStops)-1 {
		return infernoStops[len(infernoStops)-1]
	}
	f := v - float64(i)
	a, b := infernoStops[i], infernoStops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// pixelDiffs returns, per pixel, |adv − clean| in [0,1], the largest over
// the channels, at clean's size.
func pixelDiffs(clean, adv image.Image) []float64 {
	b := clean.Bounds()
	w, h := b.Dx(), b.Dy()
	a, c := toNRGBA(adv, w, h), toNRGBA(clean, w, h)
	out := make([]float64, w*h)
	for i := range out {
		d := 0
		for k := 0; k < 3; k++ {
			d = max(d, absInt(int(a.Pix[4*i+k])-int(c.Pix[4*i+k])))
		}
		out[i] = float64(d) / 255
	}
	return out
}

// maxAbsDiff is the largest change of any pixel's channel, in [0,1]; 0 for
// a missing image.
func maxAbsDiff(clean, adv image.Image) float64 {
	hi, _ := diffStats(clean, adv)
	return hi
}

// diffStats returns the largest per-pixel change and the fraction of the
// changed pixels that changed by exactly that much (near 1 for an L∞
// attack such as FGSM, whose heat map is then mostly one colour).
func diffStats(clean, adv image.Image) (hi, atHi float64) {
	if clean == nil || adv == nil {
		return 0, 0
	}
	d := pixelDiffs(clean, adv)
	changed, at := 0, 0
	for _, v := range d {
		hi = math.Max(hi, v)
	}
	for _, v := range d {
		if v > 0 {
			changed++
			if v == hi {
				at++
			}
		}
	}
	if changed == 0 {
		return 0, 0
	}
	return hi, float64(at) / float64(changed)
}

// colourScale is a w×h bar of the heat map's colours, 0 on the left.
func colourScale(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		c := inferno(float64(x) / float64(w-1))
		for y := 0; y < h; y++ {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}
