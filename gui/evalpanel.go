package gui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/patch"
)

// evalPanel is the Evaluate tab (scales, placements, Start/Stop) and the
// Evaluation view it fills: the current patch's success rate against its
// scale, one line per loaded model.
type evalPanel struct {
	wb *Workbench

	target     *widget.Select
	areaMin    *numField
	areaMax    *numField
	points     *numField
	placements *numField
	maxAngle   *numField
	seed       *numField
	form       *paramForm // the parameters' rows and their tooltips

	runControl
	progress *widget.ProgressBar
	fraction binding.Float
	content  fyne.CanvasObject

	defenses    *evalDefenses
	plot        *plotView
	table       *widget.Label
	plotContent fyne.CanvasObject
	sweeps      *evalSweeps

	curves []EvalCurve
	// measured is the request the curves answer (for saving them).
	measured EvalRequest
	// onFinished, when set, is told when a run ends (the scripted demo).
	onFinished func(error)
}

func newEvalPanel(wb *Workbench) *evalPanel {
	p := wb.prefs
	ep := &evalPanel{wb: wb}
	ep.target = widget.NewSelect(nil, func(s string) {
		if s != "" {
			p.setText("eval.target", s)
		}
	})
	ps := patch.EvalParams()
	num := func(key, name string, min, max float64, integer bool) *numField {
		sp := showParam(ps, name)
		return newNumField(p, "eval."+key, sp.Label, sp.value, min, max, integer)
	}
	ep.areaMin = num("areaMin", "scale-min", 0.1, 100, false)
	ep.areaMax = num("areaMax", "scale-max", 0.1, 100, false)
	ep.points = num("points", "scales", 2, 100, true)
	ep.placements = num("placements", "placements", 1, 1000, true)
	ep.maxAngle = num("maxAngle", "rotation", 0, 180, false)
	ep.seed = num("seed", "seed", 0, 1<<53, true)
	ep.runControl.init("Start", "Stop", widget.HighImportance, ep.start)
	ep.fraction = binding.NewFloat()
	ep.progress = widget.NewProgressBarWithData(ep.fraction)
	info := widget.NewLabel("Pastes the current patch at random places and rotations, at each scale, on every image, and counts how often each model then sees the target.")
	info.Wrapping = fyne.TextWrapWord
	info.SizeName = theme.SizeNameCaptionText
	ep.form = newParamForm(wb.tips)
	tip := func(name, def string) string { return showParam(ps, name).tip(def) }
	ep.form.add("target", "Target", tip("target", "the patch's target"), ep.target)
	ep.form.add("scale-min", "Scale min (% area)", tip("scale-min", ""), ep.areaMin.Entry)
	ep.form.add("scale-max", "Scale max (% area)", tip("scale-max", ""), ep.areaMax.Entry)
	ep.form.add("scales", "Scales", tip("scales", ""), ep.points.Entry)
	ep.form.add("placements", "Placements", tip("placements", ""), ep.placements.Entry)
	ep.form.add("rotation", "Rotation ± (°)", tip("rotation", ""), ep.maxAngle.Entry)
	ep.form.add("seed", "Seed", tip("seed", ""), ep.seed.Entry)
	ep.defenses = newEvalDefenses(wb)
	ep.sweeps = newEvalSweeps(wb)
	ep.content = container.NewVScroll(container.NewVBox(ep.form.box, ep.run, ep.progress, info, ep.sweeps.controls, ep.defenses.content))

	ep.plot = newPlotView("Success rate vs patch scale", fyne.NewSize(320, 240))
	ep.plot.XLabel = "patch scale (% of the image's area)"
	ep.plot.XFormat = func(v float64) string { return trimFloat(100*v) + "%" }
	ep.plot.YMin, ep.plot.YMax = 0, 1
	ep.plot.YFormat = percent
	ep.plot.markers = true
	ep.table = widget.NewLabel("Run Evaluate (right) to measure the current patch.")
	ep.table.Wrapping = fyne.TextWrapWord
	saveCSV := widget.NewButtonWithIcon("Save CSV…", theme.DocumentSaveIcon(), wb.saveEvalCSVDialog)
	savePNG := widget.NewButtonWithIcon("Save PNG…", theme.FileImageIcon(), wb.saveEvalPNGDialog)
	bar := container.NewHBox(layout.NewSpacer(), saveCSV, savePNG)
	ep.plotContent = container.NewVSplit(container.NewBorder(bar, ep.table, nil, nil, ep.plot), ep.sweeps.view)
	return ep
}

// SetModel offers m's labels as targets, defaulting to the patch's.
func (ep *evalPanel) SetModel(m Model) {
	opts := []string{untargeted}
	if m != nil {
		opts = append(opts, m.Labels()...)
	}
	ep.target.SetOptions(opts)
	want := ep.wb.prefs.text("eval.target", "")
	if want == "" && ep.wb.patchMeta.Target != "" {
		want = ep.wb.patchMeta.Target
	}
	if !contains(opts, want) {
		want = ep.wb.prefs.text("train.target", untargeted)
	}
	if !contains(opts, want) {
		want = untargeted
	}
	ep.target.SetSelected(want)
}

