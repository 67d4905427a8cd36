package saliency

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/imgops"
)

func floats(t *onnx.TensorProto) []float64 {
	raw := t.GetRawData()
	out := make([]float64, len(raw)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return out
}

// TestGradCAMClosedForm checks Grad-CAM on Conv(2×2, stride 2)→Relu→
// GlobalAveragePool→Gemm over 3×8×8 images, where everything has a closed
// form: A_k(i,j) = relu(b_k + Σ w_k·x over the 2×2 cell), α_k = G[k,y]/16
// for the Gemm weight G, and the map is relu(Σ α_k A_k) upsampled.
func TestGradCAMClosedForm(t *testing.T) {
	const k, ch = 3, 4
	g := testkit.NewGraph(17, 9)
	wc, bc := g.Weight(0.8, ch, 3, 2, 2), g.Weight(0.3, ch)
	a := g.Op("Relu", []string{g.Op("Conv", []string{"x", wc, bc}, onnxproto.AttrInts("strides", []int64{2, 2}))})
	wg := g.Weight(1, ch, k)
	logits := g.Op("Gemm", []string{g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{a})}), wg, g.Weight(0.1, k)})
	mp := g.Model("x", []int64{3, 8, 8}, logits, k)
	m, err := onnxmodel.LoadData("cam", testkit.MarshalModel(t, mp), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w := map[string][]float64{}
	for _, init := range mp.GetGraph().GetInitializer() {
		w[init.GetName()] = floats(init)
	}
	x := randomImages(7, 2*192)
	classes := []int{2, 0}
	r, err := Explain(context.Background(), m, x, 2, &Options{Method: GradCAM, Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	if r.Feature != a {
		t.Fatalf("Grad-CAM used feature %q; want the map before pooling, %q", r.Feature, a)
	}
	for n, y := range classes {
		img := x[n*192 : (n+1)*192]
		cam := make([]float32, 16)
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				var v float64
				for c := 0; c < ch; c++ {
					s := w[bc][c]
					for ci := 0; ci < 3; ci++ {
						for di := 0; di < 2; di++ {
							for dj := 0; dj < 2; dj++ {
								s += w[wc][((c*3+ci)*2+di)*2+dj] * float64(img[ci*64+(2*i+di)*8+2*j+dj])
							}
						}
					}
					v += w[wg][c*k+y] / 16 * max(s, 0)
				}
				cam[i*4+j] = float32(max(v, 0))
			}
		}
		want := Upsample(cam, 4, 4, 8, 8)
		if d := testkit.RelL2(r.Map(n), want); d > 1e-5 {
			t.Fatalf("image %d: Grad-CAM map differs from the closed form by rel L2 %g\ngot  %v\nwant %v", n, d, r.Map(n), want)
		}
	}
}

// TestUpsample checks bilinear upsampling between cell centres on small
// hand-worked cases.
func TestUpsample(t *testing.T) {
	for _, c := range []struct {
		name       string
		m          []float32
		h, w, H, W int
		want       []float32
	}{
		{"row ×2", []float32{0, 1}, 1, 2, 1, 4, []float32{0, 0.25, 0.75, 1}},
		{"identity", []float32{1, 2, 3, 4}, 2, 2, 2, 2, []float32{1, 2, 3, 4}},
		{"single cell", []float32{5}, 1, 1, 2, 3, []float32{5, 5, 5, 5, 5, 5}},
		{"column ×2", []float32{0, 4}, 2, 1, 4, 1, []float32{0, 1, 3, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Upsample(c.m, c.h, c.w, c.H, c.W)
			for i := range c.want {
				if math.Abs(float64(got[i]-c.want[i])) > 1e-6 {
					t.Fatalf("Upsample = %v; want %v", got, c.want)
				}
			}
		})
	}
}

// TestRegionShare checks the share on hand-made maps.
func TestRegionShare(t *testing.T) {
	m := []float32{1, 1, 2, 0}
	for _, c := range []struct {
		name       string
		cov        []float32
		mass, area float64
	}{
		{"one pixel", []float32{0, 0, 1, 0}, 0.5, 0.25},
		{"half a pixel", []float32{0.5, 0, 0, 0}, 0.125, 0.125},
		{"everything", []float32{1, 1, 1, 1}, 1, 1},
		{"nothing", []float32{0, 0, 0, 0}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := RegionShare(m, c.cov)
			if err != nil {
				t.Fatal(err)
			}
			if s.Mass != c.mass || s.Area != c.area {
				t.Fatalf("RegionShare = %+v; want mass %g, area %g", s, c.mass, c.area)
			}
		})
	}
	if _, err := RegionShare(m, []float32{1}); err == nil {
		t.Fatal("no error for a coverage of another size")
	}
	if s, _ := RegionShare(make([]float32, 4), []float32{1, 0, 0, 0}); !math.IsNaN(s.Mass) {
		t.Fatalf("a zero map has mass %g; want NaN", s.Mass)
	}
	mean := MeanShare([]Share{{0.5, 0.25}, {math.NaN(), 0.9}, {0.1, 0.05}})
	if math.Abs(mean.Mass-0.3) > 1e-12 || math.Abs(mean.Area-0.15) > 1e-12 || math.Abs(mean.Ratio()-2) > 1e-12 {
		t.Fatalf("MeanShare = %+v; want mass 0.3, area 0.15, ratio 2", mean)
	}
}

