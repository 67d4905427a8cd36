package gui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/imgops"
)

func TestOpensOnTheDemo(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)

	if len(wb.models) != 1 || wb.models[0].Name() != "fake-signs" || wb.selected != 0 {
		t.Fatalf("models = %v, selected %d; want the demo model selected", wb.models, wb.selected)
	}
	if wb.images == nil || len(wb.thumbs) != 6 || wb.current != 0 {
		t.Fatalf("images: %d thumbnails, current %d; want the 6 demo samples, the first shown", len(wb.thumbs), wb.current)
	}
	if wb.patch == nil || wb.view.Composite() == nil {
		t.Fatal("the canvas shows no patch on the first image")
	}
	if got := wb.preds.Top(wb.models[0]); got == "" {
		t.Error("the predictions panel is empty after loading")
	}
	if !strings.Contains(wb.modelsPanel.details.Text, "Input: 3×32×32") {
		t.Errorf("model details = %q; want the input size", wb.modelsPanel.details.Text)
	}
	if got := wb.train.target.Options; len(got) != len(signLabels) {
		t.Errorf("target choices = %v; want the model's labels", got)
	}
	if wb.busy != 0 || wb.activity.Visible() {
		t.Error("the activity indicator still spins after loading")
	}
	if top := wb.win.Canvas().Overlays().Top(); top != nil {
		t.Errorf("a dialog is open after a clean start: %s", topDialogText(wb.win))
	}
}

func TestDemoModelErrorKeepsTheSessionUsable(t *testing.T) {
	be := newFakeBackend()
	be.demoErr = errBoom
	wb, files := newTestWorkbench(t, be)

	if msg := topDialogText(wb.win); !strings.Contains(msg, "boom") {
		t.Fatalf("dialog = %q; want the loader's error", msg)
	}
	if len(wb.models) != 0 || wb.images == nil {
		t.Fatalf("models %d, images %v; want no model but the images", len(wb.models), wb.images)
	}
	// The user can still open a model.
	files.open = "/models/other.onnx"
	wb.openModelDialog()
	wb.tasks.Wait()
	if len(wb.models) != 1 || wb.models[0].Name() != "second" {
		t.Fatalf("after opening a model: %v", wb.models)
	}
	if got := wb.prefs.recent(prefRecentModels); len(got) == 0 || got[0] != "/models/other.onnx" {
		t.Errorf("recent models = %v", got)
	}
}

func TestUnreadableModelShowsWhatToDo(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	be.loadErr = errBoom
	wb.openModel("/tmp/broken.onnx")
	wb.tasks.Wait()
	msg := topDialogText(wb.win)
	if !strings.Contains(msg, "broken.onnx") || !strings.Contains(msg, "export it again") {
		t.Errorf("dialog = %q; want the file and the engine's advice", msg)
	}
	if len(wb.models) != 1 {
		t.Errorf("the demo model was lost: %v", wb.models)
	}
}

func TestSecondModelGetsItsOwnPredictions(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	if len(wb.preds.cards) != 2 {
		t.Fatalf("%d prediction cards; want one per model", len(wb.preds.cards))
	}
	for _, m := range wb.models {
		if wb.preds.Top(m) == "" {
			t.Errorf("no prediction for %s", m.Name())
		}
	}
	wb.removeModel(wb.models[1])
	wb.tasks.Wait()
	if len(wb.models) != 1 || len(wb.preds.cards) != 1 || wb.selected != 0 {
		t.Errorf("after removing: %d models, %d cards, selected %d", len(wb.models), len(wb.preds.cards), wb.selected)
	}
}

func TestDroppedFilesOpen(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	dir := t.TempDir()
	model := filepath.Join(dir, "net.onnx")
	os.WriteFile(model, []byte("x"), 0o644)
	images := filepath.Join(dir, "images")
	os.Mkdir(images, 0o755)
	odd := filepath.Join(dir, "notes.txt")
	os.WriteFile(odd, []byte("x"), 0o644)

	wb.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(model), storage.NewFileURI(images)})
	wb.tasks.Wait()
	if len(wb.models) != 2 {
		t.Errorf("dropping a model: %d models", len(wb.models))
	}
	if wb.images == nil || wb.images.Name != images {
		t.Errorf("dropping a folder: images = %+v", wb.images)
	}
	wb.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(odd)})
	wb.tasks.Wait()
	if msg := topDialogText(wb.win); !strings.Contains(msg, "notes.txt") {
		t.Errorf("dropping a text file: dialog %q", msg)
	}
}

