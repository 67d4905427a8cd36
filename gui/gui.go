// Package gui is advlab's Fyne workbench: a thin layer over engine and imgops
// that loads models and images, drives attacks and patch training, and shows
// their results.
//
// The workbench reaches the engine only through the interfaces of
// backend.go; package gui/enginebackend implements them with the engine
// (cmd/advlab hands it to New), and the tests with fakes. Long work runs
// on goroutines of its own and reaches the widgets through ui (fyne.Do) and
// throttles (async.go).
package gui

import (
	"os"
	"strings"

	"fyne.io/fyne/v2"
)

// DemoEnv names the environment variable that scripts the workbench at
// start-up (as the --demo=MODE argument does): "compare" trains a short
// patch on the demo model (or takes the patch PNG given on the command
// line), pastes it on every sample image and opens the comparison view; "train" only trains; "attack" runs ADVLAB_DEMO_METHOD
// (default pgd) on every image and opens the comparison. It prints
// "advlab demo: ready" when done. scripts/screenshot uses it.
const DemoEnv = "ADVLAB_DEMO"

// New builds the workbench into w, running its work on be. args are the command-line arguments that
// were not a CLI command: .onnx models, an image folder or image, a patch
// PNG or a session (.advlab) to open, and --demo=MODE (see DemoEnv).
func New(a fyne.App, w fyne.Window, be Backend, args []string) {
	wb := newWorkbench(a, w, be)
	// A window larger than the screen would put Start and the status bar
	// out of reach.
	w.Resize(fitWindow(preferredSize, screenSize(w.Canvas().Scale()), w.Content().MinSize()))
	demo := os.Getenv(DemoEnv)
	var paths []string
	for _, arg := range args {
		if v, ok := strings.CutPrefix(arg, "--demo="); ok {
			demo = v
			continue
		}
		paths = append(paths, arg)
	}
	w.SetOnClosed(wb.close)
	if demo != "" {
		wb.scriptDemo(demo)
	}
	wb.start(paths)
}

// close stops running work and releases the models when the window closes.
func (wb *Workbench) close() {
	if wb.closed {
		return // Quit closes the window, which calls close again
	}
	wb.closed = true
	wb.tips.hide() // no tooltip's timer fires into a closed window
	for _, cancel := range []func(){wb.train.stop, wb.attackPanel.stopIfRunning, wb.eval.stopIfRunning} {
		cancel()
	}
	for _, m := range wb.models {
		wb.be.CloseModel(m)
	}
	wb.history.clear() // closes the removed models it kept for undo
}
