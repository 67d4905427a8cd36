package onnxsafe

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// tensor checks one dense tensor and inlines its external data: its dims
// against the limits, its data against its dims and type, and its bytes
// against the running budget. what says where the tensor sits.
func (l *loader) tensor(t *onnx.TensorProto, what string) error {
	_, err := l.checkTensor(t, what)
	return err
}

// checkTensor is tensor returning the element count.
func (l *loader) checkTensor(t *onnx.TensorProto, what string) (int64, error) {
	name := fmt.Sprintf("tensor %q (%s)", t.GetName(), what)
	n, err := elements(t.GetDims(), l.lim.MaxElements)
	if err != nil {
		return 0, fmt.Errorf("%s %v; the model is corrupt or hostile", name, err)
	}
	dt, ok := dtypes[t.GetDataType()]
	if !ok {
		return 0, fmt.Errorf("%s has data type %d, which advlab does not know; re-export the model with a standard ONNX type", name, t.GetDataType())
	}
	if t.GetSegment() != nil {
		return 0, fmt.Errorf("%s is split into segments, which ONNX Runtime cannot load; save the model again without segments", name)
	}
	switch t.GetDataLocation() {
	case onnx.TensorProto_DEFAULT:
		t.ExternalData = nil // not read by anyone: drop it rather than pass it on
	case onnx.TensorProto_EXTERNAL:
		return n, l.inlineExternal(t, name, n, dt)
	default:
		return 0, fmt.Errorf("%s has data_location %d; ONNX knows only 0 (inline) and 1 (external)", name, t.GetDataLocation())
	}
	if dt.field == stringData {
		return n, l.checkStrings(t, name, n)
	}
	need := dt.rawBytes(n)
	raw := int64(len(t.GetRawData()))
	typed := typedLen(t, dt.field)
	switch {
	case otherFields(t, dt.field):
		return 0, fmt.Errorf("%s of type %s holds data in a field of another type; the model is corrupt", name, typeName(t.GetDataType()))
	case raw > 0 && typed > 0:
		return 0, fmt.Errorf("%s holds its data twice, in raw_data and in a typed field; the model is corrupt", name)
	case raw > 0 && raw != need:
		return 0, fmt.Errorf("%s declares %v (%d bytes of %s) but holds %d bytes; the model is corrupt or truncated", name, t.GetDims(), need, typeName(t.GetDataType()), raw)
	case raw == 0 && typed != dt.typedCount(n):
		return 0, fmt.Errorf("%s declares %v (%d values of %s) but holds %d; the model is corrupt or truncated", name, t.GetDims(), dt.typedCount(n), typeName(t.GetDataType()), typed)
	}
	return n, l.spend(name, need)
}

// spend charges n bytes to the model's tensor budget.
func (l *loader) spend(name string, n int64) error {
	if n > l.lim.MaxTotalBytes-l.total {
		return fmt.Errorf("%s brings the model's tensors past advlab's limit of %d bytes; the model is corrupt, hostile, or too large to attack", name, l.lim.MaxTotalBytes)
	}
	l.total += n
	return nil
}

func (l *loader) checkStrings(t *onnx.TensorProto, name string, n int64) error {
	if n > l.lim.MaxStrings {
		return fmt.Errorf("%s declares %d strings, more than advlab's limit of %d; the model is corrupt or hostile", name, n, l.lim.MaxStrings)
	}
	if len(t.GetRawData()) > 0 || otherFields(t, stringData) {
		return fmt.Errorf("%s is a string tensor with numeric or raw data; the model is corrupt", name)
	}
	if got := int64(len(t.GetStringData())); got != n {
		return fmt.Errorf("%s declares %v (%d strings) but holds %d; the model is corrupt or truncated", name, t.GetDims(), n, got)
	}
	for _, s := range t.GetStringData() {
		if int64(len(s)) > l.lim.MaxStringBytes-l.strBytes {
			return fmt.Errorf("%s brings the model's strings past advlab's limit of %d bytes; the model is corrupt or hostile", name, l.lim.MaxStringBytes)
		}
		l.strBytes += int64(len(s))
	}
	return nil
}

// sparse checks a sparse tensor: values and indices as tensors, their shapes
// against the dense shape, every index inside it, and the dense size (which
// ONNX Runtime allocates when it densifies the tensor) against the budget.
func (l *loader) sparse(s *onnx.SparseTensorProto, what string) error {
	v, ix := s.GetValues(), s.GetIndices()
	name := fmt.Sprintf("tensor %q (%s)", v.GetName(), what)
	if v == nil {
		return fmt.Errorf("sparse tensor (%s) has no values; the model is corrupt", what)
	}
	dense, err := elements(s.GetDims(), l.lim.MaxElements)
	if err != nil {
		return fmt.Errorf("%s %v; the model is corrupt or hostile", name, err)
	}
	if len(v.GetDims()) != 1 {
		return fmt.Errorf("%s has values of shape %v; a sparse tensor's values must be one-dimensional [NNZ]", name, v.GetDims())
	}
	if _, err := l.checkTensor(v, what+", its values"); err != nil {
		return err
	}
	nnz := v.GetDims()[0]
	if nnz > dense {
		return fmt.Errorf("%s has %d values for a dense shape %v of %d elements; the model is corrupt", name, nnz, s.GetDims(), dense)
	}
	dt := dtypes[v.GetDataType()]
	if dt.field == stringData {
		if dense > l.lim.MaxStrings {
			return fmt.Errorf("%s densifies to %d strings, more than advlab's limit of %d; the model is corrupt or hostile", name, dense, l.lim.MaxStrings)
		}
	} else if err := l.spend(name+" densified to "+fmt.Sprint(s.GetDims()), dt.rawBytes(dense)); err != nil {
		return err
	}
	if ix == nil {
		if nnz > 0 {
			return fmt.Errorf("%s has %d values but no indices; the model is corrupt", name, nnz)
		}
		return nil
	}
	if ix.GetDataType() != int32(onnx.TensorProto_INT64) {
		return fmt.Errorf("%s has indices of type %s; ONNX requires INT64 indices", name, typeName(ix.GetDataType()))
	}
	rank := int64(len(s.GetDims()))
	id := ix.GetDims()
	linear := len(id) == 1 && id[0] == nnz
	coords := len(id) == 2 && id[0] == nnz && id[1] == rank
	if !linear && !coords {
		return fmt.Errorf("%s has indices of shape %v; for %d values in %d dimensions they must be [%d] or [%d, %d]", name, id, nnz, rank, nnz, nnz, rank)
	}
	if _, err := l.checkTensor(ix, what+", its indices"); err != nil {
		return err
	}
	idx := int64Values(ix)
	for i, x := range idx {
		bound := dense
		if coords {
			bound = s.GetDims()[int64(i)%rank]
		}
		if x < 0 || x >= bound {
			return fmt.Errorf("%s has index %d at position %d, outside its shape %v; the model is corrupt or hostile", name, x, i, s.GetDims())
		}
	}
	return nil
}

func typeName(dt int32) string {
	if s, ok := onnx.TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprintf("type %d", dt)
}