// TestCoverage checks the patch's coverage: a 4×4 square patch placed
// unrotated at scale 1 on the pixel grid covers exactly its 16 pixels, and
// a rotated one covers its area (16·scale²) within the anti-aliasing's
// rounding, with nothing outside its footprint.
func TestCoverage(t *testing.T) {
	p := imgops.NewGreyPatch(imgops.RectMask(4, 4))
	ts := []imgops.Transform{
		{Scale: 1, CX: 8, CY: 8, Brightness: 0.3, NoiseStd: 0.2},
		{Scale: 1.5, CX: 8, CY: 8, AngleRad: 0.5, BlurSigma: 1},
	}
	cov, err := Coverage(p, 16, 16, ts)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			want := float32(0)
			if x >= 6 && x < 10 && y >= 6 && y < 10 {
				want = 1
			}
			if got := cov[y*16+x]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("unrotated coverage at (%d,%d) = %g; want %g", x, y, got, want)
			}
		}
	}
	var area float64
	x0, y0, x1, y1 := ts[1].Footprint(4, 4)
	for i, v := range cov[256:] {
		area += float64(v)
		px, py := float64(i%16)+0.5, float64(i/16)+0.5
		if v > 0 && (px < x0-1 || px > x1+1 || py < y0-1 || py > y1+1) {
			t.Fatalf("rotated coverage %g at (%v,%v), outside the footprint", v, px, py)
		}
	}
	if want := 16 * 1.5 * 1.5; math.Abs(area-want) > 0.05*want {
		t.Fatalf("rotated coverage sums to %g; want the patch's area %g", area, want)
	}
}

// TestOverlay checks the heat map's two ends: a pixel of zero attribution
// keeps the image's colour, the pixel at the map's maximum is 30% image,
// 70% yellow.
func TestOverlay(t *testing.T) {
	x := []float32{0.2, 0.2, 0.4, 0.4, 0.6, 0.6} // 3×1×2
	img, err := Overlay(x, 3, 1, 2, []float32{0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.NRGBAAt(0, 0); got.R != 51 || got.G != 102 || got.B != 153 {
		t.Fatalf("unattended pixel %v; want the image's (51,102,153)", got)
	}
	if got := img.NRGBAAt(1, 0); got.R != to8(0.3*0.2+0.7) || got.G != to8(0.3*0.4+0.7) || got.B != to8(0.3*0.6) {
		t.Fatalf("hottest pixel %v", got)
	}
	if _, err := Overlay(x, 3, 1, 2, []float32{0}); err == nil {
		t.Fatal("no error for a map of the wrong size")
	}
}

// TestGradCAMSingleCarrierChannel builds a model in which one feature-map
// channel alone carries each class: a 1×1 Conv→Relu gives five channels
// A_k(p) = relu(b_k + Σ_c w_kc x_c(p)) at the image's resolution, then
// GlobalAveragePool→Gemm with a weight G whose column y is zero but for
// the row of its carrier channel. The other channels are as active as the
// carrier, and feed the third class. So α_k = G[k,y]/36 is zero but for
// the carrier, and Grad-CAM's map (which the implementation does not
// normalise) is relu(α·A_carrier): the carrier's own map scaled by
// G[carrier,y]/36, and all zero for a carrier with a negative weight.
func TestGradCAMSingleCarrierChannel(t *testing.T) {
	const ch, k, side = 5, 4, 6
	hw := side * side
	r := rand.New(rand.NewPCG(8, 8))
	wc, bc := make([]float32, ch*3), make([]float32, ch)
	for i := range wc {
		wc[i] = float32(r.NormFloat64())
	}
	for i := range bc {
		bc[i] = 0.2 * float32(r.NormFloat64())
	}
	carrier := map[int]int{0: 1, 1: 3, 3: 4}           // class → its one channel
	weight := map[int]float32{0: 2.5, 1: 0.7, 3: -1.2} // that channel's weight
	gw := make([]float32, ch*k)
	for y, c := range carrier {
		gw[c*k+y] = weight[y]
	}
	for c := 0; c < ch; c++ {
		gw[c*k+2] = float32(r.NormFloat64()) // class 2 mixes every channel
	}
	g := testkit.NewGraph(17, 1)
	a := g.Op("Relu", []string{g.Op("Conv", []string{"x", g.Floats([]int64{ch, 3, 1, 1}, wc), g.Floats([]int64{ch}, bc)})})
	logits := g.Op("Gemm", []string{g.Op("Flatten", []string{g.Op("GlobalAveragePool", []string{a})}), g.Floats([]int64{ch, k}, gw), g.Floats([]int64{k}, make([]float32, k))})
	m, err := onnxmodel.LoadData("carrier", testkit.MarshalModel(t, g.Model("x", []int64{3, side, side}, logits, k)), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := randomImages(9, 3*hw)
	for _, y := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("class %d on channel %d", y, carrier[y]), func(t *testing.T) {
			res, err := Explain(context.Background(), m, x, 1, &Options{Method: GradCAM, Classes: []int{y}})
			if err != nil {
				t.Fatal(err)
			}
			c := carrier[y]
			want := make([]float32, hw)
			var peak float32
			for p := range want {
				s := float64(bc[c])
				for ci := 0; ci < 3; ci++ {
					s += float64(wc[c*3+ci]) * float64(x[ci*hw+p])
				}
				want[p] = float32(max(float64(weight[y])/float64(hw)*max(s, 0), 0))
				peak = max(peak, want[p])
			}
			got := res.Map(0)
			if weight[y] < 0 {
				for p, v := range got {
					if v != 0 {
						t.Fatalf("pixel %d: Grad-CAM %g; want 0 for a carrier of negative weight", p, v)
					}
				}
				return
			}
			if peak == 0 {
				t.Fatal("the carrier channel is dead on this image; the test shows nothing")
			}
			if d := testkit.RelL2(got, want); d > 1e-5 {
				t.Fatalf("Grad-CAM differs from the carrier channel's map by rel L2 %g\ngot  %v\nwant %v", d, got, want)
			}
		})
	}
}
