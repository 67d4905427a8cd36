package onnxmodel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/engine/onnxgrad"
)

// imageName is the canonical graph's image input when advlab adds one in
// front of the model's own (a flat input, or a BGR model's channel swap).
const imageName = "advlab_image"

// maxImageSide bounds an image input's height and width.
const maxImageSide = modelconfig.MaxDim

// findInput reads the graph's only input and decides how images reach it:
// its layout and image shape, whether it is a flat vector, and its batch.
func (m *Model) findInput(g *onnx.GraphProto) (*onnx.ValueInfoProto, error) {
	inputs := onnxgrad.GraphInputs(g)
	if len(inputs) != 1 {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.GetName()
		}
		return nil, fmt.Errorf("the model has %d inputs (%s); advlab needs a classifier whose only input is an image batch", len(inputs), nameList(names))
	}
	in := inputs[0]
	if et := in.GetType().GetTensorType().GetElemType(); et != int32(onnx.TensorProto_FLOAT) {
		return nil, fmt.Errorf("input %q has element type %s; advlab needs a floating-point image input", in.GetName(), onnx.TensorProto_DataType(et))
	}
	d := onnxgrad.Dims(in)
	m.info.InputName, m.info.InputDims = in.GetName(), d
	if len(d) == 0 {
		return nil, fmt.Errorf("input %q has no declared shape; advlab needs its rank at least (re-export the model with input shapes)", in.GetName())
	}
	var shape engine.ImageShape
	var err error
	if len(d) == 4 {
		shape, err = m.imageInput(in.GetName(), d)
	} else {
		shape, err = m.flatInput(in.GetName(), d)
	}
	if err != nil {
		return nil, err
	}
	if shape.Channels != 1 && shape.Channels != 3 {
		return nil, fmt.Errorf("input %q has %d channels; advlab handles grey (1) and colour (3) images", in.GetName(), shape.Channels)
	}
	if shape.Height > maxImageSide || shape.Width > maxImageSide {
		return nil, fmt.Errorf("input %q takes %dx%d images; advlab handles sides up to %d", in.GetName(), shape.Width, shape.Height, maxImageSide)
	}
	m.input.ImageShape = shape
	m.input.Name = in.GetName()
	if d[0] > 0 {
		m.input.Batch = int(d[0])
	}
	return in, nil
}

// imageInput reads a rank-4 image input in NCHW or NHWC.
func (m *Model) imageInput(name string, d []int64) (engine.ImageShape, error) {
	layout := onnxgrad.Layout(m.cfg.Layout)
	if layout == "" {
		isChan := func(x int64) bool { return x == 1 || x == 3 }
		switch {
		case isChan(d[1]):
			layout = onnxgrad.NCHW
		case isChan(d[3]):
			layout = onnxgrad.NHWC
		default:
			layout = onnxgrad.NCHW
		}
		if d[1] <= 0 && d[3] <= 0 {
			m.info.Notes = append(m.info.Notes, fmt.Sprintf("input %q has a dynamic channel dimension: assumed NCHW (set \"layout\" in a sidecar to override)", name))
		}
	}
	var c, h, w int64
	if layout == onnxgrad.NHWC {
		h, w, c = d[1], d[2], d[3]
	} else {
		c, h, w = d[1], d[2], d[3]
	}
	if s := m.cfg.InputSize; len(s) == 3 {
		for i, p := range []*int64{&c, &h, &w} {
			if *p > 0 && *p != int64(s[i]) {
				return engine.ImageShape{}, fmt.Errorf("the configuration's input_size %v contradicts the graph's input shape %v; fix input_size", s, d)
			}
			*p = int64(s[i])
		}
	}
	if c <= 0 || h <= 0 || w <= 0 {
		return engine.ImageShape{}, fmt.Errorf("input %q has dynamic image dimensions %v; give \"input_size\": [C, H, W] in the model's sidecar JSON", name, d)
	}
	m.input.Layout = layout
	return engine.ImageShape{Channels: int(c), Height: int(h), Width: int(w)}, nil
}

