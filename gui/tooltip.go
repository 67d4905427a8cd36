package gui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Tooltips. Fyne has none, and a pop-up would not do: a widget.PopUp sits
// on the canvas's overlay stack, and while an overlay is shown the pointer's
// hover and taps go to it alone, never to the widgets under it, so the
// control under the pointer would lose its hover and hide the tip at once.
// A tooltip is drawn instead in a layer above the window's content, of
// canvas objects that are neither hoverable nor tappable: the driver's
// search for the object under the pointer passes through them.

const (
	// tipDelay is how long the pointer rests on a control before its
	// tooltip shows.
	tipDelay = 500 * time.Millisecond
	// tipWidth is the longest line of a tooltip, in characters.
	tipWidth = 64
)

// tooltips shows one tooltip at a time in the window's top layer. It is
// used on the UI goroutine only; its timers reach it through tasks.ui.
type tooltips struct {
	tasks *tasks
	delay time.Duration
	layer *fyne.Container // without a layout, above the content
	box   *fyne.Container // the tip: a background and its lines
	bg    *canvas.Rectangle
	lines *fyne.Container

	owner fyne.CanvasObject // the control the tip is for, nil when none
	at    fyne.Position     // where the pointer rests, in canvas coordinates
	text  string            // the tip shown, "" when hidden
	timer *time.Timer
	gen   int // counts hovers: a timer of an earlier one shows nothing
}

func newTooltips(t *tasks) *tooltips {
	tt := &tooltips{tasks: t, delay: tipDelay}
	tt.bg = canvas.NewRectangle(nil)
	tt.bg.StrokeWidth = 1
	tt.lines = container.NewWithoutLayout()
	tt.box = container.NewWithoutLayout(tt.bg, tt.lines)
	tt.box.Hide()
	tt.layer = container.NewWithoutLayout(tt.box)
	return tt
}

// hover tells that the pointer is on owner at the canvas position at: the
// tip text shows once it has rested there for the delay. A move while the
// tip shows leaves it where it is.
func (tt *tooltips) hover(owner fyne.CanvasObject, text string, at fyne.Position) {
	if text == "" || (tt.owner == owner && tt.text != "") {
		return
	}
	tt.cancel()
	tt.owner, tt.at = owner, at
	tt.gen++
	gen := tt.gen
	tt.tasks.add()
	tt.timer = time.AfterFunc(tt.delay, func() {
		tt.tasks.ui(func() {
			if gen == tt.gen {
				tt.show(text)
			}
		})
		tt.tasks.done()
	})
}

// leave tells that the pointer left owner: its tip goes, or does not come.
func (tt *tooltips) leave(owner fyne.CanvasObject) {
	if tt.owner == owner {
		tt.hide()
	}
}

// hide takes the tip away and forgets a coming one (a tap, a key).
func (tt *tooltips) hide() {
	tt.cancel()
	tt.gen++
	tt.owner, tt.text = nil, ""
	if tt.box.Visible() {
		tt.box.Hide()
		tt.layer.Refresh()
	}
}

// cancel stops a tip's timer that has not fired.
func (tt *tooltips) cancel() {
	if tt.timer != nil && tt.timer.Stop() {
		tt.tasks.done() // its function will not run
	}
	tt.timer = nil
}

// Shown returns the tip shown, "" when none.
func (tt *tooltips) Shown() string { return tt.text }

