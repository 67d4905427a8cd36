package onnxgrad

import (
	"errors"
	"fmt"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// ErrNoGradient is the error, for errors.Is, of a model through which no
// gradient reaches the image: an integer-only quantised model, or one whose
// every path from the image to the logits is cut by an operator of zero
// gradient. A gradient attack on it would report 0% success, which reads as
// "robust"; a black-box attack still works.
var ErrNoGradient = errors.New("the model has no gradient path from the image to the logits; attack it with the black-box --method square, or load a float (unquantised) twin of it")

// noGradientError is ErrNoGradient with where the path is cut.
type noGradientError struct{ where string }

func (e *noGradientError) Error() string {
	return "the model has no gradient path from the image to the logits (" + e.where + "); attack it with the black-box --method square, or load a float (unquantised) twin of it"
}

func (e *noGradientError) Is(target error) bool { return target == ErrNoGradient }

// integerOnlyOps compute in integers from integer inputs: a quantised model
// made of them has no float path for a gradient.
var integerOnlyOps = map[string]bool{
	"QLinearConv": true, "QLinearMatMul": true, "ConvInteger": true, "MatMulInteger": true,
}

// msQuantOps are ONNX Runtime's com.microsoft quantised operators, beyond
// those named QLinear*.
var msQuantOps = map[string]bool{
	"QGemm": true, "QAttention": true, "QEmbedLayerNormalization": true, "DynamicQuantizeMatMul": true,
	"DynamicQuantizeLSTM": true, "MatMulIntegerToFloat": true, "MatMulNBits": true, "MatMulBnb4": true,
	"QOrderedMatMul": true, "QOrderedLayerNormalization": true, "QOrderedGelu": true, "QOrderedAttention": true,
	"QOrderedLongformerAttention": true, "GatherBlockQuantized": true, "QMoE": true,
}

// msDomain is ONNX Runtime's contrib-operator domain.
const msDomain = "com.microsoft"

// customOpError says why a node outside the standard ONNX domain cannot be
// differentiated, or returns nil for the ones the exporter handles: ONNX
// Runtime's QuantizeLinear and DequantizeLinear, a straight-through pair
// like the standard ones. Its quantised operators have no gradient
// (ErrNoGradient); others are refused as custom operators.
func customOpError(n *onnx.NodeProto) error {
	d, op := n.GetDomain(), n.GetOpType()
	if d == "" || d == "ai.onnx" {
		return nil
	}
	if d == msDomain {
		switch {
		case op == "QuantizeLinear" || op == "DequantizeLinear":
			return nil
		case strings.HasPrefix(op, "QLinear") || msQuantOps[op]:
			return &noGradientError{where: fmt.Sprintf("node %q is the integer-only quantised operator %s.%s", n.GetName(), d, op)}
		}
	}
	return fmt.Errorf("node %q is the custom operator %s in domain %q; advlab only differentiates standard ONNX operators and never loads custom-op libraries", n.GetName(), op, d)
}

// pathCut returns an ErrNoGradient naming where the image's dependence
// stops, when the logits depend on the image's values yet no float path
// carries a gradient to them. Logits that only read the image's shape have
// an honest zero gradient, and pass.
func (x *gradExport) pathCut() error {
	if t := x.info[x.logits]; x.diff[x.logits] || t == nil || t.elem != onnx.TensorProto_FLOAT {
		return nil // float logits that depend on the image, or no logits at all (analyse says so)
	}
	consumers := map[string][]*onnx.NodeProto{}
	for _, n := range x.nodes {
		for _, in := range n.GetInput() {
			consumers[in] = append(consumers[in], n)
		}
	}
	var cuts []string
	for _, n := range x.nodes {
		if n.GetOpType() == "Shape" || n.GetOpType() == "Size" || !x.takesImage(n) {
			continue
		}
		cut := true
		for _, o := range n.GetOutput() {
			cut = cut && !x.diff[o]
		}
		if cut {
			cuts = append(cuts, x.describeCut(n, consumers))
		}
	}
	if len(cuts) == 0 {
		return nil
	}
	where := "cut at " + strings.Join(cuts[:min(len(cuts), 3)], "; ")
	if len(cuts) > 3 {
		where += fmt.Sprintf(" and %d more", len(cuts)-3)
	}
	return &noGradientError{where: where}
}

// takesImage reports whether an input of n (or the tensor a straight-through
// node passes its gradient to) depends on the image.
func (x *gradExport) takesImage(n *onnx.NodeProto) bool {
	if x.diff[x.straightSource(n)] {
		return true
	}
	for _, in := range n.GetInput() {
		if in != "" && x.diff[in] {
			return true
		}
	}
	return false
}

// describeCut says why the image's dependence stops at n.
func (x *gradExport) describeCut(n *onnx.NodeProto, consumers map[string][]*onnx.NodeProto) string {
	s := fmt.Sprintf("%s node %q", n.GetOpType(), n.GetName())
	for _, o := range n.GetOutput() {
		for _, m := range consumers[o] {
			if integerOnlyOps[m.GetOpType()] {
				return s + fmt.Sprintf(", whose output feeds the integer-only %s node %q", m.GetOpType(), m.GetName())
			}
		}
	}
	switch op := n.GetOpType(); {
	case strings.HasPrefix(op, "Random") || op == "Bernoulli":
		return s + ", which is random"
	case zeroGradOps[op]:
		return s + ", whose gradient is zero almost everywhere"
	}
	if len(n.GetOutput()) > 0 {
		if t := x.info[n.GetOutput()[0]]; t != nil {
			return s + fmt.Sprintf(", whose output is %s", t.elem)
		}
	}
	return s
}
