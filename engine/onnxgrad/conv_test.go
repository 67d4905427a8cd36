package onnxgrad

import (
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Per-operator gradient checks: convolutions, matrix products and pooling.

// conv adds a Conv of x by a random [out, in/group, k, k] weight.
func conv(g *testkit.Graph, x string, out, inPerGroup, k int64, attrs ...*testkit.OnnxAttr) string {
	w := g.Weight(0.5, out, inPerGroup, k, k)
	return g.Op("Conv", []string{x, w}, attrs...)
}

func TestGradGraphConv(t *testing.T) {
	img6 := []int64{3, 6, 6}
	runGradCases(t, []gradCase{
		{name: "Conv/3x3 pad 1", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 4, 3, 3, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 4 * 36
		}},
		{name: "Conv/bias", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Conv", []string{x, g.Weight(0.5, 4, 3, 3, 3), g.Weight(1, 4)}), 4 * 16
		}},
		{name: "Conv/stride 2 pad 1 (output_padding 1)", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 4, 3, 3, onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 4 * 9
		}},
		{name: "Conv/stride 3 skips the last row", shape: []int64{3, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 3, onnxproto.AttrInts("strides", []int64{3, 3})), 2 * 4
		}},
		{name: "Conv/dilation 2", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 3, onnxproto.AttrInts("dilations", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{2, 1, 1, 2})), 2 * 5 * 5
		}},
		{name: "Conv/groups 2", shape: []int64{4, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 6, 2, 3, onnxproto.AttrInt("group", 2), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 6 * 25
		}},
		{name: "Conv/depthwise", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 36
		}},
		{name: "Conv/depthwise 5x5 dilation 2 asymmetric pads", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 5, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("dilations", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{4, 3, 2, 5})), 3 * 4 * 6
		}},
		{name: "Conv/depthwise stride 2", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 9
		}},
		{name: "Conv/depthwise multiplier 2", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 6, 1, 3, onnxproto.AttrInt("group", 3)), 6 * 16
		}},
		{name: "Conv/1x1", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 5, 3, 1), 5 * 36
		}},
		{name: "Conv/groups 3, one output channel per group", shape: []int64{6, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 2, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 25
		}},
		{name: "Conv/pads wider than the kernel", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 3, onnxproto.AttrInts("pads", []int64{3, 3, 3, 3})), 2 * 10 * 10
		}},
		{name: "Conv/depthwise stride 2 odd size", shape: []int64{3, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 16
		}},
		{name: "Conv/depthwise stride 2 no pads odd size", shape: []int64{3, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2})), 3 * 9
		}},
		{name: "Conv/depthwise 5x5 stride 2 pad 2", shape: []int64{3, 8, 8}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 5, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{2, 2, 2, 2})), 3 * 16
		}},
		{name: "Conv/depthwise stride 2 asymmetric pads", shape: []int64{3, 8, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{0, 1, 1, 0})), 3 * 4 * 3
		}},
		{name: "Conv/depthwise stride 2 SAME_UPPER 16 channels", shape: []int64{16, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 16, 1, 3, onnxproto.AttrInt("group", 16), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrString("auto_pad", "SAME_UPPER")), 16 * 16
		}},
		{name: "Conv/depthwise stride 3", shape: []int64{3, 8, 8}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{3, 3}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 9
		}},
		{name: "Conv/depthwise 1x1 stride 2 (empty phases)", shape: []int64{3, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 1, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2})), 3 * 9
		}},
		{name: "Conv/depthwise 2x2 stride 2", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 2, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2})), 3 * 9
		}},
		{name: "Conv/depthwise multiplier 2 stride 2", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 6, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 6 * 9
		}},
		{name: "Conv/depthwise stride 2 dilation 2", shape: []int64{3, 7, 7}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("dilations", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{2, 2, 2, 2})), 3 * 16
		}},
		{name: "Conv/depthwise stride (2, 1)", shape: img6, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 3, 1, 3, onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 1}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 3 * 6
		}},
		{name: "Conv/1x1 stride 2", shape: []int64{3, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 4, 3, 1, onnxproto.AttrInts("strides", []int64{2, 2})), 4 * 9
		}},
		{name: "Conv/SAME_UPPER stride 2", shape: []int64{3, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 2, onnxproto.AttrString("auto_pad", "SAME_UPPER"), onnxproto.AttrInts("strides", []int64{2, 2})), 2 * 9
		}},
		{name: "Conv/SAME_LOWER stride 2", shape: []int64{3, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 2, onnxproto.AttrString("auto_pad", "SAME_LOWER"), onnxproto.AttrInts("strides", []int64{2, 2})), 2 * 9
		}},
		{name: "Conv/SAME_UPPER 3x3", shape: []int64{3, 5, 5}, build: func(g *testkit.Graph, x string) (string, int64) {
			return conv(g, x, 2, 3, 3, onnxproto.AttrString("auto_pad", "SAME_UPPER")), 2 * 25
		}},
		{name: "Conv/1-D", build: func(g *testkit.Graph, x string) (string, int64) {
			r := g.Op("Reshape", []string{x, g.Ints(0, 3, 16)})
			return g.Op("Conv", []string{r, g.Weight(0.5, 2, 3, 3)}, onnxproto.AttrInts("strides", []int64{2})), 2 * 7
		}},
		{name: "ConvTranspose/stride 2 pad 1 output_padding 1", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ConvTranspose", []string{x, g.Weight(0.5, 3, 2, 3, 3)}, onnxproto.AttrInts("strides", []int64{2, 2}),
				onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}), onnxproto.AttrInts("output_padding", []int64{1, 1})), 2 * 64
		}},
		{name: "ConvTranspose/groups", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ConvTranspose", []string{x, g.Weight(0.5, 3, 1, 3, 3), g.Weight(1, 3)}, onnxproto.AttrInt("group", 3),
				onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})), 3 * 16
		}},
		{name: "ConvTranspose/SAME_UPPER stride 2", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ConvTranspose", []string{x, g.Weight(0.5, 3, 2, 3, 3)}, onnxproto.AttrInts("strides", []int64{2, 2}),
				onnxproto.AttrString("auto_pad", "SAME_UPPER")), 2 * 64
		}},
		{name: "ConvTranspose/output_shape", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("ConvTranspose", []string{x, g.Weight(0.5, 3, 2, 3, 3)}, onnxproto.AttrInts("strides", []int64{2, 2}),
				onnxproto.AttrInts("output_shape", []int64{8, 8})), 2 * 64
		}},
	})
}

