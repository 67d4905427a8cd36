package gui

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// gradientImage is a 256×192 image whose pixel (x, y) has red x and green
// y, so that the colour the canvas draws at a point says which image pixel
// lies under it, independently of the view's own geometry.
func gradientImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 256, 192))
	for y := 0; y < 192; y++ {
		for x := 0; x < 256; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	return img
}

// seenAt returns the image pixel the canvas draws at the view point p, read
// from the raster's output with the patch taken off.
func seenAt(t *testing.T, v *patchView, p fyne.Position) (x, y float64) {
	t.Helper()
	patch := v.patch
	v.SetPatch(nil)
	defer v.SetPatch(patch)
	s := v.Size()
	img := v.generate(int(s.Width), int(s.Height)).(*image.RGBA)
	c := img.RGBAAt(int(p.X), int(p.Y))
	if c.A == 0 || c.B != 128 {
		t.Fatalf("no image drawn at %v (colour %v)", p, c)
	}
	return float64(c.R) + 0.5, float64(c.G) + 0.5
}

// zoomTestView returns a workbench whose canvas shows gradientImage.
func zoomTestView(t *testing.T) (*Workbench, *patchView) {
	t.Helper()
	wb, _ := newTestWorkbench(t, newFakeBackend())
	wb.view.SetImage(gradientImage())
	wb.tasks.Wait()
	return wb, wb.view
}

// ctrlScroll turns the wheel by notches with Ctrl held, the pointer at p,
// as the desktop driver reports it (test.Scroll gives no position).
func ctrlScroll(v *patchView, p fyne.Position, notches int) {
	v.KeyDown(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	defer v.KeyUp(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	step := float32(wheelNotch)
	if notches < 0 {
		step, notches = -step, -notches
	}
	for i := 0; i < notches; i++ {
		v.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: p}, Scrolled: fyne.Delta{DY: step}})
	}
}

func TestZoomKeepsThePointersImagePointUnderIt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fx, fy  float32 // the pointer, as a fraction of the view
		notches int
	}{
		{"one notch left of centre", 0.3, 0.5, 1},
		{"four notches near a corner", 0.25, 0.3, 4},
		{"eight notches lower right", 0.7, 0.65, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wb, v := zoomTestView(t)
			s := v.Size()
			p := fyne.NewPos(s.Width*tc.fx, s.Height*tc.fy)
			x0, y0 := seenAt(t, v, p)
			before := v.Placement()
			ctrlScroll(v, p, tc.notches)
			if got, want := v.Zoom(), math.Pow(zoomStep, float64(tc.notches)); math.Abs(got-want) > 1e-9 {
				t.Errorf("zoom after %d notches = %.4f; want %.4f", tc.notches, got, want)
			}
			x1, y1 := seenAt(t, v, p)
			// One image pixel of slack: the fitted view draws about two
			// view units a pixel, so the pointer's point is known to ±1.
			if math.Abs(x1-x0) > 1 || math.Abs(y1-y0) > 1 {
				t.Errorf("under the pointer: image (%.1f, %.1f) before, (%.1f, %.1f) after zooming", x0, y0, x1, y1)
			}
			if got := v.Placement(); got != before {
				t.Errorf("Ctrl+wheel changed the patch: %+v → %+v", before, got)
			}
			// The view really is magnified: 10 view units now span fewer
			// image pixels.
			xa, _ := seenAt(t, v, p.Add(fyne.NewPos(40, 0)))
			g0 := viewGeom(float64(s.Width), float64(s.Height), 256, 192, viewport{})
			if want := 40 / g0.f / v.Zoom(); math.Abs((xa-x1)-want) > 1.5 {
				t.Errorf("40 view units span %.1f image pixels; want %.1f", xa-x1, want)
			}
			wb.tasks.Wait()
		})
	}
}

func TestPanMovesTheViewByTheDrag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(v *patchView, p fyne.Position)
		end   func(v *patchView)
	}{
		{"middle drag", func(v *patchView, p fyne.Position) {
			v.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}, Button: desktop.MouseButtonTertiary})
		}, func(*patchView) {}},
		{"space drag", func(v *patchView, p fyne.Position) {
			v.KeyDown(&fyne.KeyEvent{Name: fyne.KeySpace})
			v.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}, Button: desktop.MouseButtonPrimary})
		}, func(v *patchView) { v.KeyUp(&fyne.KeyEvent{Name: fyne.KeySpace}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wb, v := zoomTestView(t)
			s := v.Size()
			ctrlScroll(v, fyne.NewPos(s.Width/2, s.Height/2), 6)
			// Start on the patch: a pan must not move it.
			centre, _, _, _, ok := v.handles()
			if !ok {
				t.Fatal("no patch on the canvas")
			}
			before := v.Placement()
			x0, y0 := seenAt(t, v, centre)
			d := fyne.NewDelta(60, -35)
			tc.start(v, centre)
			test.Drag(wb.win.Canvas(), onCanvas(wb, centre), d.DX, d.DY)
			tc.end(v)
			// The image point that was at the press is now under the
			// pointer's end.
			x1, y1 := seenAt(t, v, centre.AddXY(d.DX, d.DY))
			if math.Abs(x1-x0) > 1 || math.Abs(y1-y0) > 1 {
				t.Errorf("image (%.1f, %.1f) was at the press, (%.1f, %.1f) is at the drag's end; want the same", x0, y0, x1, y1)
			}
			if got := v.Placement(); got != before {
				t.Errorf("panning moved the patch: %+v → %+v", before, got)
			}
			wb.tasks.Wait()
		})
	}
}

