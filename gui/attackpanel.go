package gui

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// methodNames are the Attack tab's methods as the user reads them, with the
// short names of titles and summaries.
var methodNames = []struct{ id, name, short string }{
	{MethodLBFGS, "L-BFGS (Szegedy et al.)", "L-BFGS"},
	{MethodFGSM, "FGSM", "FGSM"},
	{MethodPGD, "PGD", "PGD"},
	{MethodCW, "Carlini–Wagner L2", "C&W L2"},
	{MethodDeepFool, "DeepFool", "DeepFool"},
	{MethodSquare, "Square (black box)", "Square"},
	{MethodPatch, "Patch (current placement)", "patch"},
}

func methodName(id string) string {
	for _, m := range methodNames {
		if m.id == id {
			return m.name
		}
	}
	return id
}

// methodShort is the method's name in a title ("PGD", "patch").
func methodShort(id string) string {
	for _, m := range methodNames {
		if m.id == id {
			return m.short
		}
	}
	return id
}

func methodID(name string) string {
	for _, m := range methodNames {
		if m.name == name {
			return m.id
		}
	}
	return name
}

// methodParams says which fields each method reads, so that the others can
// be disabled rather than silently ignored.
var methodParams = map[string]map[string]bool{
	MethodLBFGS:    {"steps": true, "seed": true, "target": true},
	MethodFGSM:     {"eps": true, "norm": true, "target": true},
	MethodPGD:      {"eps": true, "norm": true, "steps": true, "seed": true, "target": true},
	MethodCW:       {"steps": true, "confidence": true, "target": true},
	MethodDeepFool: {"steps": true, "norm": true},
	MethodSquare:   {"eps": true, "steps": true, "seed": true, "target": true},
	MethodPatch:    {"target": true},
}

const (
	untargeted  = "(untargeted)"
	scopeOne    = "Current image"
	scopeAll    = "All images"
	normInf     = "L∞"
	normL2      = "L2"
	attackBatch = 16
)

// attackPanel is the Attack tab: a method, its parameters, the images it
// runs on, Run/Stop and a progress bar. Results go to the comparison view.
type attackPanel struct {
	wb *Workbench

	method     *widget.Select
	eps        *numField
	norm       *widget.RadioGroup
	steps      *numField
	confidence *numField
	seed       *numField
	target     *widget.Select
	scope      *widget.RadioGroup

	run      *widget.Button
	progress *widget.ProgressBar
	fraction binding.Float
	info     *widget.Label
	content  fyne.CanvasObject

	running bool
	cancel  context.CancelFunc
	// onFinished is told when a run ends (the scripted demo waits for it).
	onFinished func(*AttackResult, error)
}

func newAttackPanel(wb *Workbench) *attackPanel {
	p := wb.prefs
	ap := &attackPanel{wb: wb}
	var names []string
	for _, m := range methodNames {
		names = append(names, m.name)
	}
	ap.eps = newNumField(p, "attack.eps", "ε", "8", 0.01, 255, false)
	ap.steps = newNumField(p, "attack.steps", "Steps", "40", 1, 1e6, true)
	ap.confidence = newNumField(p, "attack.confidence", "Confidence κ", "0", 0, 1e3, false)
	ap.seed = newNumField(p, "attack.seed", "Seed", "0", 0, 1<<53, true)
	ap.norm = widget.NewRadioGroup([]string{normInf, normL2}, func(s string) { p.setText("attack.norm", s) })
	ap.norm.Horizontal = true
	ap.norm.SetSelected(p.text("attack.norm", normInf))
	ap.target = widget.NewSelect([]string{untargeted}, func(s string) {
		if s != "" {
			p.setText("attack.target", s)
		}
	})
	ap.target.SetSelected(untargeted)
	ap.scope = widget.NewRadioGroup([]string{scopeOne, scopeAll}, func(s string) { p.setText("attack.scope", s) })
	ap.scope.SetSelected(p.text("attack.scope", scopeAll))
	ap.method = widget.NewSelect(names, func(s string) {
		p.setText("attack.method", methodID(s))
		ap.enableFields()
	})
	ap.method.SetSelected(methodName(p.text("attack.method", MethodPGD)))

	ap.run = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), ap.toggle)
	ap.run.Importance = widget.HighImportance
	ap.fraction = binding.NewFloat()
	ap.progress = widget.NewProgressBarWithData(ap.fraction)
	ap.info = widget.NewLabel("Adversarial examples against the selected model; every loaded model then classifies them, to show transfer.")
	ap.info.Wrapping = fyne.TextWrapWord
	ap.info.SizeName = theme.SizeNameCaptionText

	form := widget.NewForm(
		widget.NewFormItem("Method", ap.method),
		widget.NewFormItem("ε (/255)", ap.eps.Entry),
		widget.NewFormItem("Norm", ap.norm),
		widget.NewFormItem("Steps", ap.steps.Entry),
		widget.NewFormItem("Confidence κ", ap.confidence.Entry),
		widget.NewFormItem("Target", ap.target),
		widget.NewFormItem("Seed", ap.seed.Entry),
		widget.NewFormItem("Images", ap.scope),
	)
	ap.content = container.NewVScroll(container.NewVBox(form, ap.run, ap.progress, ap.info))
	ap.enableFields()
	return ap
}

