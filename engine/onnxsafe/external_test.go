package onnxsafe

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// defect is one hostile or broken model: build writes whatever files it needs
// into dir (the model's folder) or outside (a sibling folder) and returns the
// model's bytes.
type defect struct {
	name  string
	build func(t *testing.T, dir, outside string) *onnx.ModelProto
	lim   Limits
	want  string
}

func runDefects(t *testing.T, cases []defect) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir, outside := filepath.Join(root, "model"), filepath.Join(root, "outside")
			for _, d := range []string{dir, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			data := marshal(t, c.build(t, dir, outside))
			_, err := loadGuarded(t, data, dir, c.lim)
			wantOneLineError(t, err, c.want)
		})
	}
}

func sparseW() *onnx.SparseTensorProto { return sparseOf("W", []int64{4, 3}, testW) }

// extSparse returns W's sparse form with its values or indices moved to loc.
func extSparse(part, loc string) *onnx.SparseTensorProto {
	s := sparseW()
	if part == "values" {
		s.Values = externalTensor("W", s.Values.Dims, loc, "", "")
	} else {
		ix := externalTensor("W_indices", s.Indices.Dims, loc, "", "")
		ix.DataType = int32(onnx.TensorProto_INT64)
		s.Indices = ix
	}
	return s
}

// withFunctionField is the inline model plus a function carrying field num
// (a field newer than advlab's schema) holding msg.
func withFunctionField(num protowire.Number, msg proto.Message) *onnx.ModelProto {
	m := inlineModel()
	body, _ := proto.Marshal(msg)
	fn := &onnx.FunctionProto{Name: "scaled", Domain: "advlab.test", Input: []string{"x"}, Output: []string{"y"},
		Node: []*onnx.NodeProto{node("Identity", "id", []string{"x"}, []string{"y"})}}
	fn.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), body))
	m.Functions = []*onnx.FunctionProto{fn}
	return m
}

