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

// TestZooModelsKeepTheirAccuracy classifies each zoo set's sample images with
// each of the set's models and checks the accuracy the model's sidecar
// records for that sample set (written by tools/zoo from PyTorch's
// predictions), within one percentage point; and that every model's
// gradient graph exports and runs, with a cross-entropy loss that matches
// the one computed here from the forward pass's logits.
func TestZooModelsKeepTheirAccuracy(t *testing.T) {
	for _, set := range []string{"digits", "signs"} {
		models, _ := filepath.Glob(filepath.Join(zootest.Dir, set, "*.onnx"))
		if len(models) == 0 {
			t.Fatalf("no models in %s: rebuild the zoo with tools/zoo/build", filepath.Join(zootest.Dir, set))
		}
		ds, err := engine.LoadImageFolder(filepath.Join(zootest.Dir, set, "samples"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range models {
			t.Run(set+"/"+filepath.Base(path), func(t *testing.T) {
				m, err := onnxmodel.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if m.Config().SampleAccuracy == 0 {
					t.Fatalf("%s: the sidecar records no sample_accuracy", path)
				}
				labels, err := ds.LabelsFor(m.Labels())
				if err != nil {
					t.Fatal(err)
				}
				x, resized := ds.Tensor(m.InputShape())
				if resized != 0 {
					t.Fatalf("%d sample images are not at the model's input size", resized)
				}
				n, k, size := ds.Len(), m.NumClasses(), m.InputShape().Size()
				z, err := m.Logits(context.Background(), x, n)
				if err != nil {
					t.Fatal(err)
				}
				correct := 0
				for i := range n {
					if engine.Argmax(z[i*k:(i+1)*k]) == labels[i] {
						correct++
					}
				}
				acc := float64(correct) / float64(n)
				t.Logf("%s: %d sample images, accuracy %.4f (sidecar %.4f, test %.4f)", m.Name(), n, acc, m.Config().SampleAccuracy, m.Config().TestAccuracy)
				if math.Abs(acc-m.Config().SampleAccuracy) > 0.01 {
					t.Errorf("accuracy on %s's samples %.4f, sidecar says %.4f", set, acc, m.Config().SampleAccuracy)
				}

				const batch = 4
				targets := make([]int64, batch)
				for i := range targets {
					targets[i] = int64(labels[i])
				}
				g, err := m.Gradient(context.Background(), engine.CrossEntropy, x[:batch*size], targets)
				if err != nil {
					t.Fatalf("gradient graph: %v", err)
				}
				for i := range batch {
					zi := z[i*k : (i+1)*k]
					mx := math.Inf(-1)
					for _, v := range zi {
						mx = math.Max(mx, float64(v))
					}
					var s float64
					for _, v := range zi {
						s += math.Exp(float64(v) - mx)
					}
					want := mx + math.Log(s) - float64(zi[targets[i]])
					if d := math.Abs(float64(g.Loss[i]) - want); d > 1e-3*math.Max(1, want) {
						t.Errorf("sample %d: gradient graph's loss %.6f, from the logits %.6f", i, g.Loss[i], want)
					}
				}
				var norm float64
				for _, v := range g.Grad {
					norm += float64(v) * float64(v)
				}
				if len(g.Grad) != batch*size || norm == 0 || math.IsNaN(norm) {
					t.Errorf("gradient of %d values with squared norm %g", len(g.Grad), norm)
				}
			})
		}
	}
}
