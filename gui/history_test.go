package gui

import (
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestUndoRedoPlacement drags the patch, turns the wheel, nudges it and
// moves a slider, then undoes each gesture whole with Ctrl+Z and redoes
// them with Ctrl+Shift+Z.
func TestUndoRedoPlacement(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	c := wb.win.Canvas()
	sc := c.(fyne.Shortcutable)
	start := Placement{CX: 0.3, CY: 0.5, Area: 0.1}
	wb.view.SetPlacement(start)
	var states []Placement
	record := func() { states = append(states, wb.view.Placement()) }
	record()

	centre, _, _, _, _ := wb.view.handles()
	test.Drag(c, onCanvas(wb, centre), 40, 10) // one gesture of many events
	record()
	centre, _, _, _, _ = wb.view.handles()
	test.Scroll(c, onCanvas(wb, centre), 0, wheelNotch)
	record()
	wb.view.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	record()
	// A drag of the rotation slider: many changes, one gesture.
	sl := wb.placeBar.rotation
	w, h := sl.Size().Width, sl.Size().Height
	for _, x := range []float32{0.6, 0.7, 0.8} { // as the driver sends them
		sl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x*w, h/2)}})
	}
	sl.DragEnd()
	record()
	for i := 1; i < len(states); i++ {
		if states[i] == states[i-1] {
			t.Fatalf("gesture %d did not move the patch", i)
		}
	}

	for i := len(states) - 2; i >= 0; i-- {
		sc.TypedShortcut(scUndo)
		if got := wb.view.Placement(); !samePlacement(got, states[i]) {
			t.Errorf("undo to state %d: %+v; want %+v", i, got, states[i])
		}
	}
	sc.TypedShortcut(scUndo)
	if got := wb.view.Placement(); !samePlacement(got, start) || wb.status.Text != "Nothing to undo" {
		t.Errorf("an undo too many: %+v, status %q", got, wb.status.Text)
	}
	for i := 1; i < len(states); i++ {
		sc.TypedShortcut(scRedo)
		if got := wb.view.Placement(); !samePlacement(got, states[i]) {
			t.Errorf("redo to state %d: %+v; want %+v", i, got, states[i])
		}
	}
	// A new gesture after an undo forgets the redos.
	sc.TypedShortcut(scUndo)
	wb.view.TypedRune('+')
	sc.TypedShortcut(scRedo)
	if wb.status.Text != "Nothing to redo" {
		t.Errorf("redo after a new change: status %q", wb.status.Text)
	}
	wb.tasks.Wait()
}

func samePlacement(a, b Placement) bool {
	const eps = 1e-9
	return math.Abs(a.CX-b.CX) < eps && math.Abs(a.CY-b.CY) < eps && math.Abs(a.Area-b.Area) < eps && math.Abs(a.AngleDeg-b.AngleDeg) < eps
}

// TestSaveAndQuitShortcuts presses Ctrl+S, which asks where to save the
// patch and saves it there.
func TestSaveAndQuitShortcuts(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	files.save = "/out/patch.png"
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scSavePatch)
	wb.tasks.Wait()
	if !contains(be.saved, "/out/patch.png") {
		t.Errorf("Ctrl+S saved %v; asked %v", be.saved, files.asked)
	}
	wb.close()
	wb.close() // as Quit does, then the window's closing: models closed once
}

// TestUndoRedoParameterEdits edits a field (typed while focused, recorded
// when the focus leaves), picks another attack method and ticks a check
// box, then undoes the three in reverse order and redoes them.
func TestUndoRedoParameterEdits(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	c := wb.win.Canvas()
	sc := c.(fyne.Shortcutable)
	tp, ap := wb.train, wb.attackPanel
	steps := tp.steps.Entry
	before := steps.Text
	c.Focus(steps)
	test.Type(steps, "9") // "300" became "3009" unseen in the issue
	c.Focus(tp.lr.Entry)
	c.Unfocus()
	method := ap.method.Selected
	ap.method.SetSelected(methodName(MethodDeepFool))
	against := tp.against.Checked
	tp.against.SetChecked(!against)

	type state struct {
		steps, method string
		against       bool
	}
	now := func() state { return state{steps.Text, ap.method.Selected, tp.against.Checked} }
	edited := now()
	if edited.steps == before {
		t.Fatalf("typing did not reach the field: %q", edited.steps)
	}
	want := []state{
		{edited.steps, methodName(MethodDeepFool), against},
		{edited.steps, method, against},
		{before, method, against},
	}
	for i, w := range want {
		sc.TypedShortcut(scUndo)
		if got := now(); got != w {
			t.Errorf("undo %d: %+v; want %+v (status %q)", i+1, got, w, wb.status.Text)
		}
	}
	if !strings.Contains(wb.status.Text, "Steps") {
		t.Errorf("the last undo's status %q does not name the field", wb.status.Text)
	}
	for i := len(want) - 2; i >= 0; i-- {
		sc.TypedShortcut(scRedo)
		if got := now(); got != want[i] {
			t.Errorf("redo to %d: %+v; want %+v", i, got, want[i])
		}
	}
	sc.TypedShortcut(scRedo)
	if got := now(); got != edited {
		t.Errorf("after every redo: %+v; want %+v", got, edited)
	}
	// Loading a model offers its labels as targets: the program's change,
	// not the user's, so nothing new to undo beyond the three edits.
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	if n := len(wb.history.undo); n != 3 {
		t.Errorf("%d edits recorded after loading a model; want the user's 3", n)
	}
}

