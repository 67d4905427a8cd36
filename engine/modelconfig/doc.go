// Package modelconfig owns what a user can state about an image classifier
// beside its graph: the sidecar file <model>.json (or <model>.onnx.json), the
// same keys stored in the model's ONNX metadata, named preprocessing presets
// and class labels. It parses all of them strictly, so that a misspelt key or
// an impossible value is an error that says what to fix instead of a silently
// wrong preprocessing, and it resolves them into the per-channel affine map
// from RGB [0,1] pixels to the model's input (see Config.Resolve).
//
// The package is pure Go: it reads files and JSON, and never runs a model.
package modelconfig
