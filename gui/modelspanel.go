package gui

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// modelsPanel lists the loaded models (name and input size; a button to
// remove one) and describes the selected one: input, preprocessing, origin
// and labels.
type modelsPanel struct {
	wb *Workbench

	list    *widget.List
	details *widget.Label
	labels  *widget.List
	tabs    *container.AppTabs
	labelsT *container.TabItem
	defense *defenseSelector
	content fyne.CanvasObject
}

func newModelsPanel(wb *Workbench) *modelsPanel {
	mp := &modelsPanel{wb: wb}
	mp.list = &widget.List{
		Length:     func() int { return len(wb.models) },
		CreateItem: mp.createRow,
		UpdateItem: mp.updateRow,
		OnSelected: mp.onSelected,
	}
	mp.list.ExtendBaseWidget(mp.list)
	mp.details = widget.NewLabel("No model loaded.\nOpen an .onnx classifier with File › Open model (Ctrl+O) or drop one on the window.")
	mp.details.Wrapping = fyne.TextWrapWord
	mp.details.TextStyle = fyne.TextStyle{}
	mp.labels = widget.NewList(
		func() int { return len(mp.selectedLabels()) },
		func() fyne.CanvasObject { return widget.NewLabel("label") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			ls := mp.selectedLabels()
			if id < len(ls) {
				o.(*widget.Label).SetText(fmt.Sprintf("%d  %s", id, ls[id]))
			}
		})
	header := widget.NewLabelWithStyle("Models", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	mp.defense = newDefenseSelector(wb)
	top := container.NewBorder(header, mp.defense.content, nil, nil, mp.list)
	// Details and labels share the bottom as tabs, each scrolling on its
	// own: a long architecture line or a thousand ImageNet labels then
	// cannot squeeze the list of models.
	mp.labelsT = container.NewTabItem("Labels", mp.labels)
	mp.tabs = container.NewAppTabs(container.NewTabItem("Details", container.NewVScroll(mp.details)), mp.labelsT)
	split := container.NewVSplit(top, mp.tabs)
	split.Offset = 0.45
	mp.content = split
	return mp
}

func (mp *modelsPanel) createRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("model", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	info := widget.NewLabel("3×224×224")
	info.SizeName = theme.SizeNameCaptionText
	info.Truncation = fyne.TextTruncateEllipsis
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), nil)
	remove.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, nil, remove, container.NewVBox(name, info))
}

func (mp *modelsPanel) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(mp.wb.models) {
		return
	}
	m := mp.wb.models[id]
	c := o.(*fyne.Container)
	texts := c.Objects[0].(*fyne.Container).Objects
	texts[0].(*widget.Label).SetText(m.Name())
	d := m.Details()
	texts[1].(*widget.Label).SetText(fmt.Sprintf("%d×%d×%d · %d classes", d.Channels, d.Height, d.Width, len(m.Labels())))
	c.Objects[1].(*widget.Button).OnTapped = func() { mp.wb.confirmRemoveModel(m) }
}

// confirmRemoveModel asks before unloading m: a model took a while to
// load, and the results that need it go with it.
func (wb *Workbench) confirmRemoveModel(m Model) {
	d := dialog.NewConfirm("Remove the model", fmt.Sprintf("Remove %s from the workbench? Edit › Undo (Ctrl+Z) brings it back.", m.Name()),
		func(yes bool) {
			if yes {
				wb.removeModel(m)
			}
		}, wb.win)
	d.SetConfirmText("Remove")
	d.SetDismissText("Keep")
	d.Show()
}

func (mp *modelsPanel) onSelected(id widget.ListItemID) {
	if id < len(mp.wb.models) {
		mp.wb.selectModel(id)
	}
}

func (mp *modelsPanel) selectedLabels() []string {
	if m := mp.wb.selectedModel(); m != nil {
		return m.Labels()
	}
	return nil
}

// Refresh shows the current list and selection.
func (mp *modelsPanel) Refresh() {
	mp.list.Refresh()
	m := mp.wb.selectedModel()
	mp.defense.show(m)
	if m == nil {
		mp.list.UnselectAll()
		mp.details.SetText("No model loaded.\nOpen an .onnx classifier with File › Open model (Ctrl+O) or drop one on the window.")
		mp.setLabelsTitle("Labels")
		mp.labels.Refresh()
		return
	}
	mp.list.Select(mp.wb.selected)
	mp.list.ScrollTo(mp.wb.selected) // no stale offset after a removal
	mp.details.SetText(describeModel(m))
	mp.setLabelsTitle(fmt.Sprintf("Labels (%d)", len(m.Labels())))
	mp.labels.Refresh()
	mp.labels.ScrollToTop()
}

func (mp *modelsPanel) setLabelsTitle(s string) {
	if mp.labelsT.Text != s {
		mp.labelsT.Text = s
		mp.tabs.Refresh()
	}
}

// describeModel is the selected model's description.
func describeModel(m Model) string {
	d := m.Details()
	var b strings.Builder
	fmt.Fprintf(&b, "Input: %d×%d×%d", d.Channels, d.Height, d.Width)
	if d.Layout != "" {
		fmt.Fprintf(&b, " (%s)", d.Layout)
	}
	if d.Preprocessing != "" {
		fmt.Fprintf(&b, "\nPreprocessing: %s", d.Preprocessing)
	}
	if d.Architecture != "" {
		fmt.Fprintf(&b, "\nArchitecture: %s", d.Architecture)
		if d.Parameters > 0 {
			fmt.Fprintf(&b, ", %.2gM parameters", float64(d.Parameters)/1e6)
		}
	}
	for _, f := range d.Findings {
		fmt.Fprintf(&b, "\n%s", f)
	}
	if d.Path != "" {
		fmt.Fprintf(&b, "\nFile: %s", filepath.Base(d.Path))
	} else {
		b.WriteString("\nFile: embedded demo model")
	}
	return b.String()
}
