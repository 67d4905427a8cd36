package gui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestEveryAttackReachesTheEngineAndTheComparison sets some parameters of
// each method of the registry (and the patch) against two models, and
// checks that only the chosen method's fields are shown, that the engine
// gets exactly the values typed over the method's defaults, that Target is
// enabled only where the method takes one, and that the comparison then
// shows the method's result for both models.
func TestEveryAttackReachesTheEngineAndTheComparison(t *testing.T) {
	const yield = 1 // index of "yield" in signLabels
	tests := []struct {
		method, title string
		set           map[string]string
		target        int
	}{
		{MethodLBFGS, "L-BFGS", map[string]string{"steps": "7", "seed": "9", "untargeted": "runner-up"}, yield},
		{MethodFGSM, "FGSM", map[string]string{"eps": "16/255", "norm": "2"}, yield},
		{MethodPGD, "PGD", map[string]string{"eps": "16/255", "norm": "2", "steps": "7", "seed": "9", "all-steps": "true"}, yield},
		{MethodCW, "C&W L2", map[string]string{"steps": "7", "confidence": "3"}, yield},
		{MethodDeepFool, "DeepFool", map[string]string{"norm": "inf", "steps": "7"}, -1},
		{MethodSquare, "Square", map[string]string{"eps": "16/255", "steps": "7", "seed": "9"}, yield},
		{MethodPatch, "patch", nil, yield},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			be := newFakeBackend()
			wb, _ := newTestWorkbench(t, be)
			wb.openModel("/m/second.onnx")
			wb.tasks.Wait()
			wb.selectModel(0)
			ap := wb.attackPanel
			wb.rightTabs.Select(wb.attackTab)
			ap.method.SetSelected(methodName(tc.method))
			mf := ap.forms[tc.method]
			want := map[string]string{}
			for _, f := range mf.fields {
				want[f.param.Name] = f.param.Default
			}
			for name, v := range tc.set {
				f := mf.field(name)
				if f == nil {
					t.Fatalf("no %s field", name)
				}
				f.setText(v)
				want[name] = v
			}
			// Another method's fields take text too, and must not reach the engine.
			for id, other := range ap.forms {
				if f := other.field("steps"); id != tc.method && f != nil {
					f.setText("3")
				}
			}
			ap.target.SetSelected("yield")
			ap.scope.SetSelected(scopeAll)

			shown := len(ap.params.Objects) == 1 && ap.params.Objects[0] == mf.form
			if shown != (len(mf.fields) > 0) || (len(mf.fields) == 0 && len(ap.params.Objects) != 0) {
				t.Errorf("the form shows %d objects; want the %s form of %d fields only", len(ap.params.Objects), tc.method, len(mf.fields))
			}
			if len(mf.form.Objects) != len(mf.fields) {
				t.Errorf("%d form rows for %d parameters", len(mf.form.Objects), len(mf.fields))
			}
			if on := !ap.target.Disabled(); on != (tc.target != -1) {
				t.Errorf("target enabled = %v", on)
			}

			test.Tap(ap.run)
			wb.tasks.Wait()
			if len(be.attacks) != 1 {
				t.Fatalf("%d attacks ran; dialog %q", len(be.attacks), topDialogText(wb.win))
			}
			r := be.attacks[0]
			if len(want) == 0 {
				want = nil
			}
			if !reflect.DeepEqual(r.Params, want) || r.Target != tc.target || (r.Patch != nil) != (tc.method == MethodPatch) {
				t.Errorf("the engine got %v, target %d, patch %v; want %v, target %d", r.Params, r.Target, r.Patch != nil, want, tc.target)
			}
			if r.Method != tc.method || r.Source != wb.models[0] || len(r.Models) != 2 || len(r.Samples) != 6 {
				t.Errorf("request: %s against %v, %d models, %d images", r.Method, r.Source, len(r.Models), len(r.Samples))
			}

			cv := wb.compare
			if wb.centerTabs.Selected() != wb.compareTab || cv.res == nil {
				t.Fatal("the comparison did not open")
			}
			if !strings.Contains(cv.advTitle.Text, tc.title) || !strings.HasPrefix(cv.summary.Text, tc.title+":") {
				t.Errorf("title %q, summary %q; want the method named", cv.advTitle.Text, cv.summary.Text)
			}
			if cv.clean.Image() == nil || cv.adv.Image() == nil || cv.pert.Image() == nil {
				t.Error("a side-by-side column is empty")
			}
			// Two headings, and under each a line per model.
			if n := strings.Count(cv.advCap.Text, "\n") + 1; n != 2+2*2 {
				t.Errorf("adversarial caption %q has %d lines; want two headings and one per model under each", cv.advCap.Text, n)
			}
			if ap.running || ap.run.Text != "Run" {
				t.Errorf("after the run: running %v, button %q", ap.running, ap.run.Text)
			}
		})
	}
}