func TestTapAtAZoomedViewPlacesThePatchInImageCoordinates(t *testing.T) {
	wb, v := zoomTestView(t)
	s := v.Size()
	ctrlScroll(v, fyne.NewPos(s.Width*0.3, s.Height*0.6), 5)
	at := fyne.NewPos(s.Width*0.7, s.Height*0.35)
	x, y := seenAt(t, v, at)
	test.TapAt(v, at) // focuses
	test.TapAt(v, at) // places
	pl := v.Placement()
	// The canvas reads pixel centres, the tap a point within the pixel.
	if math.Abs(pl.CX*256-x) > 1 || math.Abs(pl.CY*192-y) > 1 {
		t.Errorf("tap at image pixel (%.1f, %.1f) placed the patch at (%.1f, %.1f)", x, y, pl.CX*256, pl.CY*192)
	}
	wb.tasks.Wait()
}

func TestFitRestoresTheWholeImage(t *testing.T) {
	for _, tc := range []struct {
		name string
		fit  func(wb *Workbench)
	}{
		{"F key", func(wb *Workbench) { wb.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF}) }},
		{"F on the focused canvas", func(wb *Workbench) {
			wb.win.Canvas().Focus(wb.view)
			wb.view.TypedKey(&fyne.KeyEvent{Name: fyne.KeyF})
		}},
		{"toolbar", func(wb *Workbench) {
			for _, it := range wb.tools.Items {
				if a, ok := it.(*tipAction); ok && strings.HasPrefix(a.button.tip, "Fit the canvas") {
					test.Tap(a.button)
				}
			}
		}},
		{"View menu", func(wb *Workbench) {
			for _, m := range wb.mainMenu().Items {
				if m.Label == "View" {
					m.Items[0].Action()
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wb, v := zoomTestView(t)
			s := v.Size()
			w, h := int(s.Width), int(s.Height)
			fitted := drawFitted(gradientImage(), w, h)
			ctrlScroll(v, fyne.NewPos(s.Width*0.2, s.Height*0.8), 7)
			v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonTertiary})
			test.Drag(wb.win.Canvas(), onCanvas(wb, fyne.NewPos(s.Width/2, s.Height/2)), 50, 50)
			tc.fit(wb)
			if v.Zoom() != 1 {
				t.Errorf("zoom after Fit = %v; want 1", v.Zoom())
			}
			patch := v.patch
			v.SetPatch(nil)
			got := v.generate(w, h).(*image.RGBA)
			v.SetPatch(patch)
			if !equalPix(got.Pix, fitted.Pix) {
				t.Error("after Fit the canvas does not show the image fitted and letterboxed")
			}
			wb.tasks.Wait()
		})
	}
}

func equalPix(a, b []uint8) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClipSegment(t *testing.T) {
	size := fyne.NewSize(100, 50)
	for _, tc := range []struct {
		name       string
		a, b       fyne.Position
		in         bool
		wantA, wtB fyne.Position
	}{
		{"inside", fyne.NewPos(10, 10), fyne.NewPos(90, 40), true, fyne.NewPos(10, 10), fyne.NewPos(90, 40)},
		{"crosses the right edge", fyne.NewPos(50, 10), fyne.NewPos(150, 30), true, fyne.NewPos(50, 10), fyne.NewPos(100, 20)},
		{"crosses both sides", fyne.NewPos(-50, 25), fyne.NewPos(150, 25), true, fyne.NewPos(0, 25), fyne.NewPos(100, 25)},
		{"diagonal through a corner region", fyne.NewPos(-10, -10), fyne.NewPos(60, 60), true, fyne.NewPos(0, 0), fyne.NewPos(50, 50)},
		{"above", fyne.NewPos(10, -20), fyne.NewPos(90, -5), false, fyne.Position{}, fyne.Position{}},
		{"past a corner", fyne.NewPos(90, -20), fyne.NewPos(120, 10), false, fyne.Position{}, fyne.Position{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, in := clipSegment(tc.a, tc.b, size)
			if in != tc.in {
				t.Fatalf("clipSegment(%v, %v) inside = %v; want %v", tc.a, tc.b, in, tc.in)
			}
			near := func(p, q fyne.Position) bool {
				return math.Abs(float64(p.X-q.X)) < 1e-4 && math.Abs(float64(p.Y-q.Y)) < 1e-4
			}
			if in && (!near(a, tc.wantA) || !near(b, tc.wtB)) {
				t.Errorf("clipSegment(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, a, b, tc.wantA, tc.wtB)
			}
		})
	}
}

func TestZoomedOverlayStaysInsideTheCanvas(t *testing.T) {
	wb, v := zoomTestView(t)
	s := v.Size()
	v.SetPlacement(Placement{CX: 0.5, CY: 0.5, Area: 0.2})
	// Zoom near the patch's left edge: most of the patch is out of view.
	centre, _, _, _, _ := v.handles()
	ctrlScroll(v, centre.AddXY(-float32(0.25*s.Width), 0), 8)
	r := test.WidgetRenderer(v).(*patchViewRenderer)
	shown := 0
	for _, o := range r.Objects()[2:] { // the raster and focus ring fill the view
		if !o.Visible() {
			continue
		}
		shown++
		var pts []fyne.Position
		if l, ok := o.(*canvas.Line); ok {
			pts = []fyne.Position{l.Position1, l.Position2}
		} else {
			pts = []fyne.Position{o.Position().AddXY(handleR, handleR)}
		}
		for _, p := range pts {
			if p.X < -1e-3 || p.Y < -1e-3 || p.X > s.Width+1e-3 || p.Y > s.Height+1e-3 {
				t.Errorf("overlay %T reaches %v, outside the %v canvas", o, p, s)
			}
		}
	}
	if shown == 0 {
		t.Error("no outline of the patch is shown, though its edge is in view")
	}
	wb.tasks.Wait()
}
