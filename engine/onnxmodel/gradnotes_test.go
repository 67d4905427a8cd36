package onnxmodel_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// qdqTestModel builds a tiny classifier on 3×6×6 images whose activations
// pass through pairs QuantizeLinear→DequantizeLinear (uint8, as ONNX
// Runtime's static quantiser writes them) before each of its Conv and MatMul,
// and returns its serialised ONNX.
func qdqTestModel(t *testing.T, pairs int) []byte {
	t.Helper()
	g := testkit.NewGraph(13, 5)
	zp := &onnx.TensorProto{Name: "zero_point", DataType: int32(onnx.TensorProto_UINT8), RawData: []byte{0}}
	g.Inits = append(g.Inits, zp)
	fake := func(x string, scale float32) string {
		q := g.Op("QuantizeLinear", []string{x, g.Scalar(scale), zp.Name})
		return g.Op("DequantizeLinear", []string{q, g.Scalar(scale), zp.Name})
	}
	h := "image"
	if pairs > 0 {
		h = fake(h, 1.0/255)
	}
	h = g.Op("Conv", []string{h, g.Weight(0.3, 4, 3, 3, 3)}, onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
	h = g.Op("Relu", []string{h})
	if pairs > 1 {
		h = fake(h, 4.0/255)
	}
	logits := g.Classifier(h, 4*6*6, 5)
	return testkit.MarshalModel(t, g.Model("image", []int64{3, 6, 6}, logits, 5))
}

// TestGradientNotesSayStraightThrough checks that a model whose image-to-
// logits path is fake-quantised reports one straight-through note counting
// the pairs it was built with, before and after the gradient graph has
// run, and that a float model reports none.
func TestGradientNotesSayStraightThrough(t *testing.T) {
	for _, pairs := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("%d pairs", pairs), func(t *testing.T) {
			m, err := onnxmodel.LoadData("qdq", qdqTestModel(t, pairs), nil, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var want []string
			if pairs > 0 {
				want = []string{fmt.Sprintf("gradient: straight-through through %d QuantizeLinear/DequantizeLinear pairs", pairs)}
			}
			notes, err := m.GradientNotes(engine.CrossEntropy)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(notes, want) {
				t.Errorf("notes %q, want %q", notes, want)
			}
			size := m.InputShape().Size()
			x := make([]float32, 2*size)
			for i := range x {
				x[i] = float32(i%17) / 17
			}
			g, err := m.Gradient(context.Background(), engine.CrossEntropy, x, []int64{1, 3})
			if err != nil {
				t.Fatal(err)
			}
			var norm float64
			for _, v := range g.Grad {
				norm += float64(v) * float64(v)
			}
			if norm == 0 {
				t.Error("the straight-through gradient is zero")
			}
			if again, err := m.GradientNotes(engine.CrossEntropy); err != nil || !slices.Equal(again, want) {
				t.Errorf("after a gradient run: notes %q (%v), want %q", again, err, want)
			}
			if margin, err := m.GradientNotes(engine.Margin); err != nil || !slices.Equal(margin, want) {
				t.Errorf("margin loss: notes %q (%v), want %q", margin, err, want)
			}
		})
	}
}
