package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// preprocessAffine returns, per channel, the scale and shift that map a
// [0,1] pixel to the model's input: ((x·(r1−r0)+r0) − mean)/std. A zero
// Preprocess (no range, mean or std) is the identity.
func preprocessAffine(p Preprocess, c int) (scale, shift []float32, identity bool) {
	r := p.Range
	if r[1] <= r[0] {
		r = [2]float32{0, 1}
	}
	scale, shift = make([]float32, c), make([]float32, c)
	identity = true
	for i := range scale {
		mean, std := float32(0), float32(1)
		if i < len(p.Mean) {
			mean = p.Mean[i]
		}
		if i < len(p.Std) && p.Std[i] > 0 {
			std = p.Std[i]
		}
		scale[i] = (r[1] - r[0]) / std
		shift[i] = (r[0] - mean) / std
		identity = identity && scale[i] == 1 && shift[i] == 0
	}
	return scale, shift, identity
}

// build emits the gradient graph: preprocessing, the forward nodes, the
// loss and its closed-form gradient, the backward rules in reverse order,
// and the gradient with respect to the [0,1] pixels.
func (x *gradExport) build() (*onnx.ModelProto, error) {
	in := x.spec.Input
	scale, shift, identity := preprocessAffine(x.spec.Preprocess, in.Channels)
	chanDims := []int64{1, int64(in.Channels), 1, 1}
	if in.Layout == NHWC {
		chanDims = []int64{int64(in.Channels)}
	}
	scaleName := ""
	if identity {
		x.opTo("Identity", []string{in.Name}, []string{gradInputName})
	} else {
		scaleName = x.f32s(chanDims, scale)
		scaled := x.op("Mul", []string{in.Name, scaleName})
		x.opTo("Add", []string{scaled, x.f32s(chanDims, shift)}, []string{gradInputName})
	}

	for _, n := range x.nodes {
		if r := gradRules[n.GetOpType()]; x.active[n] && r.prepare != nil {
			if err := r.prepare(&bwdCtx{gradExport: x, n: n}); err != nil {
				return nil, fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
			}
		}
		x.emit.nodes = append(x.emit.nodes, n)
	}

	if x.logits != gradLogitsName {
		x.opTo("Identity", []string{x.logits}, []string{gradLogitsName})
	}
	dz := x.emitLoss()
	if x.diff[x.logits] {
		x.addGrad(x.logits, dz)
	}

	for i := len(x.nodes) - 1; i >= 0; i-- {
		n := x.nodes[i]
		if !x.active[n] {
			continue
		}
		r := gradRules[n.GetOpType()]
		dy := make([]string, len(n.GetOutput()))
		some := false
		for k, o := range n.GetOutput() {
			if o != "" && x.diff[o] && x.need[o] {
				dy[k] = x.gradSum(o, r.broadcastDy)
				some = some || dy[k] != ""
			}
		}
		if !some {
			continue
		}
		if err := r.backward(&bwdCtx{gradExport: x, n: n, dy: dy}); err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
	}

	x.emitFeature()
	g := x.gradOf(gradInputName)
	if g == "" { // the logits do not depend on the image
		g = x.zerosLike(gradInputName)
	}
	if identity {
		x.opTo("Identity", []string{g}, []string{gradGradName})
	} else {
		x.opTo("Mul", []string{g, scaleName}, []string{gradGradName})
	}
	return x.assemble(), nil
}

// assemble wraps the emitted nodes into a model: the classifier's
// initializers that the kept nodes use (shared, not copied) and the
// exporter's constants, the image and target inputs, and the three outputs.
func (x *gradExport) assemble() *onnx.ModelProto {
	src := x.src.GetGraph()
	nodes := liveNodes(x.emit.nodes, append([]string{gradLogitsName, gradLossName, gradGradName}, x.featureOutputNames()...)...)
	used := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			used[in] = true
		}
	}
	g := &onnx.GraphProto{Name: src.GetName() + "_advlab_grad", Node: nodes}
	for _, t := range src.GetInitializer() { // in the file's order
		name := t.GetName()
		if r, ok := x.renamed[name]; ok {
			name = r
		}
		if used[name] {
			g.Initializer = append(g.Initializer, x.inits[name])
			used[name] = false // once, even if the file lists it twice
		}
	}
	g.Initializer = append(g.Initializer, x.emit.inits...)

	var image *onnx.ValueInfoProto
	for _, v := range src.GetInput() {
		if v.GetName() == x.spec.Input.Name {
			image = v
		}
	}
	batch := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	if d := image.GetType().GetTensorType().GetShape().GetDim(); len(d) > 0 {
		batch = d[0]
	}
	k := x.tinfo(x.logits).dims[1]
	value := func(name string, elem onnx.TensorProto_DataType, dims ...*onnx.TensorShapeProto_Dimension) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(elem), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}
	}
	kDim := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: k}}
	g.Input = []*onnx.ValueInfoProto{image, value(gradTargetName, onnx.TensorProto_INT64, batch)}
	g.Output = []*onnx.ValueInfoProto{
		value(gradLogitsName, onnx.TensorProto_FLOAT, batch, kDim),
		value(gradLossName, onnx.TensorProto_FLOAT, batch),
		{Name: gradGradName, Type: image.GetType()},
	}
	g.Output = append(g.Output, x.featureOutputs(batch)...)

	opset := max(x.opset, targetGradOpset)
	var imports []*onnx.OperatorSetIdProto
	for _, op := range x.src.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			imports = append(imports, &onnx.OperatorSetIdProto{Domain: op.GetDomain(), Version: opset})
		} else {
			imports = append(imports, op)
		}
	}
	return &onnx.ModelProto{
		IrVersion:       max(x.src.GetIrVersion(), irVersionFor(opset)),
		OpsetImport:     imports,
		ProducerName:    "advlab gradgraph",
		ProducerVersion: "1",
		Domain:          x.src.GetDomain(),
		DocString:       fmt.Sprintf("Gradient graph (%s loss) of %s, made by advlab.", x.loss, src.GetName()),
		Graph:           g,
		MetadataProps:   x.src.GetMetadataProps(),
	}
}

// liveNodes returns, in their order, the nodes that the outputs depend on.
// A rule may leave a node unused when a later rule computes a gradient
// another way (bwdBatchNorm); an unused node would still run, and its
// extra read of a Conv's output keeps ONNX Runtime from fusing that Conv
// with the node that does use it.
func liveNodes(nodes []*onnx.NodeProto, outputs ...string) []*onnx.NodeProto {
	live := map[string]bool{}
	for _, o := range outputs {
		live[o] = true
	}
	keep := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		for _, o := range nodes[i].GetOutput() {
			keep[i] = keep[i] || (o != "" && live[o])
		}
		if keep[i] {
			for _, in := range nodes[i].GetInput() {
				live[in] = true
			}
		}
	}
	out := make([]*onnx.NodeProto, 0, len(nodes))
	for i, n := range nodes {
		if keep[i] {
			out = append(out, n)
		}
	}
	return out
}

// irVersionFor returns the IR version that goes with a default-domain
// opset (ONNX's versioning table).
func irVersionFor(opset int64) int64 {
	switch {
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	case opset <= 22:
		return 10
	}
	return 11
}
