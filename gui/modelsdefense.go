package gui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/defense"
)

// noDefense is the selector's entry for the bare model.
const noDefense = "none"

// defenseSelector picks the selected model's defense: a defense of the
// engine's registry and its parameters (k=v,…, the registry's defaults
// when empty). The defended model then replaces the bare one in the
// workbench, for predictions, attacks, patches and evaluations.
type defenseSelector struct {
	wb      *Workbench
	label   *tipLabel // its tip: the chosen defense and its parameters
	name    *widget.Select
	params  *widget.Entry
	content fyne.CanvasObject
	// showing is set while the selector shows the model's defense, so that
	// showing it does not apply it again.
	showing bool
}

func newDefenseSelector(wb *Workbench) *defenseSelector {
	ds := &defenseSelector{wb: wb, label: newTipLabel("Defense")}
	ds.label.tips = wb.tips
	ds.name = widget.NewSelect(append([]string{noDefense}, defense.Names()...), func(s string) {
		ds.label.tip = defenseTip(s)
		ds.onChanged()
	})
	ds.params = widget.NewEntry()
	ds.params.OnSubmitted = func(string) { ds.onChanged() }
	ds.content = container.NewBorder(nil, nil, ds.label, nil, container.NewGridWithColumns(2, ds.name, ds.params))
	ds.show(nil)
	return ds
}

// spec is the selector's defense as engine/defense.Parse reads it ("" for none).
func (ds *defenseSelector) spec() string {
	name := ds.name.Selected
	if name == "" || name == noDefense {
		return ""
	}
	if p := strings.TrimSpace(ds.params.Text); p != "" {
		return name + ":" + p
	}
	return name
}

// show puts m's defense in the selector, without applying it.
func (ds *defenseSelector) show(m Model) {
	ds.showing = true
	defer func() { ds.showing = false }()
	name, params := noDefense, ""
	if d, ok := m.(DefendedModel); ok {
		n, p, _ := strings.Cut(d.Defense(), ":")
		name, params = n, p
	}
	ds.name.SetSelected(name)
	ds.params.SetText(params)
	ds.params.SetPlaceHolder(defaultParams(name))
	if m == nil {
		ds.name.Disable()
		ds.params.Disable()
	} else {
		ds.name.Enable()
		ds.params.Enable()
	}
}

// defenseTip is the selector's tooltip with the defense name chosen: what
// it does, how an attack's gradient passes it, and each parameter with its
// meaning, unit and default, as engine/defense's registry has them.
func defenseTip(name string) string {
	s := "Defense: wraps the selected model in one of the engine's defenses, for predictions, attacks, patches and evaluations; its parameters k=v,… go beside (empty: the defaults)."
	for _, d := range defense.Defenses() {
		if d.Name != name {
			continue
		}
		s += "\n\n" + d.Name + ": " + d.Description + ". Gradient: " + d.Gradient + "."
		for _, p := range d.Params {
			s += "\n• " + p.Name + " (" + p.Label + "): " + p.Help
			if p.Unit != "" {
				s += ", in " + p.Unit
			}
			s += ". Default: " + p.Default + "."
		}
		return s
	}
	return s + "\n\n" + noDefense + ": the bare model."
}

// defaultParams are the registry's defaults of the defense name, k=v,….
func defaultParams(name string) string {
	for _, d := range defense.Defenses() {
		if d.Name == name {
			var ps []string
			for _, p := range d.Params {
				ps = append(ps, p.Name+"="+p.Default)
			}
			return strings.Join(ps, ",")
		}
	}
	return ""
}

func (ds *defenseSelector) onChanged() {
	if ds.showing {
		return
	}
	ds.params.SetPlaceHolder(defaultParams(ds.name.Selected))
	if ds.name.Selected == noDefense {
		ds.params.SetText("")
	}
	ds.wb.setDefense(ds.spec())
}

// setDefense wraps the selected model in spec ("" unwraps it) off the UI
// goroutine, calibrating a detector on the current images, and puts the
// result in the bare model's place.
func (wb *Workbench) setDefense(spec string) {
	m := wb.selectedModel()
	if m == nil {
		return
	}
	if d, ok := m.(DefendedModel); ok && d.Defense() == spec {
		return
	}
	var samples []Sample
	if wb.images != nil {
		samples = wb.images.Samples
	}
	what := "Removing the defense"
	if spec != "" {
		what = "Defending " + m.Name() + " with " + spec
	}
	end := wb.begin(what + "…")
	wb.tasks.Go(func() {
		d, err := wb.be.DefendModel(context.Background(), m, spec, samples)
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.showError(what, err)
				wb.modelsPanel.defense.show(wb.selectedModel())
				return
			}
			wb.replaceModel(m, d)
		})
	})
}

// replaceModel puts d where old is, keeping the selection.
func (wb *Workbench) replaceModel(old, d Model) {
	for i, x := range wb.models {
		if x == old {
			wb.models[i] = d
			wb.refreshModels()
			wb.setStatus(d.Name() + " replaces " + old.Name())
			return
		}
	}
}

// defendAll wraps models[i] in specs[i] where one is given, calibrating on
// set (nil: none), off the UI goroutine: a session reopening its defenses.
// A defense that fails leaves its model bare, with an error saying so.
func (wb *Workbench) defendAll(ctx context.Context, models []Model, specs []string, set *ImageSet) []error {
	var samples []Sample
	if set != nil {
		samples = set.Samples
	}
	var errs []error
	for i, spec := range specs {
		if spec == "" {
			continue
		}
		d, err := wb.be.DefendModel(ctx, models[i], spec, samples)
		if err != nil {
			errs = append(errs, fmt.Errorf("the defense %s of %s did not apply (the model opened bare): %w", spec, models[i].Name(), err))
			continue
		}
		models[i] = d
	}
	return errs
}
