package saliency

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/advlab/advlab/engine"
)

// Method is an attribution method, named as the CLI spells it.
type Method string

const (
	// Gradient is the vanilla gradient of the class logit with respect to
	// the pixels.
	Gradient Method = "grad"
	// SmoothGrad is the mean gradient over noisy copies of the image.
	SmoothGrad Method = "smoothgrad"
	// IntegratedGradients is (x − x')·the mean gradient along the straight
	// path from a baseline x' to x.
	IntegratedGradients Method = "ig"
	// GradCAM is the ReLU of a feature map's channels weighted by their
	// spatial mean gradient, upsampled to the image.
	GradCAM Method = "gradcam"
)

// Methods lists the attribution methods.
func Methods() []Method { return []Method{Gradient, SmoothGrad, IntegratedGradients, GradCAM} }

// ParseMethod returns the method called s; "gradient" also names Gradient.
func ParseMethod(s string) (Method, error) {
	if s == "gradient" {
		return Gradient, nil
	}
	for _, m := range Methods() {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, 0, 4)
	for _, m := range Methods() {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("unknown attribution method %q; want one of %s", s, strings.Join(names, ", "))
}

// Reduction is how a per-channel attribution becomes one value per pixel.
type Reduction int

const (
	// MaxAbs takes the largest |a_c| over the channels (Simonyan et al.'s
	// saliency map).
	MaxAbs Reduction = iota
	// SumAbs sums |a_c| over the channels.
	SumAbs
)

// Options configures Explain. The zero value is the vanilla gradient of
// each image's top-1 class, reduced by MaxAbs.
type Options struct {
	// Method is the attribution method (Gradient when "").
	Method Method
	// Classes are the classes explained, one per image; nil explains each
	// image's top-1 class.
	Classes []int
	// Samples is SmoothGrad's number of noisy copies (default 32).
	Samples int
	// Sigma is SmoothGrad's noise deviation as a fraction of each image's
	// range max − min (default 0.15, within Smilkov et al.'s 10–20%).
	// Zero gives the vanilla gradient.
	Sigma *float64
	// Steps is Integrated Gradients' number of equal intervals of the path
	// it starts from (default 32), each integrated by the trapezoid rule.
	Steps int
	// Tolerance is the completeness Integrated Gradients refines its grid
	// to (default 1e-3): the absolute sum of the intervals' errors within
	// Tolerance·max(|z_y(x) − z_y(x')|, 1), relative to the logit gap, or
	// absolute in logits where the gap is under one.
	Tolerance float64
	// MaxSteps bounds Integrated Gradients' gradient evaluations per image
	// (default 1024); at or below Steps+1 the grid stays uniform.
	MaxSteps int
	// Baseline is Integrated Gradients' baseline, one image; nil is black.
	Baseline []float32
	// Reduce is how channels are combined (MaxAbs by default). Grad-CAM's
	// map has no channels and ignores it.
	Reduce Reduction
	// Feature is the feature map Grad-CAM explains from; "" is the
	// classifier's default (the last spatial map before global pooling).
	Feature string
	// Seed fixes SmoothGrad's noise.
	Seed uint64
	// BatchSize is the number of images per gradient run (default 32).
	BatchSize int
}

// Result is the attribution of a batch of images.
type Result struct {
	Method Method
	Shape  engine.ImageShape
	// Classes are the classes explained, one per image.
	Classes []int
	// Attributions are the signed per-pixel, per-channel attributions,
	// n×C×H×W; nil for Grad-CAM, whose map lives at the feature map's
	// resolution.
	Attributions []float32
	// Maps are the non-negative attribution maps, n×H×W.
	Maps []float32
	// Completeness is, for Integrated Gradients, per image, the sum of the
	// attributions minus f(x) − f(baseline): zero for the exact integral,
	// the quadrature's error otherwise (Sundararajan et al.'s check).
	Completeness []float64
	// PathSteps is, for Integrated Gradients, per image, the gradient
	// evaluations along the path its adaptive grid took.
	PathSteps []int
	// Feature is the feature map Grad-CAM used.
	Feature string
}

// Map returns image i's map, H×W.
func (r *Result) Map(i int) []float32 {
	hw := r.Shape.Height * r.Shape.Width
	return r.Maps[i*hw : (i+1)*hw]
}

// DefaultOptions returns the options a zero field stands for: the vanilla
// gradient, SmoothGrad's 32 samples at σ = 0.15, Integrated Gradients from
// 32 intervals to completeness 1e-3 in at most 1024 gradients, batches of
// 32. Front-ends show these as their defaults.
func DefaultOptions() Options {
	s := 0.15
	return Options{Method: Gradient, Samples: 32, Sigma: &s, Steps: 32, Tolerance: 1e-3, MaxSteps: 1024, BatchSize: 32}
}

// withDefaults validates the options and fills in defaults.
func (o Options) withDefaults(n int, shape engine.ImageShape) (Options, error) {
	if o.Method == "" {
		o.Method = Gradient
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return o, err
	}
	d := DefaultOptions()
	if o.Samples == 0 {
		o.Samples = d.Samples
	}
	if o.Steps == 0 {
		o.Steps = d.Steps
	}
	if o.Tolerance == 0 {
		o.Tolerance = d.Tolerance
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = d.MaxSteps
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.Sigma == nil {
		o.Sigma = d.Sigma
	}
	switch {
	case o.Samples < 0:
		return o, fmt.Errorf("SmoothGrad samples %d: want a positive number", o.Samples)
	case o.Steps < 0:
		return o, fmt.Errorf("integrated gradients steps %d: want a positive number", o.Steps)
	case !(o.Tolerance > 0) || math.IsInf(o.Tolerance, 0):
		return o, fmt.Errorf("integrated gradients tolerance %v: want a positive fraction of the logit gap", o.Tolerance)
	case o.MaxSteps < 0:
		return o, fmt.Errorf("integrated gradients max steps %d: want a positive number", o.MaxSteps)
	case o.BatchSize < 0:
		return o, fmt.Errorf("batch size %d: want a positive number", o.BatchSize)
	case !(*o.Sigma >= 0) || math.IsInf(*o.Sigma, 0):
		return o, fmt.Errorf("SmoothGrad sigma %v: want a fraction of the image's range, ≥ 0", *o.Sigma)
	case o.Classes != nil && len(o.Classes) != n:
		return o, fmt.Errorf("%d classes for %d images: give one class per image, or none for the top-1", len(o.Classes), n)
	case o.Baseline != nil && len(o.Baseline) != shape.Size():
		return o, fmt.Errorf("the baseline has %d values; want one %d×%d×%d image", len(o.Baseline), shape.Channels, shape.Height, shape.Width)
	case o.Reduce != MaxAbs && o.Reduce != SumAbs:
		return o, fmt.Errorf("unknown channel reduction %d", int(o.Reduce))
	}
	return o, nil
}

// Explain computes the attribution of n images (NCHW in [0,1]) by c for
// the classes of opt (nil opt: the defaults). Every gradient is that of the
// class's logit (engine.Logit), before the softmax, as all four papers use.
func Explain(ctx context.Context, c engine.Classifier, images []float32, n int, opt *Options) (*Result, error) {
	if opt == nil {
		opt = &Options{}
	}
	shape := c.InputShape()
	if n <= 0 || len(images) != n*shape.Size() {
		return nil, fmt.Errorf("attribution: %d values are not %d images of %d×%d×%d", len(images), n, shape.Channels, shape.Height, shape.Width)
	}
	o, err := opt.withDefaults(n, shape)
	if err != nil {
		return nil, fmt.Errorf("attribution: %w", err)
	}
	k := len(c.Labels())
	classes := o.Classes
	if classes == nil {
		if classes, err = topClasses(ctx, c, images, n, o.BatchSize); err != nil {
			return nil, fmt.Errorf("attribution: %w", err)
		}
	}
	for _, y := range classes {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("attribution: class %d outside 0..%d", y, k-1)
		}
	}
	r := &Result{Method: o.Method, Shape: shape, Classes: append([]int(nil), classes...)}
	switch o.Method {
	case Gradient:
		r.Attributions, err = vanilla(ctx, c, images, classes, o.BatchSize)
	case SmoothGrad:
		r.Attributions, err = smoothGrad(ctx, c, images, classes, &o)
	case IntegratedGradients:
		r.Attributions, r.Completeness, r.PathSteps, err = integratedGradients(ctx, c, images, classes, &o)
	case GradCAM:
		r.Maps, r.Feature, err = gradCAM(ctx, c, images, classes, &o)
	}
	if err != nil {
		return nil, fmt.Errorf("attribution (%s): %w", o.Method, err)
	}
	if r.Maps == nil {
		r.Maps = ReduceChannels(r.Attributions, n, shape, o.Reduce)
	}
	return r, nil
}

// ReduceChannels turns n×C×H×W attributions into n×H×W maps.
func ReduceChannels(a []float32, n int, shape engine.ImageShape, red Reduction) []float32 {
	c, hw := shape.Channels, shape.Height*shape.Width
	out := make([]float32, n*hw)
	for i := 0; i < n; i++ {
		img, m := a[i*c*hw:(i+1)*c*hw], out[i*hw:(i+1)*hw]
		for ch := 0; ch < c; ch++ {
			for p, v := range img[ch*hw : (ch+1)*hw] {
				v = float32(math.Abs(float64(v)))
				if red == SumAbs {
					m[p] += v
				} else {
					m[p] = max(m[p], v)
				}
			}
		}
	}
	return out
}

// topClasses returns the top-1 class of each image.
func topClasses(ctx context.Context, c engine.Classifier, images []float32, n, batch int) ([]int, error) {
	size, k := c.InputShape().Size(), len(c.Labels())
	out := make([]int, 0, n)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		z, err := c.Logits(ctx, images[lo*size:hi*size], hi-lo)
		if err != nil {
			return nil, err
		}
		for i := 0; i < hi-lo; i++ {
			out = append(out, engine.Argmax(z[i*k:(i+1)*k]))
		}
	}
	return out, nil
}

// logitGrads returns the gradients of each image's class logit, running
// the classifier on batches of at most batch images, and the logits of
// those classes.
func logitGrads(ctx context.Context, c engine.Classifier, images []float32, classes []int, batch int) (grad []float32, logit []float32, err error) {
	size, n := c.InputShape().Size(), len(classes)
	if n == 0 {
		return nil, nil, errors.New("no image")
	}
	grad = make([]float32, 0, len(images))
	logit = make([]float32, 0, n)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		t := make([]int64, hi-lo)
		for i := range t {
			t[i] = int64(classes[lo+i])
		}
		g, err := c.Gradient(ctx, engine.Logit, images[lo*size:hi*size], t)
		if err != nil {
			return nil, nil, err
		}
		grad = append(grad, g.Grad...)
		logit = append(logit, g.Loss...)
	}
	return grad, logit, nil
}
