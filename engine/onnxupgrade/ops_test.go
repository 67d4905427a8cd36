package onnxupgrade

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

const (
	f32 = onnx.TensorProto_FLOAT
	i64 = onnx.TensorProto_INT64
	bl  = onnx.TensorProto_BOOL
)

// opCase is one old-opset model whose upgrade must compute what it did.
type opCase struct {
	name string
	// build makes the model at its old opset.
	build func() *builder
	// ref, when set, makes an equivalent model that ONNX Runtime can run,
	// for originals that carry attributes it no longer accepts.
	ref func() *builder
	// kind is the Report entry the upgrade must make; "" when the model
	// must ride along untranslated.
	kind string
	// feeds replaces the random inputs of these names.
	feeds []feed
}

// unary builds x → op → y at opset with x of the given shape.
func unary(opset int64, op string, dims []int64, attrs ...*onnx.AttributeProto) func() *builder {
	return func() *builder {
		b := newBuilder(opset)
		b.in("x", dims...)
		b.node(op, []string{"x"}, []string{"y"}, attrs...)
		b.out("y", f32)
		return b
	}
}

func opCases() []opCase {
	return []opCase{
		{name: "Unsqueeze-11 axes", build: unary(11, "Unsqueeze", []int64{2, 3, 4}, aInts("axes", 0, 3)), kind: "Unsqueeze"},
		{name: "Unsqueeze-9", build: unary(9, "Unsqueeze", []int64{3}, aInts("axes", 1)), kind: "Unsqueeze"},
		{name: "Squeeze-11 axes", build: unary(11, "Squeeze", []int64{2, 1, 4, 1}, aInts("axes", -1)), kind: "Squeeze"},
		{name: "Squeeze-7 all", build: unary(7, "Squeeze", []int64{2, 1, 4, 1}), kind: ""},
		{name: "Split-11 split", build: func() *builder {
			b := newBuilder(11)
			b.in("x", 2, 4, 3)
			b.node("Split", []string{"x"}, []string{"y0", "y1"}, aInt("axis", 1), aInts("split", 1, 3))
			b.out("y0", f32)
			b.out("y1", f32)
			return b
		}, kind: "Split"},
		{name: "Split-8 equal", build: func() *builder {
			b := newBuilder(8)
			b.in("x", 6, 2)
			b.node("Split", []string{"x"}, []string{"y0", "y1", "y2"})
			b.out("y0", f32)
			b.out("y1", f32)
			b.out("y2", f32)
			return b
		}, kind: ""},
		{name: "ReduceSum-11 axes", build: unary(11, "ReduceSum", []int64{2, 3, 4}, aInts("axes", 1), aInt("keepdims", 0)), kind: "ReduceSum"},
		{name: "ReduceSum-12 negative axes kept", build: unary(12, "ReduceSum", []int64{2, 3, 4}, aInts("axes", -1, 0)), kind: "ReduceSum"},
		{name: "ReduceSum-9 all", build: unary(9, "ReduceSum", []int64{2, 3, 4}), kind: ""},
		{name: "ReduceMean-11 keeps attribute", build: unary(11, "ReduceMean", []int64{2, 3, 4}, aInts("axes", 2)), kind: ""},
		{name: "Pad-7 constant value", build: unary(7, "Pad", []int64{1, 2, 3, 3}, aInts("pads", 0, 0, 1, 2, 0, 0, 2, 1), aFloat("value", 1.5)), kind: "Pad"},
		{name: "Pad-10 zero", build: unary(10, "Pad", []int64{2, 3}, aInts("pads", 1, 0, 0, 2)), kind: "Pad"},
		{name: "Pad-9 reflect", build: unary(9, "Pad", []int64{1, 1, 4, 4}, aString("mode", "reflect"), aInts("pads", 0, 0, 2, 1, 0, 0, 1, 2)), kind: "Pad"},
		{name: "Pad-8 edge", build: unary(8, "Pad", []int64{1, 1, 3, 3}, aString("mode", "edge"), aInts("pads", 0, 0, 1, 1, 0, 0, 2, 2)), kind: "Pad"},
		{name: "Clip-7 min max", build: unary(7, "Clip", []int64{3, 4}, aFloat("min", -0.5), aFloat("max", 0.25)), kind: "Clip"},
		{name: "Clip-10 max only", build: unary(10, "Clip", []int64{3, 4}, aFloat("max", 0)), kind: "Clip"},
		{name: "Clip-9 no bounds", build: unary(9, "Clip", []int64{3, 4}), kind: "Clip"},
		{name: "Clip-11 rides", build: func() *builder {
			b := newBuilder(11)
			b.in("x", 3, 4)
			b.floats("lo", nil, 0)
			b.floats("hi", nil, 6)
			b.node("Clip", []string{"x", "lo", "hi"}, []string{"y"})
			b.out("y", f32)
			return b
		}, kind: ""},
		{name: "Slice-9 axes", build: unary(9, "Slice", []int64{4, 3, 5}, aInts("starts", 1, 0), aInts("ends", 3, -1), aInts("axes", 0, 2)), kind: "Slice"},
		{name: "Slice-7 no axes, large end", build: unary(7, "Slice", []int64{4, 3}, aInts("starts", -3, 1), aInts("ends", 1<<62, 3)), kind: "Slice"},
		{name: "TopK-9", build: func() *builder {
			b := newBuilder(9)
			b.in("x", 3, 5)
			b.node("TopK", []string{"x"}, []string{"v", "i"}, aInt("k", 2), aInt("axis", 1))
			b.out("v", f32)
			b.out("i", i64)
			return b
		}, kind: "TopK"},
		{name: "Dropout-7 inference", build: unary(7, "Dropout", []int64{2, 5}, aFloat("ratio", 0.3)), kind: "Dropout (inference, Identity)"},
		{name: "Dropout-9 mask read", build: func() *builder {
			b := newBuilder(9)
			b.in("x", 2, 5)
			b.node("Dropout", []string{"x"}, []string{"y", "m"}, aFloat("ratio", 0.3))
			b.out("y", f32)
			b.out("m", f32)
			return b
		}, kind: "Dropout (inference, Identity and zero mask)"},
		{name: "Dropout-10 bool mask read", build: func() *builder {
			b := newBuilder(10)
			b.in("x", 2, 5)
			b.node("Dropout", []string{"x"}, []string{"y", "m"})
			b.out("y", f32)
			b.out("m", bl)
			return b
		}, kind: "Dropout (inference, Identity and zero mask)"},
		{name: "Dropout-10 mask unread", build: func() *builder {
			b := newBuilder(10)
			b.in("x", 2, 5)
			b.node("Dropout", []string{"x"}, []string{"y", "m"})
			b.out("y", f32)
			return b
		}, kind: "Dropout (inference, Identity)"},
		{name: "Softmax-9 3-D default axis", build: unary(9, "Softmax", []int64{2, 3, 4}), kind: "Softmax (flatten-to-2D)"},
		{name: "Softmax-11 axis 0", build: unary(11, "Softmax", []int64{2, 3, 4}, aInt("axis", 0)), kind: "Softmax (flatten-to-2D)"},
		{name: "Softmax-11 negative axis", build: unary(11, "Softmax", []int64{2, 3, 4}, aInt("axis", -2)), kind: "Softmax (flatten-to-2D)"},
		{name: "Softmax-9 2-D default axis", build: unary(9, "Softmax", []int64{2, 5}), kind: "Softmax"},
		{name: "Softmax-7 4-D trailing ones", build: unary(7, "Softmax", []int64{2, 10, 1, 1}), kind: "Softmax"},
		{name: "Softmax-11 axis -1", build: unary(11, "Softmax", []int64{2, 3, 4}, aInt("axis", -1)), kind: ""},
		{name: "Softmax-9 rank unknown", build: func() *builder {
			b := newBuilder(9)
			b.inTyped("x", f32, nil, true)
			b.node("Softmax", []string{"x"}, []string{"y"})
			b.out("y", f32)
			return b
		}, feeds: []feed{randomFeed(rand.New(rand.NewPCG(5, 5)), "x", 2, 3, 4)}, kind: "Softmax (flatten-to-2D)"},
		{name: "LogSoftmax-9 last axis", build: unary(9, "LogSoftmax", []int64{2, 3, 4}, aInt("axis", 2)), kind: "LogSoftmax"},
		{name: "LogSoftmax-10 3-D", build: unary(10, "LogSoftmax", []int64{2, 3, 4}), kind: "LogSoftmax (flatten-to-2D)"},
		{name: "Hardmax-9 3-D", build: unary(9, "Hardmax", []int64{2, 3, 4}), kind: "Hardmax (flatten-to-2D)"},
		{name: "Softmax after Gemm", build: func() *builder {
			b := newBuilder(8)
			b.inTyped("x", f32, nil, true)
			b.floats("w", []int64{4, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
			b.floats("c", []int64{3}, 1, 0, -1)
			b.node("Gemm", []string{"x", "w", "c"}, []string{"h"})
			b.node("Softmax", []string{"h"}, []string{"y"})
			b.out("y", f32)
			return b
		}, feeds: []feed{randomFeed(rand.New(rand.NewPCG(6, 6)), "x", 2, 4)}, kind: "Softmax"},
		{name: "BatchNormalization-7 spatial", build: batchNorm(7, []int64{3}, aInt("spatial", 1), aFloat("epsilon", 1e-3)), kind: "BatchNormalization"},
		{name: "BatchNormalization-7 spatial=0 per channel", build: batchNorm(7, []int64{3, 1, 1}, aInt("spatial", 0)),
			ref: batchNorm(9, []int64{3}), kind: "BatchNormalization"},
		{name: "BatchNormalization-9 rides", build: batchNorm(9, []int64{3}), kind: ""},
		{name: "Upsample-7 nearest", build: unary(7, "Upsample", []int64{1, 2, 3, 4}, aFloats("scales", 1, 1, 2, 3)), kind: "Upsample"},
		{name: "Upsample-8 linear", build: unary(8, "Upsample", []int64{1, 2, 3, 4}, aString("mode", "linear"), aFloats("scales", 1, 1, 2, 2)), kind: "Upsample"},
		{name: "Upsample-9 nearest input scales", build: upsample9("nearest", 1, 1, 1.5, 2.5), kind: "Upsample"},
		{name: "Upsample-9 linear input scales", build: upsample9("linear", 1, 1, 2, 1.5), kind: "Upsample"},
		{name: "Upsample-7 bilinear", build: unary(7, "Upsample", []int64{1, 1, 3, 3}, aString("mode", "bilinear"), aFloats("scales", 1, 1, 2, 2)),
			ref: unary(7, "Upsample", []int64{1, 1, 3, 3}, aString("mode", "linear"), aFloats("scales", 1, 1, 2, 2)), kind: "Upsample"},
		{name: "Resize-10 nearest up", build: resize10("nearest", 1, 1, 2, 3), kind: "Resize"},
		{name: "Resize-10 nearest down", build: resize10("nearest", 1, 1, 0.5, 0.6), kind: "Resize"},
		{name: "Resize-10 linear up", build: resize10("linear", 1, 1, 2, 1.5), kind: "Resize"},
		{name: "Resize-10 linear down", build: resize10("linear", 1, 1, 0.6, 0.5), kind: "Resize"},
		{name: "Scatter-9", build: func() *builder {
			b := newBuilder(9)
			b.in("x", 3, 3)
			b.in("u", 2, 3)
			b.int64s("idx", []int64{2, 3}, 1, 0, 2, 0, 2, 1)
			b.node("Scatter", []string{"x", "idx", "u"}, []string{"y"}, aInt("axis", 0))
			b.out("y", f32)
			return b
		}, kind: "Scatter"},
		{name: "Gemm-7 stray broadcast", build: gemm(7, aInt("broadcast", 1)), ref: gemm(7), kind: "Gemm"},
		{name: "Cast string to", build: cast(aString("to", "INT64")), ref: cast(aInt("to", int64(i64))), kind: "Cast"},
		{name: "Reshape shape attribute", build: unary(8, "Reshape", []int64{2, 6}, aInts("shape", 3, -1)), ref: func() *builder {
			b := newBuilder(8)
			b.in("x", 2, 6)
			b.int64s("s", []int64{2}, 3, -1)
			b.node("Reshape", []string{"x", "s"}, []string{"y"})
			b.out("y", f32)
			return b
		}, kind: "Reshape"},
		{name: "ImageScaler-8", build: unary(8, "ImageScaler", []int64{1, 3, 2, 2}, aFloat("scale", 0.5), aFloats("bias", 1, 2, 3)), ref: func() *builder {
			b := newBuilder(8)
			b.in("x", 1, 3, 2, 2)
			b.floats("s", nil, 0.5)
			b.floats("c", []int64{1, 3, 1, 1}, 1, 2, 3)
			b.node("Mul", []string{"x", "s"}, []string{"h"})
			b.node("Add", []string{"h", "c"}, []string{"y"})
			b.out("y", f32)
			return b
		}, kind: "ImageScaler"},
		{name: "Scale-8", build: unary(8, "Scale", []int64{2, 3}, aFloat("scale", -1.5)), ref: refChain(8, []int64{2, 3}, step{"Mul", -1.5}), kind: "Scale"},
		{name: "Affine-8", build: unary(8, "Affine", []int64{2, 3}, aFloat("alpha", 2), aFloat("beta", -0.5)), ref: refChain(8, []int64{2, 3}, step{"Mul", 2}, step{"Add", -0.5}), kind: "Affine"},
		{name: "ScaledTanh-8", build: unary(8, "ScaledTanh", []int64{2, 3}, aFloat("alpha", 2), aFloat("beta", 0.5)), ref: refChain(8, []int64{2, 3}, step{"Mul", 0.5}, step{op: "Tanh"}, step{"Mul", 2}), kind: "ScaledTanh"},
		{name: "ParametricSoftplus-8", build: unary(8, "ParametricSoftplus", []int64{2, 3}, aFloat("alpha", 2), aFloat("beta", 0.5)), ref: refChain(8, []int64{2, 3}, step{"Mul", 0.5}, step{op: "Softplus"}, step{"Mul", 2}), kind: "ParametricSoftplus"},
		{name: "DynamicSlice-8", build: func() *builder {
			b := newBuilder(8)
			b.in("x", 4, 5)
			b.int64s("s", []int64{2}, 1, -4)
			b.int64s("e", []int64{2}, 3, 1<<62)
			b.node("DynamicSlice", []string{"x", "s", "e"}, []string{"y"})
			b.out("y", f32)
			return b
		}, kind: "DynamicSlice"},
		{name: "Crop-8 border", build: unary(8, "Crop", []int64{1, 2, 5, 6}, aInts("border", 1, 2, 0, 1)), kind: "Crop"},
		{name: "Crop-8 border and scale", build: unary(8, "Crop", []int64{1, 2, 5, 6}, aInts("border", 1, 2, 0, 1), aInts("scale", 2, 3)), kind: "Crop"},
		{name: "MeanVarianceNormalization-8", build: unary(8, "MeanVarianceNormalization", []int64{2, 3, 4, 4}), kind: "MeanVarianceNormalization"},
		{name: "MeanVarianceNormalization-8 across channels", build: unary(8, "MeanVarianceNormalization", []int64{2, 3, 4, 4}, aInt("across_channels", 1)), kind: "MeanVarianceNormalization"},
		{name: "MeanVarianceNormalization-8 mean only", build: unary(8, "MeanVarianceNormalization", []int64{2, 3, 4, 4}, aInt("normalize_variance", 0)), kind: "MeanVarianceNormalization (mean only)"},
		{name: "If-11 branches upgraded", build: ifModel, feeds: []feed{{name: "c", b: []bool{true}}}, kind: "Unsqueeze"},
		{name: "If-11 else branch", build: ifModel, feeds: []feed{{name: "c", b: []bool{false}}}, kind: "Unsqueeze"},
		{name: "unchanged ops ride along", build: rideAlong, kind: ""},
		{name: "AveragePool-7 count_include_pad rides", build: unary(7, "AveragePool", []int64{1, 2, 5, 5}, aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1)), kind: ""},
		{name: "MaxPool-10 ceil_mode rides", build: unary(10, "MaxPool", []int64{1, 2, 5, 5}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInt("ceil_mode", 1)), kind: ""},
		{name: "MaxPool-8 indices ride", build: func() *builder {
			b := newBuilder(8)
			b.in("x", 1, 2, 4, 4)
			b.node("MaxPool", []string{"x"}, []string{"y", "i"}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInt("storage_order", 1))
			b.out("y", f32)
			b.out("i", i64)
			return b
		}, kind: ""},
		{name: "Constant-9 and LRN ride", build: func() *builder {
			b := newBuilder(9)
			b.in("x", 1, 3, 2, 2)
			c := &onnx.TensorProto{Dims: []int64{1, 3, 1, 1}, DataType: int32(f32), FloatData: []float32{1, -2, 0.5}}
			b.node("Constant", nil, []string{"c"}, &onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: c})
			b.node("Mul", []string{"x", "c"}, []string{"m"})
			b.node("LRN", []string{"m"}, []string{"y"}, aInt("size", 3))
			b.out("y", f32)
			return b
		}, kind: ""},
	}
}

