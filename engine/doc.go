// Package engine is the vocabulary every part of advlab's engine shares: the
// Classifier an attack or a patch is trained against (logits and the
// gradient of a loss with respect to the input pixels), ImageShape and
// LossKind, image datasets in the ImageFolder layout with their label
// matching, the embedded demo samples, and the small numeric helpers
// (Softmax, Argmax, TopK) the front-ends show results with.
//
// Its subpackages do the work, each on this vocabulary: onnxrt runs ONNX
// Runtime, onnxgrad turns an inference graph into a gradient graph,
// onnxmodel loads a model file as a Classifier, attack crafts adversarial
// examples, patch trains adversarial patches, and eval measures attacks
// across models.
//
// Every image the engine takes or returns is float32, NCHW, in [0,1] pixel
// space; a model's own preprocessing (input range, mean, std, layout) is folded
// into the graphs it runs, so gradients are with respect to [0,1] pixels.
//
// The engine never imports a GUI toolkit (internal/archtest checks it).
package engine
