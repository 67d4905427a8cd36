// Package onnxupgrade brings ONNX models exported at default-domain opset 7 to
// 12 up to opset 13, in pure Go, so that code written against the opset-13
// operator signatures (advlab's gradient-graph compiler) can read models as
// they are found in the wild.
//
// Upgrade rewrites every operator whose signature or meaning changed between
// opset 7 and 13: attributes that became inputs (Split, Squeeze, Unsqueeze,
// ReduceSum, Pad, Clip, Slice, TopK, Reshape), the pre-13 "flatten to 2-D"
// meaning of Softmax, LogSoftmax and Hardmax, Upsample and Resize-10 (to
// Resize-13 with the coordinate mapping they implied), inference Dropouts,
// Scatter (now ScatterElements), attributes that old exporters left behind
// (BatchNormalization spatial,
// is_test and consumed_inputs, Gemm broadcast, Cast's string "to"), and the
// experimental operators that opset 10 removed and that have a standard
// equivalent (ImageScaler, Scale, Affine, ScaledTanh, ParametricSoftplus,
// Crop, DynamicSlice, MeanVarianceNormalization before opset 9). It also
// normalises old file conventions: weights listed among the graph inputs
// (IR 3) become plain constants, and the IR version is raised to 7.
//
// ToFloat32 turns a FLOAT16 or BFLOAT16 model into one that computes, takes
// and returns float32.
//
// Operators whose meaning did not change ride along untouched, as do nodes of
// other domains (ai.onnx.ml and the like). What cannot be translated without
// changing the result is refused with an error naming the node.
package onnxupgrade
