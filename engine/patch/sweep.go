package patch

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// SweepKind names the one transformation a sweep varies.
type SweepKind string

// The transformations a sweep can vary, with the unit of their values.
const (
	// SweepRotation sets the patch's in-plane rotation, in degrees,
	// replacing the drawn one (identity 0).
	SweepRotation SweepKind = "rotation"
	// SweepBrightness sets the offset added to the patch's colours, in
	// [-1, 1] (identity 0).
	SweepBrightness SweepKind = "brightness"
	// SweepContrast sets c, the patch's colours scaled by 1+c, in (-1, 1)
	// (identity 0).
	SweepContrast SweepKind = "contrast"
	// SweepTilt turns the patch out of its plane about its vertical centre
	// line by the value in degrees, in (-80, 80), as seen by a pinhole
	// camera tiltViewDistance half widths away (identity 0).
	SweepTilt SweepKind = "tilt"
	// SweepBlur sets the Gaussian blur's deviation of the patch layer, in
	// image pixels (identity 0).
	SweepBlur SweepKind = "blur"
	// SweepNoise sets the deviation of the Gaussian noise added to the
	// patch's colours, in [0, 1] (identity 0).
	SweepNoise SweepKind = "noise"
	// SweepJPEG compresses the whole patched image with JPEG at the value's
	// quality, an integer in [1, 100]; no value is the identity.
	SweepJPEG SweepKind = "jpeg"
)

// SweepKinds lists the sweeps in the order help texts show them.
var SweepKinds = []SweepKind{SweepRotation, SweepBrightness, SweepContrast, SweepTilt, SweepBlur, SweepNoise, SweepJPEG}

// tiltViewDistance is the camera's distance from the patch's centre, in
// half widths of the patch, behind SweepTilt's foreshortening: about what
// a phone held at arm's length sees of a hand-sized sticker.
const tiltViewDistance = 6.0

// Sweep varies one transformation over Values at a single scale: every
// value sees the same placements (the seed of the scale), so the curve's
// steps come from the transformation alone, and the identity value (0;
// none for JPEG) reproduces the plain evaluation at that scale.
type Sweep struct {
	Kind   SweepKind
	Values []float64
}

// DefaultValues are the values a sweep of kind k measures when none are
// given: from the identity to where most patches give way.
func (k SweepKind) DefaultValues() []float64 {
	switch k {
	case SweepRotation:
		return []float64{0, 15, 30, 45, 60, 90, 135, 180}
	case SweepBrightness:
		return []float64{-0.4, -0.2, 0, 0.2, 0.4}
	case SweepContrast:
		return []float64{-0.6, -0.3, 0, 0.3, 0.6}
	case SweepTilt:
		return []float64{0, 20, 40, 60, 75}
	case SweepBlur:
		return []float64{0, 0.5, 1, 2, 3}
	case SweepNoise:
		return []float64{0, 0.05, 0.1, 0.2, 0.3}
	case SweepJPEG:
		return []float64{100, 90, 75, 50, 25, 10}
	}
	return nil
}

// Unit is what a value of kind k counts, with its range, as a form or a
// flag's help states it.
func (k SweepKind) Unit() string {
	switch k {
	case SweepRotation:
		return "degrees of in-plane rotation"
	case SweepBrightness:
		return "offset added to the [0,1] colours, in [-1, 1]"
	case SweepContrast:
		return "c of the colours scaled by 1+c, in (-1, 1)"
	case SweepTilt:
		return "degrees out of the image's plane, in (-80, 80)"
	case SweepBlur:
		return "image pixels of the Gaussian's deviation"
	case SweepNoise:
		return "deviation of the noise on the [0,1] colours, in [0, 1]"
	case SweepJPEG:
		return "JPEG quality, an integer in [1, 100]"
	}
	return ""
}

// ParseSweepKind reads a sweep's name.
func ParseSweepKind(s string) (SweepKind, error) {
	for _, k := range SweepKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown sweep %q; want one of %v", s, SweepKinds)
}

func (sw *Sweep) validate() error {
	if _, err := ParseSweepKind(string(sw.Kind)); err != nil {
		return err
	}
	if len(sw.Values) == 0 {
		return fmt.Errorf("%s sweep has no value", sw.Kind)
	}
	for _, v := range sw.Values {
		if err := sw.Kind.check(v); err != nil {
			return fmt.Errorf("%s sweep value %v: %w", sw.Kind, v, err)
		}
	}
	return nil
}

// check reports whether v is a value of kind k. The jitter ranges are
// imgops' own, so one rule bounds both the random and the swept values.
func (k SweepKind) check(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("want a finite number")
	}
	o := imgops.Options{ScaleMin: 1, ScaleMax: 1}
	switch k {
	case SweepRotation:
		o.MaxAngleDeg = math.Abs(v)
	case SweepBrightness:
		o.Brightness = math.Abs(v)
	case SweepContrast:
		o.Contrast = math.Abs(v)
	case SweepBlur:
		o.BlurSigma = v
	case SweepNoise:
		o.NoiseStd = v
	case SweepTilt:
		if !(math.Abs(v) < 80) {
			return fmt.Errorf("want a tilt in (-80, 80) degrees")
		}
	case SweepJPEG:
		if v != math.Trunc(v) || v < 1 || v > 100 {
			return fmt.Errorf("want a JPEG quality, an integer in [1, 100]")
		}
	}
	return o.Validate(1, 1)
}

