package gui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/imgops"
)

func samePatch(a, b *imgops.Patch) bool {
	if a == nil || b == nil || a.W != b.W || a.H != b.H || len(a.Pix) != len(b.Pix) {
		return false
	}
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			return false
		}
	}
	return true
}

func TestComparisonShowsEveryModelAndTheFlips(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	wb.selectModel(0)
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodPGD))
	wb.attackPanel.scope.SetSelected(scopeAll)
	test.Tap(wb.attackPanel.run)
	wb.tasks.Wait()

	req := be.attacks[0]
	if req.Method != MethodPGD || req.Source != wb.models[0] || len(req.Models) != 2 || len(req.Samples) != 6 {
		t.Fatalf("request: %s on %v, %d models, %d images", req.Method, req.Source, len(req.Models), len(req.Samples))
	}
	if p := req.Params; p["eps"] != "8/255" || p["steps"] != "40" || p["norm"] != "inf" || req.Target != -1 {
		t.Errorf("request parameters %v, target %d", p, req.Target)
	}
	if wb.centerTabs.Selected() != wb.compareTab {
		t.Error("the comparison view did not open")
	}
	cv := wb.compare
	res := cv.res
	it := res.Items[cv.item]
	if cv.clean.Image() != it.Clean || cv.adv.Image() != it.Adversarial || cv.pert.Image() == nil {
		t.Error("the side-by-side columns do not show the item's images")
	}
	for _, m := range wb.models {
		for _, c := range []string{cv.cleanCap.Text, cv.advCap.Text} {
			if !strings.Contains(c, m.Name()+":") {
				t.Errorf("caption %q lacks model %s", c, m.Name())
			}
		}
	}
	if want := verdict(it.AdvPred[0], it.CleanPred[0]) + " · " + wb.models[0].Name() + ":"; !strings.Contains(cv.advCap.Text, "\n"+want) {
		t.Errorf("caption %q does not say %q", cv.advCap.Text, want)
	}
	if s := wb.images.Samples[it.Sample]; !strings.HasPrefix(cv.cleanCap.Text, "True class: "+s.Class+" · "+s.Name+"\n") {
		t.Errorf("clean caption %q does not name the true class and file", cv.cleanCap.Text)
	}
	// The amplification slider redraws the heat map (TestHeatMap checks the
	// gain) and says by how much.
	heat10 := cv.pert.Image()
	cv.amp.SetValue(2)
	if cv.auto.Checked || cv.ampText.Text != "×100" || !strings.Contains(cv.pertCap.Text, "(×100)") || cv.scaleHigh.Text != "2.5/255" || cv.pert.Image() == heat10 {
		t.Errorf("at ×100: readout %q, caption %q", cv.ampText.Text, cv.pertCap.Text)
	}
	cv.amp.SetValue(1)
	// Grid: every fooled image marked; the success rate in the summary.
	cv.mode.SetSelected(modeGrid)
	marks := cv.flippedMarks()
	n := 0
	for i, f := range marks {
		if f != res.Items[i].Flipped(res.Source) {
			t.Errorf("grid mark %d = %v", i, f)
		}
		if f {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d images marked flipped; the fake fools every other one of 6", n)
	}
	// Each cell says what the attacked model sees now and, when that
	// flipped, what it saw before, with a red frame.
	for i, it := range res.Items {
		cell := cv.gridCreate()
		cv.gridUpdate(i, cell)
		var text string
		var framed bool
		for _, o := range test.LaidOutObjects(cell) {
			switch o := o.(type) {
			case *widget.Label:
				text = o.Text
			case *canvas.Rectangle:
				if o.StrokeColor == nil {
					continue
				}
				_, _, _, a := o.StrokeColor.RGBA()
				framed = framed || (o.StrokeWidth > 0 && a > 0)
			}
		}
		now, before := signLabels[it.AdvPred[0].Class()], signLabels[it.CleanPred[0].Class()]
		want := "kept: " + now + "\n \n8-bit: kept"
		if it.Flipped(0) {
			want = "CHANGED → " + now + "\nwas " + before + "\n8-bit: " + verdict(it.RoundedPred[0], it.CleanPred[0])
		}
		if text != want || framed != it.Flipped(0) {
			t.Errorf("grid cell %d: %q, framed %v; want %q, framed %v", i, text, framed, want, it.Flipped(0))
		}
	}
	// The fake's rounding undoes the flip of image 2: 2 of 6 after it.
	if want := "top class changed on 50% of 6 images for fake-signs as crafted, on 33% once saved as 8-bit PNG"; !strings.Contains(wb.status.Text, want) {
		t.Errorf("status %q; want %q", wb.status.Text, want)
	}
	if !strings.Contains(cv.summary.Text, "fake-signs (attacked) 3/6 = 50%") || !strings.Contains(cv.summary.Text, "second (transfer)") {
		t.Errorf("summary = %q", cv.summary.Text)
	}
	if cv.body.Objects[0] != cv.grid {
		t.Error("grid mode does not show the grid")
	}
	if cv.ampRow.Visible() {
		t.Error("grid mode shows the heat map's amplification, which it does not use")
	}
	// Tapping a grid cell shows that image side by side.
	cv.grid.Select(4)
	if cv.body.Objects[0] != cv.side || cv.item != 4 || wb.current != 4 || !cv.ampRow.Visible() {
		t.Errorf("after tapping cell 4: item %d, current %d, amplification shown %v", cv.item, wb.current, cv.ampRow.Visible())
	}

	// Saving the comparison renders it to a PNG through the exporter.
	img, err := cv.renderSide()
	if err != nil || img.Bounds().Dx() < 1000 {
		t.Fatalf("renderSide: %v, %v", img.Bounds(), err)
	}
	files.save = "/out/cmp.png"
	wb.saveComparisonDialog()
	files.folder = "/out/adv"
	wb.saveAdversarialDialog()
	wb.tasks.Wait()
	if len(be.saved) != 1+6 || !contains(be.saved, "/out/cmp.png") || !contains(be.saved, "/out/adv/0003_no-entry_img_pgd.png") {
		t.Errorf("saved %v", be.saved)
	}
}

