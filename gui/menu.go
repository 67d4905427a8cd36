package gui

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The workbench's keyboard shortcuts. F5 has no modifier, so it is not a
// Fyne shortcut: the canvas's typed-key handler (and the patch canvas, when
// focused) take it.
var (
	scOpenModel  = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	scOpenFolder = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scRun        = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	scRunEnter   = &desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault}
	scExport     = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	scSavePatch  = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	scSaveSess   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scOpenSess   = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierAlt}
	scQuit       = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	scUndo       = &fyne.ShortcutUndo{}
	scRedo       = &desktop.CustomShortcut{KeyName: fyne.KeyZ, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scRedoY      = &fyne.ShortcutRedo{}
)

// shortcutHelp lists the shortcuts for the About dialog.
const shortcutHelp = `Ctrl+O          open a model (.onnx)
Ctrl+Shift+O    open an image folder
Ctrl+Alt+O      open a session (.advlab)
Ctrl+Enter, F5  start or stop the task of the tab on the right
Ctrl+E          export the patch for printing
Ctrl+H          show or hide the saliency overlay
Ctrl+S          save the patch
Ctrl+Shift+S    save the session (models, images, patch, parameters)
Ctrl+Z          undo a move of the patch, a parameter's change or a
                model's removal (in a field: undo typing)
Ctrl+Shift+Z    redo (Ctrl+Y too)
Ctrl+Q          quit
On the canvas: drag to move the patch; drag the corner handle or scroll to
scale it; drag the top handle, shift+scroll or use the slider to rotate it;
click to place it; arrows nudge it, + − scale, [ ] rotate. Ctrl+scroll
zooms the view around the pointer, middle-drag or space+drag pans it, F fits.
In the comparison: Ctrl+scroll or + − zoom the three images together, a
drag pans them, F or 0 fits.
Drop .onnx files, image folders, patch PNGs or sessions on the window to
open them.`

func (wb *Workbench) openModelDialog() {
	wb.files.OpenFile("Open a model", []string{".onnx"}, wb.openModel)
}

func (wb *Workbench) openFolderDialog() {
	wb.files.OpenFolder("Open an image folder (<folder>/<class>/<image>)", wb.openImages)
}

func (wb *Workbench) openPatchDialog() {
	wb.files.OpenFile("Open a patch", []string{".png"}, wb.openPatch)
}

// mainMenu builds the menu bar; it is rebuilt when the recent files change.
func (wb *Workbench) mainMenu() *fyne.MainMenu {
	openModel := fyne.NewMenuItem("Open model…", wb.openModelDialog)
	openModel.Shortcut = scOpenModel
	openModel.Icon = theme.FileIcon()
	openFolder := fyne.NewMenuItem("Open image folder…", wb.openFolderDialog)
	openFolder.Shortcut = scOpenFolder
	openFolder.Icon = theme.FolderOpenIcon()
	openPatch := fyne.NewMenuItem("Open patch…", wb.openPatchDialog)
	openSession := fyne.NewMenuItem("Open session…", wb.openSessionDialog)
	openSession.Shortcut = scOpenSess
	saveSession := fyne.NewMenuItem("Save session…", wb.saveSessionDialog)
	saveSession.Shortcut = scSaveSess
	recent := fyne.NewMenuItem("Open recent", nil)
	recent.ChildMenu = wb.recentMenu()
	export := fyne.NewMenuItem("Export patch for printing…", func() { wb.showExportDialog() })
	export.Shortcut = scExport
	export.Icon = theme.DocumentPrintIcon()
	savePatch := fyne.NewMenuItem("Save patch…", wb.savePatchDialog)
	savePatch.Shortcut = scSavePatch
	savePatch.Icon = theme.DocumentSaveIcon()
	quit := fyne.NewMenuItem("Quit", wb.quit)
	quit.Shortcut = scQuit
	quit.IsQuit = true
	undo := fyne.NewMenuItem("Undo", wb.undo)
	undo.Shortcut = scUndo
	redo := fyne.NewMenuItem("Redo", wb.redo)
	redo.Shortcut = scRedo
	edit := fyne.NewMenu("Edit", undo, redo)
	saveAdv := fyne.NewMenuItem("Save adversarial images…", wb.saveAdversarialDialog)
	saveCmp := fyne.NewMenuItem("Save comparison as PNG…", wb.saveComparisonDialog)
	saveEvalCSV := fyne.NewMenuItem("Save evaluation as CSV…", wb.saveEvalCSVDialog)
	saveEvalPNG := fyne.NewMenuItem("Save evaluation plot as PNG…", wb.saveEvalPNGDialog)
	file := fyne.NewMenu("File", openModel, openFolder, openPatch, openSession, recent, fyne.NewMenuItemSeparator(),
		saveSession, savePatch, export, saveAdv, saveCmp, saveEvalCSV, saveEvalPNG, fyne.NewMenuItemSeparator(), quit)
	run := fyne.NewMenuItem("Start / stop", wb.toggleRun)
	run.Shortcut = scRun
	run.Icon = theme.MediaPlayIcon()
	tasks := fyne.NewMenu("Run", run,
		fyne.NewMenuItem("Train a patch", func() { wb.rightTabs.Select(wb.patchTab) }),
		fyne.NewMenuItem("Attack", func() { wb.rightTabs.Select(wb.attackTab) }),
		fyne.NewMenuItem("Evaluate the patch", func() { wb.rightTabs.Select(wb.evTab) }))
	saliencyItem := fyne.NewMenuItem("Saliency overlay", wb.overlay.toggle)
	saliencyItem.Shortcut = scSaliency
	view := fyne.NewMenu("View", fyne.NewMenuItem("Fit the canvas or the comparison (F)", wb.fitView), saliencyItem)
	help := fyne.NewMenu("Help", fyne.NewMenuItem("About advlab", wb.showAbout))
	return fyne.NewMainMenu(file, edit, view, tasks, help)
}

