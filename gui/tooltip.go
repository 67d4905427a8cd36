package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// tipAction is a toolbar button that says what it does while the pointer
// rests on it, in the status bar. Fyne's toolbar has no tooltips, and a
// pop-up would not do: an overlay takes the pointer's hover from the button
// under it, which would hide the pop-up again at once.
type tipAction struct {
	button *tipButton
}

// newTipAction returns a toolbar item with icon that runs action and
// hands tip to show (and "" to hide it) on hover.
func newTipAction(icon fyne.Resource, tip string, action func(), show func(tip string)) *tipAction {
	b := &tipButton{tip: tip, show: show}
	b.Icon, b.OnTapped, b.Importance = icon, action, widget.LowImportance
	b.ExtendBaseWidget(b)
	return &tipAction{button: b}
}

// ToolbarObject is part of widget.ToolbarItem.
func (a *tipAction) ToolbarObject() fyne.CanvasObject { return a.button }

// tipButton is the button of a tipAction.
type tipButton struct {
	widget.Button
	tip  string
	show func(string)
}

// MouseIn shows the tip.
func (b *tipButton) MouseIn(ev *desktop.MouseEvent) {
	b.Button.MouseIn(ev)
	if b.show != nil {
		b.show(b.tip)
	}
}

// MouseOut hides the tip.
func (b *tipButton) MouseOut() {
	b.Button.MouseOut()
	if b.show != nil {
		b.show("")
	}
}

// showTip shows a toolbar button's tip in the status bar in place of the
// status, and the status again when tip is "".
func (wb *Workbench) showTip(tip string) {
	if tip == "" {
		wb.status.SetText(wb.statusText)
		return
	}
	wb.status.SetText(tip)
}
