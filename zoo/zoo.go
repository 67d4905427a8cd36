// Package zoo holds advlab's demo model and images, embedded in the binary so
// that advlab works out of the box and offline: the default classifier
// (signs-resnet, a ResNet-8 trained on the procedurally rendered advlab-signs
// set) with its sidecar, and a folder of held-out sign photographs in
// ImageFolder layout to attack.
//
// The other zoo models (the MNIST networks of Szegedy et al. 2013, Table 1,
// and two more sign classifiers to measure transferability) ship as files
// beside this one, in digits/ and signs/, and are not embedded. Everything
// here is rebuilt from a fixed seed by tools/zoo/build; README.md lists the
// models and how they were trained.
package zoo

import (
	"embed"
	"io/fs"
)

const (
	defaultName    = "signs-resnet"
	defaultONNX    = "signs/resnet.onnx"
	defaultSidecar = "signs/resnet.json"
	defaultSamples = "signs/samples"
)

//go:embed signs/resnet.onnx signs/resnet.json all:signs/samples
var files embed.FS

// DefaultModelName returns the default model's name, as its sidecar gives it.
func DefaultModelName() string { return defaultName }

// DefaultModel returns the default model's ONNX file and its sidecar JSON
// (labels, preprocessing, provenance). The slices are the caller's own
// copies.
func DefaultModel() (onnx, sidecar []byte) {
	return mustRead(defaultONNX), mustRead(defaultSidecar)
}

// DefaultSamples returns the default model's sample images: a file system
// holding <label>/<file>.png, 8-bit RGB at the model's input size, where
// <label> is exactly one of the model's class labels. None was used to train
// the model.
func DefaultSamples() fs.FS {
	sub, err := fs.Sub(files, defaultSamples)
	if err != nil {
		// Unreachable: the folder is embedded at build time.
		panic("zoo: " + err.Error())
	}
	return sub
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		// Unreachable: go:embed fails the build when a file is missing.
		panic("zoo: " + err.Error())
	}
	return b
}
