// Package onnxrt owns ONNX Runtime's lifecycle: it finds the shared library
// (LibraryEnv, beside the executable, third_party/, the system's paths),
// sets its path and initialises the single global environment once per
// process (Init), and opens sessions with the options every advlab session
// uses (NewSession).
package onnxrt
