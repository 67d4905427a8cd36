package gui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/imgops"
)

// predictDelay is how often, at most, the models classify the canvas again
// while the patch moves or training changes it.
const predictDelay = 60 * time.Millisecond

// Workbench is advlab's main window: models on the left with the image set's
// thumbnails, the canvas (or the comparison, or the evaluation) in the
// centre, the parameters of the task at hand on the right. Its fields are
// owned by the UI goroutine; background work reads copies taken before it
// starts and reports through ui and throttles.
type Workbench struct {
	app   fyne.App
	win   fyne.Window
	be    Backend
	prefs prefs
	files fileChooser
	tasks tasks
	// history is the undo history of the placement and the parameters.
	history editHistory

	models   []Model
	selected int // index into models, -1 when none
	images   *ImageSet
	// imagesPath is the folder or file images came from ("" for the demo
	// samples), as a session records it.
	imagesPath string
	traits     setTraits // of images, to tell whether they fit the models
	thumbs     []image.Image
	current    int // index into images.Samples, -1 when none
	patch      *imgops.Patch
	patchMeta  imgops.PatchMeta
	attack     *AttackResult

	modelsPanel *modelsPanel
	thumbStrip  *thumbStrip
	view        *patchView
	placeBar    *placementBar
	preds       *predictionsPanel
	train       *trainPanel
	attackPanel *attackPanel
	compare     *compareView
	eval        *evalPanel
	overlay     *saliencyOverlay

	centerTabs, rightTabs      *container.AppTabs
	canvasTab, compareTab      *container.TabItem
	evalTab                    *container.TabItem
	patchTab, attackTab, evTab *container.TabItem
	status                     *widget.Label
	activity                   *widget.Activity
	busy                       int
	tools                      *widget.Toolbar
	tips                       *tooltips // over the whole window
	toolbarRun                 *tipAction
	// statusText is the status shown when no toolbar tip covers it.
	statusText string

	// predictThrottle paces the canvas's predictions; predictRunning is
	// set while one runs, and predictAgain when the canvas changed since
	// it began (all three used on the UI goroutine only).
	predictThrottle *throttle
	predictRunning  bool
	predictAgain    bool

	// closed is set once close has released the models.
	closed bool
	// patchFromFile is set when the patch came from a file given at start.
	patchFromFile bool
	// onDemoLoaded is called (on the UI goroutine) when the start-up loading
	// has finished; the scripted demo hooks in here.
	onDemoLoaded func()
}

// newWorkbench builds the window's content with be as the engine. It loads
// nothing: call start for that.
func newWorkbench(a fyne.App, w fyne.Window, be Backend) *Workbench {
	wb := &Workbench{app: a, win: w, be: be, prefs: prefs{a.Preferences()}, selected: -1, current: -1}
	wb.files = dialogChooser{wb}
	wb.predictThrottle = newThrottle(predictDelay, &wb.tasks)
	wb.build()
	return wb
}

func (wb *Workbench) build() {
	wb.tips = newTooltips(&wb.tasks)
	wb.modelsPanel = newModelsPanel(wb)
	wb.thumbStrip = newThumbStrip(wb)
	wb.view = newPatchView()
	wb.view.onChanged = func(pl Placement) {
		wb.placeBar.Show(pl)
		wb.schedulePredict()
	}
	wb.view.onTypedKey = wb.typedKey
	wb.view.onGesture = wb.recordPlacement
	wb.placeBar = newPlacementBar(wb)
	wb.preds = newPredictionsPanel()
	wb.train = newTrainPanel(wb)
	wb.attackPanel = newAttackPanel(wb)
	wb.compare = newCompareView(wb)
	wb.eval = newEvalPanel(wb)
	wb.overlay = newSaliencyOverlay(wb)

	canvasArea := container.NewBorder(wb.overlay.bar, wb.placeBar.content, nil, nil, wb.view)
	canvasSplit := container.NewHSplit(canvasArea, wb.preds.content)
	canvasSplit.Offset = 0.68
	wb.canvasTab = container.NewTabItem("Canvas", canvasSplit)
	wb.compareTab = container.NewTabItem("Compare", wb.compare.content)
	wb.evalTab = container.NewTabItem("Evaluation", wb.eval.plotContent)
	wb.centerTabs = container.NewAppTabs(wb.canvasTab, wb.compareTab, wb.evalTab)

	wb.patchTab = container.NewTabItem("Patch", wb.train.content)
	wb.attackTab = container.NewTabItem("Attack", wb.attackPanel.content)
	wb.evTab = container.NewTabItem("Evaluate", wb.eval.content)
	wb.rightTabs = container.NewAppTabs(wb.patchTab, wb.attackTab, wb.evTab)
	wb.rightTabs.OnSelected = func(t *container.TabItem) {
		switch t {
		case wb.patchTab:
			wb.centerTabs.Select(wb.canvasTab)
		case wb.attackTab:
			if wb.attack != nil {
				wb.centerTabs.Select(wb.compareTab)
			}
		case wb.evTab:
			wb.centerTabs.Select(wb.evalTab)
		}
	}

	left := container.NewVSplit(wb.modelsPanel.content, wb.thumbStrip.content)
	left.Offset = 0.6
	inner := container.NewHSplit(wb.centerTabs, wb.rightTabs)
	inner.Offset = 0.7
	outer := container.NewHSplit(left, inner)
	outer.Offset = 0.2

	wb.status = widget.NewLabel("Ready")
	wb.status.Truncation = fyne.TextTruncateEllipsis
	wb.activity = widget.NewActivity()
	wb.activity.Hide()
	statusBar := container.NewBorder(nil, nil, wb.activity, nil, wb.status)

	main := container.NewBorder(wb.toolbar(), statusBar, nil, nil, outer)
	wb.win.SetContent(container.NewStack(main, wb.tips.layer)) // tooltips above all
	wb.win.SetMainMenu(wb.mainMenu())
	wb.addShortcuts()
	wb.win.SetOnDropped(wb.onDropped)
	wb.refreshModels()
}

