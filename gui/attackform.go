package gui

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/attack"
)

// methodEntry is a method of the Attack tab: the engine registry's attacks,
// then the current patch.
type methodEntry struct {
	id, name, short string
	targeted        bool
	params          []attack.Param
}

// attackMethods lists the Attack tab's methods, read from the registry.
func attackMethods() []methodEntry {
	var out []methodEntry
	for _, m := range attack.Methods() {
		out = append(out, methodEntry{id: m.Name, name: m.Title, short: m.Short, targeted: m.Targeted, params: m.Params})
	}
	return append(out, methodEntry{id: MethodPatch, name: "Patch (current placement)", short: "patch", targeted: true})
}

func methodEntryOf(id string) (methodEntry, bool) {
	for _, m := range attackMethods() {
		if m.id == id {
			return m, true
		}
	}
	return methodEntry{}, false
}

// methodName is the method's name as the user reads it.
func methodName(id string) string {
	if m, ok := methodEntryOf(id); ok {
		return m.name
	}
	return id
}

// methodShort is the method's name in a title ("PGD", "patch").
func methodShort(id string) string {
	if m, ok := methodEntryOf(id); ok {
		return m.short
	}
	return id
}

func methodID(name string) string {
	for _, m := range attackMethods() {
		if m.name == name {
			return m.id
		}
	}
	return name
}

// paramField is one registry parameter in the Attack tab's form: an entry
// for numbers, a radio group for choices, a check box for booleans. It
// remembers its text per method in the preferences and checks it with the
// registry's own rule.
type paramField struct {
	param  attack.Param
	entry  *fieldEntry
	radio  *widget.RadioGroup
	check  *widget.Check
	widget fyne.CanvasObject
}

func newParamField(p prefs, method string, prm attack.Param) *paramField {
	key := "attack." + method + "." + prm.Name
	text := p.text(key, prm.Default)
	if prm.Check(text) != nil {
		text = prm.Default // a stale preference
	}
	f := &paramField{param: prm}
	switch prm.Kind {
	case attack.Choice:
		f.radio = widget.NewRadioGroup(prm.ChoiceLabels, nil)
		// Side by side only when short: a row of long choices would
		// widen the whole panel.
		n := 0
		for _, l := range prm.ChoiceLabels {
			n += len([]rune(l)) + 3
		}
		f.radio.Horizontal = n <= 24
		f.radio.Required = true
		f.radio.SetSelected(f.labelOf(text))
		f.radio.OnChanged = func(string) { p.setText(key, f.text()) }
		f.widget = f.radio
	case attack.Bool:
		on, _ := strconv.ParseBool(text)
		f.check = widget.NewCheck("", func(bool) { p.setText(key, f.text()) })
		f.check.SetChecked(on)
		f.widget = f.check
	default:
		f.entry = newFieldEntry(prm.Label)
		if prm.Auto != "" {
			// Empty shows the rule; clearing the field returns to it.
			f.entry.SetPlaceHolder(attack.AutoValue + " = " + prm.Auto)
		}
		f.setText(text)
		f.entry.Validator = f.validate
		f.entry.OnChanged = func(string) {
			if f.validate(f.entry.Text) == nil {
				p.setText(key, f.text())
			}
		}
		f.widget = f.entry
	}
	return f
}

// labelOf returns the radio label of choice c.
func (f *paramField) labelOf(c string) string {
	for i, v := range f.param.Choices {
		if v == c {
			return f.param.ChoiceLabels[i]
		}
	}
	return ""
}

// text returns the field's value as the registry reads it.
func (f *paramField) text() string {
	switch {
	case f.radio != nil:
		for i, l := range f.param.ChoiceLabels {
			if l == f.radio.Selected {
				return f.param.Choices[i]
			}
		}
		return ""
	case f.check != nil:
		return strconv.FormatBool(f.check.Checked)
	}
	s := strings.TrimSpace(f.entry.Text)
	if f.param.Auto != "" && (s == "" || f.param.IsAuto(s)) {
		return attack.AutoValue
	}
	return s
}

// validate is the entry's validator: the registry's rule, an empty text
// meaning auto where the parameter has an Auto rule.
func (f *paramField) validate(s string) error {
	if f.param.Auto != "" && strings.TrimSpace(s) == "" {
		return nil
	}
	return f.param.Check(s)
}

// setText sets the field from registry text (tests, restoring).
func (f *paramField) setText(s string) {
	switch {
	case f.radio != nil:
		f.radio.SetSelected(f.labelOf(s))
	case f.check != nil:
		on, _ := strconv.ParseBool(s)
		f.check.SetChecked(on)
	default:
		if f.param.IsAuto(s) {
			s = "" // the placeholder says auto, and its rule
		}
		f.entry.SetText(s)
	}
}

// row is the field's row: its label with the unit, the help below.
func (f *paramField) row() *fieldRow {
	label := f.param.Label
	if f.param.Unit != "" {
		label += " (" + f.param.Unit + ")"
	}
	r := newFieldRow(label, f.param.Help, f.widget)
	r.setTip(f.tip())
	return r
}

// tip is the parameter's tooltip: its meaning, unit and default, as the
// registry has them.
func (f *paramField) tip() string {
	p := f.param
	def := p.Default
	if p.IsAuto(def) {
		def += " = " + p.Auto
	}
	return paramTip(p.Label, p.Help, p.Unit, def)
}

// methodForm is one method's parameters: a field each, in rows.
type methodForm struct {
	fields []*paramField
	rows   []*fieldRow
	form   *fyne.Container
}

func newMethodForm(p prefs, m methodEntry) *methodForm {
	mf := &methodForm{form: container.NewVBox()}
	for _, prm := range m.params {
		f := newParamField(p, m.id, prm)
		r := f.row()
		mf.fields = append(mf.fields, f)
		mf.rows = append(mf.rows, r)
		mf.form.Add(r.content)
	}
	return mf
}

// values returns the fields' texts keyed by parameter name.
func (mf *methodForm) values() map[string]string {
	v := map[string]string{}
	for _, f := range mf.fields {
		v[f.param.Name] = f.text()
	}
	return v
}

// field returns the field of parameter name, or nil.
func (mf *methodForm) field(name string) *paramField {
	for _, f := range mf.fields {
		if f.param.Name == name {
			return f
		}
	}
	return nil
}
