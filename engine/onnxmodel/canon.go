package onnxmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// canonicalise brings an upgraded float32 model to advlab's canonical form
// (see Model) and records what it found and chose in m.info.
func (m *Model) canonicalise(mp *onnx.ModelProto) error {
	g := mp.GetGraph()
	sparseToConstants(g)
	in, err := m.findInput(g)
	if err != nil {
		return err
	}
	if m.pre, err = m.cfg.Resolve(m.input.Channels); err != nil {
		return err
	}
	m.gpre = gradPreprocess(m.pre)
	m.info.Preprocessing = m.pre.Describe()
	front := m.frontNodes(g, in)
	g.Node = append(front, g.Node...)
	out, err := m.chooseOutput(g)
	if err != nil {
		return err
	}
	m.info.OutputName = out.declared
	// A probe run on a few images gives the shapes and values the graph's
	// declared types may not: how many classes, and what the scores are.
	batch := max(m.input.Batch, 1)
	if m.input.Batch == 0 {
		batch = 2
	}
	names := []string{out.scores}
	if out.logits != "" && out.logits != out.scores {
		names = append(names, out.logits)
	}
	pr, err := m.probe(mp, names, batch)
	if err != nil {
		return err
	}
	k, err := m.finishOutput(g, &out, pr, batch)
	if err != nil {
		return err
	}
	m.info.Output, m.info.OutputFrom = out.kind, out.from
	m.info.Logits = out.logits
	if m.info.Logits == "" {
		m.info.Logits = out.scores
	}
	// value_info of the original graph may contradict the rewritten one.
	g.ValueInfo = nil
	if err := m.chooseLabels(k); err != nil {
		return err
	}
	m.proto = mp
	return m.chooseBatching()
}

// probeResult is what one forward run of named tensors gave.
type probeResult struct {
	shapes map[string][]int64
	values map[string][]float32
}

// probe runs the graph on batch seeded random images and returns the shapes
// and values of the named float tensors.
func (m *Model) probe(mp *onnx.ModelProto, names []string, batch int) (probeResult, error) {
	pm := proto.Clone(mp).(*onnx.ModelProto)
	pg := pm.GetGraph()
	pg.Output = nil
	for _, n := range names {
		pg.Output = append(pg.Output, &onnx.ValueInfoProto{Name: n, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}}}})
	}
	pg.ValueInfo = nil
	outs, err := m.runGraph(pm, names, probeImages(m.input.Size(), batch), batch)
	if err != nil {
		return probeResult{}, explainRuntimeError(fmt.Errorf("running the model on a probe batch: %w", err))
	}
	pr := probeResult{shapes: map[string][]int64{}, values: map[string][]float32{}}
	for i, n := range names {
		pr.shapes[n], pr.values[n] = outs[i].shape, outs[i].data
	}
	return pr, nil
}

// unsupportedOp finds the operator in ONNX Runtime's words for a graph it
// has no kernel for: an operator it does not know at the model's opset, or
// one of a custom domain.
var unsupportedOp = regexp.MustCompile(`No Op registered for (\S+)|Could not find an implementation for (\S+?)\(|(\S+) is not a registered function/op`)

// explainRuntimeError adds to ONNX Runtime's refusal of an unsupported
// operator what the user can do about it; other errors pass unchanged.
func explainRuntimeError(err error) error {
	m := unsupportedOp.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return fmt.Errorf("%w; ONNX Runtime cannot run the operator %s: export the model again using only standard ONNX operators (torch.onnx.export with opset_version between 11 and 17, no custom ops), or replace that layer", err, m[1]+m[2]+m[3])
}

