package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestDefenseSelector picks defenses for the selected model as a user does
// and checks that the defended model replaces the bare one everywhere: its
// name, the attack's source, the model list; that each model keeps its
// own; that a bad parameter is refused with the model unchanged; and that
// "none" gives the bare model back.
func TestDefenseSelector(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	bare := wb.models[0]
	ds := wb.modelsPanel.defense
	if ds.name.Selected != noDefense || ds.name.Disabled() {
		t.Fatalf("the selector shows %q (disabled %v) for the bare demo model", ds.name.Selected, ds.name.Disabled())
	}

	ds.name.SetSelected("jpeg")
	wb.tasks.Wait()
	if got := wb.models[0].Name(); got != "fake-signs+jpeg" {
		t.Fatalf("the model is %q after picking jpeg; dialog %q", got, topDialogText(wb.win))
	}
	if ds.params.PlaceHolder != "quality=75" {
		t.Errorf("the parameters' placeholder is %q; want the registry's default quality=75", ds.params.PlaceHolder)
	}
	test.Type(ds.params, "quality=50")
	ds.params.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	wb.tasks.Wait()
	d, ok := wb.models[0].(DefendedModel)
	if !ok || d.Defense() != "jpeg:quality=50" || d.Bare() != bare {
		t.Fatalf("the model is %q; want the demo model in jpeg:quality=50", wb.models[0].Name())
	}

	// The defended model is the one attacked.
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodFGSM))
	test.Tap(wb.attackPanel.run)
	wb.tasks.Wait()
	if len(be.attacks) != 1 || be.attacks[0].Source != wb.models[0] {
		t.Fatalf("%d attacks; want one on the defended model", len(be.attacks))
	}

	// A second model has its own defense; the first keeps its.
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	if ds.name.Selected != noDefense {
		t.Errorf("the new model shows defense %q", ds.name.Selected)
	}
	wb.selectModel(0)
	if ds.name.Selected != "jpeg" || ds.params.Text != "quality=50" {
		t.Errorf("back on the first model the selector shows %q %q", ds.name.Selected, ds.params.Text)
	}

	// A parameter out of range is refused and the model stays.
	ds.params.SetText("quality=0")
	ds.params.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	wb.tasks.Wait()
	if msg := topDialogText(wb.win); !strings.Contains(msg, "quality") {
		t.Errorf("dialog %q; want the engine's reason", msg)
	}
	if wb.models[0] != d || ds.params.Text != "quality=50" {
		t.Errorf("after a bad parameter the model is %q and the selector %q", wb.models[0].Name(), ds.params.Text)
	}

	ds.name.SetSelected(noDefense)
	wb.tasks.Wait()
	if wb.models[0] != bare || ds.params.Text != "" {
		t.Errorf("after none the model is %q; want the bare demo model", wb.models[0].Name())
	}
}

// TestSessionKeepsDefense saves a session with a defended model and opens
// it again after the defense was removed.
func TestSessionKeepsDefense(t *testing.T) {
	dir := t.TempDir()
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.modelsPanel.defense.name.SetSelected("bits")
	wb.tasks.Wait()
	path := filepath.Join(dir, "s"+sessionExt)
	files.save = path
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scSaveSess)
	wb.tasks.Wait()
	wb.modelsPanel.defense.name.SetSelected(noDefense)
	wb.tasks.Wait()
	if _, ok := wb.models[0].(DefendedModel); ok {
		t.Fatal("the defense did not come off")
	}
	files.open = path
	wb.openSessionDialog()
	wb.tasks.Wait()
	if d := topDialogText(wb.win); d != "" {
		t.Fatalf("opening showed a dialog: %s", d)
	}
	d, ok := wb.models[0].(DefendedModel)
	if !ok || d.Defense() != "bits" || wb.modelsPanel.defense.name.Selected != "bits" {
		t.Errorf("reopened model %q; want the demo model in bits, shown in the selector", wb.models[0].Name())
	}

	// A defense this advlab refuses leaves the model bare, and says so.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), `"defense": "bits"`, `"defense": "bits:bits=9"`, 1)
	if bad == string(raw) {
		t.Fatalf("the session does not record the defense:\n%s", raw)
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	wb.openSessionDialog()
	wb.tasks.Wait()
	if msg := topDialogText(wb.win); !strings.Contains(msg, "did not apply") {
		t.Errorf("dialog %q; want the defense named as not applied", msg)
	}
	if _, ok := wb.models[0].(DefendedModel); ok || len(wb.models) != 1 {
		t.Errorf("models %d, first %q; want the demo model bare", len(wb.models), wb.models[0].Name())
	}
}
