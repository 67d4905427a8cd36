package enginebackend

import (
	"context"
	"fmt"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// Explain computes the attribution map of req's image, resized to the
// model's input as Predict does, for its top-1 class with saliency.Explain,
// and the share of it inside the patch (saliency.Coverage at the same
// placement). The map comes back at the image's own size.
func (Backend) Explain(ctx context.Context, req gui.SaliencyRequest) (*gui.SaliencyResult, error) {
	em, err := asEngine(req.Model)
	if err != nil {
		return nil, err
	}
	if req.Image == nil {
		return nil, fmt.Errorf("attribution: no image; open one first")
	}
	s := em.m.InputShape()
	x, _ := imgops.ImageToTensor(req.Image, s.Channels, s.Height, s.Width)
	var c engine.Classifier = lockedModel(em)
	if _, ok := any(em.m).(engine.FeatureGradienter); ok {
		c = lockedFeatures{lockedModel(em)}
	}
	r, err := saliency.Explain(ctx, c, x, 1, &saliency.Options{Method: req.Method})
	if err != nil {
		return nil, err
	}
	m := r.Map(0)
	b := req.Image.Bounds()
	res := &gui.SaliencyResult{Method: r.Method, Class: r.Classes[0], Width: b.Dx(), Height: b.Dy(),
		Map: resizeMap(m, s.Width, s.Height, b.Dx(), b.Dy())}
	if req.Patch != nil {
		cov, err := saliency.Coverage(req.Patch, s.Height, s.Width, []imgops.Transform{req.Placement.Transform(req.Patch, s.Width, s.Height)})
		if err != nil {
			return nil, err
		}
		share, err := saliency.RegionShare(m, cov)
		if err != nil {
			return nil, err
		}
		res.Share = &share
	}
	return res, nil
}

// resizeMap resamples a w×h map to dw×dh bilinearly, pixel centres on
// pixel centres. Written here because the image resamplers work on 8- or
// 16-bit colours and a map is a float grid of any range.
func resizeMap(m []float32, w, h, dw, dh int) []float32 {
	out := make([]float32, dw*dh)
	at := func(x, y int) float32 { return m[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)] }
	for j := 0; j < dh; j++ {
		fy := (float64(j)+0.5)*float64(h)/float64(dh) - 0.5
		y0 := int(fy)
		if fy < 0 {
			y0 = -1
		}
		ty := float32(fy - float64(y0))
		for i := 0; i < dw; i++ {
			fx := (float64(i)+0.5)*float64(w)/float64(dw) - 0.5
			x0 := int(fx)
			if fx < 0 {
				x0 = -1
			}
			tx := float32(fx - float64(x0))
			top := at(x0, y0)*(1-tx) + at(x0+1, y0)*tx
			bot := at(x0, y0+1)*(1-tx) + at(x0+1, y0+1)*tx
			out[j*dw+i] = top*(1-ty) + bot*ty
		}
	}
	return out
}

// lockedFeatures is locked for a model that differentiates its feature
// maps, as Grad-CAM needs.
type lockedFeatures struct{ locked }

func (l lockedFeatures) DefaultFeature() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.(engine.FeatureGradienter).DefaultFeature()
}

func (l lockedFeatures) FeatureGradient(ctx context.Context, loss engine.LossKind, feature string, images []float32, targets []int64) (engine.FeatureGradients, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.(engine.FeatureGradienter).FeatureGradient(ctx, loss, feature, images, targets)
}
