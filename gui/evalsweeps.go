package gui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

// SweepRequest asks for a patch's success as one transformation varies, at
// one scale: the engine's patch.Sweep.
type SweepRequest struct {
	Patch   *imgops.Patch
	Models  []Model
	Samples []Sample
	// Target is the target label; "" measures the untargeted error.
	Target string
	// Sweep is the transformation and its values.
	Sweep patch.Sweep
	// Area is the patch's scale, a fraction of the image's area.
	Area float64
	// Placements, MaxAngleDeg and Seed are as in EvalRequest.
	Placements  int
	MaxAngleDeg float64
	Seed        uint64
}

// PatchSweeper measures patches under one varying transformation.
type PatchSweeper interface {
	// SweepPatch measures req for every model and returns the engine's
	// report as it is: one curve per model, one point per value, beside
	// the noise control. progress gets the completed fraction and must not
	// block; when ctx is cancelled it returns ctx.Err().
	SweepPatch(ctx context.Context, req SweepRequest, progress func(float64)) (*patch.EvalReport, error)
}

// evalSweeps is the Evaluate tab's sweep: its controls (kind, values,
// scale, Start/Stop) and its plot of success against the swept value, one
// line per model with its noise control dashed. Target, placements,
// rotation and seed are the evaluation's own fields.
type evalSweeps struct {
	wb *Workbench

	kind   *widget.Select
	values *fieldEntry
	area   *numField
	form   *paramForm // the rows and their tooltips, from patch.SweepParams
	runControl
	progress *widget.ProgressBar
	fraction binding.Float
	controls fyne.CanvasObject

	plot  *plotView
	table *widget.Label
	view  fyne.CanvasObject

	// report is the last sweep's engine report, for saving.
	report *patch.EvalReport
}

func newEvalSweeps(wb *Workbench) *evalSweeps {
	es := &evalSweeps{wb: wb}
	var kinds []string
	for _, k := range patch.SweepKinds {
		kinds = append(kinds, string(k))
	}
	ps := patch.SweepParams(patch.DefaultSweepKind)
	scale := showParam(ps, "sweep-scale")
	es.values = newFieldEntry("Sweep values")
	es.kind = widget.NewSelect(kinds, func(s string) {
		wb.prefs.setText("sweep.kind", s)
		vals := showParam(patch.SweepParams(patch.SweepKind(s)), "sweep-values")
		es.values.SetText(vals.value)
		es.form.labels["sweep-values"].tip = vals.tip("")
	})
	es.area = newNumField(wb.prefs, "sweep.area", scale.Label, scale.value, 0.1, 100, false)
	es.runControl.init("Start sweep", "Stop sweep", widget.MediumImportance, es.start)
	es.fraction = binding.NewFloat()
	es.progress = widget.NewProgressBarWithData(es.fraction)
	es.form = newParamForm(wb.tips)
	es.form.add("sweep", "Sweep", showParam(ps, "sweep").tip(""), es.kind)
	es.form.add("sweep-values", "Values", showParam(ps, "sweep-values").tip(""), es.values)
	es.form.add("sweep-scale", "At scale (% area)", scale.tip(""), es.area.Entry)
	es.controls = container.NewVBox(widget.NewSeparator(), es.form.box, es.run, es.progress)
	es.kind.SetSelected(wb.prefs.text("sweep.kind", showParam(ps, "sweep").value))

	es.plot = newPlotView("Success rate vs one transformation", fyne.NewSize(320, 200))
	es.plot.YMin, es.plot.YMax = 0, 1
	es.plot.YFormat = percent
	es.plot.markers = true
	es.table = widget.NewLabel("Start a sweep (right) to see the patch's success as one transformation varies.")
	es.table.Wrapping = fyne.TextWrapWord
	saveCSV := widget.NewButtonWithIcon("Save CSV…", theme.DocumentSaveIcon(), es.saveCSV)
	savePNG := widget.NewButtonWithIcon("Save PNG…", theme.FileImageIcon(), es.savePNG)
	es.view = container.NewBorder(container.NewHBox(layout.NewSpacer(), saveCSV, savePNG), es.table, nil, nil, es.plot)
	return es
}

// floatList writes values as the Values field takes them.
func floatList(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strings.Join(s, ", ")
}

// request builds the sweep from the fields and the evaluation's settings.
func (es *evalSweeps) request() (SweepRequest, error) {
	ep := es.wb.eval
	var req SweepRequest
	base, err := ep.request()
	if err != nil {
		return req, err
	}
	area, err := es.area.Value()
	if err != nil {
		return req, err
	}
	sw := patch.Sweep{Kind: patch.SweepKind(es.kind.Selected)}
	for _, f := range strings.Split(es.values.Text, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return req, fmt.Errorf("the sweep's value %q is not a number; give numbers separated by commas", f)
		}
		sw.Values = append(sw.Values, v)
	}
	if len(sw.Values) == 0 {
		return req, fmt.Errorf("the sweep has no value; give numbers separated by commas (%s's own: %s)", sw.Kind, floatList(sw.Kind.DefaultValues()))
	}
	return SweepRequest{Patch: base.Patch, Models: base.Models, Samples: base.Samples, Target: base.Target, Sweep: sw,
		Area: area / 100, Placements: base.Placements, MaxAngleDeg: base.MaxAngleDeg, Seed: base.Seed}, nil
}

