package gui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/humanize"
)

// maskChoices are the patch outlines the Patch tab offers, named as the
// patch file records them; alpha asks for a PNG whose transparency is the
// outline.
var maskChoices = []string{string(imgops.MaskCircle), string(imgops.MaskEllipse), string(imgops.MaskRect), string(imgops.MaskAlpha)}

// trainPlotHeight is the least height of the loss and success plots: low
// enough that on a 1024×700 screen the parameters above them keep a few
// rows in view.
const trainPlotHeight = 80

// trainKeys are the preference keys of the Patch tab's fields, by the
// engine's parameter names (kept from before the names were the engine's).
var trainKeys = map[string]string{"size": "size", "rotation": "maxAngle", "scale-min": "scaleMin", "scale-max": "scaleMax",
	"steps": "steps", "batch": "batch", "lr": "lr", "tv": "tv", "nps": "nps", "seed": "seed"}

// legacyMaskPNG is what older versions remembered for the alpha outline.
const legacyMaskPNG = "png"

// trainPanel is the Patch tab: the parameters of Brown et al.'s patch
// training, Start/Stop, a progress bar with the time left, the patch as it
// evolves, and live plots of the loss and the success rate.
type trainPanel struct {
	wb *Workbench

	target  *widget.Select
	against *widget.Check
	// plan says, above Start, which models Start trains against, whether it
	// continues the current patch, and how the images do not fit them.
	plan     *widget.Label
	mask     *widget.Select
	maskPath string
	size     *numField
	maxAngle *numField
	scaleMin *numField
	scaleMax *numField
	steps    *numField
	batch    *numField
	lr       *numField
	tv       *numField
	nps      *numField
	seed     *numField
	form     *paramForm // the parameters' rows and their tooltips

	start    *widget.Button
	save     *widget.Button
	progress *widget.ProgressBar
	fraction binding.Float
	eta      *widget.Label
	preview  *imageView
	scroll   *container.Scroll // the parameters
	lossPlot *plotView
	ratePlot *plotView
	content  fyne.CanvasObject

	running bool
	cancel  context.CancelFunc
	// adjust, when set, edits every request before it runs (the scripted
	// demo shortens training with it); onFinished is told when a run ends.
	adjust     func(*TrainRequest)
	onFinished func(error)

	mu      sync.Mutex // guards the series, appended by the trainer
	lossX   []float64
	lossY   []float64
	rateY   []float64
	lastRun *trainRun
	// runSteps are the steps of the run going (for a session saved meanwhile).
	runSteps int
}

// trainRun is what a finished (or stopped) training left.
type trainRun struct {
	Steps, Done int
	Err         error
}

