package onnxgrad_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxgrad"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// TestGradGraphModelGradient runs Model.Gradient on an NHWC model with a
// sidecar, whose gradients come back NCHW, against finite differences of
// Model.Logits.
func TestGradGraphModelGradient(t *testing.T) {
	sc, _ := json.Marshal(map[string]any{"layout": "NHWC", "input_range": []float32{0, 255}, "mean": []float32{120, 110, 100}, "std": []float32{60, 50, 70}})
	m, err := onnxmodel.LoadData("nhwc", testkit.MarshalModel(t, onnxgrad.SmallCNN(17, onnxgrad.NHWC)), sc, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const n, size, eps = 2, 108, 1e-2
	images := onnxgrad.RandomImages(rand.New(rand.NewPCG(8, 9)), n*size, eps, nil, false)
	targets := []int64{3, 0}
	ctx := context.Background()
	g, err := m.Gradient(ctx, engine.CrossEntropy, images, targets)
	if err != nil {
		t.Fatal(err)
	}
	var batch []float32
	for j := range images {
		b := j / size
		for _, s := range []float32{eps, -eps} {
			img := append([]float32(nil), images[b*size:(b+1)*size]...)
			img[j%size] += s
			batch = append(batch, img...)
		}
	}
	z, err := m.Logits(ctx, batch, len(batch)/size)
	if err != nil {
		t.Fatal(err)
	}
	k := m.NumClasses()
	fd := make([]float32, len(images))
	for j := range fd {
		tj := int(targets[j/size])
		fd[j] = float32((onnxgrad.RefLoss(engine.CrossEntropy, z[2*j*k:(2*j+1)*k], tj) - onnxgrad.RefLoss(engine.CrossEntropy, z[(2*j+1)*k:(2*j+2)*k], tj)) / (2 * eps))
	}
	if e := onnxgrad.RelErr(g.Grad, fd); e > 1e-2 {
		t.Errorf("Model.Gradient vs finite differences of Model.Logits: relative error %.3g", e)
	}
	want, err := m.Logits(ctx, images, n)
	if err != nil {
		t.Fatal(err)
	}
	if e := onnxgrad.RelErr(g.Logits, want); e > 1e-5 {
		t.Errorf("Gradient's logits differ from Logits: %.3g", e)
	}
}
