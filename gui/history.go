package gui

import (
	"fyne.io/fyne/v2/widget"
)

// historyDepth bounds the undo history.
const historyDepth = 200

// edit is one change the user made, as the way to take it back: apply
// restores the state before the change and returns the edit that makes the
// change again; noop reports that applying it would change nothing now.
type edit struct {
	what  string // "move of the patch", "Steps"
	apply func() edit
	noop  func() bool
	// drop, if set, releases what the edit holds (a removed model) when
	// the history forgets it without applying it.
	drop func()
}

// forget drops the edits es.
func forget(es []edit) {
	for _, e := range es {
		if e.drop != nil {
			e.drop()
		}
	}
}

// editHistory is the workbench's undo and redo history: the patch's
// placement, one entry per gesture (a drag, a tap, a wheel turn, a key, a
// slider's drag), so that Ctrl+Z takes back a whole gesture and not one
// pixel of it; the parameters, one entry per field edited (recorded
// when the field loses the focus; while it has it, the field's own undo
// takes Ctrl+Z) or choice made; and the models removed, which it keeps
// open until it forgets them. It is used on the UI goroutine only.
type editHistory struct {
	undo, redo []edit
	// replaying is set while an edit is applied, so that the change it
	// makes is not recorded as a new one.
	replaying bool
}

// push records a new edit and forgets the redos.
func (h *editHistory) push(e edit) {
	if h.replaying {
		return
	}
	h.undo = append(h.undo, e)
	if len(h.undo) > historyDepth {
		forget(h.undo[:1])
		h.undo = h.undo[1:]
	}
	forget(h.redo)
	h.redo = nil
}

// clear forgets every edit, releasing what they hold.
func (h *editHistory) clear() {
	forget(h.undo)
	forget(h.redo)
	h.undo, h.redo = nil, nil
}

// quietly runs f, whose changes are the program's and not the user's (a
// model's labels offered as targets), without recording them.
func (h *editHistory) quietly(f func()) {
	was := h.replaying
	h.replaying = true
	defer func() { h.replaying = was }()
	f()
}

// step applies the last edit of from that changes something, moves its
// inverse onto to, and returns what it was ("" when there was none).
func (h *editHistory) step(from, to *[]edit) string {
	for len(*from) > 0 {
		e := (*from)[len(*from)-1]
		*from = (*from)[:len(*from)-1]
		if e.noop != nil && e.noop() {
			forget([]edit{e})
			continue
		}
		h.replaying = true
		inv := e.apply()
		h.replaying = false
		*to = append(*to, inv)
		return e.what
	}
	return ""
}

// restorePlacement is the edit that puts the patch back at pl.
func (wb *Workbench) restorePlacement(pl Placement) edit {
	return edit{what: "move of the patch",
		apply: func() edit {
			now := wb.view.Placement()
			wb.view.SetPlacement(pl)
			return wb.restorePlacement(now)
		},
		noop: func() bool { return wb.view.Placement() == pl }}
}

// recordPlacement records a gesture that begins at pl.
func (wb *Workbench) recordPlacement(pl Placement) {
	if n := len(wb.history.undo); n > 0 && wb.history.undo[n-1].what == "move of the patch" && wb.history.undo[n-1].noop() {
		return // the last gesture has not moved the patch yet
	}
	wb.history.push(wb.restorePlacement(pl))
}

// restoreText is the edit that sets entry e's text back to s.
func (wb *Workbench) restoreText(name string, e *fieldEntry, s string) edit {
	return edit{what: name,
		apply: func() edit {
			now := e.Text
			e.SetText(s)
			return wb.restoreText(name, e, now)
		},
		noop: func() bool { return e.Text == s }}
}

// restoreChoice is the edit that selects s again in a select or radio group.
func (wb *Workbench) restoreChoice(name string, get func() string, set func(string), s string) edit {
	return edit{what: name,
		apply: func() edit {
			now := get()
			set(s)
			return wb.restoreChoice(name, get, set, now)
		},
		noop: func() bool { return get() == s }}
}

// recordChoices wraps the OnChanged of a select, radio group or check box
// so that each choice the user makes is recorded for undo.
func (wb *Workbench) recordChoices(name string, o any) {
	switch w := o.(type) {
	case *widget.Select:
		w.OnChanged = wb.recordedChoice(name, w.Selected, w.OnChanged, func() string { return w.Selected }, w.SetSelected)
	case *widget.RadioGroup:
		w.OnChanged = wb.recordedChoice(name, w.Selected, w.OnChanged, func() string { return w.Selected }, w.SetSelected)
	case *widget.Check:
		on := w.OnChanged
		w.OnChanged = func(b bool) {
			wb.history.push(edit{what: name, apply: func() edit { return wb.toggleCheck(name, w) }})
			if on != nil {
				on(b)
			}
		}
	}
}

// toggleCheck flips a check box as an edit, returning the edit that flips
// it back.
func (wb *Workbench) toggleCheck(name string, c *widget.Check) edit {
	c.SetChecked(!c.Checked)
	return edit{what: name, apply: func() edit { return wb.toggleCheck(name, c) }}
}

// undo takes back the last change.
func (wb *Workbench) undo() {
	if what := wb.history.step(&wb.history.undo, &wb.history.redo); what != "" {
		wb.setStatus("Undid the " + what + " (Ctrl+Shift+Z redoes it)")
	} else {
		wb.setStatus("Nothing to undo")
	}
}

// redo makes the last undone change again.
func (wb *Workbench) redo() {
	if what := wb.history.step(&wb.history.redo, &wb.history.undo); what != "" {
		wb.setStatus("Redid the " + what)
	} else {
		wb.setStatus("Nothing to redo")
	}
}

// recordedChoice is a choice widget's OnChanged that records each new
// choice (from prev, read with get and undone with set) before calling on.
func (wb *Workbench) recordedChoice(name, prev string, on func(string), get func() string, set func(string)) func(string) {
	return func(s string) {
		if old := prev; old != s {
			prev = s
			wb.history.push(wb.restoreChoice(name, get, set, old))
		}
		if on != nil {
			on(s)
		}
	}
}
