package onnxgrad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// addInit adds t as an initializer under a fresh name.
func addInit(g *testkit.Graph, t *onnx.TensorProto) string {
	name := g.Ints(0) // takes a fresh name; the tensor is replaced
	t.Name = name
	g.Inits[len(g.Inits)-1] = t
	return name
}

// intTensor returns an int8 or uint8 tensor.
func intTensor(elem onnx.TensorProto_DataType, dims, v []int64) *onnx.TensorProto {
	raw := make([]byte, len(v))
	for i, e := range v {
		raw[i] = byte(e)
	}
	return &onnx.TensorProto{DataType: int32(elem), Dims: dims, RawData: raw}
}

// quantParams adds a quantiser's scale and zero point, scalars when they
// have one value, 1-D otherwise.
func quantParams(g *testkit.Graph, elem onnx.TensorProto_DataType, scales []float32, zps []int64) (string, string) {
	var dims []int64
	if len(scales) > 1 {
		dims = []int64{int64(len(scales))}
	}
	return g.Floats(dims, scales), addInit(g, intTensor(elem, dims, zps))
}

// qdqAct fake-quantises an activation as TFLite and ONNX Runtime's
// quantiser do, DequantizeLinear(QuantizeLinear(x)) along axis 1, or
// returns x for the float twin. The dequantiser's scale is dqScale times
// the quantiser's; the twin multiplies by dqScale instead.
type qdqAct struct {
	elem    onnx.TensorProto_DataType
	scales  []float32
	zps     []int64
	dqScale float32 // 1 when 0
	domain  string
}

func (q qdqAct) apply(g *testkit.Graph, x string, quant bool) string {
	k := q.dqScale
	if k == 0 {
		k = 1
	}
	if !quant {
		if k != 1 {
			return g.Op("Mul", []string{x, g.Scalar(k)})
		}
		return x
	}
	s, zp := quantParams(g, q.elem, q.scales, q.zps)
	s2 := s
	if k != 1 {
		scaled := make([]float32, len(q.scales))
		for i, v := range q.scales {
			scaled[i] = v * k
		}
		s2, _ = quantParams(g, q.elem, scaled, q.zps)
	}
	y := g.Op("QuantizeLinear", []string{x, s, zp})
	g.Nodes[len(g.Nodes)-1].Domain = q.domain
	out := g.Op("DequantizeLinear", []string{y, s2, zp})
	g.Nodes[len(g.Nodes)-1].Domain = q.domain
	return out
}

// window returns the clip range of channel c: [(qmin−zp)·s, (qmax−zp)·s].
func (q qdqAct) window(c int) (float32, float32) {
	lo, hi, _ := quantRange(q.elem)
	s, zp := q.scales[0], float32(q.zps[0])
	if len(q.scales) > 1 {
		s, zp = q.scales[c], float32(q.zps[c])
	}
	return (lo - zp) * s, (hi - zp) * s
}

// quantWeight adds a weight stored as int8 values q and scales along axis,
// dequantised by a DequantizeLinear, or, for the float twin, the same
// dequantised values as a float initializer.
func quantWeight(g *testkit.Graph, dims []int64, q []int64, scales []float32, axis int, quant bool) string {
	stride := 1
	for _, d := range dims[axis+1:] {
		stride *= int(d)
	}
	if !quant {
		v := make([]float32, len(q))
		for i, e := range q {
			s := scales[0]
			if len(scales) > 1 {
				s = scales[(i/stride)%int(dims[axis])]
			}
			v[i] = float32(e) * s
		}
		return g.Floats(dims, v)
	}
	w := addInit(g, intTensor(onnx.TensorProto_INT8, dims, q))
	s, zp := quantParams(g, onnx.TensorProto_INT8, scales, make([]int64, len(scales)))
	return g.Op("DequantizeLinear", []string{w, s, zp}, onnxproto.AttrInt("axis", int64(axis)))
}

// smallInts returns n integers in [−lim, lim] from a fixed seed.
func smallInts(seed uint64, n, lim int) []int64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(rng.IntN(2*lim+1) - lim)
	}
	return out
}

// steCase is a model and its float twin (the same graph without fake
// quantisation or binarisation), and where the straight-through gradient
// passes: inside(c, v) for a pixel of value v in channel c.
type steCase struct {
	name   string
	build  func(g *testkit.Graph, x string, quant bool) string
	inside func(c int, v float32) bool
	edges  []float32 // pixel values the test keeps away from
	report map[string]int
	ms     bool // the model imports com.microsoft
}