// refChain builds x → op(c) → ... → y with scalar constants for Mul and
// Add: the standard form of the experimental element-wise operators.
func refChain(opset int64, dims []int64, steps ...step) func() *builder {
	return func() *builder {
		b := newBuilder(opset)
		cur := b.in("x", dims...)
		for i, st := range steps {
			out := fmt.Sprintf("h%d", i)
			if i == len(steps)-1 {
				out = "y"
			}
			in := []string{cur}
			if st.op == "Mul" || st.op == "Add" {
				in = append(in, b.floats("c"+out, nil, st.c))
			}
			b.node(st.op, in, []string{out})
			cur = out
		}
		b.out("y", f32)
		return b
	}
}

func cast(to *onnx.AttributeProto) func() *builder {
	return func() *builder {
		b := newBuilder(9)
		b.in("x", 2, 3)
		b.node("Cast", []string{"x"}, []string{"y"}, to)
		b.out("y", i64)
		return b
	}
}

func batchNorm(opset int64, param []int64, attrs ...*onnx.AttributeProto) func() *builder {
	return func() *builder {
		b := newBuilder(opset)
		b.in("x", 2, 3, 4, 4)
		b.floats("s", param, 0.5, 1, 2)
		b.floats("bias", param, 0.1, -0.2, 0.3)
		b.floats("mean", param, 0.3, 0, -1)
		b.floats("var", param, 1, 2, 0.5)
		b.node("BatchNormalization", []string{"x", "s", "bias", "mean", "var"}, []string{"y"}, attrs...)
		b.out("y", f32)
		return b
	}
}

