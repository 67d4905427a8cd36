package gui

// The checks of this file and of the other *_engine_test.go files drive the
// workbench on a Backend they are given: engine_test.go, in the external
// test package, hands them the real engine (gui/enginebackend), which
// package gui cannot import.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// unsupportedOpModel writes a well-formed ONNX classifier whose one node is
// an operator no ONNX Runtime knows.
func unsupportedOpModel(t *testing.T, path string) {
	t.Helper()
	vi := func(name string, dims ...int64) *onnx.ValueInfoProto {
		var ds []*onnx.TensorShapeProto_Dimension
		for _, d := range dims {
			ds = append(ds, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
			ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: ds}}}}}
	}
	mp := &onnx.ModelProto{IrVersion: 8, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 17}},
		Graph: &onnx.GraphProto{Name: "g",
			Node:   []*onnx.NodeProto{{Name: "n", OpType: "FrobnicateNd", Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnx.ValueInfoProto{vi("x", 1, 3, 8, 8)},
			Output: []*onnx.ValueInfoProto{vi("y", 1, 2)}}}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ErrorsSayWhatToDo opens, in the workbench on be (the real engine: see
// engine_test.go), the broken files of the issue (an unreadable model, a model with an
// unsupported operator, a corrupt image, alone or in a folder) and a corrupt
// patch: each error shows in a dialog that names the file and says what to
// do, and the session (the demo model, its images and predictions) stays.
func ErrorsSayWhatToDo(t *testing.T, be Backend) {
	wb := newDemoWorkbench(t, be)
	demo, images := wb.models[0], wb.images

	dir := t.TempDir()
	write := func(rel, data string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		open func() string // opens a broken file, returns its name
		want []string      // what the dialog must say
	}{
		{"unreadable model", func() string {
			p := write("garbage.onnx", "this is not a model")
			wb.openModel(p)
			return "garbage.onnx"
		}, []string{"not a readable ONNX file", "export the model"}},
		{"unsupported operator", func() string {
			p := filepath.Join(dir, "frob.onnx")
			unsupportedOpModel(t, p)
			wb.openModel(p)
			return "frob.onnx"
		}, []string{"FrobnicateNd", "export the model again using only standard ONNX operators"}},
		{"corrupt image", func() string {
			wb.openImages(write("broken.png", "\x89PNG\r\n\x1a\nbroken"))
			return "broken.png"
		}, []string{"not a readable image", "convert it to PNG or JPEG"}},
		{"corrupt image in a folder", func() string {
			write("set/cat/a.jpg", "garbage")
			wb.openImages(filepath.Join(dir, "set"))
			return "a.jpg"
		}, []string{"not a readable image", "move it out of the folder"}},
		{"corrupt patch", func() string {
			wb.openPatch(write("patch.png", "\x89PNG\r\n\x1a\n"))
			return "patch.png"
		}, []string{"File › Save patch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			patch := wb.patch
			file := tc.open()
			wb.tasks.Wait()
			msg := topDialogText(wb.win)
			for _, s := range append([]string{file}, tc.want...) {
				if !strings.Contains(msg, s) {
					t.Errorf("dialog %q does not say %q", msg, s)
				}
			}
			closeDialogs(wb.win)
			if len(wb.models) != 1 || wb.models[0] != demo || wb.images != images || wb.patch != patch {
				t.Errorf("the session changed: %d models, images %v, patch kept %v", len(wb.models), wb.images.Name, wb.patch == patch)
			}
			if wb.busy != 0 {
				t.Error("the activity indicator still spins")
			}
			// The session still works: moving the patch classifies again.
			wb.view.SetPlacement(Placement{CX: 0.3, CY: 0.3, Area: 0.1})
			wb.tasks.Wait()
			if wb.preds.Top(demo) == "" {
				t.Error("no prediction after the error")
			}
		})
	}
}

// newDemoWorkbench opens the workbench on be, as advlab starts with no
// arguments (the embedded demo model and its images), at 1280×800.
func newDemoWorkbench(t *testing.T, be Backend) *Workbench {
	t.Helper()
	wb, _ := newTestWorkbench(t, be)
	t.Cleanup(wb.close)
	if len(wb.models) != 1 || wb.images == nil {
		t.Fatalf("the demo did not load: %s", wb.status.Text)
	}
	return wb
}