// selectTarget makes label the target, when the selected model has it.
func (ep *evalPanel) selectTarget(label string) {
	if contains(ep.target.Options, label) {
		ep.target.SetSelected(label)
	}
}

// areas spreads n scales geometrically over [lo, hi].
func areas(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo * math.Pow(hi/lo, float64(i)/float64(n-1))
	}
	return out
}

func (ep *evalPanel) request() (EvalRequest, error) {
	wb := ep.wb
	var req EvalRequest
	if wb.patch == nil {
		return req, errors.New("there is no patch; train one in the Patch tab or open one with File › Open patch")
	}
	if len(wb.models) == 0 {
		return req, errors.New("no model is loaded; open an .onnx classifier first (Ctrl+O)")
	}
	if wb.images == nil || len(wb.images.Samples) == 0 {
		return req, errors.New("no images are loaded; open a folder of images first (Ctrl+Shift+O)")
	}
	lo, e1 := ep.areaMin.Value()
	hi, e2 := ep.areaMax.Value()
	n, e3 := ep.points.Int()
	pl, e4 := ep.placements.Int()
	ang, e5 := ep.maxAngle.Value()
	seed, e6 := ep.seed.Value()
	if err := firstErr(e1, e2, e3, e4, e5, e6); err != nil {
		return req, err
	}
	if lo >= hi {
		return req, fmt.Errorf("the smallest scale (%g%%) must be below the largest (%g%%)", lo, hi)
	}
	req = EvalRequest{Patch: wb.patch.Clone(), Models: append([]Model(nil), wb.models...), Samples: wb.images.Samples,
		Areas: areas(lo/100, hi/100, n), Placements: pl, MaxAngleDeg: ang, Seed: uint64(seed)}
	if ep.target.Selected != untargeted {
		req.Target = ep.target.Selected
	}
	return req, nil
}

func (ep *evalPanel) start() {
	wb := ep.wb
	req, err := ep.request()
	if err != nil {
		wb.showError("Evaluating the patch", err)
		return
	}
	ep.fraction.Set(0)
	wb.centerTabs.Select(wb.evalTab)
	var curves []EvalCurve
	ep.launch(wb, "Evaluating the patch…", func(ctx context.Context, post func(func())) (err error) {
		curves, err = wb.be.EvaluatePatch(ctx, req, func(f float64) { post(func() { ep.fraction.Set(f) }) })
		return err
	}, func(err error) {
		switch {
		case errors.Is(err, context.Canceled):
			wb.setStatus("Evaluation stopped")
		case err != nil:
			wb.showError("Evaluating the patch", err)
		default:
			ep.fraction.Set(1)
			ep.measured = req
			ep.SetCurves(curves)
			wb.setStatus("Evaluated the patch at " + fmt.Sprint(len(req.Areas)) + " scales")
		}
		if ep.onFinished != nil {
			ep.onFinished(err)
		}
	})
}

// SetCurves plots curves and tabulates them.
func (ep *evalPanel) SetCurves(curves []EvalCurve) {
	ep.curves = curves
	var ss []series
	var lines []string
	for i, c := range curves {
		ss = append(ss, series{Name: c.Model, Color: seriesColor(i), X: c.Areas, Y: c.SuccessRate})
		var cells []string
		for k := range c.Areas {
			cells = append(cells, fmt.Sprintf("%.3g%%: %.0f%%", 100*c.Areas[k], 100*c.SuccessRate[k]))
		}
		lines = append(lines, c.Model+" — "+strings.Join(cells, ", "))
		if len(c.Control) == len(c.Areas) {
			ss = append(ss, series{Name: c.Model + " (noise)", Color: seriesColor(i), X: c.Areas, Y: c.Control, Faint: true})
			cells = cells[:0]
			for k := range c.Areas {
				cells = append(cells, fmt.Sprintf("%.0f%%", 100*c.Control[k]))
			}
			lines = append(lines, "    noise patch of the same size: "+strings.Join(cells, ", "))
		}
	}
	if len(curves) > 0 {
		ep.plot.XMin, ep.plot.XMax = curves[0].Areas[0], curves[0].Areas[len(curves[0].Areas)-1]
	}
	ep.plot.SetSeries(ss)
	ep.table.SetText(strings.Join(lines, "\n"))
}

// stopIfRunning cancels a running evaluation.
func (ep *evalPanel) stopIfRunning() {
	ep.defenses.stopIfRunning()
	if ep.cancel != nil {
		ep.cancel()
	}
	ep.sweeps.stopIfRunning()
}
