package imgops

import (
	"errors"
	"fmt"
)

// PullBack returns d(loss)/d(patch), 3×H×W (CHW like Patch.Pix), given
// grad = d(loss)/d(Images) for the batch of the last Apply: the exact adjoint
// of the composite in the patch colours, through the warp, the mask, the
// contrast, the blur and the clip, averaged over the batch (divided by n).
// Colours the mask hides get zero gradient.
func (cp *Composition) PullBack(grad []float32) ([]float32, error) {
	if cp.n == 0 {
		return nil, errors.New("pulling back: no Apply before PullBack")
	}
	if len(grad) != cp.n*cp.c*cp.h*cp.w {
		return nil, fmt.Errorf("pulling back: gradient holds %d values; want %d×%d×%d×%d", len(grad), cp.n, cp.c, cp.h, cp.w)
	}
	PW, PH := cp.pw+2, cp.ph+2
	cp.ensureWorkers()
	for k := range cp.work {
		cp.work[k].acc = growZero(cp.work[k].acc, texStride*PW*PH)
	}
	cp.parallel(func(i int, sc *scratch) {
		rg := &cp.regions[i]
		if rg.sigma > 0 {
			cp.pullBlurred(i, rg, grad, sc)
		} else {
			cp.pullSharp(i, rg, grad, sc)
		}
	})
	acc := cp.work[0].acc
	for _, sc := range cp.work[1:] {
		for k, v := range sc.acc {
			acc[k] += v
		}
	}
	n := cp.pw * cp.ph
	out := make([]float32, 3*n)
	inv := 1 / float32(cp.n)
	for i := 0; i < cp.ph; i++ {
		for j := 0; j < cp.pw; j++ {
			k := i*cp.pw + j
			a := acc[texStride*((i+1)*PW+j+1):][:texStride]
			m := cp.mask[k] * inv
			if cp.c == 1 {
				g := m * a[1]
				out[k], out[n+k], out[2*n+k] = lumR*g, lumG*g, lumB*g
				continue
			}
			out[k], out[n+k], out[2*n+k] = m*a[1], m*a[2], m*a[3]
		}
	}
	return out, nil
}

// scatter adds the gradient (g0, g1, g2) of the bilinear read at sample sm
// back onto its four texels of acc: the transpose of texel.
func (cp *Composition) scatter(acc []float32, sm *sample, g0, g1, g2 float32) {
	row := texStride * (cp.pw + 2)
	q := texStride * int(sm.q)
	t := acc[q : q+row+2*texStride]
	a, b, c, d := t[0:4], t[4:8], t[row:row+4], t[row+4:row+8]
	w := &sm.w
	a[1] += w[0] * g0
	a[2] += w[0] * g1
	a[3] += w[0] * g2
	b[1] += w[1] * g0
	b[2] += w[1] * g1
	b[3] += w[1] * g2
	c[1] += w[2] * g0
	c[2] += w[2] * g1
	c[3] += w[2] * g2
	d[1] += w[3] * g0
	d[2] += w[3] * g1
	d[3] += w[3] * g2
}

// pullSharp scatters image i's gradient back through the bilinear weights.
func (cp *Composition) pullSharp(i int, rg *region, grad []float32, sc *scratch) {
	hw := cp.h * cp.w
	s := rg.samples
	pass := rg.pass
	g := grad[i*cp.c*hw:][:cp.c*hw]
	for k := range s {
		o := int(s[k].pix)
		if cp.c == 1 {
			cp.scatter(sc.acc, &s[k], rg.gain*float32(pass[k])*g[o], 0, 0)
			continue
		}
		p := pass[3*k:][:3]
		cp.scatter(sc.acc, &s[k], rg.gain*float32(p[0])*g[o], rg.gain*float32(p[1])*g[hw+o], rg.gain*float32(p[2])*g[2*hw+o])
	}
}

// pullBlurred blurs image i's gradient (a Gaussian blur with zero padding is
// symmetric, so it is its own adjoint) and scatters it back.
func (cp *Composition) pullBlurred(i int, rg *region, grad []float32, sc *scratch) {
	hw := cp.h * cp.w
	ew, eh := rg.ex1-rg.ex0, rg.ey1-rg.ey0
	area := ew * eh
	sc.layer = grow(sc.layer, cp.c*area)
	sc.tmp = grow(sc.tmp, area)
	kernel := gaussianKernel(rg.sigma)
	for ch := 0; ch < cp.c; ch++ {
		l := sc.layer[ch*area:][:area]
		g := grad[(i*cp.c+ch)*hw:][:hw]
		pass := rg.pass[ch*area:][:area]
		for y := 0; y < eh; y++ {
			o := (rg.ey0+y)*cp.w + rg.ex0
			for x := 0; x < ew; x++ {
				l[y*ew+x] = float32(pass[y*ew+x]) * g[o+x]
			}
		}
		blurPlane(l, ew, eh, kernel, sc.tmp)
	}
	var gs [3]float32
	for k := range rg.samples {
		e := int(rg.samples[k].e)
		for ch := 0; ch < cp.c; ch++ {
			gs[ch] = rg.gain * sc.layer[ch*area+e]
		}
		cp.scatter(sc.acc, &rg.samples[k], gs[0], gs[1], gs[2])
	}
}