// recentMenu lists the remembered models, folders and patches.
func (wb *Workbench) recentMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	add := func(key string, open func(string)) {
		for _, p := range wb.prefs.recent(key) {
			items = append(items, fyne.NewMenuItem(filepath.Base(p)+"  —  "+filepath.Dir(p), func() { open(p) }))
		}
	}
	add(prefRecentSessions, wb.openSession)
	add(prefRecentModels, wb.openModel)
	add(prefRecentFolders, wb.openImages)
	add(prefRecentPatches, wb.openPatch)
	if len(items) == 0 {
		none := fyne.NewMenuItem("(none yet)", nil)
		none.Disabled = true
		items = append(items, none)
	}
	return fyne.NewMenu("Open recent", items...)
}

// toolbar is the row of the most used actions.
func (wb *Workbench) toolbar() fyne.CanvasObject {
	tip := func(icon fyne.Resource, text string, action func()) *tipAction {
		return newTipAction(icon, text, action, wb.showTip, wb.tips)
	}
	wb.toolbarRun = tip(theme.MediaPlayIcon(), "Start or stop the task of the tab on the right (Ctrl+Enter, F5)", wb.toggleRun)
	wb.tools = widget.NewToolbar(
		tip(theme.FileIcon(), "Open a model, an .onnx classifier (Ctrl+O)", wb.openModelDialog),
		tip(theme.FolderOpenIcon(), "Open an image folder (Ctrl+Shift+O)", wb.openFolderDialog),
		tip(theme.FileImageIcon(), "Open a patch PNG", wb.openPatchDialog),
		tip(theme.DocumentSaveIcon(), "Save the patch (Ctrl+S)", wb.savePatchDialog),
		widget.NewToolbarSeparator(),
		wb.toolbarRun,
		tip(theme.DocumentPrintIcon(), "Export the patch for printing (Ctrl+E)", func() { wb.showExportDialog() }),
		tip(theme.ZoomFitIcon(), "Fit the canvas (or the comparison): show the whole image (F; Ctrl+scroll zooms, middle-drag pans)", wb.fitView),
		widget.NewToolbarSpacer(),
		tip(theme.HelpIcon(), "About advlab and its shortcuts", wb.showAbout),
	)
	return wb.tools
}

// addShortcuts registers the shortcuts on the window's canvas, so that they
// work whether or not the menu bar is shown (and in tests).
func (wb *Workbench) addShortcuts() {
	c := wb.win.Canvas()
	c.AddShortcut(scOpenModel, func(fyne.Shortcut) { wb.openModelDialog() })
	c.AddShortcut(scOpenFolder, func(fyne.Shortcut) { wb.openFolderDialog() })
	c.AddShortcut(scRun, func(fyne.Shortcut) { wb.toggleRun() })
	c.AddShortcut(scRunEnter, func(fyne.Shortcut) { wb.toggleRun() })
	c.AddShortcut(scExport, func(fyne.Shortcut) { wb.showExportDialog() })
	c.AddShortcut(scSavePatch, func(fyne.Shortcut) { wb.savePatchDialog() })
	c.AddShortcut(scSaveSess, func(fyne.Shortcut) { wb.saveSessionDialog() })
	c.AddShortcut(scOpenSess, func(fyne.Shortcut) { wb.openSessionDialog() })
	c.AddShortcut(scQuit, func(fyne.Shortcut) { wb.quit() })
	c.AddShortcut(scUndo, func(fyne.Shortcut) { wb.undo() })
	c.AddShortcut(scRedo, func(fyne.Shortcut) { wb.redo() })
	c.AddShortcut(scRedoY, func(fyne.Shortcut) { wb.redo() })
	c.SetOnTypedKey(wb.typedKey)
	c.SetOnTypedRune(wb.typedRune)
}

// quit stops running work, releases the models and ends the application.
func (wb *Workbench) quit() {
	wb.close()
	wb.app.Quit()
}

// showAbout says what advlab is and lists the shortcuts.
func (wb *Workbench) showAbout() {
	md := wb.app.Metadata()
	version := md.Version
	if version == "" {
		version = "development build"
	}
	title := widget.NewLabelWithStyle("advlab "+version, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text := widget.NewLabel("A workbench for the security of image classifiers: adversarial examples (L-BFGS, FGSM, PGD, C&W, DeepFool, Square) and adversarial patches (Brown et al. 2017) against ONNX models.")
	text.Wrapping = fyne.TextWrapWord
	keys := widget.NewLabelWithStyle(shortcutHelp, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	d := dialog.NewCustom("About advlab", "Close", container.NewVBox(title, text, widget.NewSeparator(), keys), wb.win)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}
