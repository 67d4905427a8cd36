package gui

import (
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// fileChooser asks the user for paths. The workbench uses Fyne's file
// dialogs; tests answer with paths of their own. Callbacks run on the UI
// goroutine and only when the user chose something.
type fileChooser interface {
	OpenFile(title string, exts []string, cb func(path string))
	OpenFolder(title string, cb func(path string))
	SaveFile(title, name string, cb func(path string))
}

// dialogChooser is the fileChooser of Fyne's dialogs, starting in the folder
// last used.
type dialogChooser struct{ wb *Workbench }

var dialogSize = fyne.NewSize(900, 600)

func (d dialogChooser) location() fyne.ListableURI {
	dir := d.wb.prefs.text(prefLastDir, "")
	if dir == "" {
		return nil
	}
	l, err := storage.ListerForURI(storage.NewFileURI(dir))
	if err != nil {
		return nil
	}
	return l
}

func (d dialogChooser) remember(path string) {
	d.wb.prefs.setText(prefLastDir, filepath.Dir(path))
}

// OpenFile shows an open dialog for files with one of exts.
func (d dialogChooser) OpenFile(title string, exts []string, cb func(string)) {
	fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			d.wb.showError(title, err)
			return
		}
		if r == nil {
			return // cancelled
		}
		path := r.URI().Path()
		r.Close()
		d.remember(path)
		cb(path)
	}, d.wb.win)
	fd.SetTitleText(title)
	if len(exts) > 0 {
		fd.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	if l := d.location(); l != nil {
		fd.SetLocation(l)
	}
	fd.Resize(dialogSize)
	fd.Show()
}

// OpenFolder shows a folder dialog.
func (d dialogChooser) OpenFolder(title string, cb func(string)) {
	fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			d.wb.showError(title, err)
			return
		}
		if u == nil {
			return
		}
		d.wb.prefs.setText(prefLastDir, u.Path())
		cb(u.Path())
	}, d.wb.win)
	fd.SetTitleText(title)
	if l := d.location(); l != nil {
		fd.SetLocation(l)
	}
	fd.Resize(dialogSize)
	fd.Show()
}

// SaveFile shows a save dialog proposing name. The dialog creates the file;
// it is closed at once and the caller writes it (atomically) by path.
func (d dialogChooser) SaveFile(title, name string, cb func(string)) {
	fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			d.wb.showError(title, err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		d.remember(path)
		cb(path)
	}, d.wb.win)
	fd.SetTitleText(title)
	fd.SetFileName(name)
	if l := d.location(); l != nil {
		fd.SetLocation(l)
	}
	fd.Resize(dialogSize)
	fd.Show()
}

// openPatch loads a patch file.
func (wb *Workbench) openPatch(path string) {
	end := wb.begin("Reading the patch " + filepath.Base(path) + "…")
	wb.tasks.Go(func() {
		p, meta, err := wb.be.LoadPatch(path)
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.prefs.removeRecent(prefRecentPatches, path)
				wb.win.SetMainMenu(wb.mainMenu())
				wb.showError("Opening the patch "+filepath.Base(path), err)
				return
			}
			wb.prefs.addRecent(prefRecentPatches, path)
			wb.win.SetMainMenu(wb.mainMenu())
			wb.setPatch(p, meta)
			msg := fmt.Sprintf("Opened a %d×%d patch", p.W, p.H)
			if meta.Target != "" {
				msg += " targeting " + meta.Target
			}
			wb.setStatus(msg)
		})
	})
}
