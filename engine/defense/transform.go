package defense

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"slices"

	"github.com/advlab/advlab/engine"
)

// A transform maps a batch of NCHW images in [0,1] to another of the same
// shape; x is not modified.
type transform func(x []float32, shape engine.ImageShape) ([]float32, error)

// ReduceBits quantises every value of x to 2^bits levels over [0,1]:
// round(v·(2^bits−1))/(2^bits−1), the squeezer of Xu et al.
func ReduceBits(x []float32, bits int) []float32 {
	levels := float64(int(1)<<bits - 1)
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(math.Round(float64(clamp01(v))*levels) / levels)
	}
	return out
}

// MedianFilter replaces every pixel, per channel, by the median of the
// size×size window at rows r−size/2 … r+(size−1)/2 (columns alike), the
// border replicated; an even window's median is the mean of its two middle
// values.
func MedianFilter(x []float32, shape engine.ImageShape, size int) []float32 {
	out := make([]float32, len(x))
	h, w := shape.Height, shape.Width
	win := make([]float32, 0, size*size)
	lo := -(size / 2)
	for p := 0; p+h*w <= len(x); p += h * w {
		plane := x[p : p+h*w]
		for r := 0; r < h; r++ {
			for c := 0; c < w; c++ {
				win = win[:0]
				for dr := lo; dr < lo+size; dr++ {
					rr := min(max(r+dr, 0), h-1)
					for dc := lo; dc < lo+size; dc++ {
						win = append(win, plane[rr*w+min(max(c+dc, 0), w-1)])
					}
				}
				slices.Sort(win)
				m := len(win) / 2
				if len(win)%2 == 1 {
					out[p+r*w+c] = win[m]
				} else {
					out[p+r*w+c] = (win[m-1] + win[m]) / 2
				}
			}
		}
	}
	return out
}

// gaussianKernel returns the normalised 1-D Gaussian of standard deviation
// sigma (pixels), truncated at 3σ.
func gaussianKernel(sigma float64) []float64 {
	r := max(1, int(math.Ceil(3*sigma)))
	k := make([]float64, 2*r+1)
	var s float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}

// GaussianBlur convolves every channel with a Gaussian of standard deviation
// sigma pixels (truncated at 3σ), rows then columns, the border replicated.
// It is linear in x; BlurAdjoint is its transpose.
func GaussianBlur(x []float32, shape engine.ImageShape, sigma float64) []float32 {
	return blur(x, shape, gaussianKernel(sigma), false)
}

// BlurAdjoint applies the transpose of GaussianBlur's linear map: the chain
// rule's step from the gradient at the blurred image to the gradient at x.
// Replicated borders make the map non-symmetric, so it is not the blur itself.
func BlurAdjoint(g []float32, shape engine.ImageShape, sigma float64) []float32 {
	return blur(g, shape, gaussianKernel(sigma), true)
}

// blur runs the separable convolution, or its adjoint: each pass either
// gathers out[i] = Σ k[t]·in[clamp(i+t−r)] or scatters in[i]·k[t] back to
// out[clamp(i+t−r)].
func blur(x []float32, shape engine.ImageShape, k []float64, adjoint bool) []float32 {
	h, w := shape.Height, shape.Width
	r := len(k) / 2
	pass := func(in []float32, n, stride, count, step int) []float32 {
		out := make([]float32, len(in))
		for p := 0; p+h*w <= len(in); p += h * w {
			for line := 0; line < count; line++ {
				base := p + line*step
				for i := 0; i < n; i++ {
					var s float64
					for t, kv := range k {
						j := min(max(i+t-r, 0), n-1)
						if adjoint {
							out[base+j*stride] += float32(kv * float64(in[base+i*stride]))
						} else {
							s += kv * float64(in[base+j*stride])
						}
					}
					if !adjoint {
						out[base+i*stride] = float32(s)
					}
				}
			}
		}
		return out
	}
	// Forward: along rows (each of h lines, stride 1), then along columns;
	// the adjoint undoes them in reverse order.
	rows := func(in []float32) []float32 { return pass(in, w, 1, h, w) }
	cols := func(in []float32) []float32 { return pass(in, h, w, w, 1) }
	if adjoint {
		return rows(cols(x))
	}
	return cols(rows(x))
}

// JPEG compresses every image at quality (1–100) with Go's baseline JPEG
// encoder and decodes it again: one channel as grey, three as RGB (4:2:0
// chroma subsampling, as the encoder does). Other channel counts are an error.
func JPEG(x []float32, shape engine.ImageShape, quality int) ([]float32, error) {
	ch, h, w := shape.Channels, shape.Height, shape.Width
	if ch != 1 && ch != 3 {
		return nil, fmt.Errorf("jpeg: images of %d channels; JPEG takes 1 (grey) or 3 (RGB): pick another defense", ch)
	}
	size := shape.Size()
	out := make([]float32, len(x))
	q := func(v float32) uint8 { return uint8(math.Round(float64(clamp01(v)) * 255)) }
	for p := 0; p+size <= len(x); p += size {
		im := x[p : p+size]
		var src image.Image
		if ch == 1 {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for i, v := range im {
				g.Pix[i] = q(v)
			}
			src = g
		} else {
			c := image.NewNRGBA(image.Rect(0, 0, w, h))
			for i := 0; i < h*w; i++ {
				c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2], c.Pix[4*i+3] = q(im[i]), q(im[h*w+i]), q(im[2*h*w+i]), 255
			}
			src = c
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: quality}); err != nil {
			return nil, fmt.Errorf("jpeg: encoding: %w", err)
		}
		dec, err := jpeg.Decode(&buf)
		if err != nil {
			return nil, fmt.Errorf("jpeg: decoding its own output: %w", err)
		}
		for r := 0; r < h; r++ {
			for c := 0; c < w; c++ {
				if ch == 1 {
					out[p+r*w+c] = float32(color.GrayModel.Convert(dec.At(c, r)).(color.Gray).Y) / 255
					continue
				}
				rgb := color.NRGBAModel.Convert(dec.At(c, r)).(color.NRGBA)
				out[p+r*w+c] = float32(rgb.R) / 255
				out[p+h*w+r*w+c] = float32(rgb.G) / 255
				out[p+2*h*w+r*w+c] = float32(rgb.B) / 255
			}
		}
	}
	return out, nil
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }
