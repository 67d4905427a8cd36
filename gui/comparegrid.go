package gui

import (
	"math"

	"fyne.io/fyne/v2"
)

// The Compare view's grid zooms as its side-by-side images do: every cell
// shows its adversarial image through the view's one viewport, so that
// Ctrl+wheel over a cell (around the pointer), + and − (about the centre), a
// drag in a cell (pans) and F, 0 or Fit (whole images) act on all the cells
// at once and on the side-by-side images too. A plain wheel scrolls the
// grid; a tap opens the cell side by side.

// gridImage is the image of a grid cell.
type gridImage struct {
	compareImage
	id int // the result's item it shows
}

func newGridImage(cv *compareView) *gridImage {
	g := &gridImage{id: -1}
	g.cv = cv
	g.minSize = fyne.NewSize(gridCellSide, gridCellSide)
	g.raster = newRasterOf(&g.imageView)
	g.ExtendBaseWidget(g)
	g.setViewport(cv.vp)
	cv.cells = append(cv.cells, g)
	return g
}

// Scrolled zooms every cell around the pointer while Ctrl is held, and
// scrolls the grid otherwise (the cell would take the wheel from it).
func (g *gridImage) Scrolled(ev *fyne.ScrollEvent) {
	if g.ctrlHeld() {
		g.compareImage.Scrolled(ev)
		return
	}
	grid := g.cv.grid
	grid.ScrollToOffset(grid.GetScrollOffset() - ev.Scrolled.DY)
}

// Tapped opens the cell's item side by side, as selecting the cell does.
func (g *gridImage) Tapped(*fyne.PointEvent) {
	if g.id >= 0 {
		g.cv.openItem(g.id)
	}
}

// ownSize is the size of the image the view shows (0 when none).
func (v *imageView) ownSize() (w, h int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.img == nil {
		return 0, 0
	}
	b := v.img.Bounds()
	return b.Dx(), b.Dy()
}

// zoomOf is the zoom factor of a Ctrl+wheel turn.
func zoomOf(ev *fyne.ScrollEvent) float64 {
	return math.Pow(zoomStep, float64(ev.Scrolled.DY)/wheelNotch)
}
