package gui

import (
	"context"
	"errors"
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/eval"
)

// defensesColumns are the defenses table's headings.
var defensesColumns = []string{"Model", "Defense", "Clean", "Robust", "Patch (target)", "Patch (untargeted)", "Certified"}

// evalDefenses is the defenses table of the Evaluate tab: every loaded
// model as it is (with its bare model beside it where it is defended),
// measured by the engine's eval.DefenseTable: clean and robust accuracy
// under adaptive AutoAttack, targeted and untargeted patch success, and
// PatchCleanser's certified accuracy.
type evalDefenses struct {
	wb *Workbench

	eps        *numField // in 1/255
	patchSteps *numField
	limit      *numField
	form       *paramForm // the rows and their tooltips, from eval.DefenseParams

	runControl
	progress *widget.ProgressBar
	fraction binding.Float
	status   *widget.Label
	table    *widget.Table
	content  fyne.CanvasObject

	rows []eval.DefenseRow
	// onFinished, when set, is told when a run ends (tests).
	onFinished func(error)
}

func newEvalDefenses(wb *Workbench) *evalDefenses {
	p := wb.prefs
	ps := eval.DefenseParams()
	eps, steps, limit := showParam(ps, "eps").in255(), showParam(ps, "patch-steps"), showParam(ps, "limit")
	ed := &evalDefenses{wb: wb}
	ed.eps = newNumField(p, "defenses.eps", eps.Label, eps.value, 0, 255, false)
	ed.patchSteps = newNumField(p, "defenses.patchSteps", steps.Label, steps.value, 1, 100000, true)
	ed.limit = newNumField(p, "defenses.limit", limit.Label, limit.value, 0, 1<<20, true)
	ed.runControl.init("Compare defenses", "Stop", widget.MediumImportance, ed.start)
	ed.fraction = binding.NewFloat()
	ed.progress = widget.NewProgressBarWithData(ed.fraction)
	ed.status = widget.NewLabel("Pick a defense per model in the models panel, then compare them here.")
	ed.status.Wrapping = fyne.TextWrapWord
	ed.status.SizeName = theme.SizeNameCaptionText
	ed.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(ed.rows), len(defensesColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("signs-resnet+jpeg75") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(ed.cell(id.Row, id.Col)) })
	ed.table.ShowHeaderColumn = false
	ed.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("Patch (untargeted)") }
	ed.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(defensesColumns[id.Col])
		}
	}
	size := canvas.NewRectangle(nil)
	size.SetMinSize(fyne.NewSize(300, 180))
	ed.form = newParamForm(wb.tips)
	ed.form.add("eps", "AutoAttack ε (/255)", eps.tip(""), ed.eps.Entry)
	ed.form.add("patch-steps", "Patch steps", steps.tip(""), ed.patchSteps.Entry)
	ed.form.add("limit", "Images (0: all)", limit.tip(""), ed.limit.Entry)
	header := widget.NewLabelWithStyle("Defenses", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ed.content = container.NewVBox(widget.NewSeparator(), header, ed.form.box, ed.run, ed.progress, ed.status, container.NewStack(size, ed.table))
	return ed
}

// cell is the table's text at row i, column j.
func (ed *evalDefenses) cell(i, j int) string {
	if i >= len(ed.rows) {
		return ""
	}
	r := ed.rows[i]
	rate := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	switch j {
	case 0:
		return r.Model
	case 1:
		if r.Defense == "" {
			return noDefense
		}
		return r.Defense
	case 2:
		return rate(r.CleanAccuracy)
	case 3:
		return rate(r.RobustAccuracy)
	case 4:
		return rate(r.PatchSuccess)
	case 5:
		return rate(r.UntargetedPatchSuccess)
	case 6:
		if math.IsNaN(r.CertifiedAccuracy) {
			return "—"
		}
		return fmt.Sprintf("%s (%d px)", rate(r.CertifiedAccuracy), r.CertifiedSide)
	}
	return ""
}

// request is the table's request: the loaded models, each defended one
// after its bare model, on the current images.
func (ed *evalDefenses) request() (DefenseTableRequest, error) {
	wb := ed.wb
	var req DefenseTableRequest
	if len(wb.models) == 0 {
		return req, errors.New("no model is loaded; open an .onnx classifier first (Ctrl+O)")
	}
	if wb.images == nil || len(wb.images.Samples) == 0 {
		return req, errors.New("no images are loaded; open a folder of images first (Ctrl+Shift+O)")
	}
	eps, e1 := ed.eps.Value()
	steps, e2 := ed.patchSteps.Int()
	limit, e3 := ed.limit.Int()
	if err := firstErr(e1, e2, e3); err != nil {
		return req, err
	}
	req.Options = eval.DefaultDefenseOptions()
	req.Options.Eps, req.Options.PatchSteps = eps/255, steps
	req.Samples, req.Limit = wb.images.Samples, limit
	for _, m := range wb.models {
		if d, ok := m.(DefendedModel); ok {
			req.Models = append(req.Models, d.Bare())
		}
		req.Models = append(req.Models, m)
	}
	return req, nil
}

// start measures the table off the UI goroutine, its progress throttled to
// a frame, the rows finished kept when stopped.
func (ed *evalDefenses) start() {
	wb := ed.wb
	req, err := ed.request()
	if err != nil {
		wb.showError("Comparing defenses", err)
		return
	}
	ed.fraction.Set(0)
	var rows []eval.DefenseRow
	ed.launch(wb, "Comparing defenses…", func(ctx context.Context, post func(func())) (err error) {
		rows, err = wb.be.DefenseTable(ctx, req, func(p eval.DefenseProgress) {
			post(func() {
				ed.fraction.Set(p.Fraction)
				ed.status.SetText(fmt.Sprintf("%d/%d %s: %s", p.Row+1, p.Rows, p.Model, p.Stage))
			})
		})
		return err
	}, func(err error) {
		ed.rows = rows
		ed.table.Refresh()
		switch {
		case errors.Is(err, context.Canceled):
			ed.status.SetText(fmt.Sprintf("Stopped after %d of %d models", len(rows), len(req.Models)))
			wb.setStatus("Defense comparison stopped")
		case err != nil:
			ed.status.SetText("")
			wb.showError("Comparing defenses", err)
		default:
			ed.fraction.Set(1)
			ed.status.SetText(fmt.Sprintf("%d models measured", len(rows)))
			wb.setStatus("Compared the defenses of " + fmt.Sprint(len(rows)) + " models")
		}
		if ed.onFinished != nil {
			ed.onFinished(err)
		}
	})
}

// stopIfRunning cancels a running comparison.
func (ed *evalDefenses) stopIfRunning() {
	if ed.cancel != nil {
		ed.cancel()
	}
}