// flatInput reads an input whose image is flattened ([N, 784], [N, 784, 1],
// [N, 28, 28]): the image shape comes from image_shape, else from the
// dimensions (a square grey or colour image), and advlab reshapes NCHW
// images into it.
func (m *Model) flatInput(name string, d []int64) (engine.ImageShape, error) {
	if len(d) < 2 || len(d) > 4 {
		return engine.ImageShape{}, fmt.Errorf("input %q has rank %d; advlab needs an image batch [N, C, H, W], [N, H, W, C] or a flat one [N, D]", name, len(d))
	}
	size := int64(1)
	for _, x := range d[1:] {
		if x <= 0 {
			return engine.ImageShape{}, fmt.Errorf("input %q has dynamic dimensions %v; advlab needs the image size of a flat input", name, d)
		}
		if size > 1<<31/x {
			return engine.ImageShape{}, fmt.Errorf("input %q: %v is too large an image", name, d)
		}
		size *= x
	}
	m.input.Layout = onnxgrad.NCHW
	m.info.Flat = true
	m.info.FlattenOrder = m.cfg.FlattenOrder
	if m.info.FlattenOrder == "" {
		m.info.FlattenOrder = modelconfig.RowMajor
	}
	if s := m.cfg.ImageShape; len(s) == 3 {
		if int64(s[0]*s[1]*s[2]) != size {
			return engine.ImageShape{}, fmt.Errorf("image_shape %v has %d values but input %q takes %d; fix image_shape", s, s[0]*s[1]*s[2], name, size)
		}
		return engine.ImageShape{Channels: s[0], Height: s[1], Width: s[2]}, nil
	}
	if len(d) == 3 && d[1] > 1 && d[2] > 1 { // [N, H, W]: a grey image without its channel axis
		return engine.ImageShape{Channels: 1, Height: int(d[1]), Width: int(d[2])}, nil
	}
	for _, c := range []int64{1, 3} {
		if size%c != 0 {
			continue
		}
		if s := isqrt(size / c); s*s == size/c && s > 1 {
			m.info.Notes = append(m.info.Notes, fmt.Sprintf("flat input %q of %d values: taken as %dx%dx%d images flattened %s (set \"image_shape\" and \"flatten_order\" in a sidecar to override)", name, size, c, s, s, m.info.FlattenOrder))
			return engine.ImageShape{Channels: int(c), Height: int(s), Width: int(s)}, nil
		}
	}
	return engine.ImageShape{}, fmt.Errorf("input %q takes %d values per image, which is no square image; give \"image_shape\": [C, H, W] in the model's sidecar JSON", name, size)
}

func isqrt(n int64) int64 {
	s := int64(0)
	for (s+1)*(s+1) <= n {
		s++
		if s > 1<<16 {
			break
		}
	}
	return s
}

// frontNodes rewires the graph so that it takes NCHW (or NHWC) RGB images:
// a flat input gets a Reshape (after a Transpose for column-major order), a
// BGR model a channel swap. It returns the nodes to run first; in is the
// model's input, which they now produce.
func (m *Model) frontNodes(g *onnx.GraphProto, in *onnx.ValueInfoProto) []*onnx.NodeProto {
	bgr := m.pre.ChannelOrder == modelconfig.BGR && m.input.Channels == 3
	if !m.info.Flat && !bgr {
		return nil
	}
	var nodes []*onnx.NodeProto
	cur := imageName
	step := func(op string, inputs []string, attrs ...*onnx.AttributeProto) {
		out := fmt.Sprintf("%s_%d", imageName, len(nodes))
		nodes = append(nodes, &onnx.NodeProto{Name: out, OpType: op, Input: inputs, Output: []string{out}, Attribute: attrs})
		cur = out
	}
	constant := func(t *onnx.TensorProto) string {
		t.Name = fmt.Sprintf("%s_const_%d", imageName, len(g.Initializer))
		g.Initializer = append(g.Initializer, t)
		return t.Name
	}
	if bgr {
		axis := int64(1)
		if m.input.Layout == onnxgrad.NHWC {
			axis = 3
		}
		step("Gather", []string{cur, constant(onnxproto.Int64Tensor([]int64{3}, []int64{2, 1, 0}))}, onnxproto.AttrInt("axis", axis))
	}
	if m.info.Flat {
		if m.info.FlattenOrder == modelconfig.ColumnMajor {
			step("Transpose", []string{cur}, onnxproto.AttrInts("perm", []int64{0, 1, 3, 2}))
		}
		shape := append([]int64{0}, m.info.InputDims[1:]...)
		step("Reshape", []string{cur, constant(onnxproto.Int64Tensor([]int64{int64(len(shape))}, shape))})
	}
	nodes[len(nodes)-1].Output[0] = in.GetName()
	// The image input replaces the model's.
	batch := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	if m.input.Batch > 0 {
		batch = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(m.input.Batch)}}
	}
	c, h, w := int64(m.input.Channels), int64(m.input.Height), int64(m.input.Width)
	dims := []int64{c, h, w}
	if m.input.Layout == onnxgrad.NHWC {
		dims = []int64{h, w, c}
	}
	shape := &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{batch}}
	for _, x := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: x}})
	}
	image := &onnx.ValueInfoProto{Name: imageName, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape}}}}
	for i, v := range g.Input {
		if v.GetName() == in.GetName() {
			g.Input[i] = image
		}
	}
	m.input.Name = imageName
	return nodes
}

// nameList lists a model's value names for a message, quoting those that
// are not plain printable text (a model file's names are arbitrary bytes),
// so that the message stays one line.
func nameList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if n == "" || strings.ContainsAny(n, ", \"") || strings.ContainsFunc(n, func(r rune) bool { return !strconv.IsPrint(r) }) {
			out[i] = strconv.Quote(n)
		}
	}
	return strings.Join(out, ", ")
}
