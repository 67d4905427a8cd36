package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fieldEntry is the entry of a parameter field. It tells the panel when it
// gains the focus, so that the panel scrolls it into view (Tab otherwise
// moves into fields scrolled out of sight, and typing changes them unseen),
// and hands on the keys that start or stop work (F5), which a plain entry
// swallows.
type fieldEntry struct {
	widget.Entry

	onFocus func(fyne.CanvasObject)
	onKey   func(*fyne.KeyEvent)
	// name names the field in the undo history; onEdited is told the text
	// before an edit when the field loses the focus with another text.
	name     string
	onEdited func(old string)
	before   string
}

func newFieldEntry(name string) *fieldEntry {
	e := &fieldEntry{name: name}
	// No scroller of its own: a single-line entry's inner scroller took
	// the wheel, so that the form did not scroll with the pointer over a
	// field. A number fits without one.
	e.Wrapping, e.Scroll = fyne.TextWrapOff, container.ScrollNone
	e.ExtendBaseWidget(e)
	return e
}

// FocusGained is part of fyne.Focusable.
func (e *fieldEntry) FocusGained() {
	e.before = e.Text
	e.Entry.FocusGained()
	if e.onFocus != nil {
		e.onFocus(e)
	}
}

// FocusLost is part of fyne.Focusable: an edit ends.
func (e *fieldEntry) FocusLost() {
	e.Entry.FocusLost()
	if e.onEdited != nil && e.Text != e.before {
		e.onEdited(e.before)
	}
	e.before = e.Text
}

// TypedKey is part of fyne.Focusable: F5 goes to the workbench, the rest
// to the entry.
func (e *fieldEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyF5 && e.onKey != nil {
		e.onKey(ev)
		return
	}
	e.Entry.TypedKey(ev)
}

// TypedShortcut is part of fyne.Shortcutable: Ctrl+Shift+Z redoes, as
// Ctrl+Y does.
func (e *fieldEntry) TypedShortcut(s fyne.Shortcut) {
	if c, ok := s.(*desktop.CustomShortcut); ok && c.KeyName == scRedo.KeyName && c.Modifier == scRedo.Modifier {
		s = &fyne.ShortcutRedo{}
	}
	e.Entry.TypedShortcut(s)
}

// scrollIntoView scrolls s so that obj, somewhere inside its content, is
// wholly in view, moving as little as it can.
func scrollIntoView(s *container.Scroll, obj fyne.CanvasObject) {
	d := fyne.CurrentApp().Driver()
	y := d.AbsolutePositionForObject(obj).Y - d.AbsolutePositionForObject(s.Content).Y
	h, view := obj.Size().Height, s.Size().Height
	off := s.Offset.Y
	switch {
	case y < off:
		off = y
	case y+h > off+view:
		off = y + h - view
	default:
		return
	}
	s.ScrollToOffset(fyne.NewPos(s.Offset.X, max(off, 0)))
}

// hookFields makes every fieldEntry inside objs scroll into view in s when
// focused and hand F5 to the workbench.
func (wb *Workbench) hookFields(s *container.Scroll, objs ...fyne.CanvasObject) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *tipLabel:
			o.tips = wb.tips
		case *fieldEntry:
			o.onFocus = func(obj fyne.CanvasObject) { scrollIntoView(s, obj) }
			o.onKey = wb.typedKey
			e := o
			o.onEdited = func(old string) { wb.history.push(wb.restoreText(e.name, e, old)) }
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case *widget.Form:
			for _, it := range o.Items {
				walk(it.Widget)
			}
		}
	}
	for _, o := range objs {
		walk(o)
	}
}

// fieldRow is a labelled field: its label above it (wrapping, so that a long
// label cannot widen the panel, and greyed while the field is disabled), its
// help below, replaced by the reason while the text is not valid.
type fieldRow struct {
	label   *tipLabel // its tooltip: setTip
	hint    *widget.Label
	help    string
	field   fyne.CanvasObject
	content *fyne.Container
}

func newFieldRow(label, help string, field fyne.CanvasObject) *fieldRow {
	r := &fieldRow{label: newTipLabel(label), hint: widget.NewLabel(help), help: help, field: field}
	r.label.Wrapping = fyne.TextWrapWord
	r.label.TextStyle.Bold = true
	r.hint.Wrapping = fyne.TextWrapWord
	r.hint.SizeName = theme.SizeNameCaptionText
	r.content = container.NewVBox(r.label, field, r.hint)
	if help == "" {
		r.hint.Hide()
	}
	if v, ok := field.(fyne.Validatable); ok {
		v.SetOnValidationChanged(r.showValidation)
	}
	r.syncEnabled()
	return r
}

// setTip makes tip the label's tooltip.
func (r *fieldRow) setTip(tip string) { r.label.tip = tip }

// showValidation shows why the text is not valid in place of the help.
func (r *fieldRow) showValidation(err error) {
	text, imp := r.help, widget.MediumImportance
	if err != nil {
		text, imp = err.Error(), widget.DangerImportance
	}
	r.hint.Text, r.hint.Importance = text, imp
	if text == "" {
		r.hint.Hide()
	} else {
		r.hint.Show()
	}
	r.hint.Refresh()
}

// syncEnabled greys the label while the field is disabled; call it after
// enabling or disabling the field.
func (r *fieldRow) syncEnabled() {
	imp := widget.MediumImportance
	if d, ok := r.field.(fyne.Disableable); ok && d.Disabled() {
		imp = widget.LowImportance
	}
	if r.label.Importance != imp {
		r.label.Importance = imp
		r.label.Refresh()
	}
}

// setEnabled enables or disables the row's field and greys its label to
// match.
func (r *fieldRow) setEnabled(on bool) {
	if d, ok := r.field.(fyne.Disableable); ok {
		if on {
			d.Enable()
		} else {
			d.Disable()
		}
	}
	r.syncEnabled()
}