// TestUndoModelRemoval removes a model through its confirmation, takes the
// removal back with Ctrl+Z and makes it again with Ctrl+Shift+Z: the model
// comes back at its place with its selection, the same object (not
// reloaded), and is closed only once the history forgets the removal.
func TestUndoModelRemoval(t *testing.T) {
	for _, tc := range []struct {
		name             string
		remove, selected int // indices into the three models
	}{
		{"the selected model", 1, 1},
		{"a model before the selected one", 0, 2},
		{"the last, selected", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newFakeBackend()
			wb, _ := newTestWorkbench(t, be)
			sc := wb.win.Canvas().(fyne.Shortcutable)
			wb.openModel("/m/a.onnx")
			wb.tasks.Wait()
			wb.openModel("/m/b.onnx")
			wb.tasks.Wait()
			before := append([]Model(nil), wb.models...)
			if len(before) != 3 {
				t.Fatalf("%d models loaded; want 3", len(before))
			}
			wb.selectModel(tc.selected)
			m, sel := before[tc.remove], before[tc.selected]

			wb.confirmRemoveModel(m)
			tapDialogButton(t, wb.win, "Remove")
			wb.tasks.Wait()
			if len(wb.models) != 2 || hasModel(wb.models, m) {
				t.Fatalf("after the removal: %d models, removed one still there %v", len(wb.models), hasModel(wb.models, m))
			}
			if tc.remove != tc.selected && wb.selectedModel() != sel {
				t.Errorf("the removal changed the selection to %v", wb.selectedModel())
			}
			if len(be.closed) != 0 {
				t.Fatalf("the removed model was closed at once; undo could not bring it back")
			}

			sc.TypedShortcut(scUndo)
			wb.tasks.Wait()
			for i := range before {
				if i >= len(wb.models) || wb.models[i] != before[i] {
					t.Fatalf("after undo the models are %v; want %v, same objects in the same order", wb.models, before)
				}
			}
			if wb.selectedModel() != sel || wb.modelsPanel.details.Text != describeModel(sel) {
				t.Errorf("after undo %v is selected; want %v", wb.selectedModel(), sel)
			}
			if len(be.loaded) != 2 || len(be.closed) != 0 {
				t.Errorf("undo loaded %d models from disk and closed %d; want none reloaded, none closed", len(be.loaded)-2, len(be.closed))
			}

			sc.TypedShortcut(scRedo)
			wb.tasks.Wait()
			if len(wb.models) != 2 || hasModel(wb.models, m) || len(be.closed) != 0 {
				t.Fatalf("redo: %d models, removed one there %v, %d closed", len(wb.models), hasModel(wb.models, m), len(be.closed))
			}

			// Gestures push the removal out of the bounded history: only
			// then is the model closed, once.
			for i := 0; i < historyDepth; i++ {
				k := fyne.KeyLeft
				if i%2 == 1 {
					k = fyne.KeyRight
				}
				wb.view.TypedKey(&fyne.KeyEvent{Name: k})
			}
			wb.tasks.Wait()
			if len(be.closed) != 1 || be.closed[0] != m {
				t.Fatalf("after the history forgot the removal, closed %v; want %v once", be.closed, m)
			}
			for i := 0; i <= historyDepth; i++ {
				sc.TypedShortcut(scUndo)
			}
			wb.tasks.Wait()
			if hasModel(wb.models, m) {
				t.Error("a closed model came back")
			}
			wb.close()
			if n := len(be.closed); n != 3 {
				t.Errorf("%d closes in all; want each of the three models closed once", n)
			}
		})
	}
}

// TestClosingForgetsRemovedModels checks that the window's close releases a
// model that only the undo history still held.
func TestClosingForgetsRemovedModels(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	m := wb.models[0]
	wb.removeModel(m)
	wb.close()
	if len(be.closed) != 1 || be.closed[0] != m {
		t.Errorf("closed %v; want the removed model", be.closed)
	}
}

func hasModel(ms []Model, m Model) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}
