package engine

import (
	"errors"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// GraphSpec tells the gradient-graph exporter what a classifier graph's image
// input and logits output are, and the preprocessing to fold in front of it.
type GraphSpec struct {
	Input      InputSpec
	Logits     string
	Preprocess Preprocess
	NumClasses int
}

// ExportGradientGraph builds, from a classifier graph, one ONNX graph whose
// inputs are the image input (same name and shape, in [0,1] pixels) and
// "target" (int64 [N]), and whose outputs are "logits" [N,K], "loss" [N] and
// "grad" (the gradient of the sum of loss with respect to the image input).
func ExportGradientGraph(model *onnx.ModelProto, spec GraphSpec, loss LossKind) (*onnx.ModelProto, error) {
	return nil, errors.New("gradient graph exporter: under construction")
}
