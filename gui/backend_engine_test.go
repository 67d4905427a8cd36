package gui

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/advlab/advlab/engine/onnxrt"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

// fixtureModel returns a small real ONNX classifier from the engine's
// fixtures (make fixtures), skipping when it or ONNX Runtime is missing.
func fixtureModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join("..", "testdata-cache", "archs", "mobilenet_v3_small", "model.onnx")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no fixture model (run make fixtures):", err)
	}
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	return path
}

// writeFolder writes an ImageFolder of two classes ("0", "1") of two
// images each.
func writeFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for c := 0; c < 2; c++ {
		os.MkdirAll(filepath.Join(dir, string(rune('0'+c))), 0o755)
		for i := 0; i < 2; i++ {
			img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
			for y := 0; y < 64; y++ {
				for x := 0; x < 64; x++ {
					img.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 4 * (c + 1)), uint8(60 * i), 255})
				}
			}
			f, _ := os.Create(filepath.Join(dir, string(rune('0'+c)), string(rune('a'+i))+".png"))
			png.Encode(f, img)
			f.Close()
		}
	}
	return dir
}

func TestEngineBackendLoadsPredictsAndAttacks(t *testing.T) {
	path := fixtureModel(t)
	be := NewEngineBackend()
	ctx := context.Background()
	m, err := be.LoadModel(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer be.CloseModel(m)
	d := m.Details()
	if d.Channels != 3 || d.Height <= 0 || d.Preprocessing == "" || len(m.Labels()) == 0 {
		t.Errorf("details %+v, %d labels", d, len(m.Labels()))
	}

	set, err := be.LoadImages(ctx, writeFolder(t))
	if err != nil || len(set.Samples) != 4 || set.Samples[0].Class != "0" {
		t.Fatalf("LoadImages: %v, %+v", err, set)
	}
	p, err := be.Predict(ctx, m, set.Samples[0].Image)
	if err != nil {
		t.Fatal(err)
	}
	var sum float32
	for _, v := range p.Probs {
		sum += v
	}
	if len(p.Probs) != len(m.Labels()) || sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities: %d classes, sum %v", len(p.Probs), sum)
	}

	var reports int
	// Square needs only logits, so this holds whatever the state of the
	// engine's gradient graphs.
	res, err := be.RunAttack(ctx, AttackRequest{Method: MethodSquare, Source: m, Models: []Model{m}, Samples: set.Samples,
		Target: -1, Params: map[string]string{"eps": "16/255", "steps": "20"}, Batch: 2}, func(AttackProgress) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 4 || reports == 0 {
		t.Fatalf("%d items, %d progress reports", len(res.Items), reports)
	}
	it := res.Items[0]
	if it.Adversarial.Bounds().Dx() != d.Width || it.Linf > 16.0/255+1e-6 || len(it.AdvPred) != 1 {
		t.Errorf("item 0: %v, L∞ %v, %d predictions", it.Adversarial.Bounds(), it.Linf, len(it.AdvPred))
	}
	// The 8-bit predictions are those of the image shown, classified anew.
	for i, it := range res.Items {
		shown, err := be.Predict(ctx, m, it.Adversarial)
		if err != nil {
			t.Fatal(err)
		}
		for k, p := range shown.Probs {
			if d := p - it.RoundedPred[0].Probs[k]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("item %d: 8-bit probability of class %d is %v; the shown image's is %v", i, k, it.RoundedPred[0].Probs[k], p)
			}
		}
	}

	patch := imgops.NewNoisePatch(imgops.CircleMask(16), 1)
	res, err = be.RunAttack(ctx, AttackRequest{Method: MethodPatch, Source: m, Models: []Model{m}, Samples: set.Samples[:1],
		Target: -1, Patch: patch, Placement: DefaultPlacement}, nil)
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("patch attack: %v", err)
	}
	if l2, _ := perturbationNorms(res.Items[0].Clean, res.Items[0].Adversarial); l2 == 0 {
		t.Error("the patch changed nothing")
	}
}

