// Package onnxgrad turns a classifier's ONNX inference graph into its
// gradient graph: one ONNX graph, of standard operators only, that takes
// [0,1] pixels and target classes and computes the logits, a per-sample
// loss and the gradient of the loss with respect to the pixels (the model's
// preprocessing folded in), in a single ONNX Runtime call (Export).
//
// Each operator's backward rule lives in the ops_*.go file of its family;
// Operators lists the operators covered. Quantize/dequantize pairs get
// straight-through gradients (quant.go), constant control flow is folded
// away first (fold.go), and probe.go runs the forward graph once on ONNX
// Runtime to learn every tensor's shape (and the divisors of every
// AveragePool), so that the backward rules are built for the shapes ONNX
// Runtime actually computes.
package onnxgrad
