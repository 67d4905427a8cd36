package imgops

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The patch application operator is hand-written rather than built on gift or
// golang.org/x/image/draw: gift has no general affine or perspective warp,
// x/image/draw's Transformer warps 8- and 16-bit images rather than float32
// tensors, and no library provides the adjoint (the transpose of the warp)
// that training needs. The sampler is bilinear with inverse mapping: every
// image pixel centre is mapped back into the patch and interpolated there, so
// the composite is linear in the patch and the adjoint scatters the same
// bilinear weights back.

// sample is where one image pixel reads the patch, computed once per Apply
// and used again by PullBack.
type sample struct {
	pix int32      // the pixel's offset in an image plane, y*w+x
	e   int32      // its offset in the region's grown box
	q   int32      // the texel at the top-left of its 2×2 bilinear neighbourhood
	w   [4]float32 // the bilinear weights of texels q, q+1, q+PW, q+PW+1
}

// region is what Apply keeps about one image for PullBack. Its slices are
// reused from one Apply to the next.
type region struct {
	ex0, ey0, ex1, ey1 int // the pixels the patch reaches, blur included
	gain               float32
	sigma              float64
	samples            []sample
	// pass is 1 where the clip to [0,1] let the gradient through: c flags
	// per sample, or c planes over the grown box when the patch is blurred.
	pass []uint8
}

// scratch is one worker's temporary storage.
type scratch struct {
	noise, layer, tmp, acc []float32
}

// texStride is the number of values per texel: the mask, then the mask
// times each colour (R, G, B, or the luminance alone for c = 1).
const texStride = 4

// Composition is the output of Apply: the composed batch and what PullBack
// needs to pull an image gradient back to the patch. A Composition may be
// reused by calling its Apply method, which keeps its buffers; it is not
// safe for concurrent use.
type Composition struct {
	// Images is the composed batch, n×c×h×w like the input.
	Images []float32

	n, c, h, w int
	pw, ph     int
	mask       []float32 // the patch's mask, pw×ph
	// tex is the patch padded by one transparent texel on each side,
	// (pw+2)×(ph+2) texels of texStride values, premultiplied by the mask
	// so that the patch's own edges are anti-aliased.
	tex     []float32
	regions []region
	work    []scratch
}

// maxBlurSigma bounds a blur's deviation, in pixels, so that its reach stays
// local.
const maxBlurSigma = 10

// Apply composes the patch into each of the n images (NCHW in [0,1], c = 1 or
// 3) as transforms[i] places it, the patch application operator A(p, x, l, t)
// of Brown et al. For every pixel of image i, with m' the bilinear warp of
// the mask and P' the bilinear warp of mask×colour (premultiplied, so that the
// patch's own edges are anti-aliased), the composite is
//
//	y = (1−m')·x + (1+Contrast)·P' + m'·(Brightness + noise)
//
// that is (1−m')·x + m'·T(p) with T(p) the warped patch under the lighting
// jitter, which acts on the patch only: the image around it is unchanged.
// With BlurSigma > 0 the patch layer (m' and the jittered P') is blurred
// before compositing, as a sticker out of focus. For c = 1 the patch enters
// as its luminance. y is clipped to [0,1] on the pixels the patch reaches,
// and PullBack passes no gradient through a clipped value. Images are
// composed in parallel on up to GOMAXPROCS goroutines.
func Apply(p *Patch, images []float32, n, c, h, w int, transforms []Transform) (*Composition, error) {
	cp := new(Composition)
	if err := cp.Apply(p, images, n, c, h, w, transforms); err != nil {
		return nil, err
	}
	return cp, nil
}