func TestGradGraphMatrix(t *testing.T) {
	flat := func(g *testkit.Graph, x string) string { return g.Op("Flatten", []string{x}) }
	tr := func(g *testkit.Graph, x string) string {
		return g.Op("Transpose", []string{x}, onnxproto.AttrInts("perm", []int64{1, 0}))
	}
	runGradCases(t, []gradCase{
		{name: "Gemm/plain", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gemm", []string{flat(g, x), g.Weight(0.3, 48, 5)}), 5
		}},
		{name: "Gemm/transB alpha beta C", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gemm", []string{flat(g, x), g.Weight(0.3, 5, 48), g.Weight(1, 5)}, onnxproto.AttrInt("transB", 1), onnxproto.AttrFloat("alpha", 0.7), onnxproto.AttrFloat("beta", 1.3)), 5
		}},
		{name: "Gemm/transA", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Gemm", []string{tr(g, flat(g, x)), g.Weight(0.3, 48, 5)}, onnxproto.AttrInt("transA", 1), onnxproto.AttrFloat("alpha", 1.5)), 5
		}},
		{name: "Gemm/B from the image", build: func(g *testkit.Graph, x string) (string, int64) {
			y := g.Op("Gemm", []string{g.Weight(0.3, 5, 48), tr(g, flat(g, x))}, onnxproto.AttrFloat("alpha", 0.5))
			return tr(g, y), 5
		}},
		{name: "Gemm/B from the image transposed, A transposed", build: func(g *testkit.Graph, x string) (string, int64) {
			y := g.Op("Gemm", []string{g.Weight(0.3, 48, 5), flat(g, x)}, onnxproto.AttrInt("transA", 1), onnxproto.AttrInt("transB", 1))
			return tr(g, y), 5
		}},
		{name: "Gemm/C from the image, broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			f := flat(g, x)
			c := g.Op("ReduceSum", []string{f, g.Ints(1)}, onnxproto.AttrInt("keepdims", 1))
			return g.Op("Gemm", []string{f, g.Weight(0.3, 48, 5), c}, onnxproto.AttrFloat("beta", 0.5)), 5
		}},
		{name: "MatMul/batched by a weight", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{x, g.Weight(0.5, 4, 5)}), 60
		}},
		{name: "MatMul/weight first", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{g.Weight(0.5, 2, 4), x}), 24
		}},
		{name: "MatMul/both from the image", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{x, g.Op("Transpose", []string{x}, onnxproto.AttrInts("perm", []int64{0, 1, 3, 2}))}), 48
		}},
		{name: "MatMul/broadcast batch", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{g.Weight(0.5, 3, 4, 4), x}), 48
		}},
		{name: "MatMul/broadcast batch both ways", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{1}), onnxproto.AttrInt("keepdims", 1)) // [N,1,4,4]
			return g.Op("MatMul", []string{m, g.Weight(0.5, 3, 4, 2)}), 24
		}},
		{name: "MatMul/1-D right", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{x, g.Weight(1, 4)}), 12
		}},
		{name: "MatMul/1-D left", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("MatMul", []string{g.Weight(1, 4), x}), 12
		}},
	})
}

