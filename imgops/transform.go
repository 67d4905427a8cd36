package imgops

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Transform is one draw of the patch application operator's parameters
// (Brown et al.'s t and l, plus the optional physical-world jitter): how the
// patch is distorted, scaled, rotated and placed in one image, and how its
// colours are perturbed there. The zero jitter fields mean no jitter, so
// Transform{Scale: 1, CX: 112, CY: 112} just pastes the patch.
type Transform struct {
	// AngleRad is the rotation in radians; a positive angle turns the patch
	// counter-clockwise as seen on screen (image y points down).
	AngleRad float64
	// Scale is the size of one patch pixel in image pixels.
	Scale float64
	// CX, CY is where the patch's centre lands, in continuous image
	// coordinates (the centre of pixel (i, j) is (j+0.5, i+0.5)).
	CX, CY float64
	// Perspective displaces the patch's corners, in the order top-left,
	// top-right, bottom-right, bottom-left, before scaling and rotation; each
	// (dx, dy) is in units of the patch's half width and half height. The
	// zero value means no distortion.
	Perspective [4][2]float64
	// Brightness is added to the patch's colours.
	Brightness float32
	// Contrast scales the patch's colours by 1+Contrast.
	Contrast float32
	// NoiseStd is the standard deviation of Gaussian noise added to the
	// patch's colours, independently per pixel and channel.
	NoiseStd float32
	// NoiseSeed seeds the PCG generator of the noise, so that Apply is
	// deterministic.
	NoiseSeed uint64
	// BlurSigma is the standard deviation, in image pixels, of a Gaussian
	// blur of the patch layer (colour and coverage) before compositing.
	BlurSigma float64
}

// WithoutJitter returns t with brightness, contrast, noise and blur removed,
// keeping the geometry.
func (t Transform) WithoutJitter() Transform {
	t.Brightness, t.Contrast, t.NoiseStd, t.NoiseSeed, t.BlurSigma = 0, 0, 0, 0, 0
	return t
}

// ScaleMode says what Options.ScaleMin and ScaleMax measure.
type ScaleMode int

const (
	// AreaFraction measures a patch by the fraction of the image's area its
	// mask covers, as Brown et al. report it: a Transform's Scale s makes the
	// mask cover s²·Mask.Area() image pixels, so s = sqrt(a·w·h/Mask.Area()).
	AreaFraction ScaleMode = iota
	// SideFraction measures a patch by its longer side as a fraction of the
	// image's shorter side: s = f·min(w, h)/max(pw, ph).
	SideFraction
)

// String names the mode as Options' JSON and the CLI spell it.
func (m ScaleMode) String() string {
	switch m {
	case AreaFraction:
		return "area"
	case SideFraction:
		return "side"
	}
	return fmt.Sprintf("ScaleMode(%d)", int(m))
}

// ParseScaleMode reads a mode as String spells it: "area" or "side".
func ParseScaleMode(s string) (ScaleMode, error) {
	switch s {
	case "area":
		return AreaFraction, nil
	case "side":
		return SideFraction, nil
	}
	return 0, fmt.Errorf("scale mode %q: want area or side", s)
}

