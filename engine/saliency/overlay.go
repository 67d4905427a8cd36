package saliency

import (
	"fmt"
	"image"
	"image/color"
)

// Overlay draws map m (H×W, non-negative) as a heat map over image x (c×H×W
// in [0,1], c = 1 or 3): each pixel's map value, over the map's maximum, v
// in [0,1], blends the image towards the colour ramp black–red–yellow with
// weight 0.7·v, so that unattended pixels show the image as it is.
func Overlay(x []float32, c, h, w int, m []float32) (*image.NRGBA, error) {
	if (c != 1 && c != 3) || len(x) != c*h*w || len(m) != h*w {
		return nil, fmt.Errorf("overlay: an image of %d values (%d channels) and a map of %d; want c×%d×%d and %d×%d", len(x), c, len(m), h, w, h, w)
	}
	var top float32
	for _, v := range m {
		top = max(top, v)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	hw := h * w
	for p := 0; p < hw; p++ {
		v := float32(0)
		if top > 0 {
			v = m[p] / top
		}
		heat := [3]float32{min(1, 2*v), max(0, 2*v-1), 0}
		a := 0.7 * v
		var px [3]float32
		for k := range px {
			src := x[p]
			if c == 3 {
				src = x[k*hw+p]
			}
			px[k] = (1-a)*min(max(src, 0), 1) + a*heat[k]
		}
		img.SetNRGBA(p%w, p/w, color.NRGBA{R: to8(px[0]), G: to8(px[1]), B: to8(px[2]), A: 255})
	}
	return img, nil
}

func to8(v float32) uint8 { return uint8(v*255 + 0.5) }
