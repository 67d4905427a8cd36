// Package engine loads ONNX image classifiers, turns their inference graphs
// into gradient graphs that ONNX Runtime runs in one call, and builds the
// attacks and the adversarial-patch training of advlab on top of them.
//
// Every image the engine takes or returns is float32, NCHW, in [0,1] pixel
// space; a model's own preprocessing (input range, mean, std, layout) is folded
// into the graphs it runs, so gradients are with respect to [0,1] pixels.
//
// The engine never imports a GUI toolkit.
package engine
