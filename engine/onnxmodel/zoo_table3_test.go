package onnxmodel_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// TestTable3TestErrors checks the test errors that the sidecars of Szegedy
// et al.'s Table 3 networks record (PyTorch on the 2,000-image test split)
// against ONNX Runtime's error on the 300 sample images, which are the
// first 30 of each class of that split: the two must agree within three
// binomial standard errors of a 300-image estimate. A sidecar written for
// another model, or an export that computes something else, fails it.
func TestTable3TestErrors(t *testing.T) {
	ds, err := engine.LoadImageFolder(filepath.Join(zootest.Dir, "digits", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fc100-100-10-p1", "fc123-456-10-p1", "fc100-100-10-p2"} {
		t.Run(name, func(t *testing.T) {
			m, err := onnxmodel.Load(filepath.Join(zootest.Dir, "digits", name+".onnx"))
			if err != nil {
				t.Fatalf("%v (tools/zoo/build --only table3 builds it)", err)
			}
			defer m.Close()
			testErr := 1 - m.Config().TestAccuracy
			if m.Config().TestAccuracy == 0 {
				t.Fatal("the sidecar records no test_accuracy")
			}
			labels, err := ds.LabelsFor(m.Labels())
			if err != nil {
				t.Fatal(err)
			}
			x, _ := ds.Tensor(m.InputShape())
			n, k := ds.Len(), m.NumClasses()
			z, err := m.Logits(context.Background(), x, n)
			if err != nil {
				t.Fatal(err)
			}
			wrong := 0
			for i := range n {
				if engine.Argmax(z[i*k:(i+1)*k]) != labels[i] {
					wrong++
				}
			}
			sampleErr := float64(wrong) / float64(n)
			tol := 3 * math.Sqrt(testErr*(1-testErr)/float64(n))
			t.Logf("%s: error %.4f on %d samples (ONNX Runtime), sidecar test error %.4f, tolerance %.4f", name, sampleErr, n, testErr, tol)
			if math.Abs(sampleErr-testErr) > tol {
				t.Errorf("error on the samples %.4f, sidecar's test error %.4f: further apart than %.4f", sampleErr, testErr, tol)
			}
			if want := 1 - m.Config().SampleAccuracy; math.Abs(sampleErr-want) > 1.5/float64(n) {
				t.Errorf("error on the samples %.4f, sidecar's sample error (PyTorch) %.4f", sampleErr, want)
			}
		})
	}
}
