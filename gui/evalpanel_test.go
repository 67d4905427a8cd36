package gui

import (
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

func TestEvaluationPlotsEveryModel(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	wb.rightTabs.Select(wb.evTab)
	if wb.centerTabs.Selected() != wb.evalTab {
		t.Error("the Evaluate tab did not bring up the evaluation view")
	}
	wb.eval.points.Entry.SetText("5")
	wb.eval.areaMin.Entry.SetText("2")
	wb.eval.areaMax.Entry.SetText("30")
	test.Tap(wb.eval.run)
	wb.tasks.Wait()

	req := be.evals[0]
	if len(req.Areas) != 5 || math.Abs(req.Areas[0]-0.02) > 1e-9 || math.Abs(req.Areas[4]-0.3) > 1e-9 {
		t.Errorf("areas = %v; want 5 from 2%% to 30%%", req.Areas)
	}
	if len(req.Models) != 2 || !samePatch(req.Patch, wb.patch) {
		t.Errorf("request: %d models", len(req.Models))
	}
	if got := len(wb.eval.plot.Series); got != 2 {
		t.Fatalf("plot has %d series; want one per model", got)
	}
	if wb.eval.plot.Series[1].Name != "second" || len(wb.eval.plot.Series[0].Y) != 5 {
		t.Errorf("series = %+v", wb.eval.plot.Series)
	}
	if !strings.Contains(wb.eval.table.Text, "fake-signs") {
		t.Errorf("table = %q", wb.eval.table.Text)
	}
}

func TestTicks(t *testing.T) {
	got := ticks(0, 1, 4)
	want := []float64{0, 0.25, 0.5, 0.75, 1}
	if len(got) != len(want) {
		t.Fatalf("ticks(0,1,4) = %v", got)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("ticks(0,1,4) = %v", got)
		}
	}
}

func TestPlotDrawsThinnedLines(t *testing.T) {
	test.NewTempApp(t)
	p := newPlotView("loss", plotMinForTest)
	x := make([]float64, 5000)
	y := make([]float64, 5000)
	for i := range x {
		x[i], y[i] = float64(i), math.Sin(float64(i)/300)
	}
	p.SetSeries([]series{{Name: "a", Color: seriesColor(0), X: x, Y: y}})
	p.Resize(plotMinForTest)
	r := test.WidgetRenderer(p)
	if n := len(r.Objects()); n < 100 || n > plotMaxPoints+60 {
		t.Errorf("plot of 5000 points has %d objects; want about %d", n, plotMaxPoints)
	}
}

// TestFaintSeriesAreDashed checks that a control series is drawn dashed and
// without markers, so that it is told apart from its model's line (which has
// the same colour), in the legend too.
func TestFaintSeriesAreDashed(t *testing.T) {
	test.NewTempApp(t)
	x := []float64{0, 1, 2, 3}
	y := []float64{0, 1, 0, 1}
	draw := func(faint bool) (lines []*canvas.Line, circles int) {
		p := newPlotView("p", plotMinForTest)
		p.markers = true
		p.SetSeries([]series{
			{Name: "model", Color: seriesColor(0), X: []float64{0, 3}, Y: []float64{0.5, 0.5}},
			{Name: "control", Color: seriesColor(1), X: x, Y: y, Faint: faint},
		})
		p.Resize(plotMinForTest)
		for _, o := range test.WidgetRenderer(p).Objects() {
			switch o := o.(type) {
			case *canvas.Line:
				if c := color.NRGBAModel.Convert(o.StrokeColor).(color.NRGBA); c.R == 230 && c.G == 159 && c.B == 0 {
					lines = append(lines, o) // seriesColor(1), faint or not
				}
			case *canvas.Circle:
				circles++
			}
		}
		return lines, circles
	}
	length := func(ls []*canvas.Line) (sum float64) {
		for _, l := range ls {
			d := l.Position2.Subtract(l.Position1)
			sum += math.Hypot(float64(d.X), float64(d.Y))
		}
		return sum
	}
	solid, solidMarks := draw(false)
	dashed, dashedMarks := draw(true)
	if len(solid) != 3+1 { // three segments and the legend's swatch
		t.Fatalf("solid series: %d lines", len(solid))
	}
	if len(dashed) < 10*len(solid) {
		t.Errorf("faint series: %d lines; want many dashes", len(dashed))
	}
	// Dashes cover on/(on+off) of the length, give or take the last dash of
	// each segment.
	ratio := length(dashed) / length(solid)
	if want := float64(dashOn) / (dashOn + dashOff); math.Abs(ratio-want) > 0.08 {
		t.Errorf("dashes cover %.2f of the line; want about %.2f", ratio, want)
	}
	if solidMarks != 2+4 || dashedMarks != 2 {
		t.Errorf("markers: %d solid, %d with a faint control; want the control unmarked", solidMarks, dashedMarks)
	}
}
