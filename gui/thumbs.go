package gui

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DemoSetName is what the workbench calls the embedded demo images: a
// Backend names the set its DemoImages returns so.
const DemoSetName = "demo samples"

// thumbSide is the size of a thumbnail, in pixels and canvas units.
const thumbSide = 64

// thumbStrip shows the current image set as a grid of thumbnails (virtual,
// so that a set of thousands costs only the visible cells); tapping one makes
// it the canvas's image.
type thumbStrip struct {
	wb *Workbench

	grid    *widget.GridWrap
	caption *widget.Label
	// current names the canvas's image: its file and true class.
	current *widget.Label
	content fyne.CanvasObject
}

// makeThumbs shrinks every image of a set for the strip; it runs with the
// loading, off the UI goroutine.
func makeThumbs(set *ImageSet) []image.Image {
	out := make([]image.Image, len(set.Samples))
	for i, s := range set.Samples {
		out[i] = fitImage(s.Image, thumbSide)
	}
	return out
}

func newThumbStrip(wb *Workbench) *thumbStrip {
	ts := &thumbStrip{wb: wb}
	ts.grid = widget.NewGridWrap(
		func() int { return len(wb.thumbs) },
		func() fyne.CanvasObject {
			// The grid's own highlight lies behind the cell, where a
			// square image hides it: the frame over the image marks the
			// canvas's image instead.
			frame := canvas.NewRectangle(color.Transparent)
			frame.StrokeWidth = 3
			return container.NewStack(newImageView(nil, fyne.NewSize(thumbSide, thumbSide)), frame)
		},
		func(id widget.GridWrapItemID, o fyne.CanvasObject) {
			if id >= len(wb.thumbs) {
				return
			}
			c := o.(*fyne.Container)
			c.Objects[0].(*imageView).SetImage(wb.thumbs[id])
			frame := c.Objects[1].(*canvas.Rectangle)
			frame.StrokeColor = color.Transparent
			if id == wb.current {
				frame.StrokeColor = theme.Color(theme.ColorNamePrimary)
			}
			frame.Refresh()
		})
	ts.grid.OnSelected = func(id widget.GridWrapItemID) { wb.selectImage(id) }
	ts.caption = widget.NewLabel("No images")
	ts.caption.SizeName = theme.SizeNameCaptionText
	ts.caption.Truncation = fyne.TextTruncateEllipsis
	ts.current = widget.NewLabel("")
	ts.current.SizeName = theme.SizeNameCaptionText
	ts.current.Truncation = fyne.TextTruncateEllipsis
	header := widget.NewLabelWithStyle("Images", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ts.content = container.NewBorder(container.NewVBox(header, ts.caption, ts.current), nil, nil, nil, ts.grid)
	return ts
}

// showCurrent names the canvas's image s.
func (ts *thumbStrip) showCurrent(s *Sample) {
	text := "On the canvas: " + s.Name
	if s.Class != "" {
		text += " · true class " + s.Class
	}
	ts.current.SetText(text)
}

// markCurrent moves the frame from thumbnail old to the current one.
func (ts *thumbStrip) markCurrent(old int) {
	if old >= 0 && old < len(ts.wb.thumbs) {
		ts.grid.RefreshItem(old)
	}
	if c := ts.wb.current; c >= 0 && c < len(ts.wb.thumbs) {
		ts.grid.RefreshItem(c)
		ts.grid.ScrollTo(c)
	}
}

// Refresh shows the current set and selection.
func (ts *thumbStrip) Refresh() {
	set := ts.wb.images
	ts.grid.UnselectAll()
	ts.grid.Refresh()
	if set == nil {
		ts.caption.SetText("No images: open a folder with Ctrl+Shift+O")
		return
	}
	name := set.Name
	if name != DemoSetName {
		name = filepath.Base(name)
	}
	ts.caption.SetText(fmt.Sprintf("%s · %d images", name, len(set.Samples)))
	if ts.wb.current >= 0 {
		ts.grid.Select(ts.wb.current)
		ts.grid.ScrollTo(ts.wb.current)
	}
}
