package imgops

import "math"

// mat3 is a 3×3 matrix, row-major, acting on homogeneous column vectors
// (x, y, 1): the affine and projective maps between patch and image
// coordinates.
type mat3 [9]float64

func identity3() mat3 { return mat3{1, 0, 0, 0, 1, 0, 0, 0, 1} }

func (a mat3) mul(b mat3) mat3 {
	var c mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

// apply maps (x, y) and returns the mapped point and the homogeneous
// denominator w (1 for an affine map; a point with w <= 0 lies beyond the
// horizon of a perspective map).
func (a mat3) apply(x, y float64) (float64, float64, float64) {
	w := a[6]*x + a[7]*y + a[8]
	return (a[0]*x + a[1]*y + a[2]) / w, (a[3]*x + a[4]*y + a[5]) / w, w
}

// inv returns the inverse of a, or false when a is singular.
func (a mat3) inv() (mat3, bool) {
	c00 := a[4]*a[8] - a[5]*a[7]
	c01 := a[5]*a[6] - a[3]*a[8]
	c02 := a[3]*a[7] - a[4]*a[6]
	det := a[0]*c00 + a[1]*c01 + a[2]*c02
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return mat3{}, false
	}
	d := 1 / det
	return mat3{
		c00 * d, (a[2]*a[7] - a[1]*a[8]) * d, (a[1]*a[5] - a[2]*a[4]) * d,
		c01 * d, (a[0]*a[8] - a[2]*a[6]) * d, (a[2]*a[3] - a[0]*a[5]) * d,
		c02 * d, (a[1]*a[6] - a[0]*a[7]) * d, (a[0]*a[4] - a[1]*a[3]) * d,
	}, true
}

// squareToQuad returns the projective map taking the unit square's corners
// (0,0), (1,0), (1,1), (0,1) to q[0..3] (Heckbert 1989, "Fundamentals of
// Texture Mapping and Image Warping", §2.2.3).
func squareToQuad(q [4][2]float64) mat3 {
	x0, y0 := q[0][0], q[0][1]
	x1, y1 := q[1][0], q[1][1]
	x2, y2 := q[2][0], q[2][1]
	x3, y3 := q[3][0], q[3][1]
	sx := x0 - x1 + x2 - x3
	sy := y0 - y1 + y2 - y3
	if sx == 0 && sy == 0 {
		return mat3{x1 - x0, x2 - x1, x0, y1 - y0, y2 - y1, y0, 0, 0, 1}
	}
	dx1, dx2 := x1-x2, x3-x2
	dy1, dy2 := y1-y2, y3-y2
	den := dx1*dy2 - dx2*dy1
	g := (sx*dy2 - dx2*sy) / den
	h := (dx1*sy - sx*dy1) / den
	return mat3{
		x1 - x0 + g*x1, x3 - x0 + h*x3, x0,
		y1 - y0 + g*y1, y3 - y0 + h*y3, y0,
		g, h, 1,
	}
}

// forward returns the map from patch coordinates of a pw×ph patch to image
// coordinates under t: the perspective distortion of the patch's corners,
// then scale, rotation and translation of its centre to (CX, CY).
func (t Transform) forward(pw, ph int) mat3 {
	fw, fh := float64(pw), float64(ph)
	p := identity3()
	if t.Perspective != ([4][2]float64{}) {
		corners := [4][2]float64{{0, 0}, {fw, 0}, {fw, fh}, {0, fh}}
		for k := range corners {
			corners[k][0] += t.Perspective[k][0] * fw / 2
			corners[k][1] += t.Perspective[k][1] * fh / 2
		}
		p = squareToQuad(corners).mul(mat3{1 / fw, 0, 0, 0, 1 / fh, 0, 0, 0, 1})
	}
	cos, sin := math.Cos(t.AngleRad), math.Sin(t.AngleRad)
	s := t.Scale
	// With y pointing down, this rotation turns the patch counter-clockwise
	// as seen on screen for a positive angle.
	a := mat3{
		s * cos, s * sin, t.CX - s*(cos*fw/2+sin*fh/2),
		-s * sin, s * cos, t.CY - s*(-sin*fw/2+cos*fh/2),
		0, 0, 1,
	}
	return a.mul(p)
}

// Footprint returns the axis-aligned box, in image coordinates, outside which
// the patch transformed by t leaves an image untouched. It is the box of the
// patch rectangle grown by half a patch pixel on each side (the reach of the
// bilinear sampler) and mapped by t.
func (t Transform) Footprint(pw, ph int) (minX, minY, maxX, maxY float64) {
	f := t.forward(pw, ph)
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	fw, fh := float64(pw), float64(ph)
	for _, c := range [4][2]float64{{-0.5, -0.5}, {fw + 0.5, -0.5}, {fw + 0.5, fh + 0.5}, {-0.5, fh + 0.5}} {
		x, y, _ := f.apply(c[0], c[1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return minX, minY, maxX, maxY
}