func newTrainPanel(wb *Workbench) *trainPanel {
	p := wb.prefs
	tp := &trainPanel{wb: wb}
	tp.target = widget.NewSelect(nil, func(s string) {
		if s != "" { // not cleared for want of a model
			p.setText("train.target", s)
		}
		tp.showPlan()
	})
	tp.target.PlaceHolder = "(load a model)"
	tp.against = widget.NewCheck("every loaded model", func(on bool) {
		p.setText("train.against", strconv.FormatBool(on))
		tp.showPlan()
	})
	tp.against.SetChecked(p.text("train.against", "false") == "true")
	tp.mask = widget.NewSelect(maskChoices, tp.onMask)
	mask := p.text("train.mask", showParam(patch.TrainParams(), "mask").value)
	if mask == legacyMaskPNG {
		mask = string(imgops.MaskAlpha)
	}
	tp.mask.SetSelected(mask)
	tp.maskPath = p.text("train.maskPath", "")
	ps := patch.TrainParams()
	num := func(name string, min, max float64, integer bool) *numField {
		sp := showParam(ps, name)
		return newNumField(p, "train."+trainKeys[name], sp.Label, sp.value, min, max, integer)
	}
	tp.size = num("size", 4, 1024, true)
	tp.maxAngle = num("rotation", 0, 180, false)
	tp.scaleMin = num("scale-min", 0.1, 100, false)
	tp.scaleMax = num("scale-max", 0.1, 100, false)
	tp.steps = num("steps", 1, 1e6, true)
	tp.batch = num("batch", 1, 4096, true)
	tp.lr = num("lr", 1e-6, 10, false)
	tp.tv = num("tv", 0, 1e3, false)
	tp.nps = num("nps", 0, 1e3, false)
	tp.seed = num("seed", 0, 1<<53, true)

	tp.start = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), tp.toggle)
	tp.start.Importance = widget.HighImportance
	tp.save = widget.NewButtonWithIcon("Save patch…", theme.DocumentSaveIcon(), wb.savePatchDialog)
	tp.fraction = binding.NewFloat()
	tp.progress = widget.NewProgressBarWithData(tp.fraction)
	tp.eta = widget.NewLabel("")
	tp.eta.SizeName = theme.SizeNameCaptionText
	tp.eta.TextStyle.Monospace = true // no jumps as the digits change
	tp.eta.Truncation = fyne.TextTruncateEllipsis
	tp.preview = newImageView(nil, fyne.NewSize(96, 96))
	tp.lossPlot = newPlotView("Loss", fyne.NewSize(200, trainPlotHeight))
	tp.lossPlot.XLabel = "step"
	tp.ratePlot = newPlotView("Success rate", fyne.NewSize(200, trainPlotHeight))
	tp.ratePlot.YMin, tp.ratePlot.YMax = 0, 1
	tp.ratePlot.YFormat = percent
	tp.ratePlot.XLabel = "step"

	form := newParamForm(wb.tips)
	tip := func(name, def string) string { return showParam(ps, name).tip(def) }
	form.add("target", "Target class", tip("target", "the model's first label"), tp.target)
	form.add("model", "Against", tip("model", "the selected model alone"), tp.against)
	form.add("mask", "Mask", tip("mask", ""), tp.mask)
	for _, r := range []struct {
		name, label string
		f           *numField
	}{
		{"size", "Size (px)", tp.size}, {"rotation", "Rotation ± (°)", tp.maxAngle},
		{"scale-min", "Scale min (% area)", tp.scaleMin}, {"scale-max", "Scale max (% area)", tp.scaleMax},
		{"steps", "Steps", tp.steps}, {"batch", "Batch", tp.batch}, {"lr", "Learning rate", tp.lr},
		{"tv", "TV weight", tp.tv}, {"nps", "NPS weight", tp.nps}, {"seed", "Seed", tp.seed},
	} {
		form.add(r.name, r.label, tip(r.name, ""), r.f.Entry)
	}
	tp.form = form
	tp.plan = widget.NewLabel("")
	tp.plan.Wrapping = fyne.TextWrapWord
	tp.plan.SizeName = theme.SizeNameCaptionText
	buttons := container.NewVBox(tp.plan, container.NewGridWithColumns(2, tp.start, tp.save))
	live := container.NewBorder(nil, nil, tp.preview, nil, container.NewVBox(tp.progress, tp.eta))
	// The parameters scroll; Start, the progress, the patch and the plots
	// stay in view below them while a patch trains.
	// Half and half: the split then gives the parameters whatever the live
	// part does not need at its minimum (at 1280×800, seven of the rows).
	tp.scroll = container.NewVScroll(form.box)
	wb.hookFields(tp.scroll, form.box)
	wb.recordChoices("patch target", tp.target)
	wb.recordChoices("choice of models", tp.against)
	split := container.NewVSplit(tp.scroll, container.NewVBox(buttons, live, tp.lossPlot, tp.ratePlot))
	split.Offset = 0.5
	tp.content = split
	return tp
}

func (tp *trainPanel) onMask(s string) {
	p := tp.wb.prefs
	if imgops.MaskShape(s) != imgops.MaskAlpha {
		p.setText("train.mask", s)
		return
	}
	if tp.wb.files == nil { // during construction
		return
	}
	tp.wb.files.OpenFile("Mask outline (PNG with transparency)", []string{".png"}, func(path string) {
		tp.maskPath = path
		p.setText("train.mask", s)
		p.setText("train.maskPath", path)
	})
}

// SetModel offers m's labels as targets, keeping the remembered one.
func (tp *trainPanel) SetModel(m Model) {
	if m == nil {
		tp.target.SetOptions(nil)
		tp.target.ClearSelected()
		return
	}
	labels := m.Labels()
	tp.target.SetOptions(labels)
	want := tp.wb.prefs.text("train.target", "")
	for _, l := range labels {
		if l == want {
			tp.target.SetSelected(l)
			return
		}
	}
	if len(labels) > 0 && !contains(labels, tp.target.Selected) {
		tp.target.SetSelected(labels[0])
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// modelNames joins the models' names with "+", as an ensemble reads.
func modelNames(ms []Model) string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name())
	}
	return strings.Join(names, " + ")
}

// ShowPatch shows p in the panel's preview.
func (tp *trainPanel) ShowPatch(p *imgops.Patch) {
	defer tp.showPlan()
	if p == nil {
		tp.preview.SetImage(nil)
		return
	}
	tp.preview.SetImage(p.Thumbnail(96))
}