func upsample9(mode string, scales ...float32) func() *builder {
	return func() *builder {
		b := newBuilder(9)
		b.in("x", 1, 2, 3, 4)
		b.floats("scales", []int64{4}, scales...)
		b.node("Upsample", []string{"x", "scales"}, []string{"y"}, aString("mode", mode))
		b.out("y", f32)
		return b
	}
}

func resize10(mode string, scales ...float32) func() *builder {
	return func() *builder {
		b := newBuilder(10)
		b.in("x", 1, 2, 5, 7)
		b.floats("scales", []int64{4}, scales...)
		b.node("Resize", []string{"x", "scales"}, []string{"y"}, aString("mode", mode))
		b.out("y", f32)
		return b
	}
}

func gemm(opset int64, attrs ...*onnx.AttributeProto) func() *builder {
	return func() *builder {
		b := newBuilder(opset)
		b.in("x", 2, 3)
		b.floats("w", []int64{3, 2}, 1, -2, 3, 0.5, 2, 1)
		b.floats("c", []int64{2}, 0.5, -1)
		b.node("Gemm", []string{"x", "w", "c"}, []string{"y"}, append(attrs, aFloat("alpha", 0.5))...)
		b.out("y", f32)
		return b
	}
}

// ifModel has an If whose branches use Unsqueeze-11 with the axes
// attribute and a value of the outer graph.
func ifModel() *builder {
	branch := func(name string, axis int64) *onnx.GraphProto {
		return &onnx.GraphProto{
			Name:   name,
			Node:   []*onnx.NodeProto{{Name: name + "_u", OpType: "Unsqueeze", Input: []string{"x"}, Output: []string{name + "_y"}, Attribute: []*onnx.AttributeProto{aInts("axes", axis)}}},
			Output: []*onnx.ValueInfoProto{valueInfo(name+"_y", f32, nil, true)},
		}
	}
	b := newBuilder(11)
	b.in("x", 2, 3)
	b.inTyped("c", bl, []int64{1}, false)
	b.node("If", []string{"c"}, []string{"y"}, aGraph("then_branch", branch("then", 0)), aGraph("else_branch", branch("else", 2)))
	b.out("y", f32)
	return b
}

