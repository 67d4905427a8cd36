package gui

import (
	"math"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestDefensesTable runs the Evaluate tab's defenses table on the demo model
// in jpeg and a second, bare model: the request holds the bare demo model
// beside its defended one and the second model, with the tab's parameters;
// the table shows the backend's rows as they are.
func TestDefensesTable(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.modelsPanel.defense.name.SetSelected("jpeg")
	wb.tasks.Wait()
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	ed := wb.eval.defenses
	ed.eps.Entry.SetText("4")
	ed.patchSteps.Entry.SetText("7")
	ed.limit.Entry.SetText("3")
	test.Tap(ed.run)
	wb.tasks.Wait()
	if len(be.tables) != 1 {
		t.Fatalf("%d tables ran; dialog %q", len(be.tables), topDialogText(wb.win))
	}
	req := be.tables[0]
	var names []string
	for _, m := range req.Models {
		names = append(names, m.Name())
	}
	if want := []string{"fake-signs", "fake-signs+jpeg", "second"}; !slices.Equal(names, want) {
		t.Errorf("models %q; want %q", names, want)
	}
	if math.Abs(req.Options.Eps-4.0/255) > 1e-12 || req.Options.PatchSteps != 7 || req.Limit != 3 || len(req.Samples) != len(wb.images.Samples) {
		t.Errorf("options eps %v, patch steps %d, limit %d, %d samples", req.Options.Eps, req.Options.PatchSteps, req.Limit, len(req.Samples))
	}
	rows, cols := ed.table.Length()
	if rows != 3 || cols != len(defensesColumns) {
		t.Fatalf("table %d×%d; want 3×%d", rows, cols, len(defensesColumns))
	}
	want := [][]string{
		{"fake-signs", noDefense, "100.0%", "0.0%", "25.0%", "75.0%", "—"},
		{"fake-signs+jpeg", "jpeg", "100.0%", "50.0%", "25.0%", "75.0%", "—"},
	}
	for i, row := range want {
		for j, cell := range row {
			if got := ed.cell(i, j); got != cell {
				t.Errorf("cell %d,%d (%s) = %q, want %q", i, j, defensesColumns[j], got, cell)
			}
		}
	}
	if v, _ := ed.fraction.Get(); v != 1 || ed.running {
		t.Errorf("after the run: progress %v, running %v", v, ed.running)
	}
}

// TestDefensesTableStop stops the table after its first row: the row done
// stays, the button is Start again.
func TestDefensesTableStop(t *testing.T) {
	be := newFakeBackend()
	be.defenseGate = make(chan struct{})
	wb, _ := newTestWorkbench(t, be)
	wb.modelsPanel.defense.name.SetSelected("bits")
	wb.tasks.Wait()
	ed := wb.eval.defenses
	test.Tap(ed.run)
	if !ed.running || ed.run.Text != "Stop" {
		t.Fatalf("running %v, button %q", ed.running, ed.run.Text)
	}
	be.defenseGate <- struct{}{} // the bare model's row
	waitFor(t, "the second row to start", func() bool {
		wb.tasks.RunQueued()
		return ed.status.Text == "2/2 fake-signs+bits: autoattack"
	})
	test.Tap(ed.run) // Stop
	wb.tasks.Wait()
	if ed.running || ed.run.Text != "Compare defenses" {
		t.Errorf("after Stop: running %v, button %q", ed.running, ed.run.Text)
	}
	if rows, _ := ed.table.Length(); rows != 1 || ed.cell(0, 0) != "fake-signs" {
		t.Errorf("%d rows kept; want the bare model's", rows)
	}
	if d := topDialogText(wb.win); d != "" {
		t.Errorf("stopping showed a dialog: %s", d)
	}
}
