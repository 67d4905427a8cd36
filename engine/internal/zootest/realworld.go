package zootest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// RealWorldModel is one downloaded classifier of ../shared/realworld with the
// facts its README states: how a user configures it for advlab, and how its
// original file is fed and what it outputs, for references that bypass
// advlab.
type RealWorldModel struct {
	// File is the model's file name in models/.
	File string
	// Sidecar is the JSON a user would write beside it ("" for none), and
	// LabelsFile the file of labels/ that a sidecar's labels_file names,
	// copied beside the model.
	Sidecar, LabelsFile string
	// Data is the image folder under data/.
	Data string
	// Accuracy is the top-1 accuracy the README measured on Data's images.
	Accuracy float64
	// Output is what the original's output holds: "probabilities",
	// "log_probabilities" or "logits".
	Output string
	// Float16 says the original takes and returns float16 tensors.
	Float16 bool
	// BGR says the original takes its channels in BGR order.
	BGR bool
	// Scale, Mean and Std map a [0,1] pixel x of the original's channel c
	// to its input: (x·Scale − Mean[c]) / Std[c], Mean and Std in the
	// original's channel order.
	Scale     float32
	Mean, Std []float32
}

// RealWorldModels are the six models of ../shared/realworld/README.md.
var RealWorldModels = []RealWorldModel{
	{File: "imagenet_mobilenet_v1_025_128.onnx", Sidecar: `{"preset": "imagenet-tf"}`, Data: "imagenet", Accuracy: 0.505,
		Output: "probabilities", Scale: 2, Mean: []float32{1, 1, 1}, Std: []float32{1, 1, 1}},
	{File: "imagenet_squeezenet11_caffe2_fp16.onnx", Sidecar: `{"preset": "imagenet-caffe"}`, Data: "imagenet", Accuracy: 0.650,
		Output: "probabilities", Float16: true, BGR: true, Scale: 255, Mean: []float32{103.939, 116.779, 123.68}, Std: []float32{1, 1, 1}},
	{File: "cifar10_tutorial_cnn.onnx", Sidecar: `{"labels_file": "cifar10.txt", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}`, LabelsFile: "cifar10.txt",
		Data: "cifar10", Accuracy: 0.738, Output: "logits", Scale: 1, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}},
	{File: "cifar10_classifier32.onnx", Sidecar: `{"labels_file": "cifar10.txt", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}`, LabelsFile: "cifar10.txt",
		Data: "cifar10", Accuracy: 0.692, Output: "logits", Scale: 1, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}},
	{File: "mnist_cnn_logsoftmax.onnx", Data: "mnist", Accuracy: 0.991, Output: "log_probabilities", Scale: 1, Mean: []float32{0}, Std: []float32{1}},
	{File: "mnist8_cntk.onnx", Data: "mnist", Accuracy: 0.991, Output: "logits", Scale: 1, Mean: []float32{0}, Std: []float32{1}},
}

// RealWorldModelNamed returns the entry of RealWorldModels for file.
func RealWorldModelNamed(tb testing.TB, file string) RealWorldModel {
	tb.Helper()
	for _, rw := range RealWorldModels {
		if rw.File == file {
			return rw
		}
	}
	tb.Fatalf("%s is not one of zootest.RealWorldModels", file)
	return RealWorldModel{}
}

// Path returns the original model file.
func (rw RealWorldModel) Path(dir string) string { return filepath.Join(dir, "models", rw.File) }

// Load copies the model into a temporary folder with its sidecar and label
// file, the way a user would set it up, loads it and its images, and skips
// the test when ../shared/realworld is absent.
func (rw RealWorldModel) Load(tb testing.TB) (*onnxmodel.Model, *engine.Dataset) {
	tb.Helper()
	dir := testkit.RealWorldDir()
	if dir == "" {
		tb.Skip("no ../shared/realworld (or $ADVLAB_REALWORLD): the real-world corpus is not on this machine")
	}
	tmp := tb.TempDir()
	dst := filepath.Join(tmp, rw.File)
	copyFile(tb, rw.Path(dir), dst)
	if rw.LabelsFile != "" {
		copyFile(tb, filepath.Join(dir, "labels", rw.LabelsFile), filepath.Join(tmp, rw.LabelsFile))
	}
	if rw.Sidecar != "" {
		side := dst[:len(dst)-len(filepath.Ext(dst))] + ".json"
		if err := os.WriteFile(side, []byte(rw.Sidecar), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	m, err := onnxmodel.Load(dst)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	ds, err := engine.LoadImageFolder(filepath.Join(dir, "data", rw.Data))
	if err != nil {
		tb.Fatal(err)
	}
	return m, ds
}

// copyFile copies src to dst.
func copyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