func TestPatchAttackUsesTheCanvasPlacement(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	pl := Placement{CX: 0.3, CY: 0.6, Area: 0.12, AngleDeg: 20}
	wb.view.SetPlacement(pl)
	wb.selectImage(2)
	wb.attackPanel.method.SetSelected(methodName(MethodPatch))
	wb.attackPanel.scope.SetSelected(scopeOne)
	wb.attackPanel.toggle()
	wb.tasks.Wait()
	req := be.attacks[0]
	if req.Placement != pl || !samePatch(req.Patch, wb.patch) || len(req.Samples) != 1 {
		t.Errorf("patch attack: placement %+v, %d samples", req.Placement, len(req.Samples))
	}
	if got := wb.compare.res.Items[0].Sample; got != 2 {
		t.Errorf("result item is sample %d; want the current image 2", got)
	}
}

func TestHeatMap(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	b := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(a.Pix, []uint8{10, 10, 10, 255, 10, 10, 10, 255})
	copy(b.Pix, []uint8{10, 10, 10, 255, 10, 61, 10, 255}) // 51 = 0.2 of full scale
	h := heatMap(a, b, 5)
	if got := h.NRGBAAt(0, 0); got != infernoStops[0] {
		t.Errorf("unchanged pixel = %v; want inferno's black", got)
	}
	if got := h.NRGBAAt(1, 0); got != infernoStops[len(infernoStops)-1] {
		t.Errorf("pixel changed by 0.2, ×5 = %v; want inferno's top", got)
	}
}

// TestWindowMinSizeFits checks that no view asks for more than the window's
// 1280×800: a long title or caption must truncate or wrap, not push the side
// panels out of the window.
func TestWindowMinSizeFits(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	fits := func(when string) {
		t.Helper()
		if m := wb.win.Content().MinSize(); m.Width > 1280 || m.Height > 800 {
			t.Errorf("%s: the window's content needs %v", when, m)
		}
	}
	fits("at start")
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	for _, method := range []string{MethodPatch, MethodLBFGS, MethodCW} {
		wb.rightTabs.Select(wb.attackTab)
		wb.attackPanel.method.SetSelected(methodName(method))
		wb.attackPanel.scope.SetSelected(scopeAll)
		test.Tap(wb.attackPanel.run)
		wb.tasks.Wait()
		fits("comparing " + method)
		wb.compare.mode.SetSelected(modeGrid)
		fits("grid of " + method)
		wb.compare.mode.SetSelected(modeSide)
	}
	wb.rightTabs.Select(wb.evTab)
	test.Tap(wb.eval.run)
	wb.tasks.Wait()
	fits("evaluation")
}

