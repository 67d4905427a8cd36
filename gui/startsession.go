package gui

import (
	"context"

	"github.com/advlab/advlab/imgops"
)

// startWithSession is start with a session file on the command line: the
// session opens in place of the demo, then the other paths given with it
// on top of it (models added, images and patch replacing the session's).
// A file that is no session leaves the window as start does without it; a
// session none of whose models opens gets the demo model, so that the
// window is never left without a model to work with.
func (wb *Workbench) startWithSession(path string, others []string) {
	wb.setPatch(imgops.NewNoisePatch(imgops.CircleMask(48), 1), imgops.PatchMeta{})
	wb.loadSession(path, func(read bool) {
		if !read {
			wb.start(others)
			return
		}
		if len(wb.models) == 0 {
			wb.openDemoModel()
		}
		for _, p := range others {
			switch kindOf(p) {
			case kindModel:
				wb.openModel(p)
			case kindFolder, kindImage:
				wb.openImages(p)
			case kindPatch:
				wb.openPatch(p)
			}
		}
		if wb.onDemoLoaded != nil {
			wb.onDemoLoaded()
		}
	})
}

// openDemoModel adds the demo model, off the UI goroutine.
func (wb *Workbench) openDemoModel() {
	end := wb.begin("Loading the demo model…")
	wb.tasks.Go(func() {
		m, err := wb.be.DemoModel(context.Background())
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.showError("Loading the demo model", err)
				return
			}
			wb.addModel(m)
		})
	})
}
