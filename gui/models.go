package gui

import (
	"context"
	"path/filepath"
)

// The loaded models: adding, selecting, removing (undoably) and opening.

func (wb *Workbench) selectedModel() Model {
	if wb.selected >= 0 && wb.selected < len(wb.models) {
		return wb.models[wb.selected]
	}
	return nil
}

// addModel adds m to the loaded models and selects it.
func (wb *Workbench) addModel(m Model) {
	wb.models = append(wb.models, m)
	wb.selected = len(wb.models) - 1
	wb.refreshModels()
}

// removeModel takes m off the workbench as an edit that Ctrl+Z takes back.
// m stays open while the undo history holds it, and is closed once the
// history forgets it.
func (wb *Workbench) removeModel(m Model) {
	if e, ok := wb.detachModel(m); ok {
		wb.history.push(e)
		wb.setStatus("Removed " + m.Name() + " (Ctrl+Z brings it back)")
	}
}

// detachModel takes m out of the models and returns the edit that puts it
// back; ok is false when m is not loaded.
func (wb *Workbench) detachModel(m Model) (e edit, ok bool) {
	for i, x := range wb.models {
		if x != m {
			continue
		}
		wasSelected := i == wb.selected
		wb.models = append(wb.models[:i:i], wb.models[i+1:]...)
		if wb.selected > i || wb.selected >= len(wb.models) {
			wb.selected-- // the same model stays selected, or the last one
		}
		wb.modelsPanel.list.ScrollToTop() // the list is shorter now
		wb.refreshModels()
		return wb.restoreModel(m, i, wasSelected), true
	}
	return edit{}, false
}

// restoreModel is the edit that puts the removed model m back at index i,
// selected if it was; forgotten, it closes m.
func (wb *Workbench) restoreModel(m Model, i int, selected bool) edit {
	what := "removal of " + m.Name()
	return edit{what: what,
		apply: func() edit {
			i := min(i, len(wb.models))
			wb.models = append(wb.models[:i:i], append([]Model{m}, wb.models[i:]...)...)
			if selected || wb.selected < 0 {
				wb.selected = i
			} else if wb.selected >= i {
				wb.selected++
			}
			wb.refreshModels()
			return edit{what: what, apply: func() edit {
				e, _ := wb.detachModel(m)
				return e
			}}
		},
		drop: func() {
			if wb.closed {
				wb.be.CloseModel(m) // the window is going: no goroutine would finish
				return
			}
			wb.tasks.Go(func() { wb.be.CloseModel(m) })
		}}
}

// selectModel makes models[i] the model the panels work with.
func (wb *Workbench) selectModel(i int) {
	if i == wb.selected {
		return
	}
	wb.selected = i
	wb.refreshModels()
}

// refreshModels shows the models and selection everywhere they appear.
func (wb *Workbench) refreshModels() {
	wb.modelsPanel.Refresh()
	wb.preds.SetModels(wb.models)
	wb.history.quietly(func() {
		wb.train.SetModel(wb.selectedModel())
		wb.attackPanel.SetModel(wb.selectedModel())
		wb.eval.SetModel(wb.selectedModel())
	})
	wb.refreshFit()
	wb.schedulePredict()
}

// openModel loads the model at path off the UI goroutine.
func (wb *Workbench) openModel(path string) {
	end := wb.begin("Loading " + filepath.Base(path) + "…")
	wb.tasks.Go(func() {
		m, err := wb.be.LoadModel(context.Background(), path)
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.prefs.removeRecent(prefRecentModels, path)
				wb.win.SetMainMenu(wb.mainMenu())
				wb.showError("Opening the model "+filepath.Base(path), err)
				return
			}
			wb.prefs.addRecent(prefRecentModels, path)
			wb.win.SetMainMenu(wb.mainMenu())
			wb.addModel(m)
			wb.setStatus("Loaded " + m.Name())
		})
	})
}
