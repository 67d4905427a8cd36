package onnxmodel

import (
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxrt"
)

// Bounds on what one fuzz run hands ONNX Runtime, so the fuzzer makes
// progress: a model accepted with a larger image or more classes is only
// loaded, not run.
const (
	fuzzMaxPixels  = 1 << 12 // C×H×W of one image
	fuzzMaxClasses = 1 << 10
)

// FuzzModelPipeline drives arbitrary model and sidecar bytes through all
// that reaches ONNX Runtime and the gradient compiler: LoadData (beside a
// folder holding a weights file), the cross-entropy gradient graph, and one
// forward and one gradient run on one or two tiny images. It may refuse a
// model anywhere, but it must never panic, and every error is one line.
func FuzzModelPipeline(f *testing.F) {
	if err := onnxrt.Init(); err != nil {
		f.Skipf("ONNX Runtime is unavailable (set %s): %v", onnxrt.LibraryEnv, err)
	}
	for _, s := range pipelineSeeds(f) {
		f.Add(s.model, s.sidecar)
	}
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "w.bin"), float32Bytes(tinyWeight))
	f.Fuzz(func(t *testing.T, data, sidecar []byte) {
		if len(sidecar) == 0 {
			sidecar = nil
		}
		m, err := LoadData("fuzz", data, sidecar, dir)
		if err != nil {
			oneLine(t, "LoadData", err)
			return
		}
		defer m.Close()
		s := m.InputShape()
		if s.Channels*s.Height*s.Width > fuzzMaxPixels || m.NumClasses() > fuzzMaxClasses {
			return
		}
		if _, err := m.GradientGraph(engine.CrossEntropy); err != nil {
			oneLine(t, "GradientGraph", err)
			return
		}
		n := 1 + len(data)%2
		images := make([]float32, n*s.Channels*s.Height*s.Width)
		for i := range images {
			images[i] = float32(i%17) / 16
		}
		ctx := context.Background()
		logits, err := m.Logits(ctx, images, n)
		if err != nil {
			oneLine(t, "Logits", err)
		} else if len(logits) != n*m.NumClasses() {
			t.Fatalf("Logits returned %d values for %d images of %d classes", len(logits), n, m.NumClasses())
		}
		targets := make([]int64, n)
		for i := range targets {
			targets[i] = int64(i % m.NumClasses())
		}
		g, err := m.Gradient(ctx, engine.CrossEntropy, images, targets)
		if err != nil {
			oneLine(t, "Gradient", err)
			return
		}
		if len(g.Grad) != len(images) || len(g.Loss) != n || len(g.Logits) != n*m.NumClasses() {
			t.Fatalf("Gradient returned %d gradient values, %d losses, %d logits for %d images of %d classes", len(g.Grad), len(g.Loss), len(g.Logits), n, m.NumClasses())
		}
	})
}

// oneLine fails t if err's message spans several lines.
func oneLine(t *testing.T, stage string, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("%s: error spans several lines: %q", stage, err)
	}
}

// pipelineSeed is one model file and its sidecar (empty for none); bad
// says the loader must refuse it.
type pipelineSeed struct {
	model, sidecar []byte
	bad            bool
}