func TestGradGraphPool(t *testing.T) {
	img6 := []int64{3, 6, 6}
	ks := func(k ...int64) *testkit.OnnxAttr { return onnxproto.AttrInts("kernel_shape", k) }
	st := func(s ...int64) *testkit.OnnxAttr { return onnxproto.AttrInts("strides", s) }
	pd := func(p ...int64) *testkit.OnnxAttr { return onnxproto.AttrInts("pads", p) }
	pool := func(op string, attrs ...*testkit.OnnxAttr) func(g *testkit.Graph, x string) string {
		return func(g *testkit.Graph, x string) string { return g.Op(op, []string{x}, attrs...) }
	}
	cases := []struct {
		name     string
		shape    []int64
		f        func(g *testkit.Graph, x string) string
		features int64
	}{
		{"MaxPool/2x2 stride 2", nil, pool("MaxPool", ks(2, 2), st(2, 2)), 12},
		{"MaxPool/3x3 stride 1 pad 1 overlapping", nil, pool("MaxPool", ks(3, 3), pd(1, 1, 1, 1)), 48},
		{"MaxPool/3x3 stride 2 ceil_mode", img6, pool("MaxPool", ks(3, 3), st(2, 2), onnxproto.AttrInt("ceil_mode", 1)), 27},
		{"MaxPool/asymmetric pads", img6, pool("MaxPool", ks(3, 2), st(2, 2), pd(1, 0, 0, 1)), 27},
		{"MaxPool/dilation 2", []int64{3, 5, 5}, pool("MaxPool", ks(2, 2), onnxproto.AttrInts("dilations", []int64{2, 2})), 27},
		{"MaxPool/storage_order 1", nil, pool("MaxPool", ks(2, 2), onnxproto.AttrInt("storage_order", 1)), 27},
		{"MaxPool/SAME_UPPER", []int64{3, 5, 5}, pool("MaxPool", ks(2, 2), st(2, 2), onnxproto.AttrString("auto_pad", "SAME_UPPER")), 27},
		{"MaxPool/1-D", []int64{3, 4, 4}, func(g *testkit.Graph, x string) string {
			return g.Op("MaxPool", []string{g.Op("Reshape", []string{x, g.Ints(0, 3, 16)})}, ks(3), st(2))
		}, 21},
		{"GlobalMaxPool", nil, pool("GlobalMaxPool"), 3},
		{"AveragePool/2x2 stride 2", nil, pool("AveragePool", ks(2, 2), st(2, 2)), 12},
		{"AveragePool/3x3 stride 2 pad 1 count_include_pad 0", img6, pool("AveragePool", ks(3, 3), st(2, 2), pd(1, 1, 1, 1)), 27},
		{"AveragePool/3x3 stride 2 pad 1 count_include_pad 1", img6, pool("AveragePool", ks(3, 3), st(2, 2), pd(1, 1, 1, 1), onnxproto.AttrInt("count_include_pad", 1)), 27},
		{"AveragePool/ceil_mode count_include_pad 0", img6, pool("AveragePool", ks(3, 3), st(2, 2), onnxproto.AttrInt("ceil_mode", 1)), 27},
		{"AveragePool/ceil_mode pads count_include_pad 0", img6, pool("AveragePool", ks(3, 3), st(2, 2), pd(1, 1, 1, 1), onnxproto.AttrInt("ceil_mode", 1)), 48},
		{"AveragePool/ceil_mode count_include_pad 1", img6, pool("AveragePool", ks(3, 3), st(2, 2), pd(1, 1, 1, 1), onnxproto.AttrInt("ceil_mode", 1), onnxproto.AttrInt("count_include_pad", 1)), 48},
		{"AveragePool/ceil_mode no pads", []int64{3, 5, 5}, pool("AveragePool", ks(2, 2), st(2, 2), onnxproto.AttrInt("ceil_mode", 1)), 27},
		{"AveragePool/SAME_UPPER", []int64{3, 5, 5}, pool("AveragePool", ks(2, 2), st(2, 2), onnxproto.AttrString("auto_pad", "SAME_UPPER")), 27},
		{"AveragePool/1-D", nil, func(g *testkit.Graph, x string) string {
			return g.Op("AveragePool", []string{g.Op("Reshape", []string{x, g.Ints(0, 3, 16)})}, ks(4), st(3), pd(1, 1))
		}, 15},
		{"GlobalAveragePool", nil, pool("GlobalAveragePool"), 3},
		{"GlobalAveragePool/squeeze-excitation", nil, func(g *testkit.Graph, x string) string {
			return g.Op("Mul", []string{x, g.Op("Sigmoid", []string{g.Op("GlobalAveragePool", []string{x})})})
		}, 48},
	}
	var gcs []gradCase
	for _, c := range cases {
		c := c
		gcs = append(gcs, gradCase{name: c.name, shape: c.shape, distinct: true, eps: 1e-3,
			build: func(g *testkit.Graph, x string) (string, int64) { return c.f(g, x), c.features }})
	}
	runGradCases(t, gcs)
}