// Apply is the package-level Apply reusing cp's buffers.
func (cp *Composition) Apply(p *Patch, images []float32, n, c, h, w int, transforms []Transform) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("applying the patch: %w", err)
	}
	switch {
	case c != 1 && c != 3:
		return fmt.Errorf("applying the patch: images have %d channels; want 1 or 3", c)
	case n <= 0 || h <= 0 || w <= 0:
		return fmt.Errorf("applying the patch: batch is %d×%d×%d×%d; want positive sizes", n, c, h, w)
	case len(images) != n*c*h*w:
		return fmt.Errorf("applying the patch: batch holds %d values; want %d×%d×%d×%d", len(images), n, c, h, w)
	case len(transforms) != n:
		return fmt.Errorf("applying the patch: %d transforms for %d images", len(transforms), n)
	}
	invs := make([]mat3, n)
	for i, t := range transforms {
		if !(t.Scale > 0) || math.IsInf(t.Scale, 0) || !isFinite(t.CX) || !isFinite(t.CY) || !isFinite(t.AngleRad) {
			return fmt.Errorf("applying the patch: transform %d has scale %v at (%v, %v); want a positive scale", i, t.Scale, t.CX, t.CY)
		}
		if !(t.BlurSigma >= 0 && t.BlurSigma <= maxBlurSigma) {
			return fmt.Errorf("applying the patch: transform %d has blur sigma %v; want [0, %v]", i, t.BlurSigma, maxBlurSigma)
		}
		var ok bool
		if invs[i], ok = t.forward(p.W, p.H).inv(); !ok {
			return fmt.Errorf("applying the patch: transform %d is singular", i)
		}
	}
	cp.n, cp.c, cp.h, cp.w, cp.pw, cp.ph = n, c, h, w, p.W, p.H
	cp.Images = grow(cp.Images, len(images))
	cp.preparePatch(p)
	cp.regions = grow(cp.regions, n)
	cp.ensureWorkers()
	cp.parallel(func(i int, sc *scratch) {
		o := i * c * h * w
		copy(cp.Images[o:o+c*h*w], images[o:o+c*h*w])
		cp.compose(i, transforms[i], invs[i], sc)
	})
	return nil
}

// ensureWorkers sizes the workers' scratch to min(GOMAXPROCS, n).
func (cp *Composition) ensureWorkers() {
	cp.work = grow(cp.work, max(1, min(runtime.GOMAXPROCS(0), cp.n)))
}

// parallel runs job for every image on the workers, each with its own
// scratch.
func (cp *Composition) parallel(job func(i int, sc *scratch)) {
	workers := len(cp.work)
	if workers == 1 {
		for i := 0; i < cp.n; i++ {
			job(i, &cp.work[0])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < cp.n; i = int(next.Add(1)) - 1 {
				job(i, &cp.work[k])
			}
		})
	}
	wg.Wait()
}

// preparePatch fills the padded, premultiplied texels of the patch.
func (cp *Composition) preparePatch(p *Patch) {
	pw, ph := p.W, p.H
	PW, PH := pw+2, ph+2
	cp.mask = grow(cp.mask, pw*ph)
	copy(cp.mask, p.Mask.Pix)
	cp.tex = growZero(cp.tex, texStride*PW*PH)
	n := pw * ph
	for i := 0; i < ph; i++ {
		for j := 0; j < pw; j++ {
			k := i*pw + j
			t := cp.tex[texStride*((i+1)*PW+j+1):][:texStride]
			m := p.Mask.Pix[k]
			r, g, b := m*p.Pix[k], m*p.Pix[n+k], m*p.Pix[2*n+k]
			t[0] = m
			if cp.c == 1 {
				t[1] = lumR*r + lumG*g + lumB*b
			} else {
				t[1], t[2], t[3] = r, g, b
			}
		}
	}
}

// compose samples the patch for image i and writes its composite.
func (cp *Composition) compose(i int, t Transform, inv mat3, sc *scratch) {
	minX, minY, maxX, maxY := t.Footprint(cp.pw, cp.ph)
	x0, x1 := clampInt(int(math.Floor(minX)), 0, cp.w), clampInt(int(math.Ceil(maxX)), 0, cp.w)
	y0, y1 := clampInt(int(math.Floor(minY)), 0, cp.h), clampInt(int(math.Ceil(maxY)), 0, cp.h)
	rg := &cp.regions[i]
	rg.gain, rg.sigma = 1+t.Contrast, 0
	reach := 0
	if t.BlurSigma > 0 && x1 > x0 && y1 > y0 {
		rg.sigma = t.BlurSigma
		reach = blurRadius(t.BlurSigma)
	}
	rg.ex0, rg.ex1 = max(x0-reach, 0), min(x1+reach, cp.w)
	rg.ey0, rg.ey1 = max(y0-reach, 0), min(y1+reach, cp.h)
	rg.samples = rg.samples[:0]
	cp.fillSamples(rg, inv, x0, y0, x1, y1)
	fillNoise(sc, t, cp.c*len(rg.samples))
	if rg.sigma > 0 {
		rg.pass = grow(rg.pass, cp.c*(rg.ex1-rg.ex0)*(rg.ey1-rg.ey0))
		cp.composeBlurred(i, rg, t, sc)
	} else {
		rg.pass = grow(rg.pass, cp.c*len(rg.samples))
		cp.composeSharp(i, rg, t, sc)
	}
}

