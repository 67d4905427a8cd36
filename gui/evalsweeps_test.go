package gui

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/engine/patch"
)

// TestSweepPlotsEveryModelWithControl runs a tilt sweep on two models: the
// request carries the kind's values, the sweep's scale and the evaluation's
// placements; the plot has each model's line and its dashed control at
// the fake's closed-form values; the CSV is the engine's, with the sweep's
// columns.
func TestSweepPlotsEveryModelWithControl(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	es := wb.eval.sweeps
	es.kind.SetSelected("tilt")
	if want := floatList(patch.SweepTilt.DefaultValues()); es.values.Text != want {
		t.Errorf("values %q; want tilt's own %q", es.values.Text, want)
	}
	es.values.SetText("0, 40, 75")
	es.area.Entry.SetText("20")
	wb.eval.placements.Entry.SetText("3")
	test.Tap(es.run)
	wb.tasks.Wait()

	if len(be.sweeps) != 1 {
		t.Fatalf("%d sweeps ran; want 1", len(be.sweeps))
	}
	req := be.sweeps[0]
	if req.Sweep.Kind != patch.SweepTilt || len(req.Sweep.Values) != 3 || req.Sweep.Values[2] != 75 ||
		math.Abs(req.Area-0.2) > 1e-12 || req.Placements != 3 || len(req.Models) != 2 {
		t.Errorf("request %+v", req)
	}
	if len(es.plot.Series) != 4 {
		t.Fatalf("plot has %d series; want a line and a control per model", len(es.plot.Series))
	}
	for i, s := range es.plot.Series {
		model, control := i/2, i%2 == 1
		if s.Faint != control || len(s.X) != 3 || s.X[1] != 40 {
			t.Errorf("series %d: %+v", i, s)
			continue
		}
		for k, v := range s.X {
			want := 1 - v/(100*float64(model+1))
			if control {
				want /= 10
			}
			if math.Abs(s.Y[k]-want) > 1e-12 {
				t.Errorf("series %d at %g: %g; want %g", i, v, s.Y[k], want)
			}
		}
	}
	if es.plot.XMin != 0 || es.plot.XMax != 75 || !strings.Contains(es.table.Text, "second") {
		t.Errorf("x range [%g, %g], table %q", es.plot.XMin, es.plot.XMax, es.table.Text)
	}
	if !strings.Contains(wb.status.Text, "tilt") {
		t.Errorf("status %q", wb.status.Text)
	}

	files.save = filepath.Join(t.TempDir(), "sweep.csv")
	es.saveCSV()
	wb.tasks.Wait()
	data, err := os.ReadFile(files.save)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1+6 || !strings.HasSuffix(lines[0], "sweep,value") || !strings.HasSuffix(lines[3], "tilt,75") {
		t.Errorf("CSV:\n%s", data)
	}
	img := renderPlotImage(es.plot, es.table.Text)
	if b := img.Bounds(); b.Dx() < 900 || b.Dy() < 500 {
		t.Errorf("the PNG is %v", b)
	}
}

// TestSweepStops: Stop cancels a sweep held by the backend, the button
// comes back and the earlier plot stays.
func TestSweepStops(t *testing.T) {
	be := newFakeBackend()
	be.sweepGate = make(chan struct{})
	wb, _ := newTestWorkbench(t, be)
	es := wb.eval.sweeps
	test.Tap(es.run)
	waitFor(t, "the sweep to start", func() bool {
		be.mu.Lock()
		defer be.mu.Unlock()
		return len(be.sweeps) == 1
	})
	if !es.running || es.run.Text != "Stop sweep" {
		t.Fatalf("running %v, button %q", es.running, es.run.Text)
	}
	test.Tap(es.run)
	wb.tasks.Wait()
	if es.running || es.run.Text != "Start sweep" || es.report != nil {
		t.Errorf("after Stop: running %v, button %q, report %v", es.running, es.run.Text, es.report)
	}
	if !strings.Contains(wb.status.Text, "stopped") {
		t.Errorf("status %q", wb.status.Text)
	}
}

// TestSweepBadValues: a value that is not a number is refused before the
// backend runs.
func TestSweepBadValues(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	es := wb.eval.sweeps
	es.values.SetText("0, ten")
	test.Tap(es.run)
	wb.tasks.Wait()
	if len(be.sweeps) != 0 || !strings.Contains(topDialogText(wb.win), `"ten" is not a number`) {
		t.Errorf("%d sweeps ran; dialog %q", len(be.sweeps), topDialogText(wb.win))
	}
}