// rideAlong chains operators whose meaning did not change, and a node of
// the ai.onnx.ml domain.
func rideAlong() *builder {
	b := newBuilder(9)
	b.imports = []*onnx.OperatorSetIdProto{{Domain: "ai.onnx.ml", Version: 1}}
	b.in("x", 1, 2, 6, 6)
	b.floats("w", []int64{3, 2, 3, 3}, make([]float32, 54)...)
	for i := range b.g.Initializer[0].FloatData {
		b.g.Initializer[0].FloatData[i] = float32(i%7) - 3
	}
	b.node("Conv", []string{"x", "w"}, []string{"c"}, aInts("pads", 1, 1, 1, 1))
	b.node("MaxPool", []string{"c"}, []string{"p"}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2))
	b.node("Relu", []string{"p"}, []string{"r"})
	b.node("Flatten", []string{"r"}, []string{"f"})
	b.int64s("gi", []int64{2}, 3, 0)
	b.node("Gather", []string{"f", "gi"}, []string{"g"}, aInt("axis", 1))
	b.node("ArgMax", []string{"f"}, []string{"a"}, aInt("axis", 1))
	n := b.node("Binarizer", []string{"g"}, []string{"bin"}, aFloat("threshold", 0.5))
	n.Domain = "ai.onnx.ml"
	b.out("bin", f32)
	b.out("a", i64)
	return b
}

