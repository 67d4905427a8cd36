package gui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/internal/humanize"
)

const (
	untargeted  = "(untargeted)"
	scopeOne    = "Current image"
	scopeAll    = "All images"
	attackBatch = 16
)

// attackPanel is the Attack tab: a method, its parameters, the images it
// runs on, Run/Stop and a progress bar. Results go to the comparison view.
type attackPanel struct {
	wb *Workbench

	method *widget.Select
	// forms hold each method's parameters; params shows the chosen one's.
	forms  map[string]*methodForm
	params *fyne.Container
	target *widget.Select
	// targetRow greys the Target label with the field.
	targetRow *fieldRow
	// model names the model attacked, which is the one selected in the
	// models list.
	model *widget.Label
	// fit warns when the images do not fit a model (colour, size, classes).
	fit    *widget.Label
	scope  *widget.RadioGroup
	scroll *container.Scroll

	run      *widget.Button
	progress *widget.ProgressBar
	fraction binding.Float
	// eta says how far the attack is and the time left, in a fixed-width
	// font so that the panel does not jump as the digits change.
	eta     *widget.Label
	info    *widget.Label
	content fyne.CanvasObject

	running bool
	cancel  context.CancelFunc
	// onFinished is told when a run ends (the scripted demo waits for it).
	onFinished func(*AttackResult, error)
}

func newAttackPanel(wb *Workbench) *attackPanel {
	p := wb.prefs
	ap := &attackPanel{wb: wb}
	var names []string
	ap.forms = map[string]*methodForm{}
	for _, m := range attackMethods() {
		names = append(names, m.name)
		ap.forms[m.id] = newMethodForm(p, m)
	}
	ap.params = container.NewStack()
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
	ap.eta = widget.NewLabel("")
	ap.eta.TextStyle.Monospace = true
	ap.eta.SizeName = theme.SizeNameCaptionText
	ap.eta.Truncation = fyne.TextTruncateEllipsis
	ap.info = widget.NewLabel("Adversarial examples against the selected model; every loaded model then classifies them, to show transfer.")
	ap.info.Wrapping = fyne.TextWrapWord
	ap.info.SizeName = theme.SizeNameCaptionText

	ap.model = widget.NewLabel("")
	ap.model.Wrapping = fyne.TextWrapWord
	ap.fit = widget.NewLabel("")
	ap.fit.Wrapping = fyne.TextWrapWord
	ap.fit.Importance = widget.WarningImportance
	ap.fit.Hide()
	ap.targetRow = newFieldRow("Target", "", ap.target)
	ap.scroll = container.NewVScroll(container.NewVBox(
		newFieldRow("Model attacked", "", ap.model).content, ap.fit,
		newFieldRow("Method", "", ap.method).content, ap.params,
		ap.targetRow.content, newFieldRow("Images", "", ap.scope).content,
		ap.run, ap.progress, ap.eta, ap.info))
	ap.content = ap.scroll
	for _, mf := range ap.forms {
		wb.hookFields(ap.scroll, mf.form)
		for _, f := range mf.fields {
			if f.radio != nil {
				wb.recordChoices(f.param.Label, f.radio)
			} else if f.check != nil {
				wb.recordChoices(f.param.Label, f.check)
			}
		}
	}
	wb.recordChoices("attack method", ap.method)
	wb.recordChoices("attack target", ap.target)
	wb.recordChoices("choice of images", ap.scope)
	ap.enableFields()
	return ap
}

// enableFields shows the chosen method's parameters, each with its own
// default and unit, and enables Target where the method takes one.
func (ap *attackPanel) enableFields() {
	if ap.params == nil || ap.run == nil {
		return
	}
	id := methodID(ap.method.Selected)
	ap.params.Objects = nil
	if mf := ap.forms[id]; mf != nil && len(mf.fields) > 0 {
		ap.params.Objects = []fyne.CanvasObject{mf.form}
	}
	ap.params.Refresh()
	m, ok := methodEntryOf(id)
	ap.targetRow.setEnabled(ok && m.targeted)
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
	ap.model.SetText("(no model loaded)")
	if m != nil {
		ap.model.SetText(m.Name() + ": the model selected in the list on the left; every loaded model then classifies the results")
	}
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
	m, ok := methodEntryOf(req.Method)
	if !ok {
		return req, fmt.Errorf("choose an attack method")
	}
	if mf := ap.forms[req.Method]; len(mf.fields) > 0 {
		req.Params = mf.values()
		if _, err := attack.New(req.Method, req.Params); err != nil {
			return req, err
		}
	}
	if m.targeted && ap.target.Selected != untargeted {
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
	started := time.Now()
	ap.eta.SetText(fmt.Sprintf("%d images: starting…", len(req.Samples)))
	var lastFraction float64 // set by the attack's goroutine, read at its end
	wb.tasks.Go(func() {
		defer cancel()
		res, err := wb.be.RunAttack(ctx, req, func(p AttackProgress) {
			lastFraction = p.Fraction
			text := attackETA(p.Fraction, time.Since(started))
			thr.Do(func() {
				ap.fraction.Set(p.Fraction)
				ap.eta.SetText(text)
				wb.setStatus(p.Text)
			})
		})
		elapsed, stoppedAt := time.Since(started), lastFraction
		thr.Do(func() {
			end()
			ap.setRunning(false)
			if res != nil && len(res.Items) > 0 {
				for i := range res.Items {
					res.Items[i].Sample += offset
				}
				wb.showAttack(res)
			}
			done := 0
			if res != nil {
				done = len(res.Items)
			}
			switch {
			case errors.Is(err, context.Canceled):
				// The bar stays where the attack stopped.
				ap.fraction.Set(stoppedAt)
				ap.eta.SetText(fmt.Sprintf("Stopped at %.0f%% after %s: %d of %d images done", 100*stoppedAt, humanize.Duration(elapsed), done, len(req.Samples)))
				wb.setStatus("Attack stopped; showing the images it finished")
			case err != nil:
				wb.showError("Running "+methodName(req.Method), err)
			default:
				ap.fraction.Set(1)
				ap.eta.SetText(fmt.Sprintf("Done: %d images in %s", done, humanize.Duration(elapsed)))
				msg := fmt.Sprintf("%s: top class changed on %.0f%% of %d images for %s as crafted",
					methodName(req.Method), 100*res.SuccessRate(res.Source), len(res.Items), res.Models[res.Source].Name())
				if r, ok := roundedRate(res, res.Source); ok {
					msg += fmt.Sprintf(", on %.0f%% once saved as 8-bit PNG", 100*r)
				}
				wb.setStatus(msg)
			}
			if ap.onFinished != nil {
				ap.onFinished(res, err)
			}
		})
	})
}

// showFit shows the warning text of Workbench.fitWarning, or hides it.
func (ap *attackPanel) showFit(text string) {
	ap.fit.SetText(text)
	if text == "" {
		ap.fit.Hide()
	} else {
		ap.fit.Show()
	}
}

// attackETA says how far an attack is and, from its pace so far, how long
// it should take still.
func attackETA(fraction float64, elapsed time.Duration) string {
	s := fmt.Sprintf("%3.0f%% · %s elapsed", 100*fraction, humanize.Duration(elapsed))
	if fraction > 0 && fraction < 1 {
		left := time.Duration(float64(elapsed) * (1 - fraction) / fraction)
		s += " · about " + humanize.Duration(left) + " left"
	}
	return s
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
