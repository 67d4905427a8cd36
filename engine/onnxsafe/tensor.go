package onnxsafe

import (
	"encoding/binary"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// field is the TensorProto field that holds a data type's values when they
// are not in raw_data.
type field int

const (
	floatData field = iota
	int32Data
	int64Data
	doubleData
	uint64Data
	stringData
)

// dtype says how a TensorProto data type is stored: perByte elements packed
// into one byte of raw_data (bits < 8) or bytes per element, and the typed
// field with how many of its entries one element (or one packed group) takes.
type dtype struct {
	bytes   int64 // bytes per element; 0 for sub-byte types and strings
	perByte int64 // elements per byte for sub-byte types
	field   field
	perElem int64 // typed-field entries per element (2 for complex)
}

// dtypes are the ONNX element types (onnx.proto TensorProto.DataType,
// including those newer than the generated package).
var dtypes = map[int32]dtype{
	1:  {bytes: 4, field: floatData, perElem: 1},   // FLOAT
	2:  {bytes: 1, field: int32Data, perElem: 1},   // UINT8
	3:  {bytes: 1, field: int32Data, perElem: 1},   // INT8
	4:  {bytes: 2, field: int32Data, perElem: 1},   // UINT16
	5:  {bytes: 2, field: int32Data, perElem: 1},   // INT16
	6:  {bytes: 4, field: int32Data, perElem: 1},   // INT32
	7:  {bytes: 8, field: int64Data, perElem: 1},   // INT64
	8:  {field: stringData, perElem: 1},            // STRING
	9:  {bytes: 1, field: int32Data, perElem: 1},   // BOOL
	10: {bytes: 2, field: int32Data, perElem: 1},   // FLOAT16
	11: {bytes: 8, field: doubleData, perElem: 1},  // DOUBLE
	12: {bytes: 4, field: uint64Data, perElem: 1},  // UINT32
	13: {bytes: 8, field: uint64Data, perElem: 1},  // UINT64
	14: {bytes: 8, field: floatData, perElem: 2},   // COMPLEX64
	15: {bytes: 16, field: doubleData, perElem: 2}, // COMPLEX128
	16: {bytes: 2, field: int32Data, perElem: 1},   // BFLOAT16
	17: {bytes: 1, field: int32Data, perElem: 1},   // FLOAT8E4M3FN
	18: {bytes: 1, field: int32Data, perElem: 1},   // FLOAT8E4M3FNUZ
	19: {bytes: 1, field: int32Data, perElem: 1},   // FLOAT8E5M2
	20: {bytes: 1, field: int32Data, perElem: 1},   // FLOAT8E5M2FNUZ
	21: {perByte: 2, field: int32Data},             // UINT4
	22: {perByte: 2, field: int32Data},             // INT4
	23: {perByte: 2, field: int32Data},             // FLOAT4E2M1
	24: {bytes: 1, field: int32Data, perElem: 1},   // FLOAT8E8M0
	25: {perByte: 4, field: int32Data},             // UINT2
	26: {perByte: 4, field: int32Data},             // INT2
}

// rawBytes is the size of n elements in raw_data. n is at most MaxElements,
// itself far below 2^63/16, so the product cannot wrap.
func (d dtype) rawBytes(n int64) int64 {
	if d.perByte > 0 {
		return (n + d.perByte - 1) / d.perByte
	}
	return n * d.bytes
}

// typedCount is the number of typed-field entries n elements take; sub-byte
// types are packed into int32_data like raw_data's bytes.
func (d dtype) typedCount(n int64) int64 {
	if d.perByte > 0 {
		return (n + d.perByte - 1) / d.perByte
	}
	return n * d.perElem
}

// elements returns the product of dims, refusing negative dimensions and
// products beyond max without ever overflowing.
func elements(dims []int64, max int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("has a negative dimension in %v", dims)
		}
	}
	for _, d := range dims {
		if d == 0 {
			return 0, nil
		}
		if n > max/d {
			return 0, fmt.Errorf("declares dimensions %v, more than the %d elements advlab allows in one tensor", dims, max)
		}
		n *= d
	}
	return n, nil
}

// typedLen returns how many entries t holds in its typed field f.
func typedLen(t *onnx.TensorProto, f field) int64 {
	switch f {
	case floatData:
		return int64(len(t.GetFloatData()))
	case int32Data:
		return int64(len(t.GetInt32Data()))
	case int64Data:
		return int64(len(t.GetInt64Data()))
	case doubleData:
		return int64(len(t.GetDoubleData()))
	case uint64Data:
		return int64(len(t.GetUint64Data()))
	}
	return int64(len(t.GetStringData()))
}

// otherFields reports whether t holds data in a typed field other than f.
func otherFields(t *onnx.TensorProto, f field) bool {
	for g := floatData; g <= stringData; g++ {
		if g != f && typedLen(t, g) > 0 {
			return true
		}
	}
	return false
}

// int64Values decodes an INT64 tensor's values (already checked for size).
func int64Values(t *onnx.TensorProto) []int64 {
	if raw := t.GetRawData(); len(raw) > 0 {
		out := make([]int64, len(raw)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out
	}
	return t.GetInt64Data()
}
