package saliency

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/advlab/advlab/imgops"
)

// Share is how much of an attribution map a region holds, against how much
// of the image it covers.
type Share struct {
	// Mass is the fraction of the map's total mass inside the region.
	Mass float64
	// Area is the fraction of the image's pixels the region covers.
	Area float64
}

// MarshalJSON writes the mass, the area and their ratio, NaN as null.
func (s Share) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Mass  *float64 `json:"mass"`
		Area  *float64 `json:"area"`
		Ratio *float64 `json:"ratio"`
	}{num(s.Mass), num(s.Area), num(s.Ratio())})
}

// Ratio is Mass/Area: 1 when the region draws attribution in proportion to
// its size, above 1 when it attracts attention. NaN for an empty region or
// map.
func (s Share) Ratio() float64 {
	if !(s.Area > 0) {
		return math.NaN()
	}
	return s.Mass / s.Area
}

// RegionShare returns the share of map m (H×W, non-negative) inside the
// region given by coverage (H×W in [0,1], fractional at anti-aliased
// edges): Σ m·cov / Σ m, and Σ cov / (H·W). A map of zero mass has NaN Mass.
func RegionShare(m, coverage []float32) (Share, error) {
	if len(m) != len(coverage) || len(m) == 0 {
		return Share{}, fmt.Errorf("attribution share: a map of %d values against a coverage of %d; want the same image size", len(m), len(coverage))
	}
	var in, total, area float64
	for i, v := range m {
		c := float64(coverage[i])
		in += float64(v) * c
		total += float64(v)
		area += c
	}
	s := Share{Mass: math.NaN(), Area: area / float64(len(m))}
	if total > 0 {
		s.Mass = in / total
	}
	return s, nil
}

// MeanShare averages shares, skipping those with NaN Mass (a zero map); it
// returns NaN fields when none is left.
func MeanShare(shares []Share) Share {
	var m, a float64
	k := 0
	for _, s := range shares {
		if !math.IsNaN(s.Mass) {
			m, a, k = m+s.Mass, a+s.Area, k+1
		}
	}
	if k == 0 {
		return Share{Mass: math.NaN(), Area: math.NaN()}
	}
	return Share{Mass: m / float64(k), Area: a / float64(k)}
}

// Coverage returns, for each of the n transforms, the h×w map of how much
// of each pixel patch p covers there: the patch operator's own warp of the
// mask (imgops.Apply), without the lighting jitter, noise and blur, so that
// the region is exactly the one the patch's pixels replace.
func Coverage(p *imgops.Patch, h, w int, transforms []imgops.Transform) ([]float32, error) {
	white := &imgops.Patch{W: p.W, H: p.H, Pix: make([]float32, 3*p.W*p.H), Mask: p.Mask}
	for i := range white.Pix {
		white.Pix[i] = 1
	}
	n := len(transforms)
	ts := make([]imgops.Transform, n)
	for i, t := range transforms {
		ts[i] = t.WithoutJitter()
	}
	cp, err := imgops.Apply(white, make([]float32, n*3*h*w), n, 3, h, w, ts)
	if err != nil {
		return nil, fmt.Errorf("patch coverage: %w", err)
	}
	out := make([]float32, n*h*w)
	for i := 0; i < n; i++ {
		copy(out[i*h*w:(i+1)*h*w], cp.Images[i*3*h*w:]) // channel R is (1−m')·0 + m'·1
	}
	return out, nil
}
