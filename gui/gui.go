// Package gui is advlab's Fyne workbench: a thin layer over engine and imgops
// that loads models and images, drives attacks and patch training, and shows
// their results.
package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// New builds the workbench into w. args are the command-line arguments that
// were not a CLI command (model or image paths to open).
func New(a fyne.App, w fyne.Window, args []string) {
	w.SetContent(widget.NewLabel("advlab"))
	w.Resize(fyne.NewSize(1280, 800))
}
