package onnxupgrade

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// dtypeOps are the operators whose "dtype" attribute names the element type
// of what they make.
var dtypeOps = setOf("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike")

// ToFloat32 returns a copy of m that computes in float32 where m computed in
// FLOAT16 or BFLOAT16: every such initializer and constant tensor is decoded
// to FLOAT, Casts and dtype attributes to those types cast to FLOAT instead,
// and the graph inputs, outputs and value_info declare FLOAT, so the model
// takes and returns float32. It returns how many tensors of data it
// converted. m itself is never modified.
func ToFloat32(m *onnx.ModelProto) (*onnx.ModelProto, int, error) {
	if m == nil || m.Graph == nil {
		return nil, 0, errNoModel
	}
	out, ok := proto.Clone(m).(*onnx.ModelProto)
	if !ok {
		return nil, 0, fmt.Errorf("onnxupgrade: could not copy the model")
	}
	count := 0
	var err error
	convert := func(t *onnx.TensorProto) {
		if err != nil {
			return
		}
		var done bool
		done, err = tensorToFloat32(t)
		if done {
			count++
		}
	}
	walkGraphs(out.Graph, func(g *onnx.GraphProto) {
		for _, t := range g.Initializer {
			convert(t)
		}
		for _, st := range g.SparseInitializer {
			if st != nil {
				convert(st.Values)
			}
		}
		for _, vs := range [][]*onnx.ValueInfoProto{g.Input, g.Output, g.ValueInfo} {
			for _, v := range vs {
				if v != nil {
					typeToFloat32(v.Type)
				}
			}
		}
		for _, n := range g.Node {
			if n == nil {
				continue
			}
			for _, a := range n.Attribute {
				if a == nil {
					continue
				}
				convert(a.T)
				for _, t := range a.Tensors {
					convert(t)
				}
				if a.SparseTensor != nil {
					convert(a.SparseTensor.Values)
				}
				for _, st := range a.SparseTensors {
					if st != nil {
						convert(st.Values)
					}
				}
				typeToFloat32(a.Tp)
				for _, tp := range a.TypeProtos {
					typeToFloat32(tp)
				}
				isType := (n.OpType == "Cast" && a.Name == "to") || (dtypeOps[n.OpType] && a.Name == "dtype")
				if isType && isHalf(int32(a.I)) && isDefaultDomain(n.Domain) {
					a.I = int64(onnx.TensorProto_FLOAT)
				}
			}
		}
	})
	if err != nil {
		return nil, 0, err
	}
	return out, count, nil
}

// hasHalf reports whether any graph value or tensor of m is FLOAT16 or
// BFLOAT16.
func hasHalf(m *onnx.ModelProto) bool {
	found := false
	isHalfType := func(tp *onnx.TypeProto) {
		if tt := tp.GetTensorType(); tt != nil && isHalf(tt.ElemType) {
			found = true
		}
	}
	walkGraphs(m.Graph, func(g *onnx.GraphProto) {
		for _, t := range g.Initializer {
			if t != nil && isHalf(t.DataType) {
				found = true
			}
		}
		for _, vs := range [][]*onnx.ValueInfoProto{g.Input, g.Output, g.ValueInfo} {
			for _, v := range vs {
				if v != nil {
					isHalfType(v.Type)
				}
			}
		}
		for _, n := range g.Node {
			for _, a := range n.GetAttribute() {
				if a.GetT() != nil && isHalf(a.T.DataType) {
					found = true
				}
			}
		}
	})
	return found
}

func isHalf(elem int32) bool {
	return elem == int32(onnx.TensorProto_FLOAT16) || elem == int32(onnx.TensorProto_BFLOAT16)
}

// tensorToFloat32 decodes a FLOAT16 or BFLOAT16 tensor into FLOAT in place
// and reports whether it did; tensors of other types are left alone.
func tensorToFloat32(t *onnx.TensorProto) (bool, error) {
	if t == nil || !isHalf(t.DataType) {
		return false, nil
	}
	if t.DataLocation == onnx.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return false, fmt.Errorf("onnxupgrade: tensor %q is stored outside the model file; load it into the model before converting", t.Name)
	}
	n, ok := numElements(t.Dims)
	if !ok {
		return false, fmt.Errorf("onnxupgrade: tensor %q has invalid or too large dimensions %v; fix the model file", t.Name, t.Dims)
	}
	decode := float16ToFloat32
	if t.DataType == int32(onnx.TensorProto_BFLOAT16) {
		decode = bfloat16ToFloat32
	}
	// Check the stored length before allocating, so that hostile dimensions
	// cannot make the conversion allocate more than twice the file's data.
	if len(t.RawData) > 0 && int64(len(t.RawData)) != 2*n {
		return false, fmt.Errorf("onnxupgrade: tensor %q holds %d bytes for %d 16-bit values; fix the model file", t.Name, len(t.RawData), n)
	}
	if len(t.RawData) == 0 && int64(len(t.Int32Data)) != n {
		// Without raw_data the 16 bits of each value sit in int32_data.
		return false, fmt.Errorf("onnxupgrade: tensor %q holds %d values for %d elements; fix the model file", t.Name, len(t.Int32Data), n)
	}
	raw := make([]byte, 4*n)
	switch {
	case len(t.RawData) > 0:
		for i := int64(0); i < n; i++ {
			f := decode(binary.LittleEndian.Uint16(t.RawData[2*i:]))
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
	default:
		for i, v := range t.Int32Data {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(decode(uint16(v))))
		}
	}
	t.DataType = int32(onnx.TensorProto_FLOAT)
	t.RawData = raw
	t.Int32Data = nil
	return true, nil
}

// typeToFloat32 makes a type's half-precision element types FLOAT, through
// sequences, maps and optionals.
func typeToFloat32(tp *onnx.TypeProto) {
	if tp == nil {
		return
	}
	switch v := tp.Value.(type) {
	case *onnx.TypeProto_TensorType:
		if v.TensorType != nil && isHalf(v.TensorType.ElemType) {
			v.TensorType.ElemType = int32(onnx.TensorProto_FLOAT)
		}
	case *onnx.TypeProto_SparseTensorType:
		if v.SparseTensorType != nil && isHalf(v.SparseTensorType.ElemType) {
			v.SparseTensorType.ElemType = int32(onnx.TensorProto_FLOAT)
		}
	case *onnx.TypeProto_SequenceType:
		if v.SequenceType != nil {
			typeToFloat32(v.SequenceType.ElemType)
		}
	case *onnx.TypeProto_MapType:
		if v.MapType != nil {
			typeToFloat32(v.MapType.ValueType)
		}
	case *onnx.TypeProto_OptionalType:
		if v.OptionalType != nil {
			typeToFloat32(v.OptionalType.ElemType)
		}
	}
}

// float16ToFloat32 decodes IEEE 754 binary16 (1 sign, 5 exponent, 10
// fraction bits). Every binary16 value, subnormals included, is exactly a
// binary32 value; NaN payloads are kept.
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0: // zero or subnormal: frac · 2^-24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	// Normal: rebias the exponent from 15 to 127.
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// bfloat16ToFloat32 decodes bfloat16, the top half of a binary32.
func bfloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