// pipelineSeeds are small valid classifiers of each shape the loader
// handles, and the hostile or unusual encodings it must refuse or inline.
func pipelineSeeds(tb testing.TB) []pipelineSeed {
	enc := func(m *onnx.ModelProto) []byte { return testkit.MarshalModel(tb, m) }
	tiny := func(edit func(m *onnx.ModelProto)) pipelineSeed { return pipelineSeed{model: tinyBytes(tb, edit)} }
	bad := func(edit func(m *onnx.ModelProto)) pipelineSeed {
		return pipelineSeed{model: tinyBytes(tb, edit), bad: true}
	}

	conv := testkit.NewGraph(17, 1)
	c := conv.Op("Conv", []string{"x", conv.Weight(0.3, 4, 3, 3, 3), conv.Weight(0.1, 4)}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
	convModel := conv.Model("x", []int64{3, 6, 6}, conv.Classifier(conv.Op("Relu", []string{c}), 4*6*6, 3), 3)

	soft := testkit.NewGraph(9, 2)
	softModel := soft.Model("x", []int64{3, 4, 4}, soft.Op("Softmax", []string{soft.Classifier("x", 48, 4)}, onnxproto.AttrInt("axis", 1)), 4)

	flat := testkit.NewGraph(13, 3)
	flatModel := flat.Model("x", []int64{48}, flat.Op("MatMul", []string{"x", flat.Weight(0.2, 48, 2)}), 2)

	seeds := []pipelineSeed{
		tiny(nil),
		tiny(func(m *onnx.ModelProto) { m.OpsetImport[0].Version = 9 }),
		{model: enc(convModel)},
		{model: enc(softModel), sidecar: []byte(`{"labels": ["a", "b", "c", "d"], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}`)},
		{model: enc(flatModel), sidecar: []byte(`{"input_size": [3, 4, 4]}`)},
		tiny(func(m *onnx.ModelProto) {
			m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT, 2, 3, 4, 4)
			m.Graph.Output[0] = tinyValue("logits", onnx.TensorProto_FLOAT, 2, 2)
		}),
		tiny(nhwcInput),
		tiny(sparseWeight),
		tiny(externalWeight("w.bin")),
		bad(externalWeight("./w.bin")),
		bad(externalWeight("../w.bin")),
		bad(externalWeight("/tmp/w.bin")),
		bad(externalWeight(filepath.Join(tb.TempDir(), "w.bin"))),
		tiny(constantWeight),
		tiny(ifWeight),
		bad(func(m *onnx.ModelProto) { m.Graph.Initializer[0].Dims = []int64{1 << 40, 2} }),
		bad(func(m *onnx.ModelProto) {
			m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT, "batch", 3, 1<<30, 1<<30)
		}),
		bad(func(m *onnx.ModelProto) {
			m.Graph.Output[0] = tinyValue("logits", onnx.TensorProto_FLOAT, "batch", 1<<40)
		}),
		tiny(float16Model),
		{model: tinyBytes(tb, nil), sidecar: []byte(`{"labels": ["cat", "dog"], "input_range": [0, 255], "layout": "NCHW"}`)},
	}
	for i := range seeds {
		if seeds[i].sidecar == nil {
			seeds[i].sidecar = []byte{}
		}
	}
	return seeds
}

// nhwcInput makes the tiny classifier take NHWC images, transposed first.
func nhwcInput(m *onnx.ModelProto) {
	m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT, "batch", 4, 4, 3)
	m.Graph.Node[0].Input[0] = "nchw"
	m.Graph.Node = append([]*onnx.NodeProto{{OpType: "Transpose", Name: "to_nchw", Input: []string{"input"}, Output: []string{"nchw"}, Attribute: []*onnx.AttributeProto{onnxproto.AttrInts("perm", []int64{0, 3, 1, 2})}}}, m.Graph.Node...)
}

// sparseWeight stores the tiny classifier's weight as a sparse initializer.
func sparseWeight(m *onnx.ModelProto) {
	w := m.Graph.Initializer[0]
	m.Graph.Initializer = nil
	idx := make([]int64, len(tinyWeight))
	for i := range idx {
		idx[i] = int64(i)
	}
	vals := onnxproto.Float32Tensor([]int64{int64(len(tinyWeight))}, tinyWeight)
	vals.Name = w.Name
	m.Graph.SparseInitializer = []*onnx.SparseTensorProto{{Values: vals, Indices: onnxproto.Int64Tensor([]int64{int64(len(idx))}, idx), Dims: w.Dims}}
}

// constantWeight makes the tiny classifier's weight the output of a
// Constant node.
func constantWeight(m *onnx.ModelProto) {
	w := m.Graph.Initializer[0]
	m.Graph.Initializer = nil
	m.Graph.Node = append([]*onnx.NodeProto{{OpType: "Constant", Name: "w", Output: []string{w.Name}, Attribute: []*onnx.AttributeProto{onnxproto.AttrTensor("value", w)}}}, m.Graph.Node...)
}

// ifWeight makes the tiny classifier's weight the output of an If node on a
// constant condition, each branch a Constant.
func ifWeight(m *onnx.ModelProto) {
	w := m.Graph.Initializer[0]
	cond := &onnx.TensorProto{Name: "cond", DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{1}}
	m.Graph.Initializer = []*onnx.TensorProto{cond}
	branch := func(name string, scale float32) *onnx.GraphProto {
		v := make([]float32, len(tinyWeight))
		for i, x := range tinyWeight {
			v[i] = scale * x
		}
		out := name + "_w"
		return &onnx.GraphProto{
			Name:   name,
			Node:   []*onnx.NodeProto{{OpType: "Constant", Name: name, Output: []string{out}, Attribute: []*onnx.AttributeProto{onnxproto.AttrTensor("value", onnxproto.Float32Tensor(w.Dims, v))}}},
			Output: []*onnx.ValueInfoProto{tinyValue(out, onnx.TensorProto_FLOAT, 3, 2)},
		}
	}
	ifNode := &onnx.NodeProto{OpType: "If", Name: "if", Input: []string{"cond"}, Output: []string{w.Name}, Attribute: []*onnx.AttributeProto{
		{Name: "then_branch", Type: onnx.AttributeProto_GRAPH, G: branch("then", 1)},
		{Name: "else_branch", Type: onnx.AttributeProto_GRAPH, G: branch("else", -1)},
	}}
	m.Graph.Node = append([]*onnx.NodeProto{ifNode}, m.Graph.Node...)
}

