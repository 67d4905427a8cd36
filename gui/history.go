package gui

// historyDepth bounds the undo history.
const historyDepth = 200

// placementHistory is the undo and redo history of the patch's placement:
// each entry is the placement before one change the user made (a drag, a
// tap, a wheel turn, a key, a slider's drag), so that Ctrl+Z takes back a
// whole gesture, not one pixel of it. It is used on the UI goroutine only.
type placementHistory struct {
	undo, redo []Placement
}

// push records pl, the placement before a change, and forgets the redos.
func (h *placementHistory) push(pl Placement) {
	if n := len(h.undo); n > 0 && h.undo[n-1] == pl {
		return // a gesture that has not moved yet
	}
	h.undo = append(h.undo, pl)
	if len(h.undo) > historyDepth {
		h.undo = h.undo[1:]
	}
	h.redo = nil
}

// back returns the placement to go back to from now, and whether there is
// one.
func (h *placementHistory) back(now Placement) (Placement, bool) {
	for len(h.undo) > 0 {
		pl := h.undo[len(h.undo)-1]
		h.undo = h.undo[:len(h.undo)-1]
		if pl != now {
			h.redo = append(h.redo, now)
			return pl, true
		}
	}
	return now, false
}

// forward returns the placement undone last, and whether there is one.
func (h *placementHistory) forward(now Placement) (Placement, bool) {
	if len(h.redo) == 0 {
		return now, false
	}
	pl := h.redo[len(h.redo)-1]
	h.redo = h.redo[:len(h.redo)-1]
	h.undo = append(h.undo, now)
	return pl, true
}

// undo takes back the last change of the patch's placement.
func (wb *Workbench) undo() {
	if pl, ok := wb.history.back(wb.view.Placement()); ok {
		wb.view.SetPlacement(pl)
		wb.setStatus("Undid the last move of the patch (Ctrl+Shift+Z redoes it)")
	} else {
		wb.setStatus("Nothing to undo")
	}
}

// redo makes the last undone change again.
func (wb *Workbench) redo() {
	if pl, ok := wb.history.forward(wb.view.Placement()); ok {
		wb.view.SetPlacement(pl)
		wb.setStatus("Redid the move of the patch")
	} else {
		wb.setStatus("Nothing to redo")
	}
}
