package enginebackend

import (
	"context"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// TestResizeMap checks the bilinear resampling against closed forms: a
// constant stays constant, the same size is the identity, and a ramp
// m(x, y) = x + 10y, linear, is sampled exactly at every destination
// pixel centre (clamped at the borders).
func TestResizeMap(t *testing.T) {
	ramp := func(w, h int) []float32 {
		m := make([]float32, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m[y*w+x] = float32(x + 10*y)
			}
		}
		return m
	}
	for _, tt := range []struct {
		name         string
		w, h, dw, dh int
		src          []float32
		want         func(fx, fy float64) float64
	}{
		{"constant", 3, 2, 7, 5, []float32{4, 4, 4, 4, 4, 4}, func(float64, float64) float64 { return 4 }},
		{"identity", 4, 3, 4, 3, ramp(4, 3), func(fx, fy float64) float64 { return fx + 10*fy }},
		{"ramp up", 4, 3, 9, 7, ramp(4, 3), func(fx, fy float64) float64 { return fx + 10*fy }},
		{"ramp down", 8, 6, 3, 2, ramp(8, 6), func(fx, fy float64) float64 { return fx + 10*fy }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := resizeMap(tt.src, tt.w, tt.h, tt.dw, tt.dh)
			for j := 0; j < tt.dh; j++ {
				for i := 0; i < tt.dw; i++ {
					fx := math.Min(math.Max((float64(i)+0.5)*float64(tt.w)/float64(tt.dw)-0.5, 0), float64(tt.w-1))
					fy := math.Min(math.Max((float64(j)+0.5)*float64(tt.h)/float64(tt.dh)-0.5, 0), float64(tt.h-1))
					if w := tt.want(fx, fy); math.Abs(float64(got[j*tt.dw+i])-w) > 1e-4 {
						t.Fatalf("(%d, %d) = %g; want %g", i, j, got[j*tt.dw+i], w)
					}
				}
			}
		})
	}
}

// TestExplainOnRealModel explains an image of another size than the
// model's input with a patch on it: the map comes back at the image's
// size, non-negative and not all zero, and the share's area is the
// placement's (the patch operator's coverage, anti-aliased at the edges).
func TestExplainOnRealModel(t *testing.T) {
	path := fixtureModel(t)
	be := New()
	m, err := be.LoadModel(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer be.CloseModel(m)
	img := image.NewNRGBA(image.Rect(0, 0, 80, 60))
	for y := 0; y < 60; y++ {
		for x := 0; x < 80; x++ {
			img.Set(x, y, color.NRGBA{uint8(3 * x), uint8(4 * y), 90, 255})
		}
	}
	p := imgops.NewNoisePatch(imgops.RectMask(16, 16), 1)
	for _, method := range []saliency.Method{saliency.Gradient, saliency.GradCAM} {
		t.Run(string(method), func(t *testing.T) {
			res, err := be.Explain(context.Background(), gui.SaliencyRequest{Model: m, Image: img, Method: method,
				Patch: p, Placement: gui.Placement{CX: 0.5, CY: 0.5, Area: 0.1}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != 80 || res.Height != 60 || len(res.Map) != 80*60 {
				t.Fatalf("map %d×%d of %d values; want the image's 80×60", res.Width, res.Height, len(res.Map))
			}
			total := 0.0
			for _, v := range res.Map {
				if v < 0 || math.IsNaN(float64(v)) {
					t.Fatalf("map value %g", v)
				}
				total += float64(v)
			}
			if total == 0 || res.Share == nil || math.Abs(res.Share.Area-0.1) > 0.01 || !(res.Share.Mass >= 0 && res.Share.Mass <= 1) {
				t.Errorf("map mass %g, share %+v; want mass > 0 and the area 0.1", total, res.Share)
			}
		})
	}
}
