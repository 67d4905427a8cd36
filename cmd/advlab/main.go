// Command advlab is a workbench for adversarial examples and adversarial
// patches against image classifiers. With a command it runs headless (see
// `advlab help`); with none it opens the GUI on the embedded demo model.
package main

import (
	"os"

	"fyne.io/fyne/v2/app"

	"github.com/advlab/advlab/cli"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/gui/enginebackend"
	// Before Fyne reads the locale: see the package's comment.
	_ "github.com/advlab/advlab/internal/clocale"
)

func main() {
	if len(os.Args) > 1 && cli.IsCommand(os.Args[1]) {
		os.Exit(cli.Main(os.Args[1:]))
	}
	a := app.NewWithID("io.advlab.workbench")
	w := a.NewWindow("advlab")
	gui.New(a, w, enginebackend.New(), os.Args[1:])
	w.ShowAndRun()
}
