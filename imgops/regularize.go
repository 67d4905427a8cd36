package imgops

import (
	"fmt"
	"math"
)

// TVKind selects the form of the total variation.
type TVKind int

const (
	// TVSmooth is the isotropic total variation of Sharif et al. made
	// differentiable: Σ sqrt(dx² + dy² + ε²) − ε per pixel and channel, with
	// ε = TVEpsilon, so a flat patch scores 0 and the gradient exists
	// everywhere.
	TVSmooth TVKind = iota
	// TVL1 is the anisotropic Σ |dx| + |dy|, with the subgradient 0 where a
	// difference is 0.
	TVL1
	// TVL2 is the squared Σ dx² + dy².
	TVL2
)

// TVEpsilon is TVSmooth's ε: differences well below it are penalised
// quadratically rather than linearly.
const TVEpsilon = 1e-3

// String names the form.
func (k TVKind) String() string {
	switch k {
	case TVSmooth:
		return "smooth"
	case TVL1:
		return "l1"
	case TVL2:
		return "l2"
	}
	return fmt.Sprintf("TVKind(%d)", int(k))
}

// TotalVariation returns the total variation of p's colours and its gradient
// (3×H×W like p.Pix). dx and dy are the forward differences to the right and
// lower neighbours in each channel; a difference counts only when both of
// its pixels are inside the mask (mask > 0), so the shape's outline is not
// penalised. The value is a sum, not a mean: scale its weight with the
// patch's size. Sums are accumulated in float64.
func TotalVariation(p *Patch, kind TVKind) (float64, []float32) {
	w, h := p.W, p.H
	n := w * h
	grad := make([]float64, 3*n)
	var tv float64
	in := func(k int) bool { return p.Mask.Pix[k] > 0 }
	for c := 0; c < 3; c++ {
		x := p.Pix[c*n : (c+1)*n]
		g := grad[c*n : (c+1)*n]
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				k := i*w + j
				if !in(k) {
					continue
				}
				hasX := j+1 < w && in(k+1)
				hasY := i+1 < h && in(k+w)
				var dx, dy float64
				if hasX {
					dx = float64(x[k+1]) - float64(x[k])
				}
				if hasY {
					dy = float64(x[k+w]) - float64(x[k])
				}
				switch kind {
				case TVSmooth:
					if !hasX && !hasY {
						continue
					}
					r := math.Sqrt(dx*dx + dy*dy + TVEpsilon*TVEpsilon)
					tv += r - TVEpsilon
					g[k] -= (dx + dy) / r
					if hasX {
						g[k+1] += dx / r
					}
					if hasY {
						g[k+w] += dy / r
					}
				case TVL1:
					tv += math.Abs(dx) + math.Abs(dy)
					sx, sy := sign(dx), sign(dy)
					g[k] -= sx + sy
					if hasX {
						g[k+1] += sx
					}
					if hasY {
						g[k+w] += sy
					}
				case TVL2:
					tv += dx*dx + dy*dy
					g[k] -= 2 * (dx + dy)
					if hasX {
						g[k+1] += 2 * dx
					}
					if hasY {
						g[k+w] += 2 * dy
					}
				}
			}
		}
	}
	return tv, toFloat32(grad)
}

// NPS returns the non-printability score of Sharif et al. (2016) and its
// gradient (3×H×W): NPS(p) = Σ_pixels mask · Π_{c ∈ palette} ‖p_pixel − c‖,
// with ‖·‖ the Euclidean distance in RGB ([0,1] per channel). It is 0 for a
// patch made only of palette colours and grows as colours leave the
// printable set; pixels outside the mask are never printed and do not count.
// The gradient of each distance at 0 is taken as 0 (a subgradient). The
// value is a sum over pixels; products and sums are in float64.
func NPS(p *Patch, pal Palette) (float64, []float32) {
	n := p.W * p.H
	grad := make([]float64, 3*n)
	if len(pal) == 0 {
		return 0, make([]float32, 3*n)
	}
	var score float64
	d := make([]float64, len(pal))
	diff := make([][3]float64, len(pal))
	prefix := make([]float64, len(pal)+1)
	for k := 0; k < n; k++ {
		m := float64(p.Mask.Pix[k])
		if m == 0 {
			continue
		}
		px := [3]float64{float64(p.Pix[k]), float64(p.Pix[n+k]), float64(p.Pix[2*n+k])}
		prefix[0] = 1
		for i, c := range pal {
			for a := 0; a < 3; a++ {
				diff[i][a] = px[a] - float64(c[a])
			}
			d[i] = math.Sqrt(diff[i][0]*diff[i][0] + diff[i][1]*diff[i][1] + diff[i][2]*diff[i][2])
			prefix[i+1] = prefix[i] * d[i]
		}
		score += m * prefix[len(pal)]
		// ∂/∂p Π d_i = Σ_i (Π_{l≠i} d_l) (p − c_i)/d_i, with Π_{l≠i} from
		// prefix and suffix products so that a zero distance is exact.
		suffix := 1.0
		for i := len(pal) - 1; i >= 0; i-- {
			others := prefix[i] * suffix
			suffix *= d[i]
			if d[i] == 0 || others == 0 {
				continue
			}
			f := m * others / d[i]
			for a := 0; a < 3; a++ {
				grad[a*n+k] += f * diff[i][a]
			}
		}
	}
	return score, toFloat32(grad)
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func toFloat32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}
