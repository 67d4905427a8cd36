package gui

import "fyne.io/fyne/v2"

// preferredSize is the window's size on a screen large enough for it.
var preferredSize = fyne.NewSize(1280, 800)

// screenMargin is the share of the screen's work area the window may take
// at most, leaving room for the window's decorations.
const screenMargin = 0.95

// fitWindow returns want shrunk to fit a screen work area of screen (both
// in Fyne units); a zero screen (unknown) leaves want as it is. It never
// goes below min, the content's minimum, where the window cannot go.
func fitWindow(want, screen, min fyne.Size) fyne.Size {
	if screen.Width <= 0 || screen.Height <= 0 {
		return want
	}
	w := max(min.Width, fyne.Min(want.Width, screen.Width*screenMargin))
	h := max(min.Height, fyne.Min(want.Height, screen.Height*screenMargin))
	return fyne.NewSize(w, h)
}