// probeImages returns n seeded random NCHW images in [0,1].
func probeImages(size, n int) []float32 {
	rng := rand.New(rand.NewPCG(20131221, 2017))
	x := make([]float32, size*n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// tensorOut is one output of a graph run.
type tensorOut struct {
	shape []int64
	data  []float32
}

// runGraph runs a graph on n [0,1] images of the model, preprocessed, and
// returns the named float outputs. It starts a session of its own.
func (m *Model) runGraph(mp *onnx.ModelProto, outputs []string, images []float32, n int) ([]tensorOut, error) {
	data, err := proto.Marshal(mp)
	if err != nil {
		return nil, err
	}
	s, err := onnxrt.NewSession(data, []string{m.input.Name}, outputs)
	if err != nil {
		return nil, err
	}
	defer s.Destroy()
	in, err := m.inputTensor(images, n, m.preprocess)
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	vals := make([]ort.Value, len(outputs))
	if err := onnxrt.Run(s, []ort.Value{in}, vals); err != nil {
		return nil, err
	}
	res := make([]tensorOut, len(outputs))
	for i, v := range vals {
		defer v.Destroy()
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("output %q is %T, not float32", outputs[i], v)
		}
		res[i] = tensorOut{shape: append([]int64(nil), t.GetShape()...), data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
}

// chooseBatching makes a fixed-batch graph take any batch when rewriting
// the constant shapes that carry its batch size gives the same logits as
// the fixed graph, image by image; else the model runs in chunks of the
// fixed size.
func (m *Model) chooseBatching() error {
	b := m.input.Batch
	if b == 0 {
		m.info.Batching = "dynamic"
		return nil
	}
	dyn, rewritten := dynamicBatch(m.proto, m.input.Name, b)
	const n = 3
	images := probeImages(m.input.Size(), n)
	if err := m.sameAsChunked(dyn, images, n); err == nil {
		m.proto = dyn
		m.input.Batch = 0
		m.info.Batching = fmt.Sprintf("fixed at %d in the file; made dynamic (%d constant shapes rewritten) after checking that a batch of %d gives the fixed graph's logits", b, rewritten, n)
		return nil
	} else {
		m.chunk = b
		m.info.Batching = fmt.Sprintf("fixed at %d: advlab runs it in chunks of %d (the graph could not be made dynamic: %v)", b, b, err)
	}
	return nil
}

// sameAsChunked checks that dyn on a batch of n images gives the logits of
// the model's fixed-batch graph run in chunks.
func (m *Model) sameAsChunked(dyn *onnx.ModelProto, images []float32, n int) error {
	got, err := m.runGraph(dyn, []string{logitsName}, images, n)
	if err != nil {
		return err
	}
	b, size := m.input.Batch, m.input.Size()
	k := len(m.labels)
	if len(got[0].data) != n*k {
		return fmt.Errorf("a batch of %d gave %d logits", n, len(got[0].data))
	}
	for i := 0; i < n; i += b {
		chunk := padChunk(images, i, b, n, size)
		want, err := m.runGraph(m.proto, []string{logitsName}, chunk, b)
		if err != nil {
			return err
		}
		for j := 0; j < b && i+j < n; j++ {
			for c := 0; c < k; c++ {
				w, g := float64(want[0].data[j*k+c]), float64(got[0].data[(i+j)*k+c])
				if math.Abs(w-g) > 1e-4*math.Max(1, math.Abs(w)) || math.IsNaN(g) {
					return fmt.Errorf("image %d's logits differ in a batch (%.6g against %.6g)", i+j, g, w)
				}
			}
		}
	}
	return nil
}

// padChunk returns images i..i+b−1 of n, the last one repeated past n.
func padChunk(images []float32, i, b, n, size int) []float32 {
	out := make([]float32, b*size)
	for j := 0; j < b; j++ {
		src := min(i+j, n-1)
		copy(out[j*size:], images[src*size:(src+1)*size])
	}
	return out
}

// dynamicBatch returns a copy of mp whose input and output batch dimension
// is symbolic and whose Reshape shape constants that begin with the fixed
// batch b begin with 0 (copy the input's batch) instead, with the number of
// constants rewritten.
func dynamicBatch(mp *onnx.ModelProto, input string, b int) (*onnx.ModelProto, int) {
	dm := proto.Clone(mp).(*onnx.ModelProto)
	g := dm.GetGraph()
	sym := func(v *onnx.ValueInfoProto) {
		if d := v.GetType().GetTensorType().GetShape().GetDim(); len(d) > 0 {
			d[0].Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		}
	}
	for _, v := range g.GetInput() {
		if v.GetName() == input {
			sym(v)
		}
	}
	for _, v := range g.GetOutput() {
		sym(v)
	}
	g.ValueInfo = nil
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	constants := map[string]*onnx.TensorProto{}
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Constant" && len(n.GetAttribute()) == 1 && n.GetAttribute()[0].GetT() != nil {
			constants[n.GetOutput()[0]] = n.GetAttribute()[0].GetT()
		}
	}
	rewritten := 0
	for _, n := range g.GetNode() {
		if n.GetOpType() != "Reshape" || len(n.GetInput()) < 2 {
			continue
		}
		allowZero := false
		for _, a := range n.GetAttribute() {
			allowZero = allowZero || (a.GetName() == "allowzero" && a.GetI() != 0)
		}
		t := inits[n.GetInput()[1]]
		if t == nil {
			t = constants[n.GetInput()[1]]
		}
		if allowZero || t == nil || t.GetDataType() != int32(onnx.TensorProto_INT64) {
			continue
		}
		v, err := int64s(t)
		if err != nil || len(v) == 0 || v[0] != int64(b) {
			continue
		}
		v[0] = 0
		// A fresh constant: the old one may feed other nodes too.
		nt := &onnx.TensorProto{Name: fmt.Sprintf("%s_dynamic_%d", n.GetInput()[1], rewritten), Dims: t.GetDims(), DataType: t.GetDataType()}
		nt.RawData = make([]byte, 8*len(v))
		for i, x := range v {
			for j := 0; j < 8; j++ {
				nt.RawData[8*i+j] = byte(uint64(x) >> (8 * j))
			}
		}
		g.Initializer = append(g.Initializer, nt)
		n.Input[1] = nt.Name
		rewritten++
	}
	return dm, rewritten
}

// sparseToConstants turns the graph's sparse initializers into Constant
// nodes holding them as sparse_value (opset 11 and later; the model is at
// 13 by now), which ONNX Runtime makes dense: the gradient compiler and its
// probe graphs read dense initializers only. Their dense size was bounded
// by the safety gate.
func sparseToConstants(g *onnx.GraphProto) {
	var consts []*onnx.NodeProto
	for i, s := range g.GetSparseInitializer() {
		consts = append(consts, &onnx.NodeProto{
			Name: fmt.Sprintf("advlab_sparse_%d", i), OpType: "Constant", Output: []string{s.GetValues().GetName()},
			Attribute: []*onnx.AttributeProto{{Name: "sparse_value", Type: onnx.AttributeProto_SPARSE_TENSOR, SparseTensor: s}},
		})
	}
	g.Node = append(consts, g.Node...)
	g.SparseInitializer = nil
}

// int64s reads an INT64 tensor's values.
func int64s(t *onnx.TensorProto) ([]int64, error) {
	if raw := t.GetRawData(); raw != nil {
		if len(raw)%8 != 0 {
			return nil, fmt.Errorf("tensor %q: %d bytes", t.GetName(), len(raw))
		}
		out := make([]int64, len(raw)/8)
		for i := range out {
			var u uint64
			for j := 0; j < 8; j++ {
				u |= uint64(raw[8*i+j]) << (8 * j)
			}
			out[i] = int64(u)
		}
		return out, nil
	}
	return append([]int64(nil), t.GetInt64Data()...), nil
}
