package onnxgrad

import (
	"errors"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
)

// The outputs a gradient graph has when its Spec names a Feature: the
// feature tensor's value and the gradient of the summed loss with respect to
// it, both shaped like the tensor. Grad-CAM (Selvaraju et al. 2017) weighs a
// feature map's channels by the spatial mean of this gradient.
const (
	FeatureOutput     = "feature"
	FeatureGradOutput = "feature_grad"
)

// reserved reports whether a classifier tensor called s must be renamed out
// of the way of the gradient graph's own inputs and outputs. The feature
// outputs are reserved only when the graph has them, so that a graph without
// a Feature is exactly what it was before features existed.
func (x *gradExport) reserved(s string) bool {
	if reservedNames[s] {
		return true
	}
	return x.spec.Feature != "" && (s == FeatureOutput || s == FeatureGradOutput)
}

// checkFeature rejects a Feature that is not a float32 tensor on the path
// from the image to the logits: its gradient would be undefined or zero.
func (x *gradExport) checkFeature() error {
	if x.feature == "" {
		return nil
	}
	if x.feature == gradInputName {
		return fmt.Errorf("the feature %q is the image input; use the input gradient instead", x.spec.Feature)
	}
	t := x.info[x.feature]
	if t == nil {
		return fmt.Errorf("the feature %q is not a tensor the logits are computed from; name a tensor of the model's graph (advlab inspect lists them)", x.spec.Feature)
	}
	if t.elem != onnx.TensorProto_FLOAT {
		return fmt.Errorf("the feature %q is %s, not float32", x.spec.Feature, t.elem)
	}
	if !x.diff[x.feature] || !x.need[x.feature] {
		return fmt.Errorf("the feature %q does not lie on the path from the image to the logits, so it has no gradient; pick a tensor both depend on", x.spec.Feature)
	}
	return nil
}

// emitFeature emits the feature outputs, after the backward pass has
// summed the feature's gradient.
func (x *gradExport) emitFeature() {
	if x.feature == "" {
		return
	}
	g := x.gradOf(x.feature) // checkFeature made sure one reaches it
	x.opTo("Identity", []string{x.feature}, []string{FeatureOutput})
	x.opTo("Identity", []string{g}, []string{FeatureGradOutput})
}

// featureOutputNames returns the feature outputs' names, or none.
func (x *gradExport) featureOutputNames() []string {
	if x.feature == "" {
		return nil
	}
	return []string{FeatureOutput, FeatureGradOutput}
}

// featureOutputs returns the value infos of the feature outputs, or none:
// the probed shape, with batch for the dimensions that follow the batch.
func (x *gradExport) featureOutputs(batch *onnx.TensorShapeProto_Dimension) []*onnx.ValueInfoProto {
	if x.feature == "" {
		return nil
	}
	t := x.info[x.feature]
	dims := make([]*onnx.TensorShapeProto_Dimension, len(t.dims))
	for i, d := range t.dims {
		dims[i] = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		if t.dyn[i] {
			dims[i] = batch
		}
	}
	var out []*onnx.ValueInfoProto
	for _, name := range x.featureOutputNames() {
		out = append(out, &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}}}}})
	}
	return out
}

// FeatureMap is an internal tensor of a classifier that Grad-CAM can
// explain from: a spatial feature map [N, C, H, W].
type FeatureMap struct {
	// Name is the tensor's name in the classifier's graph.
	Name string
	// Channels, Height and Width are its size per image.
	Channels, Height, Width int
}

// DefaultFeature finds the feature map Grad-CAM uses by default: the last
// 4-D float tensor on the path from the image to the logits, in the graph's
// order, that enters a GlobalAveragePool, ReduceMean or Flatten and still
// has more than one spatial position (a [N,C,1,1] tensor after pooling has
// nothing left to localise). The tensor is taken to be NCHW, as such
// operators see it in PyTorch exports. Like Export, it probes tensor shapes
// with ONNX Runtime.
func DefaultFeature(model *onnx.ModelProto, spec Spec) (FeatureMap, error) {
	spec.Feature = ""
	x, err := newGradExport(model, spec, engine.Logit)
	if err != nil {
		return FeatureMap{}, fmt.Errorf("finding the feature map: %w", err)
	}
	if err := x.probe(); err != nil {
		return FeatureMap{}, fmt.Errorf("finding the feature map: probing tensor shapes: %w", err)
	}
	if err := x.analyse(); err != nil {
		return FeatureMap{}, fmt.Errorf("finding the feature map: %w", err)
	}
	var found FeatureMap
	for _, n := range x.nodes {
		switch n.GetOpType() {
		case "GlobalAveragePool", "ReduceMean", "Flatten":
		default:
			continue
		}
		in := n.GetInput()[0]
		t := x.info[in]
		if in == gradInputName || !x.active[n] || !x.need[in] || t == nil || t.elem != onnx.TensorProto_FLOAT || len(t.dims) != 4 || t.dims[2]*t.dims[3] < 2 {
			continue
		}
		found = FeatureMap{Name: x.orig(in), Channels: int(t.dims[1]), Height: int(t.dims[2]), Width: int(t.dims[3])}
	}
	if found.Name == "" {
		return FeatureMap{}, errors.New("finding the feature map: no 4-D tensor with a spatial extent enters a GlobalAveragePool, ReduceMean or Flatten on the way to the logits; name the feature tensor yourself")
	}
	return found, nil
}