func TestLoadRefusesExternalLocations(t *testing.T) {
	abs := func(t *testing.T, dir, outside string) *onnx.ModelProto {
		return withW(externalTensor("W", []int64{4, 3}, "/etc/passwd", "", ""))
	}
	runDefects(t, []defect{
		{"dense initializer at an absolute path", abs, Limits{}, `tensor "W" (initializer) is stored at "/etc/passwd", outside the model's folder: advlab only reads weights from files beside the model`},
		{"sparse initializer values at /etc/passwd", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withSparseW(extSparse("values", "/etc/passwd"))
		}, Limits{}, `tensor "W" (sparse initializer, its values) is stored at "/etc/passwd", outside the model's folder`},
		{"sparse initializer indices up ../", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withSparseW(extSparse("indices", "../../../../tmp/secret.bin"))
		}, Limits{}, `(sparse initializer, its indices) is stored at "../../../../tmp/secret.bin", outside the model's folder`},
		{"Constant sparse_value at an ORT memory address", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withConstantW(sparseValueAttr(extSparse("values", "*/_ORT_MEM_ADDR_/*")))
		}, Limits{}, `attribute "sparse_value" of node "const_w" (Constant), its values) is stored at "*/_ORT_MEM_ADDR_/*", an ONNX Runtime memory address`},
		{"ORT memory address in a relative-looking name", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withW(externalTensor("W", []int64{4, 3}, "w/_ORT_MEM_ADDR_/0x1000", "", ""))
		}, Limits{}, "ONNX Runtime memory address"},
		{"If subgraph Constant stored up ../", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, outside, "w.bin", 0)
			return withIfW(externalTensor("W", []int64{4, 3}, "../outside/w.bin", "", ""))
		}, Limits{}, `(attribute "value" of node "then_w" (Constant) in the subgraph "then_branch" of node "if_w" (If)) is stored at "../outside/w.bin", outside`},
		{"TENSORS attribute at an absolute path", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			m := inlineModel()
			m.Graph.Node[1].Attribute = []*onnx.AttributeProto{{Name: "extra", Type: onnx.AttributeProto_TENSORS,
				Tensors: []*onnx.TensorProto{floatTensor("ok", []int64{1}, []float32{1}), externalTensor("bad", []int64{1}, "/dev/zero", "", "")}}}
			return m
		}, Limits{}, `tensor "bad" (attribute "extra" of node "add" (Add)) is stored at "/dev/zero", outside`},
		{"SPARSE_TENSORS attribute at an ORT memory address", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			m := inlineModel()
			m.Graph.Node[0].Attribute = []*onnx.AttributeProto{{Name: "extra", Type: onnx.AttributeProto_SPARSE_TENSORS,
				SparseTensors: []*onnx.SparseTensorProto{extSparse("indices", "_ORT_MEM_ADDR_")}}}
			return m
		}, Limits{}, "ONNX Runtime memory address"},
		{"tensor hidden under an attribute of another type", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			m := inlineModel()
			m.Graph.Node[0].Attribute = []*onnx.AttributeProto{{Name: "n", Type: onnx.AttributeProto_INT, I: 3,
				T: externalTensor("hidden", []int64{1}, "/etc/shadow", "", "")}}
			return m
		}, Limits{}, `tensor "hidden"`},
		{"function attribute default (a field newer than the schema) at an absolute path", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withFunctionField(functionAttributeProto, tensorAttr("alpha", externalTensor("alpha", []int64{1}, "/etc/passwd", "", "")))
		}, Limits{}, `tensor "alpha" (default of attribute "alpha" in function "scaled" (domain "advlab.test")) is stored at "/etc/passwd", outside`},
		{"training_info graph at an absolute path", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			m := inlineModel()
			m.TrainingInfo = []*onnx.TrainingInfoProto{{Initialization: &onnx.GraphProto{Initializer: []*onnx.TensorProto{externalTensor("t", []int64{1}, "/etc/passwd", "", "")}}}}
			return m
		}, Limits{}, "outside the model's folder"},
		{"parent folder", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, outside, "w.bin", 0)
			return withW(externalTensor("W", []int64{4, 3}, "../outside/w.bin", "", ""))
		}, Limits{}, "outside the model's folder"},
		{"absolute path to a file inside the folder", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			return withW(externalTensor("W", []int64{4, 3}, filepath.Join(dir, "w.bin"), "", ""))
		}, Limits{}, "outside the model's folder"},
		{"unclean path", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			return withW(externalTensor("W", []int64{4, 3}, "./w.bin", "", ""))
		}, Limits{}, `not a clean relative path (write it as "w.bin")`},
		{"backslashes", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withW(externalTensor("W", []int64{4, 3}, `..\outside\w.bin`, "", ""))
		}, Limits{}, "not a plain relative file name"},
		{"symlink out of the folder", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, outside, "w.bin", 0)
			if err := os.Symlink(filepath.Join(outside, "w.bin"), filepath.Join(dir, "w.bin")); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}, Limits{}, `is stored in "w.bin", a link to`},
		{"subfolder symlinked out of the folder", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, outside, "w.bin", 0)
			if err := os.Symlink(outside, filepath.Join(dir, "weights")); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "weights/w.bin", "", ""))
		}, Limits{}, "outside the model's folder"},
		{"symlink to a device", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "w.bin")); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}, Limits{}, "outside the model's folder"},
		{"folder instead of a file", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			if err := os.Mkdir(filepath.Join(dir, "w.bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}, Limits{}, "folder, not a regular file"},
		{"missing file", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}, Limits{}, `is stored in "w.bin" beside the model, which cannot be read: no such file`},
		{"external but no location", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			w := externalTensor("W", []int64{4, 3}, "", "", "")
			w.ExternalData = nil
			return withW(w)
		}, Limits{}, "names none"},
		{"location given twice", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			w := externalTensor("W", []int64{4, 3}, "w.bin", "", "")
			w.ExternalData = append(w.ExternalData, &onnx.StringStringEntryProto{Key: "location", Value: "/etc/passwd"})
			return withW(w)
		}, Limits{}, `external-data key "location" twice`},
		{"unknown external-data key", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			w := externalTensor("W", []int64{4, 3}, "w.bin", "", "")
			w.ExternalData = append(w.ExternalData, &onnx.StringStringEntryProto{Key: "basepath", Value: "/etc"})
			return withW(w)
		}, Limits{}, `key "basepath"`},
		{"string tensor stored externally", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			s := externalTensor("labels", []int64{2}, "w.bin", "", "")
			s.DataType = int32(onnx.TensorProto_STRING)
			m := inlineModel()
			m.Graph.Initializer = append(m.Graph.Initializer, s)
			return m
		}, Limits{}, "string tensor stored in an external file"},
		{"external and inline at once", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			w := externalTensor("W", []int64{4, 3}, "w.bin", "", "")
			w.FloatData = testW
			return withW(w)
		}, Limits{}, "external file and also inline"},
	})
}

func TestLoadRefusesExternalWithoutFolder(t *testing.T) {
	data := marshal(t, withW(externalTensor("W", []int64{4, 3}, "w.bin", "", "")))
	_, err := loadGuarded(t, data, "", Limits{})
	wantOneLineError(t, err, `tensor "W" (initializer) is stored in the external file "w.bin", and this model has no folder to read it from`)
}
