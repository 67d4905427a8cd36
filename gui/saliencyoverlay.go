package gui

import (
	"context"
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// SaliencyRequest asks where a model looks on one image.
type SaliencyRequest struct {
	Model Model
	// Image is the image as shown (the patch composited in).
	Image image.Image
	// Method is the attribution method.
	Method saliency.Method
	// Patch and Placement, when Patch is not nil, are the patch on Image,
	// whose share of the attribution is then measured.
	Patch     *imgops.Patch
	Placement Placement
}

// SaliencyResult is the attribution of one image.
type SaliencyResult struct {
	Method saliency.Method
	// Class is the class explained: the model's top-1 on the image.
	Class int
	// Map is the non-negative attribution map at the request image's size,
	// Width×Height, row after row.
	Map           []float32
	Width, Height int
	// Share is the map's mass inside the patch against the patch's area;
	// nil without a patch.
	Share *saliency.Share
}

// Explainer computes attribution maps (engine/saliency).
type Explainer interface {
	// Explain computes req's map off the UI goroutine; it may take long.
	Explain(ctx context.Context, req SaliencyRequest) (*SaliencyResult, error)
}

// scSaliency toggles the saliency overlay.
var scSaliency = &desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierShortcutDefault}

// saliencyOverlay draws, when on, the selected model's attribution map over
// the canvas (and the comparison's adversarial image), recomputed off the
// UI goroutine whenever the canvas changes. One computation runs at a time;
// changes made meanwhile are coalesced into one more run on the canvas as
// it is when the first lands (the latest request wins).
type saliencyOverlay struct {
	wb *Workbench

	check   *widget.Check
	method  *widget.Select
	caption *widget.Label
	bar     fyne.CanvasObject

	throttle       *throttle
	running, again bool
	// compareSeq numbers the comparison's requests: only the latest lands.
	compareSeq int
	// result is the last map shown (nil when off).
	result *SaliencyResult
}

func newSaliencyOverlay(wb *Workbench) *saliencyOverlay {
	so := &saliencyOverlay{wb: wb, throttle: newThrottle(predictDelay, &wb.tasks)}
	var names []string
	for _, m := range saliency.Methods() {
		names = append(names, saliencyMethodName(m))
	}
	so.method = widget.NewSelect(names, func(s string) {
		wb.prefs.setText("saliency.method", s)
		so.schedule()
	})
	so.check = widget.NewCheck("Saliency (Ctrl+H)", func(on bool) { so.setOn(on) })
	so.method.SetSelected(wb.prefs.text("saliency.method", saliencyMethodName(saliency.GradCAM)))
	so.caption = widget.NewLabel("")
	so.caption.Truncation = fyne.TextTruncateEllipsis
	so.bar = container.NewBorder(nil, nil, container.NewHBox(so.check, so.method), nil, so.caption)
	wb.win.Canvas().AddShortcut(scSaliency, func(fyne.Shortcut) { so.toggle() })
	return so
}

// toggle turns the overlay on or off, as its check does (Ctrl+H, View menu).
func (so *saliencyOverlay) toggle() { so.check.SetChecked(!so.check.Checked) }

// saliencyMethodName is the method as the selector shows it.
func saliencyMethodName(m saliency.Method) string {
	return map[saliency.Method]string{saliency.Gradient: "Gradient", saliency.SmoothGrad: "SmoothGrad",
		saliency.IntegratedGradients: "Integrated gradients", saliency.GradCAM: "Grad-CAM"}[m]
}

// selectedMethod is the method the selector names.
func (so *saliencyOverlay) selectedMethod() saliency.Method {
	for _, m := range saliency.Methods() {
		if saliencyMethodName(m) == so.method.Selected {
			return m
		}
	}
	return saliency.GradCAM
}

// setOn shows or hides the overlay.
func (so *saliencyOverlay) setOn(on bool) {
	if on {
		so.schedule()
		return
	}
	so.result = nil
	so.caption.SetText("")
	so.wb.view.setHeat(nil)
	so.wb.compare.refreshOverlay()
}

// schedule asks for the canvas's map, at most once per predictDelay.
func (so *saliencyOverlay) schedule() {
	if so == nil || !so.check.Checked {
		return
	}
	so.throttle.Do(so.now)
}

