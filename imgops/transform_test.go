package imgops

import (
	"encoding/json"
	"math"
	"testing"
)

func TestSamplerSameSeedSameSequence(t *testing.T) {
	p := NewGreyPatch(CircleMask(30))
	opts := Options{MaxAngleDeg: 30, ScaleMin: 0.1, ScaleMax: 0.3, Perspective: 0.3,
		Brightness: 0.1, Contrast: 0.1, NoiseStd: 0.05, BlurSigma: 1}
	a, _ := NewSampler(42, p, 224, 224, &opts)
	b, _ := NewSampler(42, p, 224, 224, &opts)
	c, _ := NewSampler(43, p, 224, 224, &opts)
	same := true
	for i := 0; i < 100; i++ {
		ta, tb, tc := a.Next(), b.Next(), c.Next()
		if ta != tb {
			t.Fatalf("draw %d: seed 42 gave %+v then %+v", i, ta, tb)
		}
		same = same && ta == tc
	}
	if same {
		t.Error("seeds 42 and 43 gave the same sequence")
	}
}

func TestSamplerFootprintInsideImage(t *testing.T) {
	// Over many seeds, the whole transformed patch lies inside the image:
	// its footprint box does, and, independently, the composite of an
	// opaque square on black holds all of the patch's mass s²·W·H.
	p := NewGreyPatch(RectMask(20, 12))
	for i := range p.Pix {
		p.Pix[i] = 1
	}
	tests := []struct {
		name string
		w, h int
		opts Options
	}{
		{"brown", 64, 48, DefaultOptions()},
		{"side", 50, 80, Options{MaxAngleDeg: 180, ScaleMode: SideFraction, ScaleMin: 0.2, ScaleMax: 0.7}},
		{"perspective", 64, 64, Options{MaxAngleDeg: 45, ScaleMin: 0.05, ScaleMax: 0.3, Perspective: 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(0); seed < 200; seed++ {
				s, err := NewSampler(seed, p, tc.w, tc.h, &tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				tr := s.Next()
				x0, y0, x1, y1 := tr.Footprint(p.W, p.H)
				const tol = 1e-9
				if x0 < -tol || y0 < -tol || x1 > float64(tc.w)+tol || y1 > float64(tc.h)+tol {
					t.Fatalf("seed %d: footprint [%v,%v]×[%v,%v] leaves the %d×%d image", seed, x0, x1, y0, y1, tc.w, tc.h)
				}
				if tr.Perspective != ([4][2]float64{}) {
					continue
				}
				cp, err := Apply(p, make([]float32, tc.w*tc.h), 1, 1, tc.h, tc.w, []Transform{tr})
				if err != nil {
					t.Fatal(err)
				}
				var mass float64
				for _, v := range cp.Images {
					mass += float64(v)
				}
				want := tr.Scale * tr.Scale * float64(p.W*p.H)
				if math.Abs(mass-want) > 0.03*want {
					t.Fatalf("seed %d: the image holds %.1f of the patch's %.1f pixels of mass", seed, mass, want)
				}
			}
		})
	}
}

func TestSamplerRanges(t *testing.T) {
	p := NewGreyPatch(CircleMask(40))
	const w, h = 200, 100
	opts := Options{MaxAngleDeg: 10, ScaleMin: 0.1, ScaleMax: 0.2, Perspective: 0.5,
		Brightness: 0.2, Contrast: 0.3, NoiseStd: 0.1, BlurSigma: 2}
	s, err := NewSampler(1, p, w, h, &opts)
	if err != nil {
		t.Fatal(err)
	}
	var maxAngle float64
	for i := 0; i < 2000; i++ {
		tr := s.Next()
		maxAngle = math.Max(maxAngle, math.Abs(tr.AngleRad))
		area := tr.Scale * tr.Scale * p.Mask.Area() / (w * h)
		switch {
		case math.Abs(tr.AngleRad) > 10*math.Pi/180:
			t.Fatalf("angle %v rad beyond ±10°", tr.AngleRad)
		case area < 0.1-1e-9 || area > 0.2+1e-9:
			t.Fatalf("area fraction %v outside [0.1, 0.2]", area)
		case math.Abs(float64(tr.Brightness)) > 0.2, math.Abs(float64(tr.Contrast)) > 0.3:
			t.Fatalf("lighting %v, %v out of range", tr.Brightness, tr.Contrast)
		case tr.NoiseStd < 0 || tr.NoiseStd > 0.1, tr.BlurSigma < 0 || tr.BlurSigma > 2:
			t.Fatalf("noise %v or blur %v out of range", tr.NoiseStd, tr.BlurSigma)
		}
		in := [4][2]float64{{1, 1}, {-1, 1}, {-1, -1}, {1, -1}}
		for k, d := range tr.Perspective {
			for a := 0; a < 2; a++ {
				if d[a]*in[k][a] < 0 || math.Abs(d[a]) > 0.5 {
					t.Fatalf("corner %d displaced by %v; want inward, at most 0.5", k, d)
				}
			}
		}
	}
	if maxAngle < 9*math.Pi/180 {
		t.Errorf("largest angle in 2000 draws is %v rad; the range is not covered", maxAngle)
	}
}

func TestSamplerPlacementMask(t *testing.T) {
	// Only the right half of the bottom row band is allowed: every centre
	// must land there, while the footprint stays inside the image.
	const w, h = 80, 60
	place := Mask{W: w, H: h, Pix: make([]float32, w*h)}
	for y := 40; y < 50; y++ {
		for x := 45; x < 70; x++ {
			place.Pix[y*w+x] = 1
		}
	}
	p := NewGreyPatch(CircleMask(10))
	tests := []struct {
		name string
		opts Options
	}{
		{"small", Options{MaxAngleDeg: 22.5, ScaleMode: SideFraction, ScaleMin: 0.1, ScaleMax: 0.2, Placement: &place}},
		{"sparse", Options{MaxAngleDeg: 22.5, ScaleMode: SideFraction, ScaleMin: 0.1, ScaleMax: 0.2, Placement: sparse(w, h)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSampler(9, p, w, h, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 500; i++ {
				tr := s.Next()
				ix, iy := int(math.Floor(tr.CX)), int(math.Floor(tr.CY))
				if tc.opts.Placement.Pix[iy*w+ix] < 0.5 {
					t.Fatalf("centre (%v, %v) outside the placement mask", tr.CX, tr.CY)
				}
				if x0, y0, x1, y1 := tr.Footprint(p.W, p.H); x0 < 0 || y0 < 0 || x1 > w || y1 > h {
					t.Fatalf("footprint leaves the image")
				}
			}
		})
	}
}

// sparse allows one pixel in 97, so that rejection sampling usually fails
// and the sampler falls back to choosing among allowed pixels.
func sparse(w, h int) *Mask {
	m := Mask{W: w, H: h, Pix: make([]float32, w*h)}
	for k := 0; k < w*h; k += 97 {
		m.Pix[k] = 1
	}
	return &m
}

func TestSamplerPatchLargerThanImageIsCentred(t *testing.T) {
	p := NewGreyPatch(RectMask(10, 10))
	s, err := NewSampler(1, p, 20, 20, &Options{ScaleMode: SideFraction, ScaleMin: 1, ScaleMax: 1, MaxAngleDeg: 45})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		tr := s.Next()
		if math.Abs(tr.CX-10) > 1e-9 || math.Abs(tr.CY-10) > 1e-9 {
			x0, _, x1, _ := tr.Footprint(p.W, p.H)
			if x1-x0 > 20 {
				t.Fatalf("a footprint wider than the image is placed at (%v, %v); want the centre", tr.CX, tr.CY)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	p := NewGreyPatch(CircleMask(8))
	empty := Mask{W: 10, H: 10, Pix: make([]float32, 100)}
	wrong := Mask{W: 5, H: 5, Pix: make([]float32, 25)}
	base := DefaultOptions()
	tests := []struct {
		name string
		edit func(o *Options)
	}{
		{"angle", func(o *Options) { o.MaxAngleDeg = 200 }},
		{"scale zero", func(o *Options) { o.ScaleMin, o.ScaleMax = 0, 0 }},
		{"scale order", func(o *Options) { o.ScaleMin, o.ScaleMax = 0.3, 0.2 }},
		{"mode", func(o *Options) { o.ScaleMode = 7 }},
		{"perspective", func(o *Options) { o.Perspective = 1 }},
		{"contrast", func(o *Options) { o.Contrast = -0.1 }},
		{"blur", func(o *Options) { o.BlurSigma = 50 }},
		{"noise", func(o *Options) { o.NoiseStd = math.NaN() }},
		{"placement size", func(o *Options) { o.Placement = &wrong }},
		{"placement empty", func(o *Options) { o.Placement = &empty }},
	}
	for _, tc := range tests {
		o := base
		tc.edit(&o)
		if _, err := NewSampler(1, p, 10, 10, &o); err == nil {
			t.Errorf("%s: NewSampler accepted %+v", tc.name, o)
		}
	}
	if _, err := NewSampler(1, p, 10, 10, nil); err != nil {
		t.Errorf("default options: %v", err)
	}
}

func TestScaleConversions(t *testing.T) {
	p := NewGreyPatch(RectMask(50, 25))
	if got := ScaleForSideFraction(p, 200, 100, 0.5); got != 1 {
		t.Errorf("side fraction 0.5 of 100 for a 50-wide patch: scale %v, want 1", got)
	}
	// 50×25 = 1250 pixels; 10% of 200×100 is 2000 pixels: s² = 1.6.
	if got := ScaleForAreaFraction(p, 200, 100, 0.1); math.Abs(got*got-1.6) > 1e-12 {
		t.Errorf("area fraction 0.1: scale² %v, want 1.6", got*got)
	}
	if ScaleMode(5).String() == "" || AreaFraction.String() != "area" || SideFraction.String() != "side" {
		t.Error("ScaleMode names are wrong")
	}
}

func TestWithoutJitter(t *testing.T) {
	tr := Transform{AngleRad: 1, Scale: 2, CX: 3, CY: 4, Brightness: 1, Contrast: 1, NoiseStd: 1, NoiseSeed: 1, BlurSigma: 1}
	want := Transform{AngleRad: 1, Scale: 2, CX: 3, CY: 4}
	if got := tr.WithoutJitter(); got != want {
		t.Errorf("WithoutJitter = %+v, want %+v", got, want)
	}
}

func TestScaleModeJSON(t *testing.T) {
	for _, tc := range []struct {
		mode ScaleMode
		json string
	}{
		{AreaFraction, `{"scale_mode":"area"}`},
		{SideFraction, `{"scale_mode":"side"}`},
	} {
		b, err := json.Marshal(struct {
			M ScaleMode `json:"scale_mode"`
		}{tc.mode})
		if err != nil || string(b) != tc.json {
			t.Errorf("marshal %v: %s, %v; want %s", tc.mode, b, err, tc.json)
		}
		var back struct {
			M ScaleMode `json:"scale_mode"`
		}
		if err := json.Unmarshal([]byte(tc.json), &back); err != nil || back.M != tc.mode {
			t.Errorf("unmarshal %s: %v, %v", tc.json, back.M, err)
		}
	}
	var bad struct {
		M ScaleMode `json:"scale_mode"`
	}
	if err := json.Unmarshal([]byte(`{"scale_mode":"diagonal"}`), &bad); err == nil {
		t.Error(`"diagonal" was accepted as a scale mode`)
	}
	if _, err := json.Marshal(ScaleMode(7)); err == nil {
		t.Error("ScaleMode(7) was marshalled")
	}
}