// TestGradGraphStraightThrough checks the straight-through gradients of
// fake-quantised and binarised models against central finite differences
// of their float twins: with the Logit loss the twins are linear, so their
// gradient is the same at every point, and the straight-through gradient
// must equal it where every quantiser is inside its clip range (and the
// binariser inside [−1, 1]) and be exactly zero where the image's quantiser
// clips. The forward pass must stay the quantised model's own.
func TestGradGraphStraightThrough(t *testing.T) {
	convNet := func(in qdqAct) func(g *testkit.Graph, x string, quant bool) string {
		return func(g *testkit.Graph, x string, quant bool) string {
			h := in.apply(g, x, quant)
			wScales := []float32{0.01, 0.008, 0.012, 0.009}
			w := quantWeight(g, []int64{4, 3, 3, 3}, smallInts(1, 108, 20), wScales, 0, quant)
			h = g.Op("Conv", []string{h, w}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
			// |h| ≤ 27·0.24·1 < 6.5: inside [−6.55, 6.2].
			h = qdqAct{elem: onnx.TensorProto_INT8, scales: []float32{0.05}, zps: []int64{3}}.apply(g, h, quant)
			flat := g.Op("Flatten", []string{h}, onnxproto.AttrInt("axis", 1))
			w2 := quantWeight(g, []int64{64, gradTestK}, smallInts(2, 64*gradTestK, 20), []float32{0.002}, 1, quant)
			// |logits| ≤ 64·6.5·0.04 < 17: inside ±31.
			return qdqAct{elem: onnx.TensorProto_INT8, scales: []float32{0.25}, zps: []int64{0}}.apply(g, g.Op("MatMul", []string{flat, w2}), quant)
		}
	}
	matMulNet := func(in qdqAct) func(g *testkit.Graph, x string, quant bool) string {
		return func(g *testkit.Graph, x string, quant bool) string {
			flat := g.Op("Flatten", []string{in.apply(g, x, quant)}, onnxproto.AttrInt("axis", 1))
			w := quantWeight(g, []int64{48, gradTestK}, smallInts(3, 48*gradTestK, 100), []float32{0.01, 0.02, 0.015, 0.005}, 1, quant)
			return g.Op("MatMul", []string{flat, w})
		}
	}
	inWindow := func(q qdqAct) func(c int, v float32) bool {
		return func(c int, v float32) bool {
			lo, hi := q.window(c)
			return lo <= v && v <= hi
		}
	}
	edges := func(q qdqAct) []float32 {
		var out []float32
		for c := range 3 {
			lo, hi := q.window(c)
			out = append(out, lo, hi)
		}
		return out
	}
	qdq := func(n int) map[string]int { return map[string]int{StraightThroughQDQ: n} }
	perTensorU8 := qdqAct{elem: onnx.TensorProto_UINT8, scales: []float32{0.7 / 255}, zps: []int64{0}}
	perAxisI8 := qdqAct{elem: onnx.TensorProto_INT8, scales: []float32{0.003, 0.004, 0.005}, zps: []int64{-100, 0, 50}}
	perAxisU8 := qdqAct{elem: onnx.TensorProto_UINT8, scales: []float32{0.003, 0.0025, 0.0035}, zps: []int64{10, 30, 0}}
	perTensorI8 := qdqAct{elem: onnx.TensorProto_INT8, scales: []float32{0.004}, zps: []int64{-60}}
	rescaled := qdqAct{elem: onnx.TensorProto_UINT8, scales: []float32{0.6 / 255}, zps: []int64{0}, dqScale: 2}
	contrib := qdqAct{elem: onnx.TensorProto_INT8, scales: []float32{0.005}, zps: []int64{-20}, domain: msDomain}
	cases := []steCase{
		{name: "Conv/per-tensor uint8 activations, per-axis int8 weights", build: convNet(perTensorU8), inside: inWindow(perTensorU8), edges: edges(perTensorU8), report: qdq(3)},
		{name: "MatMul/per-axis uint8 activations with zero points", build: matMulNet(perAxisU8), inside: inWindow(perAxisU8), edges: edges(perAxisU8), report: qdq(1)},
		{name: "MatMul/per-axis int8 activations with zero points", build: matMulNet(perAxisI8), inside: inWindow(perAxisI8), edges: edges(perAxisI8), report: qdq(1)},
		{name: "MatMul/per-tensor int8 activations", build: matMulNet(perTensorI8), inside: inWindow(perTensorI8), edges: edges(perTensorI8), report: qdq(1)},
		{name: "MatMul/dequantiser scale twice the quantiser's", build: matMulNet(rescaled), inside: inWindow(rescaled), edges: edges(rescaled), report: qdq(1)},
		{name: "MatMul/com.microsoft QuantizeLinear and DequantizeLinear", build: matMulNet(contrib), inside: inWindow(contrib), edges: edges(contrib), report: qdq(1), ms: true},
		{name: "Sign/binarised activations", build: func(g *testkit.Graph, x string, quant bool) string {
			h := affine(g, x, 4, -2)
			if quant {
				h = g.Op("Sign", []string{h})
			}
			w := quantWeight(g, []int64{4, 3, 3, 3}, smallInts(4, 108, 20), []float32{0.01}, 0, false)
			h = g.Op("Conv", []string{h, w}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
			flat := g.Op("Flatten", []string{h}, onnxproto.AttrInt("axis", 1))
			return g.Op("MatMul", []string{flat, quantWeight(g, []int64{64, gradTestK}, smallInts(5, 64*gradTestK, 20), []float32{0.01}, 1, false)})
		}, inside: func(_ int, v float32) bool { return v*4-2 >= -1 && v*4-2 <= 1 }, edges: []float32{0.25, 0.75}, report: map[string]int{StraightThroughSign: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkStraightThrough(t, c) })
	}
}

// checkStraightThrough runs one steCase.
func checkStraightThrough(t *testing.T, c steCase) {
	const n, eps = 2, 1e-2
	shape := []int64{3, 4, 4}
	models := make([]*onnx.ModelProto, 2)
	for i, quant := range []bool{true, false} {
		g := testkit.NewGraph(17, 1)
		logits := c.build(g, "image", quant)
		models[i] = g.Model("image", shape, logits, gradTestK)
		if c.ms && quant {
			models[i].OpsetImport = append(models[i].OpsetImport, &onnx.OperatorSetIdProto{Domain: msDomain, Version: 1})
		}
	}
	quantised, twin := models[0], models[1]
	spec := testSpec("image", shape, NCHW)
	spec.Logits = quantised.GetGraph().GetOutput()[0].GetName()
	gm, rep, err := ExportReport(quantised, spec, engine.Logit)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if fmt.Sprint(rep.StraightThrough) != fmt.Sprint(c.report) {
		t.Errorf("report %v, want %v", rep.StraightThrough, c.report)
	}
	size := int(prodInts(shape))
	rng := rand.New(rand.NewPCG(7, 7))
	images := RandomImages(rng, n*size, 0.01, c.edges, false)
	targets := []int64{1, 3}
	dims := []int64{n, 3, 4, 4}
	res := testkit.OrtRun(t, testkit.MarshalModel(t, gm), []string{"image", "target"}, [][]int64{dims, {n}}, []any{images, targets}, []string{"logits", "grad"})
	fwd := testkit.OrtRun(t, testkit.MarshalModel(t, quantised), []string{"image"}, [][]int64{dims}, []any{images}, []string{spec.Logits})[0]
	if e := RelErr(res[0], fwd); e > 1e-5 {
		t.Errorf("logits differ from the quantised model's own: relative error %.3g", e)
	}
	// The twin's gradient by central differences, all perturbations in one batch.
	batch := make([]float32, 0, 2*len(images)*size)
	for j := range images {
		b := j / size
		for _, sgn := range []float32{1, -1} {
			img := append([]float32(nil), images[b*size:(b+1)*size]...)
			img[j%size] += sgn * eps
			batch = append(batch, img...)
		}
	}
	z := testkit.OrtRun(t, testkit.MarshalModel(t, twin), []string{"image"}, [][]int64{{int64(2 * len(images)), 3, 4, 4}}, []any{batch}, []string{twin.GetGraph().GetOutput()[0].GetName()})[0]
	want := make([]float32, len(images))
	in, out := 0, 0
	for j, v := range images {
		if !c.inside((j%size)/16, v) {
			out++
			if res[1][j] != 0 {
				t.Errorf("pixel %d (%.3f) lies outside the clip range, and its gradient is %g, not 0", j, v, res[1][j])
			}
			continue
		}
		in++
		tj := int(targets[j/size])
		want[j] = float32((float64(z[2*j*gradTestK+tj]) - float64(z[(2*j+1)*gradTestK+tj])) / (2 * eps))
	}
	if in < 10 || out < 10 {
		t.Fatalf("%d pixels inside the clip range and %d outside: the test checks too little", in, out)
	}
	if e := RelErr(res[1], want); e > 1e-3 || math.IsNaN(e) {
		t.Errorf("straight-through gradient vs the float twin's finite differences: relative error %.3g", e)
		for j := 0; j < 8; j++ {
			t.Logf("  [%d] x %.3f grad %.5f twin %.5f", j, images[j], res[1][j], want[j])
		}
	}
}