// show draws text beside the pointer, kept inside the window.
func (tt *tooltips) show(text string) {
	tt.timer = nil
	tt.text = text
	// The theme's colours now: the system's light or dark mode may have
	// changed since the last tip.
	tt.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	tt.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	tt.bg.CornerRadius = theme.InputRadiusSize()
	size := theme.CaptionTextSize()
	pad := theme.Padding()
	tt.lines.Objects = nil
	var w, y float32
	for _, line := range wrapTip(text, tipWidth) {
		t := canvas.NewText(line, theme.Color(theme.ColorNameForeground))
		t.TextSize = size
		m := t.MinSize()
		t.Move(fyne.NewPos(pad, pad+y))
		t.Resize(m)
		tt.lines.Objects = append(tt.lines.Objects, t)
		w, y = max(w, m.Width), y+m.Height
	}
	box := fyne.NewSize(w+2*pad, y+2*pad)
	tt.bg.Resize(box)
	tt.lines.Resize(box)
	tt.box.Resize(box)

	origin := fyne.Position{}
	if d := fyne.CurrentApp().Driver(); d != nil {
		origin = d.AbsolutePositionForObject(tt.layer)
	}
	p := tt.at.Subtract(origin).AddXY(0, 22) // below the pointer's arrow
	area := tt.layer.Size()
	if p.X+box.Width > area.Width {
		p.X = max(0, area.Width-box.Width)
	}
	if p.Y+box.Height > area.Height {
		p.Y = max(0, tt.at.Y-origin.Y-box.Height-8) // above the pointer
	}
	tt.box.Move(p)
	tt.box.Show()
	tt.layer.Refresh()
}

// wrapTip breaks text into lines of at most width characters at spaces.
func wrapTip(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len([]rune(line))+1+len([]rune(word)) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return out
}

// tipAction is a toolbar button that says what it does while the pointer
// rests on it: in a tooltip, and in the status bar.
type tipAction struct {
	button *tipButton
}

// newTipAction returns a toolbar item with icon that runs action, hands
// tip to show (and "" to hide it) on hover, and shows it as a tooltip in
// tips.
func newTipAction(icon fyne.Resource, tip string, action func(), show func(tip string), tips *tooltips) *tipAction {
	b := &tipButton{tip: tip, show: show, tips: tips}
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
	tips *tooltips
}

// MouseIn shows the tip in the status bar and, after a rest, as a tooltip.
func (b *tipButton) MouseIn(ev *desktop.MouseEvent) {
	b.Button.MouseIn(ev)
	if b.show != nil {
		b.show(b.tip)
	}
	if b.tips != nil {
		b.tips.hover(b, b.tip, ev.AbsolutePosition)
	}
}

// MouseMoved restarts the tooltip's wait while it is not shown.
func (b *tipButton) MouseMoved(ev *desktop.MouseEvent) {
	b.Button.MouseMoved(ev)
	if b.tips != nil {
		b.tips.hover(b, b.tip, ev.AbsolutePosition)
	}
}

// MouseOut hides the tip.
func (b *tipButton) MouseOut() {
	b.Button.MouseOut()
	if b.show != nil {
		b.show("")
	}
	if b.tips != nil {
		b.tips.leave(b)
	}
}

// Tapped hides the tooltip and runs the action.
func (b *tipButton) Tapped(ev *fyne.PointEvent) {
	if b.tips != nil {
		b.tips.hide()
	}
	b.Button.Tapped(ev)
}

// tipLabel is a parameter's label that shows a tooltip (its meaning, unit
// and default) while the pointer rests on it.
type tipLabel struct {
	widget.Label
	tip  string
	tips *tooltips // set by hookFields
}

func newTipLabel(text string) *tipLabel {
	l := &tipLabel{}
	l.Text = text
	l.ExtendBaseWidget(l)
	return l
}

// MouseIn starts the tooltip's wait.
func (l *tipLabel) MouseIn(ev *desktop.MouseEvent) { l.MouseMoved(ev) }

// MouseMoved restarts the wait while the tooltip is not shown.
func (l *tipLabel) MouseMoved(ev *desktop.MouseEvent) {
	if l.tips != nil {
		l.tips.hover(l, l.tip, ev.AbsolutePosition)
	}
}

// MouseOut hides the tooltip.
func (l *tipLabel) MouseOut() {
	if l.tips != nil {
		l.tips.leave(l)
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