// fillSamples maps every pixel centre of the box [x0,x1)×[y0,y1) back into
// the patch and keeps those that reach it. For an affine transform the
// pixels of a row that reach the patch form one interval, computed directly;
// a perspective transform tests every pixel.
func (cp *Composition) fillSamples(rg *region, inv mat3, x0, y0, x1, y1 int) {
	fw, fh := float64(cp.pw), float64(cp.ph)
	affine := inv[6] == 0 && inv[7] == 0 && inv[8] == 1
	for y := y0; y < y1; y++ {
		cy := float64(y) + 0.5
		if !affine {
			for x := x0; x < x1; x++ {
				u, v, hw := inv.apply(float64(x)+0.5, cy)
				if hw > 0 {
					cp.addSample(rg, x, y, u-0.5, v-0.5, fw, fh)
				}
			}
			continue
		}
		// Along the row, sx = a·cx + b and sy = c·cx + d; the sampler
		// reaches the patch for sx in [-1, fw) and sy in [-1, fh).
		a, b := inv[0], inv[1]*cy+inv[2]-0.5
		c, d := inv[3], inv[4]*cy+inv[5]-0.5
		lo, hi := float64(x0)+0.5, float64(x1)-0.5
		lo, hi = narrow(lo, hi, a, b, -1, fw)
		lo, hi = narrow(lo, hi, c, d, -1, fh)
		if lo > hi {
			continue
		}
		// Pixel centres are at x+0.5; addSample tests each candidate
		// exactly, so one pixel of slack on each end is harmless.
		for x := max(int(math.Floor(lo-0.5))-1, x0); x <= min(int(math.Ceil(hi-0.5))+1, x1-1); x++ {
			cx := float64(x) + 0.5
			cp.addSample(rg, x, y, a*cx+b, c*cx+d, fw, fh)
		}
	}
}

// narrow intersects [lo, hi] with the set of t where a·t+b lies in [l, h].
func narrow(lo, hi, a, b, l, h float64) (float64, float64) {
	if a == 0 {
		if b >= l && b < h {
			return lo, hi
		}
		return 1, 0
	}
	t0, t1 := (l-b)/a, (h-b)/a
	if t0 > t1 {
		t0, t1 = t1, t0
	}
	return math.Max(lo, t0), math.Min(hi, t1)
}