func TestEngineBackendPatchFiles(t *testing.T) {
	be := NewEngineBackend()
	dir := t.TempDir()
	p := imgops.NewNoisePatch(imgops.CircleMask(20), 2)
	meta := imgops.PatchMeta{Target: "stop"}
	file := filepath.Join(dir, "p.png")
	if err := be.SavePatch(file, p, meta); err != nil {
		t.Fatal(err)
	}
	if kindOf(file) != kindPatch {
		t.Error("a saved patch is not recognised as one when dropped")
	}
	q, got, err := be.LoadPatch(file)
	if err != nil || q.W != 20 || got.Target != "stop" {
		t.Fatalf("LoadPatch: %v, %dpx, %+v", err, q.W, got)
	}
	for _, s := range []PrintSettings{{Format: "pdf", SizeMM: 50, DPI: 300, Paper: "a4"}, {Format: "png", SizeMM: 50, DPI: 300}} {
		out := filepath.Join(dir, "out."+s.Format)
		if err := be.ExportPatch(out, p, meta, s); err != nil {
			t.Fatalf("%s: %v", s.Format, err)
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Errorf("%s: nothing written", s.Format)
		}
	}
	if err := be.ExportPatch(filepath.Join(dir, "x.pdf"), p, meta, PrintSettings{Format: "pdf", SizeMM: 50, DPI: 300, Paper: "tabloid"}); err == nil {
		t.Error("an unknown paper was accepted")
	}
	if _, err := be.LoadImages(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder loaded")
	}
}

// TestEngineBackendDemo opens the embedded demo model and images, as the
// workbench does at start, and checks that the model reads its own samples.
func TestEngineBackendDemo(t *testing.T) {
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	be := NewEngineBackend()
	ctx := context.Background()
	m, err := be.DemoModel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer be.CloseModel(m)
	set, err := be.DemoImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Samples) < 16 {
		t.Fatalf("%d demo samples", len(set.Samples))
	}
	d := m.Details()
	if d.Channels != 3 || d.Height < 16 || len(m.Labels()) < 2 || d.Preprocessing == "" {
		t.Errorf("demo model details %+v, %d labels", d, len(m.Labels()))
	}
	// The panel says what inspect says: the demo's batch is dynamic, its
	// output logits, its labels from the sidecar.
	want := []string{"Batch: dynamic", "Output: logits", "Labels: 16 from the sidecar"}
	if len(d.Findings) < len(want) {
		t.Fatalf("findings %q; want %q", d.Findings, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(d.Findings[i], w) {
			t.Errorf("finding %d is %q; want %q…", i, d.Findings[i], w)
		}
	}
	right, n := 0, 0
	for i := 0; i < len(set.Samples); i += max(1, len(set.Samples)/40) {
		s := set.Samples[i]
		p, err := be.Predict(ctx, m, s.Image)
		if err != nil {
			t.Fatal(err)
		}
		if labelOf(m.Labels(), p.Class()) == s.Class {
			right++
		}
		n++
	}
	if right < n*8/10 {
		t.Errorf("the demo model reads %d of %d of its samples right", right, n)
	}
}

