package onnxsafe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// extW is the model whose W lies in dir/w.bin (48 bytes after pad bytes),
// with the offset and length keys given.
func extW(pad int, offset, length string) func(t *testing.T, dir, outside string) *onnx.ModelProto {
	return func(t *testing.T, dir, outside string) *onnx.ModelProto {
		writeWeights(t, dir, "w.bin", pad)
		return withW(externalTensor("W", []int64{4, 3}, "w.bin", offset, length))
	}
}

func model(m *onnx.ModelProto) func(t *testing.T, dir, outside string) *onnx.ModelProto {
	return func(*testing.T, string, string) *onnx.ModelProto { return m }
}

func stringTensor(name string, dims []int64, s ...string) *onnx.TensorProto {
	t := &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_STRING)}
	for _, x := range s {
		t.StringData = append(t.StringData, []byte(x))
	}
	return t
}

func withInit(t *onnx.TensorProto) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Initializer = append(m.Graph.Initializer, t)
	return m
}

// withIO is the inline model with X's second dimension, the batch and Y's
// class count replaced.
func withIO(batch, features, classes int64) *onnx.ModelProto {
	m := inlineModel()
	m.Graph.Input[0] = valueInfo("X", batch, features)
	m.Graph.Output[0] = valueInfo("Y", 1, classes)
	return m
}

func TestLoadRefusesBadOffsetsAndLengths(t *testing.T) {
	runDefects(t, []defect{
		{"offset+length wraps int64", extW(0, "9223372036854775807", "48"), Limits{}, "is stored at offset 9223372036854775807, 48 bytes long, beyond the end"},
		{"offset past the end", extW(0, "49", ""), Limits{}, "beyond the end"},
		{"file shorter than the tensor", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 8), 0o644); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "0", "48"))
		}, Limits{}, `beyond the end of "w.bin" (8 bytes)`},
		{"negative offset", extW(0, "-1", ""), Limits{}, `external-data offset "-1", not a non-negative decimal number`},
		{"signed offset", extW(4, "+4", ""), Limits{}, `offset "+4"`},
		{"spaced offset", extW(4, " 4", ""), Limits{}, `offset " 4"`},
		{"hex offset", extW(4, "0x4", ""), Limits{}, `offset "0x4"`},
		{"offset past int64", extW(0, "99999999999999999999", ""), Limits{}, "not a non-negative decimal"},
		{"negative length", extW(0, "0", "-48"), Limits{}, `length "-48"`},
		{"length unlike the tensor", extW(0, "0", "4"), Limits{}, "declares [4 3] (48 bytes of FLOAT) but its external data is 4 bytes long"},
		{"huge length", extW(0, "0", "9223372036854775807"), Limits{}, "external data is 9223372036854775807 bytes long"},
	})
}