// TestAttackFormRejectsBadValues checks that a value the registry rejects
// stops the run with the registry's one-line reason.
func TestAttackFormRejectsBadValues(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	ap.method.SetSelected(methodName(MethodPGD))
	ap.forms[MethodPGD].field("steps").setText("0")
	if err := ap.forms[MethodPGD].field("steps").entry.Validate(); err == nil || !strings.Contains(err.Error(), "from 1 to") {
		t.Errorf("the entry's check of 0 steps: %v", err)
	}
	test.Tap(ap.run)
	wb.tasks.Wait()
	if len(be.attacks) != 0 || !strings.Contains(topDialogText(wb.win), "steps 0 must be positive") {
		t.Errorf("%d attacks ran; dialog %q", len(be.attacks), topDialogText(wb.win))
	}
}

// TestAttackStopShowsWhatFinished stops an attack part-way: the button comes
// back, no error dialog opens, and the comparison shows the images done.
func TestAttackStopShowsWhatFinished(t *testing.T) {
	be := newFakeBackend()
	be.attackGate = make(chan struct{})
	wb, _ := newTestWorkbench(t, be)
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	ap.method.SetSelected(methodName(MethodFGSM))
	ap.scope.SetSelected(scopeAll)
	test.Tap(ap.run)
	be.attackGate <- struct{}{} // two images done
	be.attackGate <- struct{}{}
	if !ap.running || ap.run.Text != "Stop" {
		t.Fatalf("while running: button %q", ap.run.Text)
	}
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scRun) // Ctrl+Enter stops the Attack tab's task
	wb.tasks.Wait()
	if ap.running || ap.run.Text != "Run" || ap.run.Disabled() {
		t.Errorf("after Stop: running %v, button %q", ap.running, ap.run.Text)
	}
	if msg := topDialogText(wb.win); msg != "" {
		t.Errorf("stopping showed a dialog: %q", msg)
	}
	if wb.compare.res == nil || len(wb.compare.res.Items) != 2 {
		t.Fatalf("the comparison shows %v; want the two finished images", wb.compare.res)
	}
	if !strings.Contains(wb.status.Text, "stopped") {
		t.Errorf("status %q", wb.status.Text)
	}
	// The bar stays where the attack stopped: the fake reported 1/6 before
	// its second image.
	if f, _ := ap.fraction.Get(); f != 1.0/6 || !strings.HasPrefix(ap.eta.Text, "Stopped at 17% after ") || !strings.HasSuffix(ap.eta.Text, ": 2 of 6 images done") {
		t.Errorf("after Stop: progress %v, %q", f, ap.eta.Text)
	}
}

func TestAttackETA(t *testing.T) {
	tests := []struct {
		fraction float64
		elapsed  time.Duration
		want     string
	}{
		{0, 0, "  0% · 0s elapsed"},
		{0.25, 30 * time.Second, " 25% · 30s elapsed · about 1m30s left"},
		{0.5, 2 * time.Minute, " 50% · 2m00s elapsed · about 2m00s left"},
		{1, 10 * time.Second, "100% · 10s elapsed"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := attackETA(tc.fraction, tc.elapsed); got != tc.want {
				t.Errorf("attackETA(%v, %v) = %q; want %q", tc.fraction, tc.elapsed, got, tc.want)
			}
		})
	}
}

// TestAttackTargetLabelFollowsTheMethod switches between a targeted and an
// untargeted method: the Target field and its label are enabled and greyed
// together.
func TestAttackTargetLabelFollowsTheMethod(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	for _, m := range []string{MethodDeepFool, MethodPGD, MethodDeepFool, MethodCW} {
		ap.method.SetSelected(methodName(m))
		e, _ := methodEntryOf(m)
		wantImp := widget.MediumImportance
		if !e.targeted {
			wantImp = widget.LowImportance
		}
		if ap.target.Disabled() == e.targeted || ap.targetRow.label.Importance != wantImp {
			t.Errorf("%s: target disabled %v, label importance %v", m, ap.target.Disabled(), ap.targetRow.label.Importance)
		}
	}
	if !strings.HasPrefix(ap.model.Text, wb.models[0].Name()+":") {
		t.Errorf("the attacked model reads %q", ap.model.Text)
	}
}
