package engine

import "context"

// FeatureGradients is the result of one fused forward and backward run that
// also differentiates an internal tensor of the classifier.
type FeatureGradients struct {
	Gradients
	// Feature is the internal tensor's value for the n images, n×C×H×W;
	// FeatureGrad is the gradient of the sum of Loss with respect to it.
	Feature, FeatureGrad []float32
	// FeatureShape is the tensor's size per image.
	FeatureShape ImageShape
}

// FeatureGradienter is a Classifier that can also differentiate with
// respect to one of its internal feature maps, as Grad-CAM (Selvaraju et al.
// 2017) needs. It is optional: attacks only need Classifier.
type FeatureGradienter interface {
	Classifier
	// DefaultFeature names the feature map explained by default: the last
	// spatial map [N,C,H,W] before global pooling.
	DefaultFeature() (string, error)
	// FeatureGradient is Gradient, also returning the value and gradient of
	// the internal tensor called feature, which must be a [N,C,H,W] map.
	FeatureGradient(ctx context.Context, loss LossKind, feature string, images []float32, targets []int64) (FeatureGradients, error)
}
