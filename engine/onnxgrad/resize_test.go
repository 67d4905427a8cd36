package onnxgrad

import (
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Resize gradient checks against central finite differences: every mode
// and coordinate transformation, scales and shape-derived sizes, up- and
// downsampling, antialias, axes and tf_crop_and_resize's region of
// interest. The image is [N,3,4,4].

// resize returns a Resize case: the image resized by scales (when sizes is
// nil) or to [N, sizes...] (sizes from the image's Shape), times a random
// weight so that every output position counts differently.
func resize(scales []float32, sizes []int64, roi []float32, attrs ...*testkit.OnnxAttr) func(g *testkit.Graph, x string) (string, int64) {
	return func(g *testkit.Graph, x string) (string, int64) {
		r := ""
		if roi != nil {
			r = g.Floats([]int64{int64(len(roi))}, roi)
		}
		var y string
		if sizes == nil {
			y = g.Op("Resize", []string{x, r, g.Floats([]int64{int64(len(scales))}, scales)}, attrs...)
		} else {
			n := g.Op("Slice", []string{g.Op("Shape", []string{x}), g.Ints(0), g.Ints(1)})
			y = g.Op("Resize", []string{x, r, "", g.Op("Concat", []string{n, g.Ints(sizes...)}, onnxproto.AttrInt("axis", 0))}, attrs...)
		}
		return g.Op("Mul", []string{y, g.Op("Sigmoid", []string{y})}), -1
	}
}

// resizeCase is a gradCase whose build has per output values per sample.
func resizeCase(name string, opset int64, per int64, build func(g *testkit.Graph, x string) (string, int64)) gradCase {
	return gradCase{name: name, opset: opset, build: func(g *testkit.Graph, x string) (string, int64) {
		y, _ := build(g, x)
		return y, per
	}}
}

func TestGradGraphResize(t *testing.T) {
	s := onnxproto.AttrString
	nearest, linear, cubic := s("mode", "nearest"), s("mode", "linear"), s("mode", "cubic")
	ctm := func(v string) *testkit.OnnxAttr { return s("coordinate_transformation_mode", v) }
	up2 := []float32{1, 1, 2, 2}
	runGradCases(t, []gradCase{
		resizeCase("nearest/half_pixel round_prefer_floor ×2", 17, 192, resize(up2, nil, nil, nearest)),
		resizeCase("nearest/asymmetric floor ×2 (PyTorch)", 17, 192, resize(up2, nil, nil, nearest, ctm("asymmetric"), s("nearest_mode", "floor"))),
		resizeCase("nearest/align_corners round_prefer_ceil to 7×5", 17, 105, resize(nil, []int64{3, 7, 5}, nil, nearest, ctm("align_corners"), s("nearest_mode", "round_prefer_ceil"))),
		resizeCase("nearest/ceil ×0.5", 17, 12, resize([]float32{1, 1, 0.5, 0.5}, nil, nil, nearest, s("nearest_mode", "ceil"))),
		resizeCase("linear/half_pixel ×2", 17, 192, resize(up2, nil, nil, linear)),
		resizeCase("linear/align_corners to 7×5", 17, 105, resize(nil, []int64{3, 7, 5}, nil, linear, ctm("align_corners"))),
		resizeCase("linear/pytorch_half_pixel ×0.5", 17, 12, resize([]float32{1, 1, 0.5, 0.5}, nil, nil, linear, ctm("pytorch_half_pixel"))),
		resizeCase("linear/asymmetric ×1.5 width only", 17, 72, resize([]float32{1, 1, 1, 1.5}, nil, nil, linear, ctm("asymmetric"))),
		resizeCase("linear/tf_crop_and_resize roi and extrapolation", 17, 75, resize(nil, []int64{3, 5, 5}, []float32{0, 0, 0.1, -0.2, 1, 1, 0.8, 1.1}, linear,
			ctm("tf_crop_and_resize"), onnxproto.AttrFloat("extrapolation_value", 0.5))),
		resizeCase("nearest/the channel axis too (Einsum)", 17, 96, resize([]float32{1, 2, 1, 1}, nil, nil, nearest)),
		resizeCase("cubic/half_pixel ×2", 17, 192, resize(up2, nil, nil, cubic)),
		resizeCase("cubic/exclude_outside a=-0.5 to 6×3", 17, 54, resize(nil, []int64{3, 6, 3}, nil, cubic, onnxproto.AttrInt("exclude_outside", 1),
			onnxproto.AttrFloat("cubic_coeff_a", -0.5))),
		resizeCase("linear/opset 18 antialias ×0.5 axes", 18, 12, resize([]float32{0.5, 0.5}, nil, nil, linear, onnxproto.AttrInt("antialias", 1),
			onnxproto.AttrInts("axes", []int64{2, 3}))),
		resizeCase("cubic/opset 18 antialias ×0.75", 18, 27, resize([]float32{1, 1, 0.75, 0.75}, nil, nil, cubic, onnxproto.AttrInt("antialias", 1))),
		resizeCase("linear/opset 19 half_pixel_symmetric ×1.5", 19, 108, resize([]float32{1, 1, 1.5, 1.5}, nil, nil, linear, ctm("half_pixel_symmetric"))),
	})
}

// TestGradGraphResizeRefused checks that scales the exporter cannot read
// (computed, here from the image's shape) are refused at export, naming
// the node.
func TestGradGraphResizeRefused(t *testing.T) {
	g := testkit.NewGraph(17, 1)
	hw := g.Op("Cast", []string{g.Op("Slice", []string{g.Op("Shape", []string{"image"}), g.Ints(2), g.Ints(4)})}, onnxproto.AttrInt("to", 1))
	sc := g.Op("Concat", []string{g.Floats([]int64{2}, []float32{1, 1}), g.Op("Div", []string{hw, g.Scalar(2)})}, onnxproto.AttrInt("axis", 0))
	y := g.Op("Resize", []string{"image", "", sc})
	m := g.Model("image", []int64{1, 4, 4}, g.Classifier(y, 64, gradTestK), gradTestK)
	spec := testSpec("image", []int64{1, 4, 4}, NCHW)
	spec.Logits = m.GetGraph().GetOutput()[0].GetName()
	_, err := Export(m, spec, engine.CrossEntropy)
	if err == nil || !strings.Contains(err.Error(), "Resize_") || !strings.Contains(err.Error(), "scales") {
		t.Fatalf("export error %v, want one naming the Resize node and its scales", err)
	}
}
