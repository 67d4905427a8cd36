package gui

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// placementBar sits under the canvas: sliders for the patch's scale (as a
// percentage of the image's area, on a log scale so that small patches get
// as much travel as large ones) and rotation, a reset button, and a readout.
type placementBar struct {
	wb       *Workbench
	scale    *widget.Slider
	rotation *widget.Slider
	readout  *widget.Label
	reset    *widget.Button // back to the default placement
	content  fyne.CanvasObject
	updating bool
	dragging bool // a slider moves; its first change was recorded for undo
}

// gesture records pl for undo at the first change of a slider's drag.
func (pb *placementBar) gesture(pl Placement) {
	if !pb.dragging {
		pb.dragging = true
		pb.wb.recordPlacement(pl)
	}
}

func newPlacementBar(wb *Workbench) *placementBar {
	pb := &placementBar{wb: wb}
	pb.scale = widget.NewSlider(math.Log(minArea), math.Log(maxArea))
	pb.scale.Step = 0.01
	pb.scale.OnChanged = func(v float64) {
		if pb.updating {
			return
		}
		pl := wb.view.Placement()
		pb.gesture(pl)
		pl.Area = math.Exp(v)
		wb.view.SetPlacement(pl)
	}
	pb.scale.OnChangeEnded = func(float64) { pb.dragging = false }
	// The rotation reads clockwise positive, as a user turning the patch
	// with the handle expects; Placement.AngleDeg is counter-clockwise.
	pb.rotation = widget.NewSlider(-180, 180)
	pb.rotation.Step = 1
	pb.rotation.OnChanged = func(v float64) {
		if pb.updating {
			return
		}
		pl := wb.view.Placement()
		pb.gesture(pl)
		pl.AngleDeg = -v
		wb.view.SetPlacement(pl)
	}
	pb.rotation.OnChangeEnded = func(float64) { pb.dragging = false }
	// Not ViewRestoreIcon: Fyne draws it as ZoomFitIcon, the view's Fit.
	reset := widget.NewButtonWithIcon("", theme.MediaReplayIcon(), func() {
		wb.recordPlacement(wb.view.Placement())
		wb.view.SetPlacement(DefaultPlacement)
	})
	reset.Importance = widget.LowImportance
	pb.reset = reset
	pb.readout = widget.NewLabel("")
	pb.readout.SizeName = theme.SizeNameCaptionText
	sliders := container.New(layout.NewFormLayout(),
		widget.NewLabel("Scale"), pb.scale,
		widget.NewLabel("Rotation"), pb.rotation)
	pb.content = container.NewBorder(nil, container.NewBorder(nil, nil, nil, reset, pb.readout), nil, nil, sliders)
	pb.Show(wb.view.Placement())
	return pb
}

// Show sets the sliders and readout to pl without moving the patch.
func (pb *placementBar) Show(pl Placement) {
	pb.updating = true
	pb.scale.SetValue(math.Log(pl.Area))
	pb.rotation.SetValue(clockwise(pl))
	pb.updating = false
	pb.readout.SetText(fmt.Sprintf("%.1f%% of the image, turned %+.0f° clockwise, at (%.2f, %.2f)", 100*pl.Area, clockwise(pl), pl.CX, pl.CY))
}

// clockwise is pl's rotation as the workbench shows it: degrees clockwise
// on screen.
func clockwise(pl Placement) float64 {
	if pl.AngleDeg == 0 {
		return 0 // not −0
	}
	return -pl.AngleDeg
}