// addSample records pixel (x, y) reading the patch at (sx, sy) in texel
// coordinates (sx = u−0.5), when that point reaches the patch.
func (cp *Composition) addSample(rg *region, x, y int, sx, sy, fw, fh float64) {
	if !(sx >= -1 && sx < fw && sy >= -1 && sy < fh) {
		return
	}
	j0, i0 := math.Floor(sx), math.Floor(sy)
	fx, fy := float32(sx-j0), float32(sy-i0)
	rg.samples = append(rg.samples, sample{
		pix: int32(y*cp.w + x),
		e:   int32((y-rg.ey0)*(rg.ex1-rg.ex0) + x - rg.ex0),
		q:   int32((int(i0)+1)*(cp.pw+2) + int(j0) + 1),
		w:   [4]float32{(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy},
	})
}

// fillNoise draws n Gaussian values from t's noise seed into sc.noise, or
// empties it when t has no noise.
func fillNoise(sc *scratch, t Transform, n int) {
	if t.NoiseStd <= 0 {
		sc.noise = sc.noise[:0]
		return
	}
	r := newRand(t.NoiseSeed)
	sc.noise = grow(sc.noise, n)
	for k := range sc.noise {
		sc.noise[k] = t.NoiseStd * float32(r.NormFloat64())
	}
}

// texel returns the bilinear interpolation at sample sm of the mask and of
// the premultiplied channels.
func (cp *Composition) texel(sm *sample) (m, c0, c1, c2 float32) {
	row := texStride * (cp.pw + 2)
	q := texStride * int(sm.q)
	t := cp.tex[q : q+row+2*texStride]
	a, b, c, d := t[0:4], t[4:8], t[row:row+4], t[row+4:row+8]
	w := &sm.w
	m = w[0]*a[0] + w[1]*b[0] + w[2]*c[0] + w[3]*d[0]
	c0 = w[0]*a[1] + w[1]*b[1] + w[2]*c[1] + w[3]*d[1]
	c1 = w[0]*a[2] + w[1]*b[2] + w[2]*c[2] + w[3]*d[2]
	c2 = w[0]*a[3] + w[1]*b[3] + w[2]*c[3] + w[3]*d[3]
	return m, c0, c1, c2
}

// composeSharp writes the composite of an unblurred patch into image i.
func (cp *Composition) composeSharp(i int, rg *region, t Transform, sc *scratch) {
	hw := cp.h * cp.w
	s := rg.samples
	pass := rg.pass
	img := cp.Images[i*cp.c*hw:][:cp.c*hw]
	noise := sc.noise
	for k := range s {
		m, c0, c1, c2 := cp.texel(&s[k])
		off := m * t.Brightness
		o := int(s[k].pix)
		if cp.c == 1 {
			v := (1-m)*img[o] + rg.gain*c0 + off
			if len(noise) > 0 {
				v += m * noise[k]
			}
			img[o], pass[k] = clip01(v)
			continue
		}
		v0 := (1-m)*img[o] + rg.gain*c0 + off
		v1 := (1-m)*img[hw+o] + rg.gain*c1 + off
		v2 := (1-m)*img[2*hw+o] + rg.gain*c2 + off
		if len(noise) > 0 {
			v0 += m * noise[3*k]
			v1 += m * noise[3*k+1]
			v2 += m * noise[3*k+2]
		}
		p := pass[3*k:][:3]
		img[o], p[0] = clip01(v0)
		img[hw+o], p[1] = clip01(v1)
		img[2*hw+o], p[2] = clip01(v2)
	}
}

// composeBlurred writes the composite of a patch whose layer is blurred.
func (cp *Composition) composeBlurred(i int, rg *region, t Transform, sc *scratch) {
	hw := cp.h * cp.w
	ew, eh := rg.ex1-rg.ex0, rg.ey1-rg.ey0
	area := ew * eh
	// Layer planes over the grown box: coverage, then one per channel.
	sc.layer = growZero(sc.layer, (1+cp.c)*area)
	sc.tmp = grow(sc.tmp, area)
	for k := range rg.samples {
		m, c0, c1, c2 := cp.texel(&rg.samples[k])
		e := int(rg.samples[k].e)
		sc.layer[e] = m
		pvs := [3]float32{c0, c1, c2}
		for ch, pv := range pvs[:cp.c] {
			v := rg.gain*pv + m*t.Brightness
			if len(sc.noise) > 0 {
				v += m * sc.noise[cp.c*k+ch]
			}
			sc.layer[(1+ch)*area+e] = v
		}
	}
	kernel := gaussianKernel(rg.sigma)
	for l := 0; l <= cp.c; l++ {
		blurPlane(sc.layer[l*area:(l+1)*area], ew, eh, kernel, sc.tmp)
	}
	for ch := 0; ch < cp.c; ch++ {
		img := cp.Images[(i*cp.c+ch)*hw:][:hw]
		cov, col := sc.layer[:area], sc.layer[(1+ch)*area:][:area]
		pass := rg.pass[ch*area:][:area]
		for y := 0; y < eh; y++ {
			o := (rg.ey0+y)*cp.w + rg.ex0
			for x := 0; x < ew; x++ {
				e := y*ew + x
				img[o+x], pass[e] = clip01((1-cov[e])*img[o+x] + col[e])
			}
		}
	}
}

// clip01 clips v to [0,1] and reports 1 when v was inside (the gradient
// passes) and 0 when it was clipped.
func clip01(v float32) (float32, uint8) {
	switch {
	case v < 0:
		return 0, 0
	case v > 1:
		return 1, 0
	}
	return v, 1
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// grow returns s resized to n, reusing its storage when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return append(s[:cap(s)], make([]T, n-cap(s))...)
}

// growZero is grow with every element zeroed.
func growZero[T any](s []T, n int) []T {
	s = grow(s, n)
	clear(s)
	return s
}

// CompositionBytes estimates the memory, in bytes, that a Composition holds
// once it has composed n images of c×h×w with a pw×ph patch on workers
// goroutines and, when pull is set, pulled a gradient back to the patch:
// the composed batch, the padded patch texture, each image's samples (at
// most one per pixel, with c clip flags), each worker's layer and noise
// planes, and for a pull-back each worker's texture-sized accumulator and
// the patch-sized result. Front-ends use it to refuse a size before
// allocating it.
func CompositionBytes(pw, ph, n, c, h, w, workers int, pull bool) float64 {
	const f32 = 4
	tex := float64(texStride) * float64(pw+2) * float64(ph+2)
	plane := float64(h) * float64(w)
	b := f32 * (float64(n)*float64(c)*plane + tex + float64(workers)*float64(c+3)*plane)
	b += float64(n) * plane * (float64(unsafe.Sizeof(sample{})) + float64(c))
	if pull {
		b += f32 * (float64(workers)*tex + 3*float64(pw)*float64(ph))
	}
	return b
}