// request reads the form.
func (tp *trainPanel) request() (TrainRequest, error) {
	wb := tp.wb
	var req TrainRequest
	m := wb.selectedModel()
	if m == nil {
		return req, errors.New("no model is loaded; open an .onnx classifier first (Ctrl+O)")
	}
	if wb.images == nil || len(wb.images.Samples) == 0 {
		return req, errors.New("no images are loaded; open a folder of images first (Ctrl+Shift+O)")
	}
	if tp.target.Selected == "" {
		return req, errors.New("choose the target class the patch should make the model see")
	}
	var errs [12]error
	req.Size, errs[0] = tp.size.Int()
	req.MaxAngleDeg, errs[1] = tp.maxAngle.Value()
	req.ScaleMin, errs[2] = tp.scaleMin.Value()
	req.ScaleMax, errs[3] = tp.scaleMax.Value()
	req.Steps, errs[4] = tp.steps.Int()
	req.Batch, errs[5] = tp.batch.Int()
	req.LearningRate, errs[6] = tp.lr.Value()
	req.TVWeight, errs[7] = tp.tv.Value()
	req.NPSWeight, errs[8] = tp.nps.Value()
	seed, err := tp.seed.Value()
	errs[9], req.Seed = err, uint64(seed)
	if err := firstErr(errs[:]...); err != nil {
		return req, err
	}
	if req.ScaleMin > req.ScaleMax {
		return req, fmt.Errorf("the smallest scale (%g%%) is larger than the largest (%g%%); swap them", req.ScaleMin, req.ScaleMax)
	}
	req.ScaleMin, req.ScaleMax = req.ScaleMin/100, req.ScaleMax/100
	req.Target = tp.target.Selected
	req.Mask = imgops.MaskShape(tp.mask.Selected)
	if req.Mask == imgops.MaskAlpha {
		if tp.maskPath == "" {
			return req, errors.New("the alpha mask has no file; choose Mask › alpha again and pick a PNG with transparency")
		}
		req.MaskPath = tp.maskPath
	}
	req.Models = tp.models()
	req.Samples = wb.images.Samples
	return req, nil
}

// models are the models Start trains against: the selected one, and every
// other loaded one with "every loaded model" checked.
func (tp *trainPanel) models() []Model {
	m := tp.wb.selectedModel()
	if m == nil {
		return nil
	}
	ms := []Model{m}
	if tp.against.Checked {
		ms = append(ms, without(tp.wb.models, m)...)
	}
	return ms
}

// continues reports whether training for target at size against models
// continues the current patch: the one the last run left, made for the same
// target, size and models. A patch of other models starts afresh.
func (tp *trainPanel) continues(target string, size int, models []Model) bool {
	wb := tp.wb
	if wb.patch == nil || wb.patch.W != size || wb.patchMeta.Target != target || len(wb.patchMeta.Models) != len(models) {
		return false
	}
	for i, m := range models {
		if wb.patchMeta.Models[i] != m.Name() {
			return false
		}
	}
	return true
}

// showPlan says what Start will do.
func (tp *trainPanel) showPlan() {
	if tp.plan == nil || tp.running {
		return
	}
	ms := tp.models()
	if len(ms) == 0 {
		tp.plan.SetText("Load a model to train a patch against.")
		return
	}
	text := "Trains against " + modelNames(ms)
	size, err := tp.size.Int()
	if err == nil && tp.target.Selected != "" && tp.continues(tp.target.Selected, size, ms) {
		text += "; continues the current patch"
	} else {
		text += "; starts a new patch"
	}
	if w := tp.wb.fitWarning(ms...); w != "" {
		text += "\n" + w
	}
	tp.plan.SetText(text)
}

func without(ms []Model, x Model) []Model {
	var out []Model
	for _, m := range ms {
		if m != x {
			out = append(out, m)
		}
	}
	return out
}

// toggle starts training, or stops it.
func (tp *trainPanel) toggle() {
	if tp.running {
		tp.stop()
		return
	}
	tp.startTraining()
}

// stop cancels the training; the patch of the last finished step stays.
func (tp *trainPanel) stop() {
	if tp.cancel != nil {
		tp.cancel()
		tp.start.SetText("Stopping…")
		tp.start.Disable()
	}
}

