package gui

import (
	"errors"
	"image"
	"io"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/internal/fsutil"
)

// errNoEvaluation is what saving says before any evaluation ran.
var errNoEvaluation = errors.New("there is no evaluation to save; run one in the Evaluate tab first")

// report returns the evaluation as the engine's report, so that the CSV
// has the columns `advlab evalpatch --csv` writes (the engine's
// EvalReport.WriteCSV). What the workbench's curves do not carry is left
// unknown: NaN rates are empty cells; Placements counts the placements
// asked for (images × placements per image) and Trials is 0.
func (ep *evalPanel) report() (*patch.EvalReport, error) {
	if len(ep.curves) == 0 {
		return nil, errNoEvaluation
	}
	req := ep.measured
	rep := &patch.EvalReport{Target: req.Target, ScaleMode: "area", MaxAngleDeg: req.MaxAngleDeg,
		Images: len(req.Samples), Placements: req.Placements, Control: "noise"}
	nan := math.NaN()
	for _, c := range ep.curves {
		ec := patch.EvalCurve{Model: c.Model, Target: req.Target}
		for k, a := range c.Areas {
			p := patch.EvalPoint{Scale: a, AreaFraction: a, SideFraction: nan, SuccessRate: c.SuccessRate[k],
				ControlSuccessRate: nan, Error: nan, ControlError: nan, Placements: len(req.Samples) * req.Placements}
			if len(c.Control) == len(c.Areas) {
				p.ControlSuccessRate = c.Control[k]
			}
			ec.Points = append(ec.Points, p)
		}
		rep.Curves = append(rep.Curves, ec)
	}
	return rep, nil
}

// renderPlot draws the evaluation's plot and table into an image for
// export.
func (ep *evalPanel) renderPlot() (image.Image, error) {
	if len(ep.curves) == 0 {
		return nil, errNoEvaluation
	}
	return renderPlotImage(ep.plot, ep.table.Text), nil
}

// renderPlotImage draws a copy of plot src above text, laid out at a fixed
// size by Fyne's software renderer, so that the PNG does not depend on the
// window's size.
func renderPlotImage(src *plotView, text string) image.Image {
	p := newPlotView(src.Title, fyne.NewSize(900, 560))
	p.XLabel, p.XMin, p.XMax, p.YMin, p.YMax = src.XLabel, src.XMin, src.XMax, src.YMin, src.YMax
	p.XFormat, p.YFormat, p.Series, p.markers = src.XFormat, src.YFormat, src.Series, src.markers
	table := widget.NewLabel(text)
	table.Wrapping = fyne.TextWrapWord
	obj := container.NewPadded(container.NewBorder(nil, table, nil, nil, p))
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetContent(obj)
	c.Resize(obj.MinSize().Max(fyne.NewSize(960, 0)))
	return c.Capture()
}

// saveEvalCSVDialog asks where to save the evaluation as CSV.
func (wb *Workbench) saveEvalCSVDialog() {
	rep, err := wb.eval.report()
	if err != nil {
		wb.showError("Saving the evaluation", err)
		return
	}
	wb.saveCSVDialog("Saving the evaluation", "evaluation.csv", rep.WriteCSV)
}

// saveCSVDialog asks where to save a CSV named name by default and writes
// it off the UI goroutine; what names the job in the status and errors.
func (wb *Workbench) saveCSVDialog(what, name string, write func(io.Writer) error) {
	wb.files.SaveFile("Save "+strings.TrimPrefix(what, "Saving ")+" as CSV", name, func(path string) {
		end := wb.begin(what + "…")
		wb.tasks.Go(func() {
			err := fsutil.WriteFileAtomic(path, write)
			wb.tasks.ui(func() {
				end()
				if err != nil {
					wb.showError(what, err)
					return
				}
				wb.setStatus(strings.Replace(what, "Saving", "Saved", 1) + " to " + path)
			})
		})
	})
}

// saveEvalPNGDialog asks where to save the evaluation's plot as PNG.
func (wb *Workbench) saveEvalPNGDialog() {
	img, err := wb.eval.renderPlot()
	if err != nil {
		wb.showError("Saving the evaluation plot", err)
		return
	}
	wb.files.SaveFile("Save the evaluation plot as PNG", "evaluation.png", func(path string) {
		wb.saveImages("Saving the evaluation plot", map[string]image.Image{path: img})
	})
}