func TestShortcuts(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	c := wb.win.Canvas().(fyne.Shortcutable)

	c.TypedShortcut(scOpenModel)
	c.TypedShortcut(scOpenFolder)
	if len(files.asked) != 2 || !strings.HasPrefix(files.asked[0], "open Open a model") || !strings.HasPrefix(files.asked[1], "folder ") {
		t.Errorf("Ctrl+O, Ctrl+Shift+O asked %q", files.asked)
	}

	c.TypedShortcut(scRun) // Ctrl+Enter starts training …
	if !wb.train.running {
		t.Fatal("Ctrl+Enter did not start training")
	}
	wb.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF5}) // … F5 stops it
	wb.tasks.Wait()
	if wb.train.running {
		t.Error("F5 did not stop training")
	}

	c.TypedShortcut(scExport)
	if msg := topDialogText(wb.win); !strings.Contains(msg, "cm") {
		t.Errorf("Ctrl+E: dialog %q; want the export dialog", msg)
	}
}

func TestThumbnailSelectsTheImage(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	before := wb.view.Composite()
	wb.thumbStrip.grid.Select(3)
	wb.tasks.Wait()
	if wb.current != 3 {
		t.Fatalf("current = %d; want 3", wb.current)
	}
	if wb.view.Composite() == before {
		t.Error("the canvas did not change image")
	}
}

func TestPreferencesRemembered(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.train.steps.Entry.SetText("")
	test.Type(wb.train.steps.Entry, "1234")
	wb.train.target.SetSelected("yield")

	again := newWorkbench(wb.app, test.NewTempWindow(t, nil), be)
	again.tasks.manualLoop()
	again.start(nil)
	again.tasks.Wait()
	if got := again.train.steps.Entry.Text; got != "1234" {
		t.Errorf("steps = %q after reopening; want 1234", got)
	}
	if got := again.train.target.Selected; got != "yield" {
		t.Errorf("target = %q after reopening; want yield", got)
	}
}

func TestScriptedDemo(t *testing.T) {
	t.Setenv("ADVLAB_DEMO_STEPS", "7")
	be := newFakeBackend()
	a := test.NewTempApp(t)
	wb := newWorkbench(a, test.NewTempWindow(t, nil), be)
	wb.tasks.manualLoop()
	wb.scriptDemo("compare")
	wb.start(nil)
	wb.tasks.Wait()
	if len(be.trainReqs) != 1 || be.trainReqs[0].Steps != 7 {
		t.Fatalf("demo training: %+v", be.trainReqs)
	}
	if len(be.attacks) != 1 || be.attacks[0].Method != MethodPatch || len(be.attacks[0].Samples) != 6 {
		t.Fatalf("demo attack: %+v", be.attacks)
	}
	if wb.centerTabs.Selected() != wb.compareTab || wb.compare.mode.Selected != modeSide || wb.compare.res == nil {
		t.Error("the demo did not end on the side-by-side comparison")
	}
	if it := wb.compare.res.Items[wb.compare.item]; !it.Flipped(0) {
		t.Error("the demo shows an image whose prediction did not flip")
	}
}

func TestScriptedDemoPastesAGivenPatch(t *testing.T) {
	be := newFakeBackend()
	patch := filepath.Join(t.TempDir(), "patch.png")
	if err := imgops.SavePatch(patch, imgops.NewNoisePatch(imgops.CircleMask(16), 2), imgops.PatchMeta{Target: "yield"}); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	wb := newWorkbench(a, test.NewTempWindow(t, nil), be)
	wb.tasks.manualLoop()
	wb.scriptDemo("compare")
	wb.start([]string{patch})
	wb.tasks.Wait()
	if len(be.trainReqs) != 0 {
		t.Error("the demo trained although a patch was given")
	}
	if len(be.attacks) != 1 || be.attacks[0].Method != MethodPatch || be.attacks[0].Patch == nil {
		t.Fatalf("demo attack: %+v", be.attacks)
	}
	if wb.centerTabs.Selected() != wb.compareTab || wb.compare.res == nil {
		t.Error("the demo did not end on the comparison")
	}
}