// TestEngineBackendTrainsAndEvaluatesAPatch trains a short patch on the demo
// model through the backend, as the Patch tab does, stops a second run
// part-way, and evaluates the patch, as the Evaluate tab does.
func TestEngineBackendTrainsAndEvaluatesAPatch(t *testing.T) {
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	be := NewEngineBackend()
	ctx := context.Background()
	m, err := be.DemoModel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer be.CloseModel(m)
	set, err := be.DemoImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := TrainRequest{Models: []Model{m}, Samples: set.Samples, Target: "stop", Mask: imgops.MaskCircle, Size: 24,
		MaxAngleDeg: 22.5, ScaleMin: 0.1, ScaleMax: 0.2, Steps: 40, Batch: 8, LearningRate: 0.05, TVWeight: 1e-4, Seed: 3}
	var reports []patch.Progress
	res, err := be.TrainPatch(ctx, req, func(pr patch.Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	p := res.Patch
	if p == nil || p.W != 24 || p.H != 24 || p.Mask.Shape != "circle" {
		t.Fatalf("trained patch %+v", p)
	}
	if len(reports) != 40 || reports[39].Step != 40 || reports[39].Steps != 40 || reports[39].Patch == nil {
		t.Fatalf("%d progress reports, the last %+v", len(reports), reports[len(reports)-1])
	}
	if !samePatch(reports[39].Patch, p) {
		t.Error("the last report's patch is not the returned patch")
	}
	first, last := reports[0], reports[39]
	if !(last.Loss < first.Loss) || last.Elapsed <= 0 {
		t.Errorf("loss %.3f → %.3f in %v; want it falling", first.Loss, last.Loss, last.Elapsed)
	}
	t.Logf("40 steps of 8 images: loss %.3f → %.3f, success %.0f%%, %v", first.Loss, last.Loss, 100*last.SuccessRate, last.Elapsed)

	// Stop after three steps: the patch of the third step is returned, with
	// the cancellation, and training continues from it.
	cctx, cancel := context.WithCancel(ctx)
	var third *imgops.Patch
	req.Init, req.Steps = p, 1000
	stopped, err := be.TrainPatch(cctx, req, func(pr patch.Progress) {
		if pr.Step == 3 {
			third = pr.Patch.Clone()
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || stopped == nil || !samePatch(stopped.Patch, third) {
		t.Fatalf("stopped run: %v; patch kept %v", err, stopped != nil && samePatch(stopped.Patch, third))
	}

	curves, err := be.EvaluatePatch(ctx, EvalRequest{Patch: p, Models: []Model{m}, Samples: set.Samples[:64], Target: "stop",
		Areas: []float64{0.05, 0.2}, Placements: 1, MaxAngleDeg: 22.5, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != 1 || curves[0].Model != m.Name() || len(curves[0].Areas) != 2 || len(curves[0].SuccessRate) != 2 || len(curves[0].Control) != 2 {
		t.Fatalf("curves %+v", curves)
	}
	for i, a := range curves[0].Areas {
		if math.Abs(a-[]float64{0.05, 0.2}[i]) > 1e-9 {
			t.Errorf("area %d = %v", i, a)
		}
		for _, r := range []float64{curves[0].SuccessRate[i], curves[0].Control[i]} {
			if !(r >= 0 && r <= 1) {
				t.Errorf("rate %v at area %v", r, a)
			}
		}
	}
	t.Logf("success at 5%%, 20%% of the image: %.2f, %.2f (noise %.2f, %.2f)", curves[0].SuccessRate[0], curves[0].SuccessRate[1], curves[0].Control[0], curves[0].Control[1])
}

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

// TestEngineErrorsSayWhatToDo opens, in the workbench on the real engine,
// the broken files of the issue (an unreadable model, a model with an
// unsupported operator, a corrupt image, alone or in a folder) and a corrupt
// patch: each error shows in a dialog that names the file and says what to
// do, and the session (the demo model, its images and predictions) stays.
func TestEngineErrorsSayWhatToDo(t *testing.T) {
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	wb := newDemoWorkbench(t)
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

// newDemoWorkbench opens the workbench on the real engine, as advlab starts
// with no arguments (the embedded demo model and its images), at 1280×800.
func newDemoWorkbench(t *testing.T) *Workbench {
	t.Helper()
	wb, _ := newTestWorkbench(t, NewEngineBackend())
	t.Cleanup(wb.close)
	if len(wb.models) != 1 || wb.images == nil {
		t.Fatalf("the demo did not load: %s", wb.status.Text)
	}
	return wb
}