func (tp *trainPanel) setRunning(on bool) {
	tp.running = on
	tp.start.Enable()
	if on {
		tp.start.SetText("Stop")
		tp.start.SetIcon(theme.MediaStopIcon())
		tp.start.Importance = widget.DangerImportance
	} else {
		tp.start.SetText("Start")
		tp.start.SetIcon(theme.MediaPlayIcon())
		tp.start.Importance = widget.HighImportance
		tp.cancel = nil
	}
	tp.start.Refresh()
	tp.showPlan()
}

// startTraining runs the trainer off the UI goroutine. Its progress lands in
// the series at every step and reaches the widgets through a throttle; the
// end goes through the same throttle, so that it is never overtaken by a
// late progress update.
func (tp *trainPanel) startTraining() {
	wb := tp.wb
	req, err := tp.request()
	if err != nil {
		wb.showError("Training the patch", err)
		return
	}
	if tp.adjust != nil {
		tp.adjust(&req)
	}
	if tp.continues(req.Target, req.Size, req.Models) {
		req.Init = wb.patch.Clone() // continue where the last run stopped
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp.cancel = cancel
	tp.setRunning(true)
	tp.mu.Lock()
	tp.lossX, tp.lossY, tp.rateY = nil, nil, nil
	tp.mu.Unlock()
	tp.runSteps = req.Steps
	tp.fraction.Set(0)
	tp.eta.SetText("Starting…")
	tp.redrawPlots()
	verb := "Training a new patch"
	if req.Init != nil {
		verb = "Continuing the current patch"
	}
	end := wb.begin(fmt.Sprintf("%s for %q against %s…", verb, req.Target, modelNames(req.Models)))
	thr := newThrottle(frameInterval, &wb.tasks)
	wb.tasks.Go(func() {
		defer cancel()
		var last *patch.Progress
		res, err := wb.be.TrainPatch(ctx, req, func(pr patch.Progress) {
			tp.mu.Lock()
			tp.lossX = append(tp.lossX, float64(pr.Step))
			tp.lossY = append(tp.lossY, pr.Loss)
			tp.rateY = append(tp.rateY, pr.SuccessRate)
			tp.mu.Unlock()
			if pr.Patch == nil {
				return
			}
			last = &pr
			thr.Do(func() {
				tp.fraction.Set(float64(pr.Step) / float64(max(pr.Steps, 1)))
				tp.eta.SetText(etaText(pr))
				tp.redrawPlots()
				wb.setPatch(pr.Patch, pr.Meta)
			})
		})
		// The engine's result, as it is; a run rejected before its first
		// step has none, and keeps whatever the last report showed.
		var p *imgops.Patch
		var meta imgops.PatchMeta
		done := 0
		switch {
		case res != nil:
			p, meta, done = res.Patch, res.Meta, res.Steps
		case last != nil:
			p, meta, done = last.Patch, last.Meta, last.Step
		}
		run := &trainRun{Steps: req.Steps, Done: done, Err: err}
		thr.Do(func() {
			end()
			tp.lastRun = run
			tp.setRunning(false)
			tp.redrawPlots()
			if p != nil {
				wb.setPatch(p, meta)
			}
			tp.eta.SetText(run.text())
			switch {
			case errors.Is(err, context.Canceled):
				wb.setStatus("Training stopped; the last patch is kept")
			case err != nil:
				wb.showError("Training the patch", err)
			default:
				tp.fraction.Set(run.fraction())
				wb.setStatus(fmt.Sprintf("Trained a patch for %q; drag it on the canvas, or compare in the Attack tab", req.Target))
			}
			if tp.onFinished != nil {
				tp.onFinished(err)
			}
		})
	})
}

// etaText says how far training is and how long the engine expects it to
// take still.
func etaText(pr patch.Progress) string {
	s := fmt.Sprintf("Step %d/%d · loss %.3g · success %.0f%%", pr.Step, pr.Steps, pr.Loss, 100*pr.SuccessRate)
	if pr.Step < pr.Steps {
		s += " · " + humanize.Duration(pr.ETA) + " left"
	}
	return s
}

// redrawPlots shows the series collected so far.
func (tp *trainPanel) redrawPlots() {
	tp.mu.Lock()
	x := append([]float64(nil), tp.lossX...)
	loss := append([]float64(nil), tp.lossY...)
	rate := append([]float64(nil), tp.rateY...)
	tp.mu.Unlock()
	tp.lossPlot.SetSeries([]series{{Name: "loss", Color: seriesColor(0), X: x, Y: loss}})
	tp.ratePlot.SetSeries([]series{{Name: "success rate", Color: seriesColor(2), X: x, Y: rate}})
}
