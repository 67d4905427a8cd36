package cli

import (
	"context"
	"encoding/json"
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
)

// colourGain is the tiny classifier's weight: logits = colourGain·(mean R,
// mean G, mean B) + colourBias, so a solid colour's probabilities have a
// closed form.
const colourGain = 4

var colourBias = [3]float32{0, 0.5, -0.5}

// colourModel writes a classifier built in Go (GlobalAveragePool, Flatten,
// Gemm) on 3×4×4 images with labels red, green and blue, and returns its path.
func colourModel(t *testing.T, dir string) string {
	t.Helper()
	w := []float32{colourGain, 0, 0, 0, colourGain, 0, 0, 0, colourGain}
	return writeTestModel(t, dir, "colours", &onnx.GraphProto{
		Name: "colours",
		Node: []*onnx.NodeProto{
			{Name: "pool", OpType: "GlobalAveragePool", Input: []string{"image"}, Output: []string{"p"}},
			{Name: "flat", OpType: "Flatten", Input: []string{"p"}, Output: []string{"f"}},
			{Name: "fc", OpType: "Gemm", Input: []string{"f", "W", "B"}, Output: []string{"scores"},
				Attribute: []*onnx.AttributeProto{{Name: "transB", Type: onnx.AttributeProto_INT, I: 1}}},
		},
		Initializer: []*onnx.TensorProto{floatTensor("W", []int64{3, 3}, w), floatTensor("B", []int64{3}, colourBias[:])},
		Input:       []*onnx.ValueInfoProto{floatValue("image", "N", 3, 4, 4)},
		Output:      []*onnx.ValueInfoProto{floatValue("scores", "N", 3)},
	}, `{"labels": ["red", "green", "blue"], "input_range": [0, 1]}`)
}

