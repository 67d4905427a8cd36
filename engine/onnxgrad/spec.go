package onnxgrad

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
)

// Layout is the order of an image input's dimensions.
type Layout string

const (
	// NCHW is batch, channels, height, width: PyTorch's order.
	NCHW Layout = "NCHW"
	// NHWC is batch, height, width, channels: TensorFlow's order.
	NHWC Layout = "NHWC"
)

// InputSpec describes a classifier's image input.
type InputSpec struct {
	Name   string
	Layout Layout
	engine.ImageShape
	// Batch is the fixed batch size the graph demands, or 0 when it is dynamic.
	Batch int
}

// Preprocess is how a [0,1] pixel x becomes the model's input:
// ((x·(Range[1]−Range[0]) + Range[0]) − Mean[c]) / Std[c].
type Preprocess struct {
	Range [2]float32
	Mean  []float32 // per channel, in Range's units
	Std   []float32 // per channel, in Range's units
}

// IsIdentity reports whether the preprocessing leaves [0,1] pixels unchanged.
func (p Preprocess) IsIdentity() bool {
	if p.Range != [2]float32{0, 1} {
		return false
	}
	for i := range p.Mean {
		if p.Mean[i] != 0 || p.Std[i] != 1 {
			return false
		}
	}
	return true
}

// GraphInputs returns the graph's inputs that are not initializers.
func GraphInputs(g *onnx.GraphProto) []*onnx.ValueInfoProto {
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var out []*onnx.ValueInfoProto
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			out = append(out, in)
		}
	}
	return out
}

// Dims returns a value's static dimensions, with -1 for a dynamic one.
func Dims(v *onnx.ValueInfoProto) []int64 {
	var out []int64
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if d.GetDimParam() != "" || d.GetDimValue() <= 0 {
			out = append(out, -1)
		} else {
			out = append(out, d.GetDimValue())
		}
	}
	return out
}