// now computes the map of the canvas as it is, unless one is computing:
// then the canvas is explained again once that one has landed.
func (so *saliencyOverlay) now() {
	if !so.check.Checked {
		return
	}
	if so.running {
		so.again = true
		return
	}
	wb := so.wb
	m, img := wb.selectedModel(), wb.view.Composite()
	if m == nil || img == nil {
		return
	}
	req := SaliencyRequest{Model: m, Image: img, Method: so.selectedMethod(), Patch: wb.view.patch, Placement: wb.view.Placement()}
	so.running = true
	so.caption.SetText("Computing " + saliencyMethodName(req.Method) + "…")
	wb.tasks.Go(func() {
		res, err := wb.be.Explain(context.Background(), req)
		wb.tasks.ui(func() {
			so.running = false
			if so.check.Checked {
				so.show(req, res, err)
			}
			if so.again {
				so.again = false
				so.now()
			}
		})
	})
}

// show draws a landed map and says its share of the patch.
func (so *saliencyOverlay) show(req SaliencyRequest, res *SaliencyResult, err error) {
	if err != nil {
		so.caption.SetText("No saliency: " + oneLineErr(err))
		return
	}
	so.result = res
	so.wb.view.setHeat(res)
	text := fmt.Sprintf("%s of %s's class %s", saliencyMethodName(res.Method), req.Model.Name(), labelOf(req.Model.Labels(), res.Class))
	if s := res.Share; s != nil {
		text += fmt.Sprintf(": %.1f%% of the attribution inside the patch, which covers %.1f%% of the image (×%.2f)",
			100*s.Mass, 100*s.Area, s.Ratio())
	}
	so.caption.SetText(text)
	so.wb.setStatus(text)
	so.wb.compare.refreshOverlay()
}

// oneLineErr is err's message on one line.
func oneLineErr(err error) string {
	s := []rune(err.Error())
	for i, r := range s {
		if r == '\n' {
			s[i] = ' '
		}
	}
	return string(s)
}

// setHeat makes the view draw res's map over its composite (nil: none).
func (v *patchView) setHeat(res *SaliencyResult) {
	v.heat = res
	v.recompose()
}

// shownImage is what the view draws: the composite, with the heat map
// blended over it when one of the composite's size is set.
func (v *patchView) shownImage() image.Image {
	img := v.Composite()
	r := v.heat
	if img == nil || r == nil {
		return img
	}
	b := img.Bounds()
	if r.Width != b.Dx() || r.Height != b.Dy() {
		return img // a map of another image: wait for the new one
	}
	x := v.tensor
	if v.composite != nil {
		x = v.comp.Images
	}
	out, err := saliency.Overlay(x, 3, b.Dy(), b.Dx(), r.Map)
	if err != nil {
		return img
	}
	return out
}

// refreshOverlay shows the current item's adversarial image with, when the
// overlay is on, the source model's map over it, computed off the UI
// goroutine; a newer item or toggle supersedes a request still running.
func (cv *compareView) refreshOverlay() {
	so := cv.wb.overlay
	if cv.res == nil || cv.item < 0 || cv.item >= len(cv.res.Items) || so == nil {
		return
	}
	res, item := cv.res, cv.item
	it := res.Items[item]
	so.compareSeq++
	seq := so.compareSeq
	if !so.check.Checked {
		cv.adv.SetImage(it.Adversarial)
		return
	}
	req := SaliencyRequest{Model: res.Models[res.Source], Image: it.Adversarial, Method: so.selectedMethod()}
	cv.wb.tasks.Go(func() {
		r, err := cv.wb.be.Explain(context.Background(), req)
		cv.wb.tasks.ui(func() {
			if seq != so.compareSeq || err != nil {
				return
			}
			b := it.Adversarial.Bounds()
			x, _ := imgops.ImageToTensor(it.Adversarial, 3, b.Dy(), b.Dx())
			if img, err := saliency.Overlay(x, 3, b.Dy(), b.Dx(), r.Map); err == nil {
				cv.adv.SetImage(img)
			}
		})
	})
}
