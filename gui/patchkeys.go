package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// The patch canvas's keyboard: focus, keys that move, scale and turn the
// patch, and shift, which turns the wheel into rotation.

// gesture tells onGesture that a change by the user begins.
func (v *patchView) gesture() {
	if v.onGesture != nil {
		v.onGesture(v.pl)
	}
}

// FocusGained is part of fyne.Focusable.
func (v *patchView) FocusGained() { v.focused = true; v.Refresh() }

// FocusLost is part of fyne.Focusable.
func (v *patchView) FocusLost() {
	v.focused, v.shift, v.ctrl, v.space = false, false, false, false
	v.Refresh()
}

// TypedRune scales (+ −) and rotates ([ ]) the patch.
func (v *patchView) TypedRune(r rune) {
	pl := v.pl
	switch r {
	case '+', '=':
		pl.Area *= 1.1
	case '-', '_':
		pl.Area /= 1.1
	case '[':
		pl.AngleDeg += 5 // counter-clockwise
	case ']':
		pl.AngleDeg -= 5 // clockwise
	default:
		return
	}
	v.gesture()
	v.SetPlacement(pl)
}

// TypedKey nudges the patch with the arrow keys (1% of the image, 5% with
// shift) and hands other keys to onTypedKey.
func (v *patchView) TypedKey(ev *fyne.KeyEvent) {
	step := 0.01
	if v.shift {
		step = 0.05
	}
	pl := v.pl
	switch ev.Name {
	case fyne.KeyLeft:
		pl.CX -= step
	case fyne.KeyRight:
		pl.CX += step
	case fyne.KeyUp:
		pl.CY -= step
	case fyne.KeyDown:
		pl.CY += step
	default:
		if v.onTypedKey != nil {
			v.onTypedKey(ev)
		}
		return
	}
	v.gesture()
	v.SetPlacement(pl)
}

// KeyDown tracks shift, which turns the scroll wheel into rotation, Ctrl,
// which turns it into zoom, and space, which turns a drag into a pan.
func (v *patchView) KeyDown(ev *fyne.KeyEvent) { v.trackModifier(ev.Name, true) }

// KeyUp tracks shift, Ctrl and space.
func (v *patchView) KeyUp(ev *fyne.KeyEvent) { v.trackModifier(ev.Name, false) }

func (v *patchView) trackModifier(k fyne.KeyName, down bool) {
	switch k {
	case desktop.KeyShiftLeft, desktop.KeyShiftRight:
		v.shift = down
	case desktop.KeyControlLeft, desktop.KeyControlRight, desktop.KeySuperLeft, desktop.KeySuperRight:
		v.ctrl = down
	case fyne.KeySpace:
		v.space = down
	}
}