// TestModelsPanelDescribesTheSelectedModel checks the left panel with two
// models loaded: selecting one shows its own input size, preprocessing and
// labels.
func TestModelsPanelDescribesTheSelectedModel(t *testing.T) {
	be := newFakeBackend()
	be.loadLabels = []string{"cat", "dog", "fox"}
	wb, _ := newTestWorkbench(t, be)
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	mp := wb.modelsPanel
	for _, tc := range []struct {
		row    int
		name   string
		input  string
		labels []string
	}{
		{1, "second", "Input: 3×24×24 (NCHW)", be.loadLabels},
		{0, "fake-signs", "Input: 3×32×32 (NCHW)", signLabels},
		{1, "second", "Input: 3×24×24 (NCHW)", be.loadLabels},
	} {
		mp.list.Select(tc.row)
		wb.tasks.Wait()
		if m := wb.selectedModel(); m == nil || m.Name() != tc.name {
			t.Fatalf("row %d selected %v; want %s", tc.row, m, tc.name)
		}
		if d := mp.details.Text; !strings.Contains(d, tc.input) || !strings.Contains(d, "Preprocessing: none: pixels in [0, 1]") {
			t.Errorf("%s: details %q; want its input size and preprocessing", tc.name, d)
		}
		if want := fmt.Sprintf("Labels (%d)", len(tc.labels)); mp.labelsT.Text != want || mp.labels.Length() != len(tc.labels) {
			t.Errorf("%s: labels tab %q with %d rows; want %q", tc.name, mp.labelsT.Text, mp.labels.Length(), want)
		}
		row := widget.NewLabel("")
		mp.labels.UpdateItem(2, row)
		if row.Text != "2  "+tc.labels[2] {
			t.Errorf("%s: label row 2 = %q", tc.name, row.Text)
		}
		// The panels on the right follow the selection.
		if len(wb.train.target.Options) != len(tc.labels) || wb.attackPanel.target.Options[1] != tc.labels[0] {
			t.Errorf("%s: targets %v / %v", tc.name, wb.train.target.Options, wb.attackPanel.target.Options)
		}
	}
	if len(wb.models) != 2 || len(wb.preds.cards) != 2 {
		t.Errorf("%d models, %d prediction cards; want both kept", len(wb.models), len(wb.preds.cards))
	}
}

// TestStartFallsBackOnTheDemo starts the workbench on a model and an image
// folder that do not open: the dialog says why, and the demo model and
// images open instead, so that the window is usable.
func TestStartFallsBackOnTheDemo(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "broken.onnx")
	os.WriteFile(model, []byte("x"), 0o644)
	folder := filepath.Join(dir, "photos")
	os.Mkdir(folder, 0o755)
	for _, tc := range []struct {
		name  string
		args  []string
		wants string
	}{
		{"model", []string{model}, "The demo model is open instead"},
		{"model and folder", []string{model, folder}, "The demo model and sample images are open instead"},
		{"folder", []string{folder}, "The demo sample images are open instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newFakeBackend()
			be.loadErr = errBoom
			wb := newWorkbench(test.NewTempApp(t), test.NewTempWindow(t, nil), be)
			wb.tasks.manualLoop()
			wb.start(tc.args)
			wb.tasks.Wait()
			msg := topDialogText(wb.win)
			if !strings.Contains(msg, "boom") || !strings.Contains(msg, tc.wants) {
				t.Errorf("dialog %q; want the error and %q", msg, tc.wants)
			}
			if len(wb.models) != 1 || wb.models[0].Name() != "fake-signs" {
				t.Errorf("models %v; want the demo model", wb.models)
			}
			if wb.images == nil || wb.images.Name != DemoSetName || wb.preds.Top(wb.models[0]) == "" {
				t.Errorf("images %v; want the demo samples, classified", wb.images)
			}
		})
	}
}
