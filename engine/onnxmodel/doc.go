// Package onnxmodel loads an image classifier from an untrusted ONNX file
// (through onnxsafe's gate and onnxupgrade's opset and float16 upgrade) with
// its sidecar or metadata configuration (modelconfig), brings it to one
// canonical form (one NCHW float32 image input, one [N, K] logits output),
// and runs it on ONNX Runtime as an engine.Classifier: a forward session for
// the logits and gradient-graph sessions (onnxgrad), created on first use
// and released by Close. Default loads the demo model embedded in advlab.
package onnxmodel
