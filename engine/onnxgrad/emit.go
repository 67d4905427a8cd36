package onnxgrad

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"google.golang.org/protobuf/proto"
)

// emit collects the nodes and constants the exporter adds to the graph, with
// unique names under gradPrefix and small constants shared by value.
type emit struct {
	nodes  []*onnx.NodeProto
	inits  []*onnx.TensorProto
	seq    int
	consts map[string]string
}

func (e *emit) init() { e.consts = map[string]string{} }

// fresh returns a new tensor name.
func (e *emit) fresh() string {
	e.seq++
	return gradPrefix + "t" + strconv.Itoa(e.seq)
}

// op adds a node with one output and returns the output's name.
func (e *emit) op(opType string, inputs []string, attrs ...*onnx.AttributeProto) string {
	return e.opN(opType, inputs, 1, attrs...)[0]
}

// opN adds a node with n outputs and returns their names.
func (e *emit) opN(opType string, inputs []string, n int, attrs ...*onnx.AttributeProto) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = e.fresh()
	}
	e.seq++
	e.nodes = append(e.nodes, &onnx.NodeProto{
		Name:      gradPrefix + strconv.Itoa(e.seq) + "_" + opType,
		OpType:    opType,
		Input:     inputs,
		Output:    outs,
		Attribute: attrs,
	})
	return outs
}

// opTo adds a node whose outputs have the given names.
func (e *emit) opTo(opType string, inputs, outputs []string, attrs ...*onnx.AttributeProto) {
	e.seq++
	e.nodes = append(e.nodes, &onnx.NodeProto{
		Name:      gradPrefix + strconv.Itoa(e.seq) + "_" + opType,
		OpType:    opType,
		Input:     inputs,
		Output:    outputs,
		Attribute: attrs,
	})
}

// constant adds t as an initializer, sharing one copy per distinct value.
func (e *emit) constant(t *onnx.TensorProto) string {
	key := fmt.Sprint(t.GetDataType(), t.GetDims(), t.GetRawData())
	if name, ok := e.consts[key]; ok {
		return name
	}
	e.seq++
	t.Name = gradPrefix + "c" + strconv.Itoa(e.seq)
	e.inits = append(e.inits, t)
	e.consts[key] = t.Name
	return t.Name
}

// i64s adds a 1-D int64 constant.
func (e *emit) i64s(v ...int64) string {
	return e.constant(onnxproto.Int64Tensor([]int64{int64(len(v))}, v))
}

// i64 adds an int64 scalar constant.
func (e *emit) i64(v int64) string { return e.constant(onnxproto.Int64Tensor(nil, []int64{v})) }

// f32 adds a float32 scalar constant.
func (e *emit) f32(v float32) string { return e.constant(onnxproto.Float32Tensor(nil, []float32{v})) }

// f32s adds a float32 constant of the given shape.
func (e *emit) f32s(dims []int64, v []float32) string {
	return e.constant(onnxproto.Float32Tensor(dims, v))
}

func cloneTensorProto(t *onnx.TensorProto) *onnx.TensorProto {
	return proto.Clone(t).(*onnx.TensorProto)
}

// tensorInt64s reads an integer tensor's values as int64.
func tensorInt64s(t *onnx.TensorProto) ([]int64, error) {
	raw := t.GetRawData()
	switch onnx.TensorProto_DataType(t.GetDataType()) {
	case onnx.TensorProto_INT64:
		if raw == nil {
			return append([]int64(nil), t.GetInt64Data()...), nil
		}
		out := make([]int64, len(raw)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, nil
	case onnx.TensorProto_INT32:
		if raw == nil {
			out := make([]int64, len(t.GetInt32Data()))
			for i, v := range t.GetInt32Data() {
				out[i] = int64(v)
			}
			return out, nil
		}
		out := make([]int64, len(raw)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out, nil
	case onnx.TensorProto_BOOL, onnx.TensorProto_UINT8, onnx.TensorProto_INT8:
		if raw == nil {
			out := make([]int64, len(t.GetInt32Data()))
			for i, v := range t.GetInt32Data() {
				out[i] = int64(v)
			}
			return out, nil
		}
		out := make([]int64, len(raw))
		for i, b := range raw {
			out[i] = int64(b)
			if t.GetDataType() == int32(onnx.TensorProto_INT8) {
				out[i] = int64(int8(b))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q has type %s, not an integer type", t.GetName(), onnx.TensorProto_DataType(t.GetDataType()))
}

// Attribute readers for classifier nodes.

func nodeAttr(n *onnx.NodeProto, name string) *onnx.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func nodeInt(n *onnx.NodeProto, name string, def int64) int64 {
	if a := nodeAttr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func nodeInts(n *onnx.NodeProto, name string) []int64 {
	if a := nodeAttr(n, name); a != nil {
		return a.GetInts()
	}
	return nil
}

func nodeFloat(n *onnx.NodeProto, name string, def float32) float32 {
	if a := nodeAttr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func nodeString(n *onnx.NodeProto, name, def string) string {
	if a := nodeAttr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// withoutAttrs returns n's attributes minus those named.
func withoutAttrs(n *onnx.NodeProto, names ...string) []*onnx.AttributeProto {
	var out []*onnx.AttributeProto
	for _, a := range n.GetAttribute() {
		skip := false
		for _, s := range names {
			skip = skip || a.GetName() == s
		}
		if !skip {
			out = append(out, a)
		}
	}
	return out
}
