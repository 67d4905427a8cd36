package onnxmodel

import (
	"fmt"
	"math"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/engine/onnxgrad"
)

// logitsName is the canonical graph's only output: [N, K] logits.
const logitsName = "advlab_logits"

// probabilityFloor bounds log p below when a model outputs probabilities
// with no Softmax node to read the logits from: log max(p, floor).
const probabilityFloor = 1e-30

// passThrough are the operators a class output may pass through after its
// Softmax without changing its values.
var passThrough = map[string]bool{"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Identity": true}

// scoreReaders are operators that turn class scores into labels or maps;
// advlab reads the scores they take.
var scoreReaders = map[string]bool{"ArgMax": true, "ArgMin": true, "ZipMap": true, "TopK": true, "CastMap": true}

// classOutput is the tensor advlab reads class scores from, and how.
type classOutput struct {
	declared string // the graph output chosen
	scores   string // the float tensor with the class scores
	logits   string // the tensor to differentiate as logits ("" until found)
	kind     modelconfig.Output
	from     string
}

// chooseOutput picks the graph output with the class scores and finds the
// logits behind it: the input of a final Softmax or LogSoftmax when there is
// one, through reshapes.
func (m *Model) chooseOutput(g *onnx.GraphProto) (classOutput, error) {
	producer := map[string]*onnx.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
	}
	type cand struct {
		name, scores, via string
		rank              int
	}
	var cands []cand
	var names []string
	for _, o := range g.GetOutput() {
		names = append(names, o.GetName())
		et := o.GetType().GetTensorType().GetElemType()
		if o.GetType().GetTensorType() != nil && et == int32(onnx.TensorProto_FLOAT) {
			cands = append(cands, cand{name: o.GetName(), scores: o.GetName(), rank: len(onnxgrad.Dims(o))})
			continue
		}
		if p := producer[o.GetName()]; p != nil && scoreReaders[p.GetOpType()] && len(p.GetInput()) > 0 {
			cands = append(cands, cand{name: o.GetName(), scores: p.GetInput()[0], via: p.GetOpType(), rank: -1})
		}
	}
	if len(cands) == 0 {
		return classOutput{}, fmt.Errorf("none of the model's outputs (%s) holds float class scores; advlab needs logits or probabilities [N, K]", nameList(names))
	}
	pick := -1
	if len(cands) == 1 {
		pick = 0
	}
	for _, word := range []string{"logit", "prob", "score", "softmax", "output"} {
		for i, c := range cands {
			if pick < 0 && strings.Contains(strings.ToLower(c.name), word) {
				pick = i
			}
		}
	}
	for i, c := range cands {
		if pick < 0 && c.rank == 2 {
			pick = i
		}
	}
	if pick < 0 {
		pick = 0
		m.info.Notes = append(m.info.Notes, fmt.Sprintf("the model has %d outputs; advlab reads %q", len(g.GetOutput()), cands[0].name))
	}
	c := cands[pick]
	out := classOutput{declared: c.name, scores: c.scores}
	if c.via != "" {
		m.info.Notes = append(m.info.Notes, fmt.Sprintf("output %q is computed by %s; advlab reads the scores %q it takes", c.name, c.via, c.scores))
	}
	// Trace back through reshapes to a Softmax or LogSoftmax.
	t := c.scores
	for {
		p := producer[t]
		if p == nil {
			break
		}
		op := p.GetOpType()
		if op == "Softmax" || op == "LogSoftmax" {
			out.logits = p.GetInput()[0]
			out.kind = modelconfig.Probabilities
			if op == "LogSoftmax" {
				out.kind = modelconfig.LogProbabilities
			}
			out.from = fmt.Sprintf("a %s node (%q) ends the graph; advlab differentiates its input as the logits", op, p.GetName())
			break
		}
		if !passThrough[op] || len(p.GetInput()) == 0 {
			break
		}
		t = p.GetInput()[0]
	}
	if k := m.cfg.Output; k != "" {
		switch {
		case out.logits != "" && k != modelconfig.Logits:
			out.kind, out.from = k, out.from+" (the configuration agrees)"
		default:
			out.logits, out.kind = "", k
			out.from = "the configuration's \"output\" says so"
		}
	}
	return out, nil
}

