package gui

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestSaveEvaluationCSVAndPNG evaluates against two models, saves the CSV
// and checks every row against the fake's closed form (min(1, 3·area/(i+1))
// for model i), then saves the plot as a PNG; before any evaluation, both
// say what to do instead.
func TestSaveEvaluationCSVAndPNG(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.saveEvalCSVDialog()
	wb.tasks.RunQueued()
	if msg := topDialogText(wb.win); !strings.Contains(msg, "run one in the Evaluate tab first") || len(files.asked) != 0 {
		t.Errorf("saving before evaluating: dialog %q, asked %v", msg, files.asked)
	}
	closeDialogs(wb.win)

	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	wb.rightTabs.Select(wb.evTab)
	wb.eval.points.Entry.SetText("4")
	test.Tap(wb.eval.run)
	wb.tasks.Wait()

	files.save = filepath.Join(t.TempDir(), "eval.csv")
	wb.saveEvalCSVDialog()
	wb.tasks.Wait()
	f, err := os.Open(files.save)
	if err != nil {
		t.Fatalf("the CSV was not written: %v; dialog %q", err, topDialogText(wb.win))
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+2*4 || rows[0][0] != "model" || rows[0][4] != "area_fraction" || rows[0][6] != "success_rate" {
		t.Fatalf("CSV has %d rows, header %v", len(rows), rows[0])
	}
	areas := be.evals[0].Areas
	for r, row := range rows[1:] {
		i, k := r/4, r%4
		name := wb.models[i].Name()
		area, _ := strconv.ParseFloat(row[4], 64)
		rate, _ := strconv.ParseFloat(row[6], 64)
		if row[0] != name || math.Abs(area-areas[k]) > 1e-6 || math.Abs(rate-math.Min(1, areas[k]*3/float64(i+1))) > 1e-6 {
			t.Errorf("row %d = %v; want %s at area %.4g, rate %.4g", r+1, row, name, areas[k], math.Min(1, areas[k]*3/float64(i+1)))
		}
	}

	files.save = "/out/eval.png"
	wb.saveEvalPNGDialog()
	wb.tasks.Wait()
	if !contains(be.saved, "/out/eval.png") {
		t.Errorf("the plot was not saved: %v", be.saved)
	}
	img, err := wb.eval.renderPlot()
	if err != nil || img.Bounds().Dx() < 960 || img.Bounds().Dy() < 560 {
		t.Errorf("renderPlot: %v, %v", img.Bounds(), err)
	}
}
