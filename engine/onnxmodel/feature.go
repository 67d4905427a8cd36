package onnxmodel

import (
	"context"
	"fmt"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/onnxgrad"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// featureKey names one gradient graph with feature outputs.
type featureKey struct {
	loss    engine.LossKind
	feature string
}

// DefaultFeature names the feature map Grad-CAM explains by default: the
// last spatial [N,C,H,W] map of the canonical graph that enters global
// pooling (onnxgrad.DefaultFeature). It is found once and remembered.
func (m *Model) DefaultFeature() (string, error) {
	m.runner.mu.Lock()
	defer m.runner.mu.Unlock()
	if m.runner.feature != "" {
		return m.runner.feature, nil
	}
	f, err := onnxgrad.DefaultFeature(m.proto, m.GraphSpec())
	if err != nil {
		return "", fmt.Errorf("%s: %w", m.name, err)
	}
	m.runner.feature = f.Name
	return f.Name, nil
}

// FeatureGradientGraph exports the model's gradient graph for loss that
// also outputs the internal tensor feature and its gradient, serialised.
func (m *Model) FeatureGradientGraph(loss engine.LossKind, feature string) ([]byte, error) {
	spec := m.GraphSpec()
	spec.Feature = feature
	g, err := onnxgrad.Export(m.proto, spec, loss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	data, err := proto.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("serialising the gradient graph of %s: %w", m.name, err)
	}
	return data, nil
}

func (m *Model) featureSession(k featureKey) (*ort.DynamicAdvancedSession, error) {
	m.runner.mu.Lock()
	defer m.runner.mu.Unlock()
	if s := m.runner.features[k]; s != nil {
		return s, nil
	}
	data, err := m.FeatureGradientGraph(k.loss, k.feature)
	if err != nil {
		return nil, err
	}
	s, err := onnxrt.NewSession(data, []string{m.input.Name, "target"},
		[]string{"logits", "loss", "grad", onnxgrad.FeatureOutput, onnxgrad.FeatureGradOutput})
	if err != nil {
		return nil, fmt.Errorf("loading the gradient graph of %s into ONNX Runtime: %w", m.name, err)
	}
	if m.runner.features == nil {
		m.runner.features = map[featureKey]*ort.DynamicAdvancedSession{}
	}
	m.runner.features[k] = s
	return s, nil
}

// FeatureGradient is Gradient, also returning the value of the internal
// tensor feature (a [N,C,H,W] map of the canonical graph, as the graph lays
// it out) and the gradient of the summed loss with respect to it.
func (m *Model) FeatureGradient(ctx context.Context, loss engine.LossKind, feature string, images []float32, targets []int64) (engine.FeatureGradients, error) {
	n := len(targets)
	if err := m.checkBatch(images, n); err != nil {
		return engine.FeatureGradients{}, err
	}
	for _, t := range targets {
		if t < 0 || int(t) >= len(m.labels) {
			return engine.FeatureGradients{}, fmt.Errorf("%s: target class %d outside 0..%d", m.name, t, len(m.labels)-1)
		}
	}
	k := featureKey{loss, feature}
	size, nk := m.input.Size(), len(m.labels)
	var g engine.FeatureGradients
	err := m.eachChunk(ctx, images, targets, func(x []float32, t []int64, real int) error {
		c, err := m.featureGradient(k, x, t)
		if err != nil {
			return err
		}
		fs := c.FeatureShape.Size()
		g.Logits = append(g.Logits, c.Logits[:real*nk]...)
		g.Loss = append(g.Loss, c.Loss[:real]...)
		g.Grad = append(g.Grad, c.Grad[:real*size]...)
		g.Feature = append(g.Feature, c.Feature[:real*fs]...)
		g.FeatureGrad = append(g.FeatureGrad, c.FeatureGrad[:real*fs]...)
		g.FeatureShape = c.FeatureShape
		return nil
	})
	if err != nil {
		return engine.FeatureGradients{}, err
	}
	return g, nil
}

// featureGradient runs a feature gradient session once.
func (m *Model) featureGradient(k featureKey, images []float32, targets []int64) (engine.FeatureGradients, error) {
	n := len(targets)
	s, err := m.featureSession(k)
	if err != nil {
		return engine.FeatureGradients{}, err
	}
	in, err := m.inputTensor(images, n, func(_ int, x float32) float32 { return x })
	if err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s: %w", m.name, err)
	}
	defer in.Destroy()
	tgt, err := ort.NewTensor(ort.NewShape(int64(n)), append([]int64(nil), targets...))
	if err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s: %w", m.name, err)
	}
	defer tgt.Destroy()
	outs := make([]ort.Value, 5)
	if err := s.Run([]ort.Value{in, tgt}, outs); err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("running the gradient graph of %s: %w", m.name, err)
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	shape := outs[3].GetShape()
	if len(shape) != 4 || shape[0] != int64(n) {
		return engine.FeatureGradients{}, fmt.Errorf("%s: the feature %q has shape %v; Grad-CAM needs a [N,C,H,W] feature map: name one", m.name, k.feature, shape)
	}
	var g engine.FeatureGradients
	g.FeatureShape = engine.ImageShape{Channels: int(shape[1]), Height: int(shape[2]), Width: int(shape[3])}
	fs := n * g.FeatureShape.Size()
	if g.Logits, err = floatData(outs[0], n*len(m.labels)); err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s logits: %w", m.name, err)
	}
	if g.Loss, err = floatData(outs[1], n); err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s loss: %w", m.name, err)
	}
	grad, err := floatData(outs[2], len(images))
	if err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s grad: %w", m.name, err)
	}
	g.Grad = m.toNCHW(grad, n)
	if g.Feature, err = floatData(outs[3], fs); err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s feature: %w", m.name, err)
	}
	if g.FeatureGrad, err = floatData(outs[4], fs); err != nil {
		return engine.FeatureGradients{}, fmt.Errorf("%s feature gradient: %w", m.name, err)
	}
	return g, nil
}

// Compile-time check that a Model can explain its feature maps.
var _ engine.FeatureGradienter = (*Model)(nil)
