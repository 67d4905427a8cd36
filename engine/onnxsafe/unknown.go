package onnxsafe

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// keepUnknown lists the fields of newer ONNX schemas (onnx.proto, IR 10 and
// 11) that advlab's generated package lacks but ONNX Runtime reads, and that
// hold no tensor, graph or shape: metadata, function overloads and device
// configurations. Every other unknown field is dropped, since what advlab
// cannot see it cannot check.
var keepUnknown = map[protoreflect.FullName]map[protowire.Number]bool{
	"onnx.ModelProto":    {26: true},                   // configuration
	"onnx.GraphProto":    {16: true},                   // metadata_props
	"onnx.NodeProto":     {8: true, 9: true, 10: true}, // overload, metadata_props, device_configurations
	"onnx.TensorProto":   {16: true},                   // metadata_props
	"onnx.FunctionProto": {13: true, 14: true},         // overload, metadata_props
}

// Fields of FunctionProto that newer schemas added and that hold what Load
// must check: attribute defaults (which may be tensors) and value_info.
const (
	functionAttributeProto protowire.Number = 11
	functionValueInfo      protowire.Number = 12
)

// strip removes unknown fields from m and every message below it, keeping
// those in keepUnknown and, for FunctionProto, the fields function checks.
func strip(m protoreflect.Message) {
	keep := keepUnknown[m.Descriptor().FullName()]
	if m.Descriptor().FullName() == "onnx.FunctionProto" {
		keep = map[protowire.Number]bool{13: true, 14: true, functionAttributeProto: true, functionValueInfo: true}
	}
	if u := m.GetUnknown(); len(u) > 0 {
		kept, _ := filterUnknown(u, keep, nil) // no edit, so no error
		m.SetUnknown(kept)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				strip(list.Get(i).Message())
			}
		default:
			strip(v.Message())
		}
		return true
	})
}

// filterUnknown returns the fields of b whose numbers keep holds, each passed
// through edit when edit is non-nil (edit returns the new field bytes, or an
// error). Malformed bytes end the scan: they cannot come from a successful
// Unmarshal, and nothing after them is kept.
func filterUnknown(b []byte, keep map[protowire.Number]bool, edit func(protowire.Number, []byte) ([]byte, error)) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out, nil
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return out, nil
		}
		whole := b[:n+m]
		b = b[n+m:]
		if !keep[num] {
			continue
		}
		if edit != nil {
			var err error
			if whole, err = edit(num, whole); err != nil {
				return nil, err
			}
		}
		out = append(out, whole...)
	}
	return out, nil
}

// function checks a model-local function: its nodes' attributes and, from the
// fields newer than advlab's schema, its attribute defaults and value_info,
// which are decoded, checked (and inlined), and written back.
func (l *loader) function(f *onnx.FunctionProto) error {
	where := fmt.Sprintf(" in function %q (domain %q)", f.GetName(), f.GetDomain())
	if err := l.nodes(f.GetNode(), where); err != nil {
		return err
	}
	u := f.ProtoReflect().GetUnknown()
	if len(u) == 0 {
		return nil
	}
	edited, err := filterUnknown(u, map[protowire.Number]bool{13: true, 14: true, functionAttributeProto: true, functionValueInfo: true},
		func(num protowire.Number, whole []byte) ([]byte, error) {
			if num != functionAttributeProto && num != functionValueInfo {
				return whole, nil
			}
			_, typ, n := protowire.ConsumeTag(whole)
			if typ != protowire.BytesType {
				return nil, fmt.Errorf("function %q has a malformed field %d; the model is corrupt", f.GetName(), num)
			}
			body, _ := protowire.ConsumeBytes(whole[n:])
			var msg proto.Message
			if num == functionAttributeProto {
				a := &onnx.AttributeProto{}
				if err := proto.Unmarshal(body, a); err != nil {
					return nil, fmt.Errorf("function %q has an unreadable attribute default (%v); the model is corrupt", f.GetName(), err)
				}
				strip(a.ProtoReflect())
				at := fmt.Sprintf("default of attribute %q%s", a.GetName(), where)
				if err := l.attribute(a, at, " in the default of attribute "+fmt.Sprintf("%q", a.GetName())+where); err != nil {
					return nil, err
				}
				msg = a
			} else {
				v := &onnx.ValueInfoProto{}
				if err := proto.Unmarshal(body, v); err != nil {
					return nil, fmt.Errorf("function %q has an unreadable value_info (%v); the model is corrupt", f.GetName(), err)
				}
				strip(v.ProtoReflect())
				if err := l.valueInfo(v, "value_info", where, false, false); err != nil {
					return nil, err
				}
				msg = v
			}
			enc, err := proto.Marshal(msg)
			if err != nil {
				return nil, fmt.Errorf("function %q: re-encoding a checked field: %v", f.GetName(), err)
			}
			out := protowire.AppendTag(nil, num, protowire.BytesType)
			return protowire.AppendBytes(out, enc), nil
		})
	if err != nil {
		return err
	}
	f.ProtoReflect().SetUnknown(edited)
	return nil
}