func TestLoadRefusesImpossibleSizes(t *testing.T) {
	sparseDims := func(dims ...int64) *onnx.SparseTensorProto {
		s := sparseW()
		s.Dims = dims
		return s
	}
	coords := func(c ...int64) *onnx.SparseTensorProto {
		n := int64(len(c) / 2)
		return &onnx.SparseTensorProto{Dims: []int64{4, 3},
			Values:  floatTensor("W", []int64{n}, make([]float32, n)),
			Indices: &onnx.TensorProto{Name: "W_indices", Dims: []int64{n, 2}, DataType: int32(onnx.TensorProto_INT64), Int64Data: c}}
	}
	raw44 := floatTensor("W", []int64{4, 3}, testW)
	raw44.RawData = raw44.RawData[:44]
	mixed := floatTensor("W", []int64{4, 3}, testW)
	mixed.FloatData = testW
	wrongField := &onnx.TensorProto{Name: "W", Dims: []int64{4, 3}, DataType: int32(onnx.TensorProto_FLOAT), Int64Data: make([]int64, 12)}
	segmented := floatTensor("W", []int64{4, 3}, testW)
	segmented.Segment = &onnx.TensorProto_Segment{Begin: 0, End: 12}
	badLoc := floatTensor("W", []int64{4, 3}, testW)
	badLoc.DataLocation = 7
	runDefects(t, []defect{
		{"2^40 elements", model(withW(floatTensor("W", []int64{1 << 40}, []float32{1, 2, 3, 4}))), Limits{}, `tensor "W" (initializer) declares dimensions [1099511627776], more than the 2147483648 elements`},
		{"dims whose product wraps int64", model(withW(floatTensor("W", []int64{1 << 32, 1 << 32, 1 << 32}, nil))), Limits{}, "more than the 2147483648 elements"},
		{"negative dimension", model(withW(floatTensor("W", []int64{-4, -3}, testW))), Limits{}, "has a negative dimension in [-4 -3]"},
		{"raw data shorter than its dims", model(withW(raw44)), Limits{}, "declares [4 3] (48 bytes of FLOAT) but holds 44 bytes"},
		{"typed data shorter than its dims", model(withW(&onnx.TensorProto{Name: "W", Dims: []int64{4, 3}, DataType: 1, FloatData: testW[:5]})), Limits{}, "(12 values of FLOAT) but holds 5"},
		{"no data at all", model(withW(&onnx.TensorProto{Name: "W", Dims: []int64{4, 3}, DataType: 1})), Limits{}, "but holds 0"},
		{"raw and typed data", model(withW(mixed)), Limits{}, "holds its data twice"},
		{"data in another type's field", model(withW(wrongField)), Limits{}, "holds data in a field of another type"},
		{"unknown data type", model(withW(&onnx.TensorProto{Name: "W", Dims: []int64{1}, DataType: 99, RawData: []byte{1}})), Limits{}, "data type 99, which advlab does not know"},
		{"segments", model(withW(segmented)), Limits{}, "split into segments"},
		{"unknown data_location", model(withW(badLoc)), Limits{}, "data_location 7"},
		{"2^26 strings declared, one present", model(withInit(stringTensor("labels", []int64{1 << 26}, "a"))), Limits{}, `tensor "labels" (initializer) declares 67108864 strings, more than advlab's limit of 1048576`},
		{"string count unlike the dims", model(withInit(stringTensor("labels", []int64{3}, "a", "b"))), Limits{}, "(3 strings) but holds 2"},
		{"strings past the byte budget", model(withInit(stringTensor("labels", []int64{2}, strings.Repeat("a", 60), strings.Repeat("b", 60)))), Limits{MaxStringBytes: 100}, "past advlab's limit of 100 bytes"},
		{"tensors past the byte budget", model(inlineModel()), Limits{MaxTotalBytes: 59}, `tensor "B" (initializer) brings the model's tensors past advlab's limit of 59 bytes`},
		{"sparse tensor that densifies to 8 GiB", model(withSparseW(sparseDims(1 << 31))), Limits{}, "densified to [2147483648] brings the model's tensors past advlab's limit of 4294967296 bytes"},
		{"sparse dims of 2^40", model(withSparseW(sparseDims(1<<20, 1<<20))), Limits{}, "declares dimensions [1048576 1048576], more than the 2147483648 elements"},
		{"sparse linear index outside the shape", model(withSparseW(sparseDims(2, 2))), Limits{}, "outside its shape [2 2]"},
		{"sparse coordinate outside the shape", model(withSparseW(coords(0, 0, 1, 3))), Limits{}, "has index 3 at position 3, outside its shape [4 3]"},
		{"negative sparse index", model(withSparseW(coords(0, -1))), Limits{}, "has index -1"},
		{"sparse indices of the wrong shape", model(withSparseW(func() *onnx.SparseTensorProto {
			s := coords(0, 0, 1, 1)
			s.Indices.Dims = []int64{2, 3}
			s.Indices.Int64Data = make([]int64, 6)
			return s
		}())), Limits{}, "indices of shape [2 3]; for 2 values in 2 dimensions they must be [2] or [2, 2]"},
		{"sparse indices fewer than declared", model(withSparseW(func() *onnx.SparseTensorProto {
			s := sparseW()
			s.Indices.RawData = s.Indices.RawData[:8]
			return s
		}())), Limits{}, "its indices) declares"},
		{"more sparse values than elements", model(withSparseW(func() *onnx.SparseTensorProto {
			s := sparseW()
			s.Dims = []int64{2}
			return s
		}())), Limits{}, "has 4 values for a dense shape [2] of 2 elements"},
		{"sparse values of rank 2", model(withSparseW(func() *onnx.SparseTensorProto {
			s := sparseW()
			s.Values.Dims = []int64{5, 1}
			return s
		}())), Limits{}, "values must be one-dimensional"},
		{"sparse INT32 indices", model(withSparseW(func() *onnx.SparseTensorProto {
			s := sparseW()
			s.Indices = &onnx.TensorProto{Name: "i", Dims: []int64{5}, DataType: int32(onnx.TensorProto_INT32), Int32Data: []int32{0, 4, 7, 9, 11}}
			return s
		}())), Limits{}, "indices of type INT32; ONNX requires INT64"},
		{"sparse values without indices", model(withSparseW(func() *onnx.SparseTensorProto {
			s := sparseW()
			s.Indices = nil
			return s
		}())), Limits{}, "no indices"},
		{"sparse without values", model(withSparseW(&onnx.SparseTensorProto{Dims: []int64{4, 3}})), Limits{}, "has no values"},
		{"Constant sparse_value of 2^31 elements", model(withConstantW(sparseValueAttr(sparseDims(1 << 31)))), Limits{}, `(attribute "sparse_value" of node "const_w" (Constant)) densified`},
		{"input feature dimension 2^40", model(withIO(1, 1<<40, 3)), Limits{}, `input "X" has dimension 1 of 1099511627776, beyond advlab's MaxDim limit of 16777216`},
		{"input batch 2^40", model(withIO(1<<40, 4, 3)), Limits{}, "beyond advlab's batch limit of 65536"},
		{"2^21 classes", model(withIO(1, 4, 1<<21)), Limits{}, `output "Y" has dimension 1 of 2097152, beyond advlab's class limit of 1048576`},
		{"input dims whose product is too large", model(func() *onnx.ModelProto {
			m := inlineModel()
			m.Graph.Input[0] = valueInfo("X", 1, 1<<24, 1<<24)
			return m
		}()), Limits{}, "more than the 2147483648 elements"},
		{"negative value_info dimension", model(func() *onnx.ModelProto {
			m := inlineModel()
			m.Graph.ValueInfo = []*onnx.ValueInfoProto{valueInfo("H", 1, -5)}
			return m
		}()), Limits{}, `value_info "H" has a negative dimension -5`},
		{"subgraph output of 2^40", model(func() *onnx.ModelProto {
			m := withIfW(floatTensor("W", []int64{4, 3}, testW))
			m.Graph.Node[0].Attribute[1].G.Output[0] = valueInfo("else_out", 4, 1<<40)
			return m
		}()), Limits{}, `output "else_out" in the subgraph "else_branch" of node "if_w" (If) has dimension 1`},
		{"function value_info (a field newer than the schema) of 2^40", model(withFunctionField(functionValueInfo, valueInfo("v", 1<<40))), Limits{}, `value_info "v" in function "scaled" (domain "advlab.test") has dimension 0 of 1099511627776`},
		{"external tensor past the byte budget is not read", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			f, err := os.Create(filepath.Join(dir, "big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(4 << 30); err != nil { // sparse on disk: no space used
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{1 << 30}, "big.bin", "", ""))
		}, Limits{MaxTotalBytes: 1 << 20}, "past advlab's limit of 1048576 bytes"},
	})
}

func TestLoadRefusesUnreadableFiles(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"not protobuf", "\xff\xff\xff\xff", "not a readable ONNX file"},
		{"no graph", "", "has no graph"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadGuarded(t, []byte(c.data), "", Limits{})
			wantOneLineError(t, err, c.want)
		})
	}
}