// TestCompareGivesTheEightBitFigures builds a result where rounding undoes
// one of two flips and checks that the summary, the adversarial caption and
// the grid each give both figures under their names.
func TestCompareGivesTheEightBitFigures(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	a, b := Prediction{Probs: []float32{0.9, 0.1, 0, 0, 0}}, Prediction{Probs: []float32{0.1, 0.9, 0, 0, 0}}
	img := darkImage(8, 8, 0)
	res := &AttackResult{Method: MethodPGD, Models: []Model{wb.models[0]}, Items: []AttackItem{
		{Sample: 0, Clean: img, Adversarial: img, CleanPred: []Prediction{a}, AdvPred: []Prediction{b}, RoundedPred: []Prediction{a}},
		{Sample: 1, Clean: img, Adversarial: img, CleanPred: []Prediction{a}, AdvPred: []Prediction{b}, RoundedPred: []Prediction{b}},
	}}
	wb.showAttack(res)
	cv := wb.compare
	name := wb.models[0].Name()
	want := "PGD: top class changed, as crafted (float pixels): " + name + " (attacked) 2/2 = 100%\n" +
		"Saved as 8-bit PNG (what Save images writes): " + name + " (attacked) 1/2 = 50%"
	if cv.summary.Text != want {
		t.Errorf("summary %q; want %q", cv.summary.Text, want)
	}
	tests := []struct {
		item        int
		caption     string
		gridCaption string
	}{
		{0, "As crafted (float pixels):\nCHANGED · " + name + ": yield (90%)\nSaved as 8-bit PNG:\nkept · " + name + ": stop (90%)",
			"CHANGED → yield\nwas stop\n8-bit: kept"},
		{1, "As crafted (float pixels):\nCHANGED · " + name + ": yield (90%)\nSaved as 8-bit PNG:\nCHANGED · " + name + ": yield (90%)",
			"CHANGED → yield\nwas stop\n8-bit: CHANGED"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.item), func(t *testing.T) {
			cv.item = tc.item
			cv.showItem()
			if cv.advCap.Text != tc.caption {
				t.Errorf("adversarial caption %q; want %q", cv.advCap.Text, tc.caption)
			}
			if got := gridCaption(res, res.Items[tc.item]); got != tc.gridCaption {
				t.Errorf("grid caption %q; want %q", got, tc.gridCaption)
			}
		})
	}
	// Without 8-bit predictions the view says so rather than stay silent.
	res.Items[0].RoundedPred, res.Items[1].RoundedPred = nil, nil
	wb.showAttack(res)
	if !strings.HasSuffix(cv.summary.Text, "\nSaved as 8-bit PNG: not measured") || !strings.HasSuffix(cv.advCap.Text, "Saved as 8-bit PNG: not measured") {
		t.Errorf("unmeasured 8-bit figures: summary %q, caption %q", cv.summary.Text, cv.advCap.Text)
	}
}

// shownAt returns the colour a compare image draws at view point p, from
// its raster at the view's size.
func shownAt(v *compareImage, p fyne.Position) color.NRGBA {
	s := v.Size()
	img := v.generate(int(s.Width), int(s.Height))
	return color.NRGBAModel.Convert(img.At(int(p.X), int(p.Y))).(color.NRGBA)
}

// near reports whether two colours of the image (opaque, not the
// letterbox) differ by at most tol in red and green (the gradient's two
// coordinates).
func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return a.A == 255 && b.A == 255 && d(a.R, b.R) <= tol && d(a.G, b.G) <= tol
}

