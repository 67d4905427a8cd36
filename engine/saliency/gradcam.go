package saliency

import (
	"context"
	"fmt"

	"github.com/advlab/advlab/engine"
)

// gradCAM returns Selvaraju et al.'s map per image: with A the feature map
// [C,h,w] and α_k the spatial mean of ∂z_y/∂A_k, ReLU(Σ_k α_k A_k), brought
// to the image's size by bilinear interpolation between the map's cell
// centres.
func gradCAM(ctx context.Context, c engine.Classifier, images []float32, classes []int, o *Options) ([]float32, string, error) {
	fg, ok := c.(engine.FeatureGradienter)
	if !ok {
		return nil, "", fmt.Errorf("%s cannot differentiate an internal feature map; Grad-CAM needs an ONNX model", c.Name())
	}
	feature := o.Feature
	if feature == "" {
		var err error
		if feature, err = fg.DefaultFeature(); err != nil {
			return nil, "", err
		}
	}
	shape := c.InputShape()
	size, hw := shape.Size(), shape.Height*shape.Width
	out := make([]float32, 0, len(classes)*hw)
	for lo := 0; lo < len(classes); lo += o.BatchSize {
		hi := min(lo+o.BatchSize, len(classes))
		t := make([]int64, hi-lo)
		for i := range t {
			t[i] = int64(classes[lo+i])
		}
		g, err := fg.FeatureGradient(ctx, engine.Logit, feature, images[lo*size:hi*size], t)
		if err != nil {
			return nil, "", err
		}
		fs := g.FeatureShape
		for i := range t {
			a := g.Feature[i*fs.Size() : (i+1)*fs.Size()]
			d := g.FeatureGrad[i*fs.Size() : (i+1)*fs.Size()]
			out = append(out, Upsample(camMap(a, d, fs), fs.Height, fs.Width, shape.Height, shape.Width)...)
		}
	}
	return out, feature, nil
}

// camMap is ReLU(Σ_k α_k A_k) at the feature map's resolution, α_k the
// spatial mean of the gradient dA_k.
func camMap(a, d []float32, fs engine.ImageShape) []float32 {
	hw := fs.Height * fs.Width
	m := make([]float64, hw)
	for k := 0; k < fs.Channels; k++ {
		var alpha float64
		for _, v := range d[k*hw : (k+1)*hw] {
			alpha += float64(v)
		}
		alpha /= float64(hw)
		for p, v := range a[k*hw : (k+1)*hw] {
			m[p] += alpha * float64(v)
		}
	}
	out := make([]float32, hw)
	for p, v := range m {
		out[p] = float32(max(v, 0))
	}
	return out
}

// Upsample resizes an h×w map to H×W by bilinear interpolation, a map cell
// covering H/h × W/w pixels with its value at its centre (edges clamped),
// as image resizers do. x/image/draw resamples images, not float maps, and
// would round Grad-CAM's values to 8 or 16 bits.
func Upsample(m []float32, h, w, H, W int) []float32 {
	out := make([]float32, H*W)
	coord := func(i, from, to int) (int, int, float32) {
		f := (float32(i)+0.5)*float32(from)/float32(to) - 0.5
		f = min(max(f, 0), float32(from-1))
		i0 := int(f)
		i1 := min(i0+1, from-1)
		return i0, i1, f - float32(i0)
	}
	for y := 0; y < H; y++ {
		y0, y1, fy := coord(y, h, H)
		for x := 0; x < W; x++ {
			x0, x1, fx := coord(x, w, W)
			top := m[y0*w+x0]*(1-fx) + m[y0*w+x1]*fx
			bot := m[y1*w+x0]*(1-fx) + m[y1*w+x1]*fx
			out[y*W+x] = top*(1-fy) + bot*fy
		}
	}
	return out
}