// begin shows the activity indicator and text in the status bar until the
// returned function is called; calls nest.
func (wb *Workbench) begin(text string) (end func()) {
	wb.busy++
	wb.activity.Show()
	wb.activity.Start()
	wb.setStatus(text)
	once := sync.Once{}
	return func() {
		once.Do(func() {
			wb.busy--
			if wb.busy == 0 {
				wb.activity.Stop()
				wb.activity.Hide()
			}
		})
	}
}

// setStatus shows text in the status bar.
func (wb *Workbench) setStatus(text string) {
	wb.statusText = text
	wb.status.SetText(text)
}

// showError shows err in a dialog, from any goroutine. what says what failed
// ("Opening the model"); the error itself says why and what to do.
func (wb *Workbench) showError(what string, err error) {
	if err == nil {
		return
	}
	wb.tasks.ui(func() {
		wb.setStatus(what + " failed")
		dialog.ShowError(fmt.Errorf("%s: %w", what, err), wb.win)
	})
}

// start loads the demo model and samples, then the paths given on the
// command line, all off the UI goroutine.
func (wb *Workbench) start(paths []string) {
	var models, folders, patches, sessions, others []string
	for _, p := range paths {
		if kindOf(p) == kindSession {
			sessions = append(sessions, p)
		} else {
			others = append(others, p)
		}
	}
	if len(sessions) > 0 {
		wb.startWithSession(sessions[0], others)
		return
	}
	for _, p := range paths {
		switch kindOf(p) {
		case kindModel:
			models = append(models, p)
		case kindFolder, kindImage:
			folders = append(folders, p)
		case kindPatch:
			patches = append(patches, p)
		}
	}
	end := wb.begin("Loading the demo model and sample images…")
	wb.setPatch(imgops.NewNoisePatch(imgops.CircleMask(48), 1), imgops.PatchMeta{})
	ctx := context.Background()
	wb.tasks.Go(func() {
		var errs []error
		var loaded []Model
		for _, p := range models {
			m, err := wb.be.LoadModel(ctx, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
				continue
			}
			loaded = append(loaded, m)
		}
		// The demo model opens when no model was asked for, and when none
		// of those asked for opened, so that the window is never left
		// without a model to work with.
		var fallback []string // what of the demo opened instead
		if len(loaded) == 0 {
			m, err := wb.be.DemoModel(ctx)
			if err != nil {
				errs = append(errs, err)
			} else {
				loaded = append(loaded, m)
				if len(models) > 0 {
					fallback = append(fallback, "model")
				}
			}
		}
		var set *ImageSet
		var err error
		demoImages := len(folders) == 0
		if !demoImages {
			if set, err = wb.be.LoadImages(ctx, folders[0]); err != nil {
				errs = append(errs, err)
				demoImages = true
				fallback = append(fallback, "sample images")
			}
		}
		if demoImages {
			if set, err = wb.be.DemoImages(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		var thumbs []image.Image
		if set != nil {
			thumbs = makeThumbs(set)
		}
		var patch *imgops.Patch
		var meta imgops.PatchMeta
		for _, p := range patches {
			if patch, meta, err = wb.be.LoadPatch(p); err != nil {
				errs = append(errs, err)
			}
		}
		wb.tasks.ui(func() {
			end()
			for _, m := range loaded {
				wb.addModel(m)
			}
			if set != nil {
				wb.imagesPath = ""
				if !demoImages {
					wb.imagesPath = folders[0]
				}
				wb.setImages(set, thumbs)
			}
			if patch != nil {
				wb.setPatch(patch, meta)
				wb.patchFromFile = true
			}
			switch {
			case len(fallback) > 0:
				verb := "are"
				if len(fallback) == 1 && fallback[0] == "model" {
					verb = "is"
				}
				wb.showError("Loading at start-up", fmt.Errorf("%w\n\nThe demo %s %s open instead", errors.Join(errs...), strings.Join(fallback, " and "), verb))
			case len(errs) > 0:
				wb.showError("Loading at start-up", errors.Join(errs...))
			default:
				wb.setStatus("Ready: press Start in the Patch tab (Ctrl+Enter) to train a patch")
			}
			if wb.onDemoLoaded != nil {
				wb.onDemoLoaded()
			}
		})
	})
}

// Images.

// openImages loads the folder (or image file) at path off the UI goroutine.
func (wb *Workbench) openImages(path string) {
	end := wb.begin("Reading images from " + filepath.Base(path) + "…")
	wb.tasks.Go(func() {
		set, err := wb.be.LoadImages(context.Background(), path)
		var thumbs []image.Image
		if err == nil {
			thumbs = makeThumbs(set)
		}
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.prefs.removeRecent(prefRecentFolders, path)
				wb.win.SetMainMenu(wb.mainMenu())
				wb.showError("Opening the images "+filepath.Base(path), err)
				return
			}
			wb.prefs.addRecent(prefRecentFolders, path)
			wb.win.SetMainMenu(wb.mainMenu())
			wb.imagesPath = path
			wb.setImages(set, thumbs)
			msg := fmt.Sprintf("Read %d images from %s", len(set.Samples), filepath.Base(path))
			if len(set.Notes) > 0 {
				msg += " (" + strings.Join(set.Notes, "; ") + ")"
			}
			wb.setStatus(msg)
		})
	})
}