// colourProbs is the closed form: softmax(colourGain·rgb/255 + colourBias).
func colourProbs(c color.RGBA) [3]float64 {
	var z [3]float64
	var sum float64
	for i, v := range []uint8{c.R, c.G, c.B} {
		z[i] = math.Exp(colourGain*float64(v)/255 + float64(colourBias[i]))
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
	return z
}

// writeSolid writes a w×h PNG of one colour.
func writeSolid(t *testing.T, path string, c color.RGBA, w, h int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.Set(i%w, i/w, c)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

var (
	red    = color.RGBA{255, 0, 0, 255}
	green  = color.RGBA{0, 255, 0, 255}
	purple = color.RGBA{128, 0, 255, 255} // 128/255 red, all blue: blue wins
)

func TestClassifyCommandJSON(t *testing.T) {
	dir := t.TempDir()
	model := colourModel(t, dir)
	data := filepath.Join(dir, "data")
	writeSolid(t, filepath.Join(data, "red", "a.png"), red, 4, 4)
	writeSolid(t, filepath.Join(data, "Green", "deep", "b.png"), green, 9, 5) // resized; class matched case-insensitively
	writeSolid(t, filepath.Join(data, "red", "c.png"), purple, 4, 4)          // misclassified as blue
	if err := os.WriteFile(filepath.Join(data, "red", "README.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose.png")
	writeSolid(t, loose, purple, 4, 4)

	code, stdout, stderr := runCLI("classify", "--model", model, "--top", "2", "--json", data, loose)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep classifyReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	wantFiles := []struct {
		file, class string
		colour      color.RGBA
		correct     *bool
	}{
		{filepath.Join(data, "Green", "deep", "b.png"), "Green", green, ptr(true)},
		{filepath.Join(data, "red", "a.png"), "red", red, ptr(true)},
		{filepath.Join(data, "red", "c.png"), "red", purple, ptr(false)},
		{loose, "", purple, nil},
	}
	if len(rep.Images) != len(wantFiles) || rep.Top != 2 || rep.Model == "" {
		t.Fatalf("report has %d images, top %d, model %q: %s", len(rep.Images), rep.Top, rep.Model, stdout)
	}
	labels := []string{"red", "green", "blue"}
	for i, w := range wantFiles {
		got := rep.Images[i]
		if got.File != w.file || got.Class != w.class || (got.Correct == nil) != (w.correct == nil) || (w.correct != nil && *got.Correct != *w.correct) {
			t.Errorf("image %d: %+v, want file %s class %q correct %v", i, got, w.file, w.class, w.correct)
		}
		p := colourProbs(w.colour)
		if len(got.Predictions) != 2 {
			t.Fatalf("image %d has %d predictions, want 2", i, len(got.Predictions))
		}
		for j, g := range got.Predictions {
			if labels[g.Index] != g.Label || math.Abs(float64(g.Probability)-p[g.Index]) > 1e-5 {
				t.Errorf("image %d prediction %d: %+v, want probability %.6f", i, j, g, p[g.Index])
			}
			for k := range p { // the top two, in order
				if k != g.Index && p[k] > p[g.Index] && (j == 0 || k != got.Predictions[0].Index) {
					t.Errorf("image %d prediction %d is %s (%.4f) but %s has %.4f", i, j, g.Label, p[g.Index], labels[k], p[k])
				}
			}
		}
	}
	if a := rep.Accuracy; a == nil || a.Correct != 2 || a.Total != 3 || math.Abs(float64(a.Rate)-2.0/3) > 1e-5 {
		t.Errorf("accuracy %+v, want 2/3 over the images in class folders", rep.Accuracy)
	}
	for _, note := range []string{"resized 1 of 4 image(s) to 4x4", "skipped 1 file(s)"} {
		if !strings.Contains(stderr, note) || !strings.Contains(strings.Join(rep.Notes, "\n"), note) {
			t.Errorf("notes %q (stderr %q) do not say %q", rep.Notes, stderr, note)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestClassifyCommandTable(t *testing.T) {
	dir := t.TempDir()
	model := colourModel(t, dir)
	data := filepath.Join(dir, "data")
	writeSolid(t, filepath.Join(data, "red", "a.png"), red, 4, 4)
	writeSolid(t, filepath.Join(data, "red", "b.png"), purple, 4, 4)
	code, stdout, stderr := runCLI("classify", "--model", model, "--top", "9", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := colourProbs(red)
	for _, want := range []string{
		"TOP 3", // --top is capped at the number of classes
		filepath.Join(data, "red", "a.png"),
		"red:" + fmtProb(p[0]), "green:" + fmtProb(p[1]), "blue:" + fmtProb(p[2]),
		"red ✗", // b.png is taken for blue
		"accuracy of colours: 1/2 = 50.0%",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table does not show %q:\n%s", want, stdout)
		}
	}

	// Folders that are not the model's classes: predictions, no accuracy.
	other := filepath.Join(dir, "other")
	writeSolid(t, filepath.Join(other, "cats", "a.png"), red, 4, 4)
	code, stdout, stderr = runCLI("classify", "--model", model, other)
	if code != 0 || strings.Contains(stdout, "accuracy") || !strings.Contains(stderr, "no accuracy: class folder(s) cats match none of the labels") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestClassifyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	model := colourModel(t, dir)
	good := filepath.Join(dir, "good.png")
	writeSolid(t, good, red, 4, 4)
	corrupt := filepath.Join(dir, "corrupt.png")
	if err := os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nthis is not the rest of a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	inFolder := filepath.Join(dir, "set", "red")
	writeSolid(t, filepath.Join(inFolder, "a.png"), red, 4, 4)
	if err := os.WriteFile(filepath.Join(inFolder, "b.jpg"), []byte("GIF89a, but called .jpg"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A Photoshop header: a format no decoder linked into advlab reads (a
	// TIFF header would not do: gonum's plot links x/image/tiff in).
	tiff := filepath.Join(dir, "scan.png")
	if err := os.WriteFile(tiff, []byte("8BPS\x00\x01\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	notModel := filepath.Join(dir, "notmodel.onnx")
	if err := os.WriteFile(notModel, []byte("plain text, not a protobuf"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no images", []string{"--model", model}, 2, []string{"want images or folders"}},
		{"bad --top", []string{"--model", model, "--top", "0", good}, 2, []string{"--top 0"}},
		{"corrupt file", []string{"--model", model, good, corrupt}, 1, []string{corrupt, "not a readable image", "convert or remove it"}},
		{"corrupt file in a folder", []string{"--model", model, filepath.Join(dir, "set")}, 1, []string{filepath.Join(inFolder, "b.jpg"), "convert or remove it"}},
		{"undecodable format", []string{"--model", model, tiff}, 1, []string{tiff, "unknown format", "convert or remove it"}},
		{"missing file", []string{"--model", model, filepath.Join(dir, "none.png")}, 1, []string{"none.png", "no such file"}},
		{"empty folder", []string{"--model", model, empty}, 1, []string{"no images in " + empty}},
		{"not a model", []string{"--model", notModel, good}, 1, []string{"notmodel.onnx"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"classify"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// cancelling is a brightness classifier that cancels its run's context
// during its third batch, as Ctrl-C would, and never checks it itself: the
// caller must.
type cancelling struct {
	brightness
	cancel context.CancelFunc
}

func (c *cancelling) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if c.calls == 2 {
		c.cancel()
	}
	return c.brightness.Logits(context.Background(), images, n)
}

// TestClassifyStopsWhenCancelled cancels a long classification during its
// third batch: it must return context.Canceled with the two batches done
// before it (and the one it was on) kept, their accuracy over them, and run
// no further batch. The deadline only catches a hang.
func TestClassifyStopsWhenCancelled(t *testing.T) {
	ds, _, err := readClassifyImages(context.Background(), []string{brightFolder(t, 3*classifyBatch)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &cancelling{cancel: cancel}
	type result struct {
		rep *classifyReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := classifyImages(ctx, m, ds, 1)
		done <- result{rep, err}
	}()
	r := <-done // a classify that never returns ends in go test's -timeout, with its goroutines' stacks
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", r.err)
	}
	if m.calls != 3 {
		t.Errorf("the model ran %d batches; want 3 (none after the cancellation)", m.calls)
	}
	want := 3 * classifyBatch
	if r.rep == nil || len(r.rep.Images) != want || r.rep.Accuracy == nil || r.rep.Accuracy.Total != want {
		t.Fatalf("report %+v; want the %d images classified before the stop", r.rep, want)
	}
	for i, im := range r.rep.Images {
		if im.File != ds.Items[i].Path || len(im.Predictions) != 1 {
			t.Fatalf("image %d: %+v, want %s with its top class", i, im, ds.Items[i].Path)
		}
	}
}
