package gui

import (
	"fmt"
	"os"
	"strconv"
)

// demoSteps is the length of the scripted demo's training run, unless
// ADVLAB_DEMO_STEPS says otherwise.
const demoSteps = 200

// demoReady is printed on standard output when the scripted demo has
// reached its final view, so that scripts/screenshot knows when to shoot.
const demoReady = "advlab demo: ready"

// scriptDemo drives the workbench once the demo model and images are
// loaded: "train" trains a short patch; "compare" then pastes it on every
// sample image and shows the comparison side by side (a patch file given
// on the command line is pasted instead of training one); "attack" runs the
// attack named by ADVLAB_DEMO_METHOD (default pgd) on every image and shows
// the comparison. ADVLAB_DEMO_VIEW=grid ends on the grid instead of the
// side-by-side view, ADVLAB_DEMO_VIEW=export on the export dialog,
// ADVLAB_DEMO_VIEW=canvas on the canvas with its predictions,
// ADVLAB_DEMO_VIEW=evaluate on the evaluation of the patch.
func (wb *Workbench) scriptDemo(mode string) {
	steps := demoSteps
	if v, err := strconv.Atoi(os.Getenv("ADVLAB_DEMO_STEPS")); err == nil && v > 0 {
		steps = v
	}
	say := func(format string, args ...any) { fmt.Printf("advlab demo: "+format+"\n", args...) }
	if mode != "train" && mode != "compare" && mode != "attack" {
		say("unknown mode %q (want train, compare or attack)", mode)
		return
	}
	wb.train.adjust = func(r *TrainRequest) {
		r.Steps = steps
		r.Init = nil
	}
	pasteAndCompare := func() {
		wb.view.SetPlacement(Placement{CX: 0.62, CY: 0.4, Area: 0.16, AngleDeg: 12})
		wb.rightTabs.Select(wb.attackTab)
		wb.attackPanel.method.SetSelected(methodName(MethodPatch))
		wb.attackPanel.scope.SetSelected(scopeAll)
		wb.attackPanel.startAttack()
	}
	wb.train.onFinished = func(err error) {
		if err != nil {
			say("training failed: %v", err)
			return
		}
		say("trained %d steps", steps)
		if mode == "train" {
			fmt.Println(demoReady)
			return
		}
		pasteAndCompare()
	}
	wb.attackPanel.onFinished = func(res *AttackResult, err error) {
		if err != nil || res == nil {
			say("attack failed: %v", err)
			return
		}
		// Show side by side an image whose prediction flipped.
		for i, it := range res.Items {
			if it.Flipped(res.Source) {
				wb.compare.item = i
				wb.selectImage(it.Sample)
				break
			}
		}
		wb.compare.mode.SetSelected(modeSide)
		wb.compare.showItem()
		switch os.Getenv("ADVLAB_DEMO_VIEW") {
		case "grid":
			wb.compare.mode.SetSelected(modeGrid)
		case "export":
			wb.showExportDialog()
		case "canvas":
			wb.rightTabs.Select(wb.patchTab)
		case "evaluate":
			wb.rightTabs.Select(wb.evTab)
			wb.eval.onFinished = func(err error) {
				if err != nil {
					say("evaluation failed: %v", err)
					return
				}
				fmt.Println(demoReady)
			}
			wb.eval.start()
			return
		}
		fmt.Println(demoReady)
	}
	wb.onDemoLoaded = func() {
		if len(wb.models) == 0 || wb.images == nil {
			say("nothing to train on: the demo model or images did not load")
			return
		}
		if mode == "attack" {
			method := os.Getenv("ADVLAB_DEMO_METHOD")
			if method == "" {
				method = MethodPGD
			}
			wb.rightTabs.Select(wb.attackTab)
			wb.attackPanel.method.SetSelected(methodName(method))
			wb.attackPanel.scope.SetSelected(scopeAll)
			wb.attackPanel.startAttack()
			return
		}
		if mode == "compare" && wb.patchFromFile {
			say("using the patch given on the command line")
			pasteAndCompare()
			return
		}
		wb.rightTabs.Select(wb.patchTab)
		wb.train.startTraining()
	}
}
