package enginebackend

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/onnxrt"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// fixtureModel returns a small real ONNX classifier from the engine's
// fixtures (make fixtures), skipping when it or ONNX Runtime is missing.
func fixtureModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join("..", "..", "testdata-cache", "archs", "mobilenet_v3_small", "model.onnx")
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
	be := New()
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
	res, err := be.RunAttack(ctx, gui.AttackRequest{Method: gui.MethodSquare, Source: m, Models: []gui.Model{m}, Samples: set.Samples,
		Target: -1, Params: map[string]string{"eps": "16/255", "steps": "20"}, Batch: 2}, func(gui.AttackProgress) { reports++ })
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
	res, err = be.RunAttack(ctx, gui.AttackRequest{Method: gui.MethodPatch, Source: m, Models: []gui.Model{m}, Samples: set.Samples[:1],
		Target: -1, Patch: patch, Placement: gui.DefaultPlacement}, nil)
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("patch attack: %v", err)
	}
	if sameImage(res.Items[0].Clean, res.Items[0].Adversarial) {
		t.Error("the patch changed nothing")
	}
}

func TestEngineBackendPatchFiles(t *testing.T) {
	be := New()
	dir := t.TempDir()
	p := imgops.NewNoisePatch(imgops.CircleMask(20), 2)
	meta := imgops.PatchMeta{Target: "stop"}
	file := filepath.Join(dir, "p.png")
	if err := be.SavePatch(file, p, meta); err != nil {
		t.Fatal(err)
	}
	q, got, err := be.LoadPatch(file)
	if err != nil || q.W != 20 || got.Target != "stop" {
		t.Fatalf("LoadPatch: %v, %dpx, %+v", err, q.W, got)
	}
	for _, s := range []gui.PrintSettings{{Format: "pdf", SizeMM: 50, DPI: 300, Paper: "a4"}, {Format: "png", SizeMM: 50, DPI: 300}} {
		out := filepath.Join(dir, "out."+s.Format)
		if err := be.ExportPatch(out, p, meta, s); err != nil {
			t.Fatalf("%s: %v", s.Format, err)
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Errorf("%s: nothing written", s.Format)
		}
	}
	if err := be.ExportPatch(filepath.Join(dir, "x.pdf"), p, meta, gui.PrintSettings{Format: "pdf", SizeMM: 50, DPI: 300, Paper: "tabloid"}); err == nil {
		t.Error("an unknown paper was accepted")
	}
	if _, err := be.LoadImages(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder loaded")
	}
}

// TestEngineBackendDemo opens the embedded demo model and images, as the
// workbench does at start, and checks that the model reads its own samples.
func TestEngineBackendDemo(t *testing.T) {
	be, m, set := openDemo(t)
	ctx := context.Background()
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
		if c := p.Class(); c >= 0 && m.Labels()[c] == s.Class {
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
	be, m, set := openDemo(t)
	ctx := context.Background()
	req := gui.TrainRequest{Models: []gui.Model{m}, Samples: set.Samples, Target: "stop", Mask: imgops.MaskCircle, Size: 24,
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

	curves, err := be.EvaluatePatch(ctx, gui.EvalRequest{Patch: p, Models: []gui.Model{m}, Samples: set.Samples[:64], Target: "stop",
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

// sameImage reports whether a and b have the same bounds and colours.
func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// samePatch reports whether a and b are the same patch, pixel for pixel.
func samePatch(a, b *imgops.Patch) bool {
	return a != nil && b != nil && a.W == b.W && a.H == b.H && slices.Equal(a.Pix, b.Pix) && slices.Equal(a.Mask.Pix, b.Mask.Pix)
}

// openDemo opens the embedded demo model and images, as the workbench does
// at start, skipping the test without ONNX Runtime; the model closes with
// the test.
func openDemo(t *testing.T) (Backend, gui.Model, *gui.ImageSet) {
	t.Helper()
	if err := onnxrt.Init(); err != nil {
		t.Skip("no ONNX Runtime:", err)
	}
	be := New()
	m, err := be.DemoModel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.CloseModel(m) })
	set, err := be.DemoImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return be, m, set
}
