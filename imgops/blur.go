package imgops

import "math"

// blurRadius is the reach of a Gaussian of deviation sigma: three deviations,
// beyond which its weight is below 1.2% of the centre's.
func blurRadius(sigma float64) int {
	return int(math.Ceil(3 * sigma))
}

// gaussianKernel returns the normalised 1-D Gaussian of deviation sigma over
// [-r, r], r = blurRadius(sigma).
func gaussianKernel(sigma float64) []float32 {
	r := blurRadius(sigma)
	k := make([]float32, 2*r+1)
	var sum float64
	w := make([]float64, len(k))
	for i := range w {
		d := float64(i - r)
		w[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += w[i]
	}
	for i := range k {
		k[i] = float32(w[i] / sum)
	}
	return k
}

// blurPlane blurs the w×h plane in place with the separable kernel, treating
// everything outside the plane as zero. With zero padding the blur is a
// symmetric linear map, so PullBack uses the same function as its adjoint.
// tmp must hold w*h values.
func blurPlane(plane []float32, w, h int, kernel []float32, tmp []float32) {
	r := len(kernel) / 2
	for y := 0; y < h; y++ {
		row := plane[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			lo, hi := max(x-r, 0), min(x+r, w-1)
			var s float32
			for xx := lo; xx <= hi; xx++ {
				s += kernel[xx-x+r] * row[xx]
			}
			out[x] = s
		}
	}
	for y := 0; y < h; y++ {
		lo, hi := max(y-r, 0), min(y+r, h-1)
		out := plane[y*w : (y+1)*w]
		clear(out)
		for yy := lo; yy <= hi; yy++ {
			kw := kernel[yy-y+r]
			in := tmp[yy*w : (yy+1)*w]
			for x := range out {
				out[x] += kw * in[x]
			}
		}
	}
}
