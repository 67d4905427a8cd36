package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestEveryAttackReachesTheEngineAndTheComparison fills every field of the
// Attack tab, runs each method of the issue (and Square) against two models,
// and checks that the engine gets exactly the parameters that method reads
// (the fields it ignores are disabled), and that the comparison then shows
// the method's result for both models.
func TestEveryAttackReachesTheEngineAndTheComparison(t *testing.T) {
	const yield = 1 // index of "yield" in signLabels
	type want struct {
		eps        float64
		norm       string
		steps      int
		confidence float64
		seed       uint64
		target     int
		patch      bool
	}
	tests := []struct {
		method, title string
		want          want
	}{
		{MethodLBFGS, "L-BFGS", want{steps: 7, seed: 9, target: yield}},
		{MethodFGSM, "FGSM", want{eps: 16.0 / 255, norm: "2", target: yield}},
		{MethodPGD, "PGD", want{eps: 16.0 / 255, norm: "2", steps: 7, seed: 9, target: yield}},
		{MethodCW, "C&W L2", want{steps: 7, confidence: 3, target: yield}},
		{MethodDeepFool, "DeepFool", want{norm: "2", steps: 7, target: -1}},
		{MethodSquare, "Square", want{eps: 16.0 / 255, steps: 7, seed: 9, target: yield}},
		{MethodPatch, "patch", want{target: yield, patch: true}},
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
			for f, v := range map[*numField]string{ap.eps: "16", ap.steps: "7", ap.confidence: "3", ap.seed: "9"} {
				f.Entry.SetText(v) // disabled fields take text too, and must be ignored
			}
			ap.norm.SetSelected(normL2)
			ap.target.SetSelected("yield")
			ap.scope.SetSelected(scopeAll)

			enabled := map[string]bool{
				"ε": !ap.eps.Entry.Disabled(), "norm": !ap.norm.Disabled(), "steps": !ap.steps.Entry.Disabled(),
				"κ": !ap.confidence.Entry.Disabled(), "seed": !ap.seed.Entry.Disabled(), "target": !ap.target.Disabled(),
			}
			wantOn := map[string]bool{
				"ε": tc.want.eps != 0, "norm": tc.want.norm != "", "steps": tc.want.steps != 0,
				"κ": tc.want.confidence != 0, "seed": tc.want.seed != 0, "target": tc.want.target != -1,
			}
			for f, on := range wantOn {
				if enabled[f] != on {
					t.Errorf("field %s enabled = %v; want %v", f, enabled[f], on)
				}
			}

			test.Tap(ap.run)
			wb.tasks.Wait()
			if len(be.attacks) != 1 {
				t.Fatalf("%d attacks ran; dialog %q", len(be.attacks), topDialogText(wb.win))
			}
			r := be.attacks[0]
			got := want{eps: r.Eps, norm: r.Norm, steps: r.Steps, confidence: r.Confidence, seed: r.Seed, target: r.Target, patch: r.Patch != nil}
			if got != tc.want {
				t.Errorf("the engine got %+v; want %+v", got, tc.want)
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
			if n := strings.Count(cv.advCap.Text, "\n") + 1; n != 2 {
				t.Errorf("adversarial caption %q has %d lines; want one per model", cv.advCap.Text, n)
			}
			if ap.running || ap.run.Text != "Run" {
				t.Errorf("after the run: running %v, button %q", ap.running, ap.run.Text)
			}
		})
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
}