// enableFields enables the fields the chosen method reads.
func (ap *attackPanel) enableFields() {
	if ap.eps == nil || ap.run == nil {
		return
	}
	use := methodParams[methodID(ap.method.Selected)]
	set := func(on bool, w fyne.Disableable) {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	set(use["eps"], ap.eps.Entry)
	set(use["norm"], ap.norm)
	set(use["steps"], ap.steps.Entry)
	set(use["confidence"], ap.confidence.Entry)
	set(use["seed"], ap.seed.Entry)
	set(use["target"], ap.target)
}

// SetModel offers m's labels as targets.
func (ap *attackPanel) SetModel(m Model) {
	opts := []string{untargeted}
	if m != nil {
		opts = append(opts, m.Labels()...)
	}
	ap.target.SetOptions(opts)
	want := ap.wb.prefs.text("attack.target", untargeted)
	if !contains(opts, want) {
		want = untargeted
	}
	ap.target.SetSelected(want)
}

// request reads the form.
func (ap *attackPanel) request() (AttackRequest, error) {
	wb := ap.wb
	req := AttackRequest{Method: methodID(ap.method.Selected), Target: -1, Batch: attackBatch}
	src := wb.selectedModel()
	if src == nil {
		return req, errors.New("no model is loaded; open an .onnx classifier first (Ctrl+O)")
	}
	if wb.images == nil || len(wb.images.Samples) == 0 {
		return req, errors.New("no images are loaded; open a folder of images first (Ctrl+Shift+O)")
	}
	use := methodParams[req.Method]
	if use == nil {
		return req, fmt.Errorf("choose an attack method")
	}
	var errs []error
	if use["eps"] {
		eps, err := ap.eps.Value()
		req.Eps = eps / 255
		errs = append(errs, err)
	}
	if use["steps"] {
		var err error
		req.Steps, err = ap.steps.Int()
		errs = append(errs, err)
	}
	if use["confidence"] {
		var err error
		req.Confidence, err = ap.confidence.Value()
		errs = append(errs, err)
	}
	if use["seed"] {
		s, err := ap.seed.Value()
		req.Seed = uint64(s)
		errs = append(errs, err)
	}
	if err := firstErr(errs...); err != nil {
		return req, err
	}
	if use["norm"] {
		req.Norm = "inf"
		if ap.norm.Selected == normL2 {
			req.Norm = "2"
		}
	}
	if use["target"] && ap.target.Selected != untargeted {
		for i, l := range src.Labels() {
			if l == ap.target.Selected {
				req.Target = i
			}
		}
	}
	if req.Method == MethodPatch {
		if wb.patch == nil {
			return req, errors.New("there is no patch yet; train one in the Patch tab or open one with File › Open patch")
		}
		req.Patch, req.Placement = wb.patch.Clone(), wb.view.Placement()
	}
	req.Source = src
	req.Models = append([]Model(nil), wb.models...)
	if ap.scope.Selected == scopeOne {
		if s := wb.currentSample(); s != nil {
			req.Samples = []Sample{*s}
		}
	} else {
		req.Samples = wb.images.Samples
	}
	return req, nil
}

func (ap *attackPanel) toggle() {
	if ap.running {
		if ap.cancel != nil {
			ap.cancel()
			ap.run.SetText("Stopping…")
			ap.run.Disable()
		}
		return
	}
	ap.startAttack()
}

func (ap *attackPanel) setRunning(on bool) {
	ap.running = on
	ap.run.Enable()
	if on {
		ap.run.SetText("Stop")
		ap.run.SetIcon(theme.MediaStopIcon())
		ap.run.Importance = widget.DangerImportance
	} else {
		ap.run.SetText("Run")
		ap.run.SetIcon(theme.MediaPlayIcon())
		ap.run.Importance = widget.HighImportance
		ap.cancel = nil
	}
	ap.run.Refresh()
}

// startAttack runs the attack off the UI goroutine and shows its result in
// the comparison view (a stopped attack shows the images it finished).
func (ap *attackPanel) startAttack() {
	wb := ap.wb
	req, err := ap.request()
	if err != nil {
		wb.showError("Running the attack", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ap.cancel = cancel
	ap.setRunning(true)
	ap.fraction.Set(0)
	end := wb.begin(fmt.Sprintf("Running %s on %d images…", methodName(req.Method), len(req.Samples)))
	offset := 0
	if ap.scope.Selected == scopeOne {
		offset = wb.current
	}
	thr := newThrottle(frameInterval, &wb.tasks)
	wb.tasks.Go(func() {
		defer cancel()
		res, err := wb.be.RunAttack(ctx, req, func(p AttackProgress) {
			thr.Do(func() {
				ap.fraction.Set(p.Fraction)
				wb.setStatus(p.Text)
			})
		})
		thr.Do(func() {
			end()
			ap.setRunning(false)
			if res != nil && len(res.Items) > 0 {
				for i := range res.Items {
					res.Items[i].Sample += offset
				}
				ap.fraction.Set(1)
				wb.showAttack(res)
			}
			switch {
			case errors.Is(err, context.Canceled):
				wb.setStatus("Attack stopped; showing the images it finished")
			case err != nil:
				wb.showError("Running "+methodName(req.Method), err)
			default:
				wb.setStatus(fmt.Sprintf("%s: top class changed on %.0f%% of %d images for %s",
					methodName(req.Method), 100*res.SuccessRate(res.Source), len(res.Items), res.Models[res.Source].Name()))
			}
			if ap.onFinished != nil {
				ap.onFinished(res, err)
			}
		})
	})
}

// showAttack shows res in the comparison view.
func (wb *Workbench) showAttack(res *AttackResult) {
	wb.attack = res
	wb.compare.SetResult(res)
	wb.centerTabs.Select(wb.compareTab)
}

// stopIfRunning cancels a running attack.
func (ap *attackPanel) stopIfRunning() {
	if ap.cancel != nil {
		ap.cancel()
	}
}