func (es *evalSweeps) start() {
	wb := es.wb
	req, err := es.request()
	if err != nil {
		wb.showError("Sweeping the patch", err)
		return
	}
	es.fraction.Set(0)
	wb.centerTabs.Select(wb.evalTab)
	var rep *patch.EvalReport
	es.launch(wb, "Sweeping the patch's "+string(req.Sweep.Kind)+"…", func(ctx context.Context, post func(func())) (err error) {
		rep, err = wb.be.SweepPatch(ctx, req, func(f float64) { post(func() { es.fraction.Set(f) }) })
		return err
	}, func(err error) {
		switch {
		case errors.Is(err, context.Canceled):
			wb.setStatus("Sweep stopped")
		case err != nil:
			wb.showError("Sweeping the patch", err)
		default:
			es.fraction.Set(1)
			es.SetReport(rep)
			wb.setStatus(fmt.Sprintf("Swept the patch's %s over %d values", req.Sweep.Kind, len(req.Sweep.Values)))
		}
	})
}

// SetReport plots and tabulates a sweep's report: the targeted success
// (the untargeted error without a target) against the swept value.
func (es *evalSweeps) SetReport(rep *patch.EvalReport) {
	es.report = rep
	var ss []series
	var lines []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, c := range rep.Curves {
		var x, y, yc []float64
		var cells []string
		for _, p := range c.Points {
			if p.Value == nil {
				continue
			}
			v, s, sc := *p.Value, p.SuccessRate, p.ControlSuccessRate
			if rep.Target == "" {
				s, sc = p.Error, p.ControlError
			}
			x, y, yc = append(x, v), append(y, s), append(yc, sc)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			cells = append(cells, fmt.Sprintf("%s: %.0f%% (noise %.0f%%)", trimFloat(v), 100*s, 100*sc))
		}
		ss = append(ss, series{Name: c.Model, Color: seriesColor(i), X: x, Y: y},
			series{Name: c.Model + " (noise)", Color: seriesColor(i), X: x, Y: yc, Faint: true})
		lines = append(lines, c.Model+" — "+strings.Join(cells, ", "))
	}
	what := "success rate"
	if rep.Target == "" {
		what = "untargeted error"
	}
	es.plot.Title = fmt.Sprintf("Patch %s vs %s", what, rep.Sweep)
	es.plot.XLabel = string(rep.Sweep)
	es.plot.XMin, es.plot.XMax = lo, hi
	es.plot.SetSeries(ss)
	trials := 0
	if len(rep.Curves) > 0 && len(rep.Curves[0].Points) > 0 {
		trials = rep.Curves[0].Points[0].Placements
	}
	es.table.SetText(strings.Join(lines, "\n") + fmt.Sprintf("\n%d images × %d placements per value", rep.Images, rep.Placements) +
		fmt.Sprintf(" (%d trials)", trials))
}

// errNoSweep is what saving says before any sweep ran.
var errNoSweep = errors.New("there is no sweep to save; start one in the Evaluate tab first")

// saveCSV writes the sweep's report with the engine's CSV writer, the
// columns of `advlab evalpatch --sweep --csv`.
func (es *evalSweeps) saveCSV() {
	if es.report == nil {
		es.wb.showError("Saving the sweep", errNoSweep)
		return
	}
	es.wb.saveCSVDialog("Saving the sweep", "sweep-"+string(es.report.Sweep)+".csv", es.report.WriteCSV)
}

// savePNG writes the sweep's plot and table as a PNG.
func (es *evalSweeps) savePNG() {
	if es.report == nil {
		es.wb.showError("Saving the sweep plot", errNoSweep)
		return
	}
	img := renderPlotImage(es.plot, es.table.Text)
	es.wb.files.SaveFile("Save the sweep plot as PNG", "sweep-"+string(es.report.Sweep)+".png", func(path string) {
		es.wb.saveImages("Saving the sweep plot", map[string]image.Image{path: img})
	})
}

// sessionFields are the sweep's parameters as a session saves them: the
// kind before the values, which choosing a kind resets.
func (es *evalSweeps) sessionFields() []sessionField {
	return []sessionField{
		{key: "sweep.kind", get: func() string { return es.kind.Selected }, set: es.kind.SetSelected, obj: es.kind},
		{key: "sweep.values", get: func() string { return es.values.Text }, set: es.values.SetText, obj: es.values},
		{key: "sweep.area", get: func() string { return es.area.Entry.Text }, set: es.area.Entry.SetText, obj: es.area.Entry},
	}
}

// stopIfRunning cancels a running sweep.
func (es *evalSweeps) stopIfRunning() {
	if es.cancel != nil {
		es.cancel()
	}
}
