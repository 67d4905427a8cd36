package imgops

import (
	"fmt"
	"image"

	"github.com/disintegration/gift"
)

// LoadPlacementMask reads an image file as a placement mask for w×h images
// (see MaskFromImage: alpha when the file has transparency, otherwise white
// means allowed), resized to w×h.
func LoadPlacementMask(path string, w, h int) (Mask, error) {
	img, err := LoadImage(path)
	if err != nil {
		return Mask{}, fmt.Errorf("placement mask: %w", err)
	}
	return MaskFromImage(img, w, h), nil
}

// The luminance weights (ITU-R BT.601) by which a grayscale model sees an RGB
// composite.
const (
	lumR = 0.299
	lumG = 0.587
	lumB = 0.114
)

// ImageToTensor converts img to a c×h×w float32 tensor in [0,1] (CHW, the
// layout of one image of an NCHW batch): RGB planes for c=3, the luminance
// 0.299R+0.587G+0.114B for c=1. When img is not w×h it is resized to exactly
// w×h with gift's linear resampling (the aspect ratio is not kept) and
// resized is true. Alpha is ignored: colours are read un-premultiplied.
func ImageToTensor(img image.Image, c, h, w int) (t []float32, resized bool) {
	b := img.Bounds()
	resized = b.Dx() != w || b.Dy() != h
	src := resizeNRGBA64(img, w, h)
	n := w * h
	t = make([]float32, c*n)
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			o := src.PixOffset(j, i)
			r, g, bl := get16(src.Pix[o:]), get16(src.Pix[o+2:]), get16(src.Pix[o+4:])
			k := i*w + j
			if c == 1 {
				t[k] = lumR*r + lumG*g + lumB*bl
				continue
			}
			t[k], t[n+k], t[2*n+k] = r, g, bl
		}
	}
	return t, resized
}

// TensorToImage converts a c×h×w tensor (c = 1 or 3) in [0,1] to an opaque
// 8-bit image, clipping out-of-range values.
func TensorToImage(t []float32, c, h, w int) (*image.NRGBA, error) {
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("tensor has %d channels; want 1 or 3", c)
	}
	if w <= 0 || h <= 0 || len(t) != c*h*w {
		return nil, fmt.Errorf("tensor holds %d values; want %d×%d×%d", len(t), c, h, w)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	n := w * h
	for k := 0; k < n; k++ {
		o := 4 * k
		if c == 1 {
			v := to8(t[k])
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = v, v, v
		} else {
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = to8(t[k]), to8(t[n+k]), to8(t[2*n+k])
		}
		img.Pix[o+3] = 255
	}
	return img, nil
}

// resizeNRGBA64 returns img as a w×h NRGBA64 image, converted by gift and
// resized with its linear resampling when the size differs.
func resizeNRGBA64(img image.Image, w, h int) *image.NRGBA64 {
	b := img.Bounds()
	var g *gift.GIFT
	if b.Dx() == w && b.Dy() == h {
		g = gift.New()
	} else {
		g = gift.New(gift.Resize(w, h, gift.LinearResampling))
	}
	dst := image.NewNRGBA64(image.Rect(0, 0, w, h))
	g.Draw(dst, img)
	return dst
}

// isOpaque reports whether every pixel of img is fully opaque.
func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}