// MarshalText spells the mode as String does, so that JSON records say
// "area" or "side" rather than a number.
func (m ScaleMode) MarshalText() ([]byte, error) {
	if m != AreaFraction && m != SideFraction {
		return nil, fmt.Errorf("unknown scale mode %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (m *ScaleMode) UnmarshalText(b []byte) error {
	v, err := ParseScaleMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ScaleForAreaFraction returns the Transform.Scale at which p's mask covers
// the fraction a of a w×h image's area.
func ScaleForAreaFraction(p *Patch, w, h int, a float64) float64 {
	area := p.Mask.Area()
	if area <= 0 {
		return 0
	}
	return math.Sqrt(a * float64(w) * float64(h) / area)
}

// ScaleForSideFraction returns the Transform.Scale at which p's longer side
// spans the fraction f of a w×h image's shorter side.
func ScaleForSideFraction(p *Patch, w, h int, f float64) float64 {
	return f * float64(min(w, h)) / float64(max(p.W, p.H))
}

// Options are the ranges a Sampler draws Transforms from. A zero range turns
// a jitter off; a nil *Options means DefaultOptions.
type Options struct {
	// MaxAngleDeg bounds the rotation: uniform in ±MaxAngleDeg degrees.
	MaxAngleDeg float64 `json:"max_angle_deg"`
	// ScaleMode says whether ScaleMin and ScaleMax are area or side
	// fractions; the scale is uniform in [ScaleMin, ScaleMax] of that
	// quantity.
	ScaleMode ScaleMode `json:"scale_mode"`
	// ScaleMin and ScaleMax bound the scale, in ScaleMode's quantity.
	ScaleMin float64 `json:"scale_min"`
	ScaleMax float64 `json:"scale_max"`
	// Perspective is the largest corner displacement d in [0,1), like ART's
	// distortion_scale_max: each corner moves inward, independently per
	// axis, by a uniform fraction of d times the patch's half size. Above
	// about 0.5 opposite corners may nearly meet and the patch degenerates.
	Perspective float64 `json:"perspective,omitempty"`
	// Brightness bounds the additive offset: uniform in ±Brightness.
	Brightness float64 `json:"brightness,omitempty"`
	// Contrast bounds the multiplicative factor: uniform in 1±Contrast.
	Contrast float64 `json:"contrast,omitempty"`
	// NoiseStd bounds the Gaussian noise's deviation: uniform in [0, NoiseStd].
	NoiseStd float64 `json:"noise_std,omitempty"`
	// BlurSigma bounds the blur's deviation in image pixels: uniform in
	// [0, BlurSigma].
	BlurSigma float64 `json:"blur_sigma,omitempty"`
	// Placement, when not nil, is an image-sized mask restricting where the
	// patch's centre may land: only on pixels whose value is at least 0.5.
	// The whole footprint still lies inside the image, but not necessarily
	// inside the placement mask. Load one with LoadPlacementMask.
	Placement *Mask `json:"-"`
}

// DefaultOptions returns Brown et al.'s rotation range (±22.5°) and an area
// fraction between 5% and 25% (advlab's choice), with no other jitter.
func DefaultOptions() Options {
	return Options{MaxAngleDeg: 22.5, ScaleMode: AreaFraction, ScaleMin: 0.05, ScaleMax: 0.25}
}

// Validate reports whether the ranges make sense for a w×h image.
func (o *Options) Validate(w, h int) error {
	switch {
	case !(o.MaxAngleDeg >= 0 && o.MaxAngleDeg <= 180):
		return fmt.Errorf("rotation bound %v°: want 0 to 180", o.MaxAngleDeg)
	case o.ScaleMode != AreaFraction && o.ScaleMode != SideFraction:
		return fmt.Errorf("unknown scale mode %d", int(o.ScaleMode))
	case !(o.ScaleMin > 0 && o.ScaleMax >= o.ScaleMin && o.ScaleMax <= 1):
		return fmt.Errorf("scale range [%v, %v]: want 0 < min <= max <= 1", o.ScaleMin, o.ScaleMax)
	case !(o.Perspective >= 0 && o.Perspective < 1):
		return fmt.Errorf("perspective %v: want [0, 1)", o.Perspective)
	case !(o.Brightness >= 0 && o.Brightness <= 1):
		return fmt.Errorf("brightness %v: want [0, 1]", o.Brightness)
	case !(o.Contrast >= 0 && o.Contrast < 1):
		return fmt.Errorf("contrast %v: want [0, 1)", o.Contrast)
	case !(o.NoiseStd >= 0 && o.NoiseStd <= 1):
		return fmt.Errorf("noise deviation %v: want [0, 1]", o.NoiseStd)
	case !(o.BlurSigma >= 0 && o.BlurSigma <= maxBlurSigma):
		return fmt.Errorf("blur sigma %v: want [0, %v] pixels", o.BlurSigma, maxBlurSigma)
	}
	if o.Placement != nil {
		if o.Placement.W != w || o.Placement.H != h || len(o.Placement.Pix) != w*h {
			return fmt.Errorf("placement mask is %d×%d; want the image's %d×%d", o.Placement.W, o.Placement.H, w, h)
		}
	}
	return nil
}

// Sampler draws random Transforms for one patch and one image size. Its
// generator is a PCG seeded from the seed, so the same seed gives the same
// sequence. A Sampler is not safe for concurrent use.
type Sampler struct {
	rng     *rand.Rand
	opts    Options
	patch   *Patch
	w, h    int
	allowed []int32 // placement mask pixels >= 0.5, as y*w+x
}

// NewSampler returns a sampler of Transforms placing p into w×h images with
// the ranges of opts (nil means DefaultOptions).
func NewSampler(seed uint64, p *Patch, w, h int, opts *Options) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("sampler: image is %d×%d; want a positive size", w, h)
	}
	if p.Mask.Area() <= 0 {
		return nil, errors.New("sampler: the patch's mask is empty")
	}
	o := DefaultOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(w, h); err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	s := &Sampler{rng: newRand(seed), opts: o, patch: p, w: w, h: h}
	if o.Placement != nil {
		for i, v := range o.Placement.Pix {
			if v >= 0.5 {
				s.allowed = append(s.allowed, int32(i))
			}
		}
		if len(s.allowed) == 0 {
			return nil, errors.New("sampler: the placement mask allows no pixel (none is >= 0.5)")
		}
	}
	return s, nil
}

// Sample returns the next n transforms.
func (s *Sampler) Sample(n int) []Transform {
	ts := make([]Transform, n)
	for i := range ts {
		ts[i] = s.Next()
	}
	return ts
}

// Next returns the next transform: rotation uniform in ±MaxAngleDeg, scale
// uniform in the scale range, and a centre uniform over the positions where
// the whole footprint lies inside the image (and, with a placement mask, the
// centre on an allowed pixel). When the footprint is larger than the image
// along an axis, the patch is centred along that axis.
func (s *Sampler) Next() Transform {
	o, r := &s.opts, s.rng
	var t Transform
	t.AngleRad = (2*r.Float64() - 1) * o.MaxAngleDeg * math.Pi / 180
	q := o.ScaleMin + r.Float64()*(o.ScaleMax-o.ScaleMin)
	if o.ScaleMode == SideFraction {
		t.Scale = ScaleForSideFraction(s.patch, s.w, s.h, q)
	} else {
		t.Scale = ScaleForAreaFraction(s.patch, s.w, s.h, q)
	}
	if d := o.Perspective; d > 0 {
		// Inward directions of the corners TL, TR, BR, BL.
		in := [4][2]float64{{1, 1}, {-1, 1}, {-1, -1}, {1, -1}}
		for k := range t.Perspective {
			t.Perspective[k][0] = in[k][0] * d * r.Float64()
			t.Perspective[k][1] = in[k][1] * d * r.Float64()
		}
	}
	if o.Brightness > 0 {
		t.Brightness = float32((2*r.Float64() - 1) * o.Brightness)
	}
	if o.Contrast > 0 {
		t.Contrast = float32((2*r.Float64() - 1) * o.Contrast)
	}
	if o.NoiseStd > 0 {
		t.NoiseStd = float32(r.Float64() * o.NoiseStd)
		t.NoiseSeed = r.Uint64()
	}
	if o.BlurSigma > 0 {
		t.BlurSigma = r.Float64() * o.BlurSigma
	}
	// The footprint of the patch centred at the origin gives the range of
	// centres that keep it inside the image.
	minX, minY, maxX, maxY := t.Footprint(s.patch.W, s.patch.H)
	x0, x1 := -minX, float64(s.w)-maxX
	y0, y1 := -minY, float64(s.h)-maxY
	if x1 < x0 {
		x0 = (x0 + x1) / 2
		x1 = x0
	}
	if y1 < y0 {
		y0 = (y0 + y1) / 2
		y1 = y0
	}
	t.CX, t.CY = s.centre(x0, x1, y0, y1)
	return t
}

// centre draws a centre uniformly in [x0,x1]×[y0,y1], restricted to the
// placement mask's allowed pixels when there is one.
func (s *Sampler) centre(x0, x1, y0, y1 float64) (float64, float64) {
	r := s.rng
	uniform := func() (float64, float64) {
		return x0 + r.Float64()*(x1-x0), y0 + r.Float64()*(y1-y0)
	}
	if s.allowed == nil {
		return uniform()
	}
	// Rejection sampling is exact and fast when the mask allows much of the
	// feasible rectangle.
	for range 64 {
		x, y := uniform()
		if s.allows(x, y) {
			return x, y
		}
	}
	// Otherwise pick uniformly among the allowed pixels that meet the
	// rectangle, then uniformly inside the part of the pixel within it.
	var cand []int32
	for _, k := range s.allowed {
		px, py := float64(int(k)%s.w), float64(int(k)/s.w)
		if px+1 > x0 && px <= x1 && py+1 > y0 && py <= y1 {
			cand = append(cand, k)
		}
	}
	if len(cand) == 0 {
		// No allowed pixel can hold the centre: keep the footprint inside
		// the image, as near as possible to a random allowed pixel.
		k := s.allowed[r.IntN(len(s.allowed))]
		px, py := float64(int(k)%s.w)+0.5, float64(int(k)/s.w)+0.5
		return min(max(px, x0), x1), min(max(py, y0), y1)
	}
	k := cand[r.IntN(len(cand))]
	px, py := float64(int(k)%s.w), float64(int(k)/s.w)
	lx, hx := max(px, x0), min(px+1, x1)
	ly, hy := max(py, y0), min(py+1, y1)
	x := min(lx+r.Float64()*(hx-lx), math.Nextafter(px+1, px))
	y := min(ly+r.Float64()*(hy-ly), math.Nextafter(py+1, py))
	return x, y
}

// allows reports whether the placement mask allows a centre at (x, y).
func (s *Sampler) allows(x, y float64) bool {
	ix, iy := int(math.Floor(x)), int(math.Floor(y))
	if ix < 0 || iy < 0 || ix >= s.w || iy >= s.h {
		return false
	}
	return s.opts.Placement.Pix[iy*s.w+ix] >= 0.5
}
