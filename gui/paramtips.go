package gui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"

	"github.com/advlab/advlab/engine/patch"
)

// paramTip is a parameter's tooltip: its meaning, unit and default. The
// attack form's and the patch forms' tips read alike through it.
func paramTip(label, help, unit, def string) string {
	s := label + ": " + help
	if unit != "" {
		s += "\nIn " + unit + "."
	}
	if def != "" {
		s += "\nDefault: " + def + "."
	}
	return s
}

// shownParam is an engine parameter as the Patch and Evaluate tabs show
// it: a fraction of the image's area as a percentage, a colour bound in
// 255ths (in255).
type shownParam struct {
	patch.Param
	// value is the default as the field's text ("" when it has none).
	value string
	// suffix follows the value where the tip names it ("%", "/255").
	suffix string
}

// showParam looks name up in ps and converts a fraction to a percentage.
// A name the engine does not document gets a tip that says so, which the
// tests catch.
func showParam(ps []patch.Param, name string) shownParam {
	p, ok := patch.LookupParam(ps, name)
	if !ok {
		return shownParam{Param: patch.Param{Name: name, Label: name}}
	}
	sp := shownParam{Param: p, value: p.Default}
	if p.Fraction {
		if v, err := strconv.ParseFloat(p.Default, 64); err == nil {
			sp.value = strconv.FormatFloat(100*v, 'g', 6, 64)
		}
		sp.Unit, sp.suffix = "% of the image's area", "%"
	}
	return sp
}

// in255 shows a bound in [0,1] colour units in 255ths of the colour range,
// as ε is written (8/255).
func (sp shownParam) in255() shownParam {
	if v, err := strconv.ParseFloat(sp.Default, 64); err == nil {
		sp.value = strconv.FormatFloat(255*v, 'g', 6, 64)
	}
	sp.Unit, sp.suffix = "255ths of the colour range", "/255"
	return sp
}

// tip is the parameter's tooltip; def names the default where the field's
// own text is not it (a choice, a target).
func (sp shownParam) tip(def string) string {
	if def == "" {
		def = sp.value
		if def != "" {
			def += sp.suffix
		}
	}
	return paramTip(sp.Label, sp.Help, sp.Unit, def)
}

// paramForm lays out labelled fields as widget.Form does, with labels that
// show their tooltip; labels keeps each label by its parameter's name.
type paramForm struct {
	box    *fyne.Container
	labels map[string]*tipLabel
	tips   *tooltips // shows the labels' tips; nil until hooked
}

func newParamForm(tips *tooltips) *paramForm {
	return &paramForm{box: container.New(layout.NewFormLayout()), labels: map[string]*tipLabel{}, tips: tips}
}

// add appends a row labelled label whose tooltip is tip, shown by tips.
func (f *paramForm) add(name, label, tip string, field fyne.CanvasObject) {
	l := newTipLabel(label)
	l.TextStyle.Bold = true
	l.tip = tip
	l.tips = f.tips
	f.labels[name] = l
	f.box.Add(l)
	f.box.Add(field)
}