// setImages makes set the current image set.
func (wb *Workbench) setImages(set *ImageSet, thumbs []image.Image) {
	wb.images, wb.thumbs, wb.current = set, thumbs, -1
	wb.traits = traitsOf(set)
	if len(set.Samples) > 0 {
		wb.current = 0
	}
	wb.thumbStrip.Refresh()
	wb.showCurrentImage()
	wb.refreshFit()
}

// refreshFit shows in the Attack and Patch tabs whether the image set fits
// the models they would run.
func (wb *Workbench) refreshFit() {
	wb.attackPanel.showFit(wb.fitWarning(wb.models...))
	wb.train.showPlan()
}

// selectImage makes sample i the canvas's image.
func (wb *Workbench) selectImage(i int) {
	if wb.images == nil || i < 0 || i >= len(wb.images.Samples) || i == wb.current {
		return
	}
	old := wb.current
	wb.current = i
	wb.thumbStrip.markCurrent(old)
	wb.showCurrentImage()
	wb.compare.ShowSample(i)
}

func (wb *Workbench) currentSample() *Sample {
	if wb.images == nil || wb.current < 0 || wb.current >= len(wb.images.Samples) {
		return nil
	}
	return &wb.images.Samples[wb.current]
}

func (wb *Workbench) showCurrentImage() {
	if s := wb.currentSample(); s != nil {
		wb.view.SetImage(s.Image)
		wb.thumbStrip.showCurrent(s)
	} else {
		wb.view.SetImage(nil)
	}
	wb.schedulePredict()
}

// Patch.

// setPatch makes p the current patch, on the canvas and in the panels.
func (wb *Workbench) setPatch(p *imgops.Patch, meta imgops.PatchMeta) {
	newTarget := meta.Target != "" && meta.Target != wb.patchMeta.Target
	wb.patch, wb.patchMeta = p, meta
	if newTarget {
		wb.eval.selectTarget(meta.Target) // measure what the patch was made for
	}
	wb.view.SetPatch(p)
	wb.train.ShowPatch(p)
	wb.schedulePredict()
}

// Running tasks.

// toggleRun starts or stops the task of the selected right-hand tab.
func (wb *Workbench) toggleRun() {
	switch wb.rightTabs.Selected() {
	case wb.patchTab:
		wb.train.toggle()
	case wb.attackTab:
		wb.attackPanel.toggle()
	case wb.evTab:
		wb.eval.toggle()
	}
}

// typedKey handles keys no focused widget took.
func (wb *Workbench) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyF5:
		wb.toggleRun()
	case fyne.KeyF:
		wb.fitView()
	}
}
