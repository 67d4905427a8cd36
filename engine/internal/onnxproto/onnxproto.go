// Package onnxproto builds the ONNX protobuf values (tensors and node
// attributes) that advlab's graph compilers and their tests emit.
package onnxproto

import (
	"encoding/binary"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// Int64Tensor returns an INT64 tensor of the given shape holding v.
func Int64Tensor(dims, v []int64) *onnx.TensorProto {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return &onnx.TensorProto{Dims: dims, DataType: int32(onnx.TensorProto_INT64), RawData: raw}
}

// Float32Tensor returns a FLOAT tensor of the given shape holding v.
func Float32Tensor(dims []int64, v []float32) *onnx.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &onnx.TensorProto{Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
}

// AttrInt returns an INT attribute.
func AttrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

// AttrInts returns an INTS attribute.
func AttrInts(name string, v []int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

// AttrFloat returns a FLOAT attribute.
func AttrFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

// AttrString returns a STRING attribute.
func AttrString(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// AttrTensor returns a TENSOR attribute.
func AttrTensor(name string, t *onnx.TensorProto) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_TENSOR, T: t}
}