// TestConvBackwardOperators checks which operators carry a Conv's input
// gradient: forward Convs wherever that is faster in ONNX Runtime (stride
// 1, strided depthwise), a ConvTranspose for strided dense convolutions and
// for geometries the rewrite does not cover.
func TestConvBackwardOperators(t *testing.T) {
	cases := []struct {
		name              string
		shape             []int64
		out, inPerGroup   int64
		k, features       int64
		attrs             []*testkit.OnnxAttr
		wantConvTranspose bool
	}{
		{"3x3 stride 1", []int64{3, 6, 6}, 4, 3, 3, 4 * 36, []*testkit.OnnxAttr{onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})}, false},
		{"1x1 stride 1", []int64{3, 6, 6}, 4, 3, 1, 4 * 36, nil, false},
		{"depthwise stride 2", []int64{3, 6, 6}, 3, 1, 3, 3 * 9, []*testkit.OnnxAttr{onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})}, false},
		{"dense stride 2", []int64{3, 6, 6}, 4, 3, 3, 4 * 9, []*testkit.OnnxAttr{onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1})}, true},
		{"depthwise stride 2 dilation 2", []int64{3, 7, 7}, 3, 1, 3, 3 * 16, []*testkit.OnnxAttr{onnxproto.AttrInt("group", 3), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("dilations", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{2, 2, 2, 2})}, true},
		{"pads wider than the kernel", []int64{3, 6, 6}, 2, 3, 3, 2 * 100, []*testkit.OnnxAttr{onnxproto.AttrInts("pads", []int64{3, 3, 3, 3})}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testkit.NewGraph(17, 1)
			y := conv(g, "image", c.out, c.inPerGroup, c.k, c.attrs...)
			logits := g.Classifier(y, c.features, gradTestK)
			spec := testSpec("image", c.shape, NCHW)
			spec.Logits = logits
			gm, err := Export(g.Model("image", c.shape, logits, gradTestK), spec, engine.CrossEntropy)
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, n := range gm.GetGraph().GetNode() {
				got = got || n.GetOpType() == "ConvTranspose"
			}
			if got != c.wantConvTranspose {
				t.Errorf("ConvTranspose in the gradient graph: %v, want %v", got, c.wantConvTranspose)
			}
		})
	}
}
