package onnxgrad

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rule of Resize (opset 13 on). Every mode resamples each axis on
// its own, so Resize is linear in X and separable: y = X ×_a R_a over the
// resized axes a, where R_a [out, in] holds the weight of each input
// position in each output position. The gradient is dy contracted with
// each R_a in turn. R_a is ONNX Runtime's own: the gradient graph resizes
// an identity matrix [in, in] along its first axis with the node's mode,
// coordinate transformation, nearest mode, cubic coefficient, antialias
// and region of interest (scale 1 on the second axis, an identity). That
// makes the adjoint exact for nearest, linear and cubic alike; the
// extrapolation value of tf_crop_and_resize is a constant, so the
// identity is resized with 0 there. ONNX Runtime folds these constant
// Resizes when it loads the graph.

// resizeAxis is one axis a Resize changes: its input and output sizes and
// the scale (scales mode) or nothing (sizes mode), and its region of
// interest.
type resizeAxis struct {
	axis, in, out int64
	scale         float32 // 0 in sizes mode
	roi           [2]float32
}

// resizeAxes resolves a Resize's scales or sizes, axes and roi.
func (x *gradExport) resizeAxes(n *onnx.NodeProto) ([]resizeAxis, error) {
	in := func(i int) string {
		if i < len(n.GetInput()) {
			return n.GetInput()[i]
		}
		return ""
	}
	xi, yi := x.tinfo(in(0)), x.tinfo(n.GetOutput()[0])
	r := len(xi.dims)
	axes := nodeInts(n, "axes")
	if len(axes) == 0 {
		for a := 0; a < r; a++ {
			axes = append(axes, int64(a))
		}
	}
	for i, a := range axes {
		v, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		axes[i] = v
	}
	ctm := nodeString(n, "coordinate_transformation_mode", "half_pixel")
	var scales []float32
	sizes := in(3) != "" && x.tinfo(in(3)).size() > 0
	if sizes {
		if p := nodeString(n, "keep_aspect_ratio_policy", "stretch"); p != "stretch" {
			return nil, fmt.Errorf("keep_aspect_ratio_policy %q with sizes; the gradient graph supports %q", p, "stretch")
		}
	} else {
		v, ok := x.floatValues(in(2))
		if !ok {
			return nil, fmt.Errorf("its scales %q are not a constant; export the model with constant scales or sizes", x.orig(in(2)))
		}
		if len(v) != len(axes) {
			return nil, fmt.Errorf("%d scales for %d axes", len(v), len(axes))
		}
		scales = v
	}
	var roi []float32
	if ctm == "tf_crop_and_resize" {
		v, ok := x.floatValues(in(1))
		if !ok || len(v) != 2*len(axes) {
			return nil, fmt.Errorf("tf_crop_and_resize needs a constant roi of %d values", 2*len(axes))
		}
		roi = v
	}
	var out []resizeAxis
	for i, a := range axes {
		ra := resizeAxis{axis: a, in: xi.dims[a], out: yi.dims[a], roi: [2]float32{0, 1}}
		if scales != nil {
			ra.scale = scales[i]
		}
		if roi != nil {
			ra.roi = [2]float32{roi[i], roi[i+len(axes)]}
		}
		identity := ra.in == ra.out && (scales == nil || ra.scale == 1) && ra.roi == [2]float32{0, 1}
		if xi.dyn[a] || yi.dyn[a] {
			if !identity || xi.dyn[a] != yi.dyn[a] {
				return nil, fmt.Errorf("it resizes axis %d, which changes with the batch size", a)
			}
			continue
		}
		if !identity {
			out = append(out, ra)
		}
	}
	return out, nil
}

func checkResize(x *gradExport, n *onnx.NodeProto) error {
	if m := nodeString(n, "mode", "nearest"); m != "nearest" && m != "linear" && m != "cubic" {
		return fmt.Errorf("unknown mode %q", m)
	}
	_, err := x.resizeAxes(n)
	return err
}

// bwdResize contracts dy with each axis's resampling matrix: MatMul on the
// last two axes, Einsum on the others.
func bwdResize(c *bwdCtx) error {
	axes, err := c.resizeAxes(c.n)
	if err != nil {
		return err
	}
	r := c.rank(c.in(0))
	g := c.dy[0]
	for _, a := range axes {
		m := resizeMatrix(c, a)
		switch int(a.axis) {
		case r - 1:
			g = c.op("MatMul", []string{g, m})
		case r - 2:
			g = c.op("MatMul", []string{c.op("Transpose", []string{m}, onnxproto.AttrInts("perm", []int64{1, 0})), g})
		default:
			labels := []byte("abcdefghijklmnopqrstuvwxy")[:r]
			res := append([]byte(nil), labels...)
			res[a.axis] = 'z'
			eq := string(labels) + "," + string(labels[a.axis]) + "z->" + string(res)
			g = c.op("Einsum", []string{g, m}, onnxproto.AttrString("equation", eq))
		}
	}
	c.give(0, g)
	return nil
}

// resizeMatrix emits R [out, in] of one axis: the node's Resize applied to
// an identity matrix along its first axis.
func resizeMatrix(c *bwdCtx, a resizeAxis) string {
	zeros := c.op("ConstantOfShape", []string{c.i64s(a.in, a.in)}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0})))
	eye := c.op("EyeLike", []string{zeros})
	attrs := append(withoutAttrs(c.n, "axes", "keep_aspect_ratio_policy", "extrapolation_value"), onnxproto.AttrFloat("extrapolation_value", 0))
	roi := ""
	if nodeString(c.n, "coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize" {
		roi = c.f32s([]int64{4}, []float32{a.roi[0], 0, a.roi[1], 1})
	}
	if a.scale == 0 {
		return c.op("Resize", []string{eye, roi, "", c.i64s(a.out, a.in)}, attrs...)
	}
	return c.op("Resize", []string{eye, roi, c.f32s([]int64{2}, []float32{a.scale, 1})}, attrs...)
}

// floatValues returns the values of a float32 tensor that is an
// initializer or the output of a Constant node.
func (x *gradExport) floatValues(name string) ([]float32, bool) {
	if name == "" {
		return nil, false
	}
	t := x.inits[name]
	if p := x.producers[name]; t == nil && p != nil && p.GetOpType() == "Constant" {
		if a := nodeAttr(p, "value"); a != nil {
			t = a.GetT()
		} else if a := nodeAttr(p, "value_floats"); a != nil {
			return a.GetFloats(), true
		} else if a := nodeAttr(p, "value_float"); a != nil {
			return []float32{a.GetF()}, true
		}
	}
	if t == nil || t.GetDataType() != int32(onnx.TensorProto_FLOAT) {
		return nil, false
	}
	if raw := t.GetRawData(); raw != nil {
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, true
	}
	return append([]float32{}, t.GetFloatData()...), true
}
