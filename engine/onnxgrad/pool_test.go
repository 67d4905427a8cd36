package onnxgrad

import (
	"testing"

	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// TestGradGraphMaxPoolTies pins the subgradient max pooling routes through
// where a window's maximum is not unique, against hand-computed results, not
// finite differences (which are undefined there). The convention is ONNX
// Runtime's MaxPool Indices and PyTorch's: the whole of dy goes to the first
// maximum in row-major window order, padding never wins (it is -inf), and
// overlapping windows that pick the same pixel add up. Model: MaxPool 3×3,
// stride 2, pads 1 (ResNet's stem) of a 1×4×4 image into 2×2, then logits =
// pooled·W with the target's column of W = 1, 2, 3, 4, so with the Logit
// loss grad = the scatter of 1, 2, 3, 4 onto the windows' chosen pixels.
// Windows, as input rows×cols: (0,0) 0–1×0–1, (0,1) 0–1×1–3, (1,0) 1–3×0–1,
// (1,1) 1–3×1–3.
func TestGradGraphMaxPoolTies(t *testing.T) {
	const target = 1
	w := make([]float32, 4*gradTestK) // [4 pooled values, gradTestK classes]
	for i := 0; i < 4; i++ {
		for k := 0; k < gradTestK; k++ {
			w[i*gradTestK+k] = float32(k - i) // other columns: anything
		}
		w[i*gradTestK+target] = float32(i + 1)
	}
	fill := func(v float32) []float32 {
		x := make([]float32, 16)
		for i := range x {
			x[i] = v
		}
		return x
	}
	row1 := fill(0) // row 1 all ones: ties across windows that overlap on it
	for c := 0; c < 4; c++ {
		row1[4+c] = 1
	}
	firsts := []float32{ // every window's first pixel
		1, 2, 0, 0,
		3, 4, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}
	for _, c := range []struct {
		name  string
		image []float32
		want  []float32
	}{
		{"all equal", fill(0.5), firsts},
		{"all zero (ReLU output)", fill(0), firsts},
		{"all negative: padding is not a maximum", fill(-0.5), firsts},
		{"a tied row shared by overlapping windows", row1, []float32{
			0, 0, 0, 0,
			1 + 3, 2 + 4, 0, 0, // (0,0) and (1,0) pick (1,0); (0,1) and (1,1) pick (1,1)
			0, 0, 0, 0,
			0, 0, 0, 0,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool := func(g *testkit.Graph) string {
				return g.Op("MaxPool", []string{"image"}, onnxproto.AttrInts("kernel_shape", []int64{3, 3}), onnxproto.AttrInts("strides", []int64{2, 2}), onnxproto.AttrInts("pads", []int64{1, 1, 1, 1}))
			}
			grad := exactLogitGrad(t, pool, 4, w, c.image, target)
			for i, v := range c.want {
				if grad[i] != v {
					t.Fatalf("grad\n%v\nwant\n%v", grad, c.want)
				}
			}
		})
	}
}