// TestCompareZoom zooms the side-by-side images with Ctrl+wheel, + − and
// the buttons, pans them with a drag and fits them with F, 0 and Fit,
// checking what the rasters draw against the fitted drawing: the point
// under the pointer stays under it, a zoom by k about the centre shows at
// distance d what was at d/k, the three images zoom together, and the
// patch canvas keeps its own zoom.
func TestCompareZoom(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.method.SetSelected(methodName(MethodFGSM))
	test.Tap(wb.attackPanel.run)
	wb.tasks.Wait()
	cv := wb.compare
	if wb.centerTabs.Selected() != wb.compareTab || cv.res == nil {
		t.Fatal("the comparison did not open")
	}
	it := &cv.res.Items[cv.item]
	it.Clean, it.Adversarial = gradientImage(), gradientImage()
	cv.showItem()
	s := cv.clean.Size()
	if s.Width < 100 || s.Height < 100 {
		t.Fatalf("the side-by-side image is %v; want it laid out", s)
	}
	centre := fyne.NewPos(s.Width/2, s.Height/2)
	// A gradient step is one level a source pixel; sampling may land a
	// pixel or two off.
	const tol = 3
	ctrlWheel := func(p fyne.Position, notches int) {
		cv.clean.KeyDown(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
		defer cv.clean.KeyUp(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
		for i := 0; i < notches; i++ {
			cv.clean.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: p}, Scrolled: fyne.Delta{DY: wheelNotch}})
		}
	}
	sameZoom := func(what string, want float64) {
		t.Helper()
		if math.Abs(cv.Zoom()-want) > 1e-9 {
			t.Errorf("%s: zoom %v; want %v", what, cv.Zoom(), want)
		}
		for _, v := range []*compareImage{cv.clean, cv.adv, cv.pert} {
			if v.vp != cv.vp {
				t.Errorf("%s: the three images do not share the zoom", what)
			}
		}
		if wb.view.Zoom() != 1 {
			t.Errorf("%s: the patch canvas zoomed too (%v)", what, wb.view.Zoom())
		}
	}

	t.Run("plain wheel does not zoom", func(t *testing.T) {
		cv.clean.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: centre}, Scrolled: fyne.Delta{DY: wheelNotch}})
		sameZoom("a plain wheel notch", 1)
	})
	t.Run("ctrl+wheel keeps the pointer's pixel", func(t *testing.T) {
		p := fyne.NewPos(s.Width*0.3, s.Height*0.65)
		before := shownAt(cv.clean, p)
		ctrlWheel(p, 4)
		sameZoom("four Ctrl+wheel notches", math.Pow(zoomStep, 4))
		if after := shownAt(cv.clean, p); !near(after, before, tol) {
			t.Errorf("under the pointer %v after the zoom; want %v as before", after, before)
		}
		if far := shownAt(cv.clean, fyne.NewPos(s.Width*0.55, s.Height*0.45)); near(far, before, 20) {
			t.Errorf("two points far apart both show %v: the test image is not drawn", far)
		}
		if after, adv := shownAt(cv.clean, fyne.NewPos(s.Width*0.6, s.Height*0.4)), shownAt(cv.adv, fyne.NewPos(s.Width*0.6, s.Height*0.4)); !near(after, adv, 0) {
			t.Errorf("clean shows %v and adversarial %v at one point; want the same zoom", after, adv)
		}
		wb.win.Canvas().OnTypedRune()('0')
		sameZoom("0", 1)
	})
	t.Run("keys and buttons zoom about the centre", func(t *testing.T) {
		d := fyne.NewPos(s.Width*0.2, s.Height*0.15) // from the centre
		k := zoomStep * zoomStep * zoomStep
		before := shownAt(cv.clean, centre.AddXY(d.X/float32(k), d.Y/float32(k)))
		wb.win.Canvas().OnTypedRune()('+')
		test.Tap(cv.zoomIn)
		wb.win.Canvas().OnTypedRune()('=')
		sameZoom("+, the zoom-in button and =", k)
		if after := shownAt(cv.clean, centre.Add(d)); !near(after, before, tol) {
			t.Errorf("at the centre + d after a zoom by %.3f: %v; want %v, what was at d/k", k, after, before)
		}
		if !strings.Contains(cv.zoomText.Text, "195%") {
			t.Errorf("the zoom reads %q; want 195%%", cv.zoomText.Text)
		}
		wb.win.Canvas().OnTypedRune()('-')
		sameZoom("−", zoomStep*zoomStep)
		test.Tap(cv.zoomOut)
		test.Tap(cv.zoomOut)
		test.Tap(cv.zoomOut) // past the fitted view: it stays fitted
		sameZoom("the zoom-out button", 1)
	})
	t.Run("drag pans", func(t *testing.T) {
		ctrlWheel(centre, 6)
		p := fyne.NewPos(s.Width*0.4, s.Height*0.5)
		before := shownAt(cv.clean, p)
		cv.clean.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p.AddXY(30, 20)}, Dragged: fyne.Delta{DX: 30, DY: 20}})
		cv.clean.DragEnd()
		if after := shownAt(cv.clean, p.AddXY(30, 20)); !near(after, before, tol) {
			t.Errorf("after a drag by (30, 20) the pixel %v is not where the pointer took it (%v)", after, before)
		}
		wb.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF})
		sameZoom("F", 1)
		if cv.vp != (viewport{}) || cv.fit.Disabled() == false {
			t.Errorf("after F: viewport %+v, Fit enabled %v; want fitted, Fit disabled", cv.vp, !cv.fit.Disabled())
		}
	})
	t.Run("the toolbar's fit fits the comparison", func(t *testing.T) {
		ctrlWheel(centre, 3)
		wb.fitView()
		sameZoom("Fit", 1)
	})
}
