package gui

import (
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// whiteTestPatch is an opaque white square patch: on the dark demo images
// the fake's brightness map peaks on it.
func whiteTestPatch() *imgops.Patch {
	p := imgops.NewGreyPatch(imgops.RectMask(12, 12))
	for i := range p.Pix {
		p.Pix[i] = 1
	}
	return p
}

// TestSaliencyOverlayCoalescesMoves: Ctrl+H turns the overlay on and asks
// for one map; while the backend holds it, the UI goroutine goes on
// (predictions still land) and a burst of patch moves asks for nothing
// more; once it lands, exactly one more map is computed, of the canvas as
// the last move left it. The overlay then draws the map over the patch:
// a white patch pixel, where the map peaks, blends 0.7 towards yellow,
// (1,1,1)·0.3 + (1,1,0)·0.7 = (1, 1, 0.3). Ctrl+H again shows the plain
// composite.
func TestSaliencyOverlayCoalescesMoves(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.setPatch(whiteTestPatch(), imgops.PatchMeta{Target: "yield"})
	wb.tasks.Wait()
	gate := make(chan struct{})
	be.mu.Lock()
	be.explainGate = gate
	be.mu.Unlock()
	explains := func() int {
		wb.tasks.RunQueued()
		be.mu.Lock()
		defer be.mu.Unlock()
		return len(be.explains)
	}
	sc := wb.win.Canvas().(fyne.Shortcutable)
	sc.TypedShortcut(scSaliency)
	if !wb.overlay.check.Checked {
		t.Fatal("Ctrl+H did not turn the overlay on")
	}
	waitFor(t, "the first map to be asked for", func() bool { return explains() == 1 })

	be.mu.Lock()
	predicts := be.predicts
	be.mu.Unlock()
	var last Placement
	for i := 0; i < 12; i++ {
		last = Placement{CX: 0.2 + 0.05*float64(i), CY: 0.4, Area: 0.1, AngleDeg: float64(i)}
		wb.view.SetPlacement(last)
		wb.tasks.RunQueued()
	}
	waitFor(t, "the moves to be coalesced", func() bool {
		wb.tasks.RunQueued()
		return wb.overlay.again
	})
	waitFor(t, "the moves' predictions", func() bool {
		wb.tasks.RunQueued()
		be.mu.Lock()
		defer be.mu.Unlock()
		return be.predicts > predicts
	})
	if n := explains(); n != 1 {
		t.Fatalf("%d maps asked for while the first was computing; want 1", n)
	}

	gate <- struct{}{}
	waitFor(t, "the second map to be asked for", func() bool { return explains() == 2 })
	gate <- struct{}{}
	wb.tasks.Wait()
	be.mu.Lock()
	reqs := append([]SaliencyRequest(nil), be.explains...)
	be.mu.Unlock()
	if len(reqs) != 2 {
		t.Fatalf("%d maps computed for one toggle and a burst of moves; want 2", len(reqs))
	}
	got := reqs[1].Placement
	if got.CX != last.CX || got.AngleDeg != last.AngleDeg || reqs[1].Method != saliency.GradCAM || reqs[1].Patch == nil {
		t.Errorf("the second map is of %+v by %s; want the last placement %+v by Grad-CAM", got, reqs[1].Method, last)
	}

	shown := wb.view.shownImage()
	b := shown.Bounds()
	cx, cy := int(last.CX*float64(b.Dx())), int(last.CY*float64(b.Dy()))
	if c := color.NRGBAModel.Convert(shown.At(cx, cy)).(color.NRGBA); c.R != 255 || c.G != 255 || c.B < 75 || c.B > 78 {
		t.Errorf("the patch's centre is drawn %v; want (255, 255, 77)", c)
	}
	if c := color.NRGBAModel.Convert(wb.view.Composite().At(cx, cy)).(color.NRGBA); c.B != 255 {
		t.Errorf("the composite's patch centre is %v; want white", c)
	}
	if cap := wb.overlay.caption.Text; !strings.Contains(cap, "50.0% of the attribution inside the patch") || !strings.Contains(cap, "10.0% of the image") {
		t.Errorf("caption %q", cap)
	}

	sc.TypedShortcut(scSaliency)
	wb.tasks.Wait()
	if wb.view.heat != nil || wb.view.shownImage() != wb.view.Composite() {
		t.Error("Ctrl+H again did not take the overlay away")
	}
}

// TestSaliencyMethodSelected: the selector's method reaches the backend.
func TestSaliencyMethodSelected(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	for _, m := range saliency.Methods() {
		t.Run(string(m), func(t *testing.T) {
			wb.overlay.method.SetSelected(saliencyMethodName(m))
			wb.overlay.check.SetChecked(true)
			wb.tasks.Wait()
			be.mu.Lock()
			got := be.explains[len(be.explains)-1].Method
			be.mu.Unlock()
			if got != m {
				t.Errorf("asked for %s; want %s", got, m)
			}
			wb.overlay.check.SetChecked(false)
			wb.tasks.Wait()
		})
	}
}

// TestSaliencyOverlayInComparison: with the overlay on, the comparison's
// adversarial image is the source model's map blended over it, explained
// from the adversarial image itself; off, the adversarial image as it is.
func TestSaliencyOverlayInComparison(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodPGD))
	wb.attackPanel.scope.SetSelected(scopeAll)
	test.Tap(wb.attackPanel.run)
	wb.tasks.Wait()
	cv := wb.compare
	it := cv.res.Items[cv.item]
	if cv.adv.Image() != it.Adversarial {
		t.Fatal("the comparison does not show the adversarial image")
	}
	wb.overlay.check.SetChecked(true)
	wb.tasks.Wait()
	be.mu.Lock()
	var fromAdv bool
	for _, r := range be.explains {
		fromAdv = fromAdv || (r.Image == it.Adversarial && r.Model == cv.res.Models[cv.res.Source] && r.Patch == nil)
	}
	be.mu.Unlock()
	if !fromAdv {
		t.Fatal("no map of the adversarial image was asked for")
	}
	shown := cv.adv.Image()
	if shown == it.Adversarial {
		t.Fatal("the overlay is not drawn in the comparison")
	}
	// The fake's map is the brightness: the brightest pixel blends 0.7
	// towards yellow, a black one stays as it is.
	b := it.Adversarial.Bounds()
	var bx, by int
	best := -1.0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := it.Adversarial.At(x, y).RGBA()
			if v := float64(r+g+bl) / 3; v > best {
				best, bx, by = v, x, y
			}
		}
	}
	if c := color.NRGBAModel.Convert(shown.At(bx-b.Min.X, by-b.Min.Y)).(color.NRGBA); c.R < 250 || c.G < 250 || c.B > 80 {
		t.Errorf("the brightest pixel is drawn %v; want about (255, 255, ≤77)", c)
	}
	wb.overlay.check.SetChecked(false)
	wb.tasks.Wait()
	if cv.adv.Image() != it.Adversarial {
		t.Error("turning the overlay off did not bring back the adversarial image")
	}
}
