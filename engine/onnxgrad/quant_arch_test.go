package onnxgrad

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
	"google.golang.org/protobuf/proto"
)

// fakeQuantise puts a per-tensor int16 QuantizeLinear→DequantizeLinear pair
// of the given scale on the image input and after every Conv, as a
// quantisation-aware export does, and returns how many it put. It moves the
// model to opset 21, the first whose QuantizeLinear takes int16.
func fakeQuantise(m *onnx.ModelProto, input string, scale float32) int {
	g := m.GetGraph()
	s := onnxproto.Float32Tensor(nil, []float32{scale})
	s.Name = "fq/scale"
	zp := &onnx.TensorProto{Name: "fq/zp", DataType: int32(onnx.TensorProto_INT16), RawData: binary.LittleEndian.AppendUint16(nil, 0)}
	g.Initializer = append(g.Initializer, s, zp)
	pair := func(from, to string) []*onnx.NodeProto {
		return []*onnx.NodeProto{
			{Name: "fq/q/" + to, OpType: "QuantizeLinear", Input: []string{from, s.Name, zp.Name}, Output: []string{to + "/q"}},
			{Name: "fq/dq/" + to, OpType: "DequantizeLinear", Input: []string{to + "/q", s.Name, zp.Name}, Output: []string{to}},
		}
	}
	nodes := pair(input, input+"/fq")
	pairs := 1
	for _, n := range g.GetNode() {
		for i, in := range n.GetInput() {
			if in == input {
				n.Input[i] = input + "/fq"
			}
		}
		if n.GetOpType() != "Conv" {
			nodes = append(nodes, n)
			continue
		}
		o := n.GetOutput()[0]
		n.Output[0] = o + "/float"
		nodes = append(append(nodes, n), pair(o+"/float", o)...)
		pairs++
	}
	g.Node = nodes
	for _, op := range m.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			op.Version = 21
		}
	}
	m.IrVersion = 10
	return pairs
}

// TestGradGraphStraightThroughResNet fake-quantises the ResNet-18 fixture
// finely (int16, scale 2⁻¹⁰: steps of 0.001 over ±32) and checks that the
// straight-through gradient graph goes through every pair and that its
// logits and gradient are close to PyTorch's of the float model. The
// quantisation moves every activation by up to half a step, which moves
// the logits in proportion (1.5e-3 measured; 3e-3 at twice the step) and
// the gradient more, as ReLU and MaxPool choices near their kinks flip
// (0.12 measured; 0.07 at 2⁻¹¹, 0.40 at 2⁻⁶), while a gradient cut at any
// pair would be off by 1. The logits are not compared with ONNX Runtime's
// optimised forward session of the quantised model: with int16 pairs its
// optimisations change the logits by 4% at every step size, where
// disabling them gives the gradient graph's logits exactly.
func TestGradGraphStraightThroughResNet(t *testing.T) {
	fx := testkit.ArchFixtureNamed(t, "resnet18")
	data, err := os.ReadFile(fx.ModelPath())
	if err != nil {
		t.Fatal(err)
	}
	m := &onnx.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	inputs := GraphInputs(m.GetGraph())
	input := inputs[0].GetName()
	pairs := fakeQuantise(m, input, 1.0/1024)
	r := fx.Ref
	spec := Spec{
		Input:      InputSpec{Name: input, Layout: NCHW, ImageShape: engine.ImageShape{Channels: r.InputShape[0], Height: r.InputShape[1], Width: r.InputShape[2]}},
		Logits:     m.GetGraph().GetOutput()[0].GetName(),
		Preprocess: Preprocess{Range: [2]float32{0, 1}, Mean: r.Mean, Std: r.Std},
		NumClasses: r.NumClasses,
	}
	if d := Dims(inputs[0]); len(d) > 0 && d[0] > 0 {
		spec.Input.Batch = int(d[0])
	}
	gm, rep, err := ExportReport(m, spec, engine.CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.StraightThrough[StraightThroughQDQ]; got != pairs {
		t.Errorf("straight-through through %d pairs; the model has %d (one per Conv and the image's)", got, pairs)
	}
	t.Log(rep.Notes())
	dims := []int64{int64(r.Batch), int64(r.InputShape[0]), int64(r.InputShape[1]), int64(r.InputShape[2])}
	res := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{input, "target"}, [][]int64{dims, {int64(r.Batch)}}, []any{fx.Images, r.Targets}, []string{"logits", "grad"})
	el, eg := RelErr(res[0], fx.Logits), RelErr(res[1], fx.Grad)
	t.Logf("quantised vs PyTorch's float model: logits relative error %.2e, gradient %.2e", el, eg)
	if el > 5e-3 {
		t.Errorf("logits vs PyTorch's float logits: relative error %.3g > 5e-3", el)
	}
	if eg > 0.2 {
		t.Errorf("straight-through gradient vs PyTorch's float gradient: relative error %.3g > 0.2", eg)
	}
}