// TestUpgradeMatchesOriginal runs each old-opset model and its upgrade in
// ONNX Runtime on the same random inputs.
func TestUpgradeMatchesOriginal(t *testing.T) {
	needORT(t)
	for i, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			orig := c.build().model()
			pristine := proto.Clone(orig)
			up, rep, err := Upgrade(orig)
			if err != nil {
				t.Fatalf("Upgrade: %v", err)
			}
			if !proto.Equal(orig, pristine) {
				t.Errorf("Upgrade modified its argument")
			}
			if v := up.OpsetImport[0].Version; v != TargetOpset || up.IrVersion < 7 {
				t.Errorf("upgraded model at opset %d, IR %d; want opset 13, IR >= 7", v, up.IrVersion)
			}
			switch {
			case c.kind == "" && len(rep.Translated) > 0:
				t.Errorf("translated %v, want nothing", rep.Translated)
			case c.kind != "" && rep.Translated[c.kind] == 0:
				t.Errorf("translated %v, want a %q", rep.Translated, c.kind)
			}
			ref := orig
			if c.ref != nil {
				ref = c.ref().model()
			}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			feeds := feedsFor(rng, ref, c.feeds)
			want, err := runORT(t, marshal(t, ref), feeds, outputNames(ref))
			if err != nil {
				t.Fatalf("original model: %v", err)
			}
			got, err := runORT(t, marshal(t, up), feeds, outputNames(up))
			if err != nil {
				t.Fatalf("upgraded model (%s): %v", rep, err)
			}
			for k := range want {
				d, err := maxAbsDiff(got[k], want[k])
				if err != nil || d > 1e-5 {
					t.Errorf("output %d: max |diff| %g (%v), want <= 1e-5\n got %v\nwant %v", k, d, err, got[k], want[k])
				}
			}
		})
	}
}

// feedsFor makes random float32 inputs for every graph input of m, taking
// those named in given as they are.
func feedsFor(rng *rand.Rand, m *onnx.ModelProto, given []feed) []feed {
	var feeds []feed
outer:
	for _, in := range m.Graph.Input {
		for _, f := range given {
			if f.name == in.Name {
				if f.b != nil && f.shape == nil {
					f.shape = []int64{1}
				}
				feeds = append(feeds, f)
				continue outer
			}
		}
		vi, _ := typeInfo(in.Type)
		dims := make([]int64, len(vi.dims))
		for j, d := range vi.dims {
			dims[j] = d
			if d <= 0 {
				dims[j] = 2
			}
		}
		feeds = append(feeds, randomFeed(rng, in.Name, dims...))
	}
	return feeds
}
