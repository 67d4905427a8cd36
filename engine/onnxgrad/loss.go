package onnxgrad

import (
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// emitLoss emits the per-sample loss of the logits z [N,K] against the
// target classes t [N] as the "loss" output, and returns dz, the gradient of
// the summed loss with respect to z, in closed form:
//
//   - cross-entropy −log softmax(z)[t]: dz = softmax(z) − onehot(t);
//   - Carlini–Wagner margin max_{j≠t} z_j − z_t: dz = onehot(j*) − onehot(t),
//     j* the first arg-max of the logits with z_t masked out;
//   - logit z_t: dz = onehot(t).
//
// One-hot rows compare a constant [1,K] range with the class indices, so no
// tensor larger than N×K is made.
func (x *gradExport) emitLoss() string {
	z := x.logits
	k := x.tinfo(z).dims[1]
	classes := make([]int64, k)
	for i := range classes {
		classes[i] = int64(i)
	}
	rangeK := x.constant(onnxproto.Int64Tensor([]int64{1, k}, classes))
	axis1 := x.i64s(1)
	t := x.op("Unsqueeze", []string{gradTargetName, axis1}) // [N,1]
	isT := x.op("Equal", []string{rangeK, t})               // [N,K] bool
	onehot := func(mask string) string {
		return x.op("Cast", []string{mask}, onnxproto.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
	}
	switch x.loss {
	case engine.Margin:
		lowest := x.f32(-math.MaxFloat32)
		others := x.op("Where", []string{isT, lowest, z})
		j := x.op("ArgMax", []string{others}, onnxproto.AttrInt("axis", 1), onnxproto.AttrInt("keepdims", 1), onnxproto.AttrInt("select_last_index", 0))
		zj := x.op("GatherElements", []string{z, j}, onnxproto.AttrInt("axis", 1))
		zt := x.op("GatherElements", []string{z, t}, onnxproto.AttrInt("axis", 1))
		x.opTo("Squeeze", []string{x.op("Sub", []string{zj, zt}), axis1}, []string{gradLossName})
		return x.op("Sub", []string{onehot(x.op("Equal", []string{rangeK, j})), onehot(isT)})
	case engine.Logit:
		zt := x.op("GatherElements", []string{z, t}, onnxproto.AttrInt("axis", 1))
		x.opTo("Squeeze", []string{zt, axis1}, []string{gradLossName})
		return onehot(isT)
	default:
		logp := x.op("LogSoftmax", []string{z}, onnxproto.AttrInt("axis", 1))
		lt := x.op("GatherElements", []string{logp, t}, onnxproto.AttrInt("axis", 1))
		x.opTo("Neg", []string{x.op("Squeeze", []string{lt, axis1})}, []string{gradLossName})
		return x.op("Sub", []string{x.op("Exp", []string{logp}), onehot(isT)})
	}
}