// apply returns t with the swept parameter set to v, moved back inside the
// w×h image when its new footprint sticks out; seed seeds the noise when t
// drew none. JPEG changes no transform.
func (k SweepKind) apply(t imgops.Transform, v float64, seed uint64, pw, ph, w, h int) imgops.Transform {
	switch k {
	case SweepRotation:
		t.AngleRad = v * math.Pi / 180
	case SweepBrightness:
		t.Brightness = float32(v)
	case SweepContrast:
		t.Contrast = float32(v)
	case SweepBlur:
		t.BlurSigma = v
	case SweepNoise:
		t.NoiseStd = float32(v)
		if t.NoiseSeed == 0 {
			t.NoiseSeed = seed
		}
	case SweepTilt:
		t.Perspective = tiltCorners(v)
	default:
		return t
	}
	minX, minY, maxX, maxY := t.Footprint(pw, ph)
	t.CX += inside(minX, maxX, float64(w))
	t.CY += inside(minY, maxY, float64(h))
	return t
}

// inside returns the shift that moves [lo, hi] inside [0, n], or centres it
// when it is longer than n.
func inside(lo, hi, n float64) float64 {
	switch {
	case hi-lo > n:
		return n/2 - (lo+hi)/2
	case lo < 0:
		return -lo
	case hi > n:
		return n - hi
	}
	return 0
}

// tiltCorners returns the corner displacements (TL, TR, BR, BL, in half
// sizes) of a patch turned by deg degrees about its vertical centre line:
// a corner at (u, v) in [-1,1]² goes to (u cos θ, v)·D/(D + u sin θ), the
// pinhole projection from distance D, so the receding side shrinks and the
// patch narrows by cos θ.
func tiltCorners(deg float64) [4][2]float64 {
	th := deg * math.Pi / 180
	var out [4][2]float64
	for k, c := range [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
		f := tiltViewDistance / (tiltViewDistance + c[0]*math.Sin(th))
		out[k] = [2]float64{c[0]*math.Cos(th)*f - c[0], c[1]*f - c[1]}
	}
	return out
}

// compressJPEG replaces each of the n c×h×w images in x by its JPEG
// round trip at the given quality.
func compressJPEG(x []float32, n, c, h, w, quality int) error {
	size := c * h * w
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		img, err := imgops.TensorToImage(x[i*size:(i+1)*size], c, h, w)
		if err != nil {
			return fmt.Errorf("JPEG sweep: %w", err)
		}
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
			return fmt.Errorf("JPEG sweep: encoding: %w", err)
		}
		dec, err := jpeg.Decode(&buf)
		if err != nil {
			return fmt.Errorf("JPEG sweep: decoding: %w", err)
		}
		t, _ := imgops.ImageToTensor(dec, c, h, w)
		copy(x[i*size:(i+1)*size], t)
	}
	return nil
}

// TrainingRange returns o with the random range of the training
// transformation that kind k sweeps set to v: the rotation bound in
// degrees, the brightness, contrast, noise or blur bound, or for a tilt the
// perspective's bound: the largest inward move of a corner, in half sizes,
// of the patch tilted by v as SweepTilt sees it (the receding side's,
// 1 − cos v·D/(D + sin v)); training then draws each corner's move
// independently up to it. JPEG has no training transformation.
func (k SweepKind) TrainingRange(o imgops.Options, v float64) (imgops.Options, error) {
	if k != SweepJPEG {
		if err := k.check(v); err != nil || v < 0 {
			return o, fmt.Errorf("%s training range %v: want a bound ≥ 0 that the sweep accepts", k, v)
		}
	}
	switch k {
	case SweepRotation:
		o.MaxAngleDeg = v
	case SweepBrightness:
		o.Brightness = v
	case SweepContrast:
		o.Contrast = v
	case SweepBlur:
		o.BlurSigma = v
	case SweepNoise:
		o.NoiseStd = v
	case SweepTilt:
		o.Perspective = 0
		moved := tiltCorners(v)
		for k, c := range [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
			for axis := range c {
				o.Perspective = max(o.Perspective, -c[axis]*moved[k][axis])
			}
		}
	default:
		return o, fmt.Errorf("a %s sweep has no training transformation; pick rotation, brightness, contrast, tilt, blur or noise", k)
	}
	return o, nil
}

// EOTPair is a patch trained with a transformation's random range and one
// trained without it (its range zero), all else equal: measured with the
// same sweep, the two curves show what that transformation in training
// buys.
type EOTPair struct {
	Kind  SweepKind
	Range float64
	With  *Result
	// Without is trained with the kind's range at zero.
	Without *Result
}

// TrainEOTPair trains the pair of EOTPair from opts: once with kind's range
// set to r (TrainingRange) and once with it at zero, with the same seed,
// models and images. progress, when not nil, gets each run's progress
// (first With, then Without) and which run it is.
func TrainEOTPair(ctx context.Context, models []engine.Classifier, data *engine.Dataset, opts Options, kind SweepKind, r float64,
	progress func(with bool, p Progress)) (*EOTPair, error) {
	with, err := kind.TrainingRange(opts.Transforms, r)
	if err != nil {
		return nil, invalid(fmt.Errorf("EOT pair: %w", err))
	}
	without, err := kind.TrainingRange(opts.Transforms, 0)
	if err != nil {
		return nil, invalid(fmt.Errorf("EOT pair: %w", err))
	}
	pair := &EOTPair{Kind: kind, Range: r}
	for _, run := range []struct {
		tr  imgops.Options
		out **Result
	}{{with, &pair.With}, {without, &pair.Without}} {
		o := opts
		o.Transforms = run.tr
		isWith := run.out == &pair.With
		var pr func(Progress)
		if progress != nil {
			pr = func(p Progress) { progress(isWith, p) }
		}
		res, err := Train(ctx, models, data, o, pr)
		if err != nil {
			return nil, fmt.Errorf("EOT pair (%s %v, with=%v): %w", kind, r, isWith, err)
		}
		*run.out = res
	}
	return pair, nil
}