// finishOutput appends the nodes that turn the class scores into [N, K]
// logits named logitsName, from what a probe run showed: the scores' and
// logits' shapes and values on batch images. It returns K.
func (m *Model) finishOutput(g *onnx.GraphProto, out *classOutput, pr probeResult, batch int) (int, error) {
	scores := pr.values[out.scores]
	if out.logits == "" && out.kind == "" {
		out.kind, out.from = guessKind(scores, pr.shapes[out.scores], batch)
	}
	src := out.logits
	if src == "" {
		src = out.scores
	}
	shape := pr.shapes[src]
	k, err := perImage(shape, batch)
	if err != nil {
		return 0, fmt.Errorf("output %q: %w", out.declared, err)
	}
	if sk, err := perImage(pr.shapes[out.scores], batch); err != nil || sk != k {
		return 0, fmt.Errorf("output %q has shape %v but its logits %q have %v; advlab needs one score per class", out.declared, pr.shapes[out.scores], src, shape)
	}
	if k < 2 {
		return 0, fmt.Errorf("output %q has %d class; advlab needs a classifier of two classes or more", out.declared, k)
	}
	var nodes []*onnx.NodeProto
	cur := src
	step := func(op string, inputs []string, attrs ...*onnx.AttributeProto) {
		o := fmt.Sprintf("%s_%d", logitsName, len(nodes))
		nodes = append(nodes, &onnx.NodeProto{Name: o, OpType: op, Input: inputs, Output: []string{o}, Attribute: attrs})
		cur = o
	}
	constant := func(t *onnx.TensorProto) string {
		t.Name = fmt.Sprintf("%s_const_%d", logitsName, len(g.Initializer))
		g.Initializer = append(g.Initializer, t)
		return t.Name
	}
	if out.logits == "" && out.kind == modelconfig.Probabilities {
		// log p is a logit vector of p: softmax(log p) = p.
		step("Clip", []string{cur, constant(onnxproto.Float32Tensor(nil, []float32{probabilityFloor})), constant(onnxproto.Float32Tensor(nil, []float32{2}))})
		step("Log", []string{cur})
		out.from += fmt.Sprintf("; advlab takes log max(p, %g) as the logits", probabilityFloor)
	}
	switch len(shape) {
	case 1:
		step("Unsqueeze", []string{cur, constant(onnxproto.Int64Tensor([]int64{1}, []int64{0}))})
	case 2:
	default:
		step("Flatten", []string{cur}, onnxproto.AttrInt("axis", 1))
	}
	step("Identity", []string{cur})
	nodes[len(nodes)-1].Output[0] = logitsName
	g.Node = append(g.Node, nodes...)
	batchDim := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	if m.input.Batch > 0 {
		batchDim = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(m.input.Batch)}}
	}
	g.Output = []*onnx.ValueInfoProto{{Name: logitsName, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT),
		Shape: &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{batchDim,
			{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(k)}}}},
	}}}}}
	return k, nil
}

// perImage returns the number of values per image of a tensor of shape on a
// batch: the product of its trailing dimensions, or the whole of a rank-1
// tensor on a batch of one.
func perImage(shape []int64, batch int) (int, error) {
	switch {
	case len(shape) == 0:
		return 0, fmt.Errorf("is a scalar; advlab needs one score per class")
	case len(shape) == 1 && batch == 1:
		return int(shape[0]), nil
	case shape[0] != int64(batch):
		return 0, fmt.Errorf("has shape %v on a batch of %d; advlab needs the batch first", shape, batch)
	}
	k := int64(1)
	for _, d := range shape[1:] {
		k *= d
	}
	return int(k), nil
}

// guessKind tells logits from probabilities and log-probabilities by their
// values on the probe images: rows of non-negative values that sum to one
// are probabilities, rows whose exponentials sum to one log-probabilities.
func guessKind(v []float32, shape []int64, batch int) (modelconfig.Output, string) {
	k, err := perImage(shape, batch)
	if err != nil || k < 2 || len(v) != k*batch {
		return modelconfig.Logits, "taken as logits"
	}
	probs, logProbs := true, true
	for i := 0; i < batch; i++ {
		row := v[i*k : (i+1)*k]
		var s, e float64
		for _, x := range row {
			if x < 0 {
				probs = false
			}
			if x > 0 {
				logProbs = false
			}
			s += float64(x)
			e += math.Exp(float64(x))
		}
		probs = probs && math.Abs(s-1) < 1e-3
		logProbs = logProbs && math.Abs(e-1) < 1e-3
	}
	const how = " on %d probe images (set \"output\" in a sidecar if this is wrong)"
	switch {
	case probs:
		return modelconfig.Probabilities, fmt.Sprintf("every row was non-negative and summed to 1"+how, batch)
	case logProbs:
		return modelconfig.LogProbabilities, fmt.Sprintf("every row's exponentials summed to 1"+how, batch)
	}
	return modelconfig.Logits, fmt.Sprintf("rows did not sum to 1 as probabilities would"+how, batch)
}