// float16Model makes the tiny classifier compute in float16: its input,
// weight and output.
func float16Model(m *onnx.ModelProto) {
	// tinyWeight in IEEE 754 half precision (all exactly representable).
	half := []uint16{0x3c00, 0xbc00, 0x3800, 0x4000, 0xb400, 0x3a00}
	raw := make([]byte, 2*len(half))
	for i, h := range half {
		binary.LittleEndian.PutUint16(raw[2*i:], h)
	}
	w := m.Graph.Initializer[0]
	w.DataType, w.RawData = int32(onnx.TensorProto_FLOAT16), raw
	m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT16, "batch", 3, 4, 4)
	m.Graph.Output[0] = tinyValue("logits", onnx.TensorProto_FLOAT16, "batch", 2)
}

// TestPipelineSeedsLoad is the fuzz target's control: the seeds meant as
// valid classifiers load and run to a gradient, so the fuzzer starts from
// inputs that reach ONNX Runtime, and the hostile ones are refused.
func TestPipelineSeedsLoad(t *testing.T) {
	if err := onnxrt.Init(); err != nil {
		t.Skipf("ONNX Runtime is unavailable (set %s): %v", onnxrt.LibraryEnv, err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "w.bin"), float32Bytes(tinyWeight))
	seeds := pipelineSeeds(t)
	for i, s := range seeds {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			sc := s.sidecar
			if len(sc) == 0 {
				sc = nil
			}
			m, err := LoadData("seed", s.model, sc, dir)
			if s.bad {
				if err == nil {
					m.Close()
					t.Fatal("loaded; want it refused")
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			shape := m.InputShape()
			img := make([]float32, shape.Channels*shape.Height*shape.Width)
			if _, err := m.Gradient(context.Background(), engine.CrossEntropy, img, []int64{0}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSparseInitializerGradient is the regression test for the fuzzer's
// first finding: a weight stored as a sparse initializer loaded and ran
// forward, but its gradient graph's probe lost it. The gradient of the
// tiny classifier's cross-entropy is in closed form: every pixel of
// channel c gets (1/16) Σ_k (softmax_k − [k = target]) W[c,k].
func TestSparseInitializerGradient(t *testing.T) {
	if err := onnxrt.Init(); err != nil {
		t.Skipf("ONNX Runtime is unavailable (set %s): %v", onnxrt.LibraryEnv, err)
	}
	m, err := LoadData("sparse", tinyBytes(t, sparseWeight), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	img := make([]float32, 3*16)
	for i := range img {
		img[i] = float32(i%16) / 15 * float32(i/16+1) / 3
	}
	g, err := m.Gradient(context.Background(), engine.CrossEntropy, img, []int64{1})
	if err != nil {
		t.Fatal(err)
	}
	var mean [3]float64
	for i, x := range img {
		mean[i/16] += float64(x) / 16
	}
	var z [2]float64
	for k := range z {
		for c := range mean {
			z[k] += mean[c] * float64(tinyWeight[2*c+k])
		}
	}
	p1 := 1 / (1 + math.Exp(z[0]-z[1]))
	d := [2]float64{1 - p1, p1 - 1} // softmax − one-hot(1)
	want := make([]float32, len(img))
	for i := range want {
		c := i / 16
		want[i] = float32((d[0]*float64(tinyWeight[2*c]) + d[1]*float64(tinyWeight[2*c+1])) / 16)
	}
	if e := testkit.RelL2(g.Grad, want); e > 1e-5 {
		t.Errorf("gradient %v, want %v (relative error %.3g)", g.Grad[:4], want[:4], e)
	}
}

// TestNamesInErrorsAreQuoted is the regression test for a finding of
// FuzzModelPipeline: the loader listed a model's value names as they are,
// and a name may hold a newline.
func TestNamesInErrorsAreQuoted(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *onnx.ModelProto)
		want string
	}{
		{"outputs", func(m *onnx.ModelProto) {
			m.Graph.Output[0] = tinyValue("logits", onnx.TensorProto_INT64, "batch", 2)
			m.Graph.Output[0].Name = "lo\ngits"
		}, `outputs ("lo\ngits")`},
		{"inputs", func(m *onnx.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, tinyValue("ma\rsk", onnx.TensorProto_FLOAT, "batch", 3, 4, 4))
		}, `(input, "ma\rsk")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := loadDataNoPanic(t, tinyBytes(t, c.edit))
			if err == nil {
				m.Close()
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error %q; want one line containing %s", err, c.want)
			}
		})
	}
}
