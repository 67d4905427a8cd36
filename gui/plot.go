package gui

import (
	"fmt"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// series is one line of a plot.
type series struct {
	Name  string
	Color color.Color
	X, Y  []float64
	// Faint draws a thin, half-transparent dashed line without markers: a
	// reference beside the main lines (the control patch of an evaluation),
	// told apart from its model's line by the dashes, in the legend too.
	Faint bool
}

// lineColor is the colour and width the series is drawn with.
func (s series) lineColor() (color.Color, float32) {
	if !s.Faint {
		return s.Color, 2
	}
	r, g, b, _ := s.Color.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 160}, 1.5
}

// plotMaxPoints bounds the points drawn per series: longer series are
// thinned, so a plot of a 10 000-step training run costs no more than one of
// a few hundred.
const plotMaxPoints = 400

// plotView is a small line plot drawn with canvas lines and texts, so that it
// follows the theme (light or dark) and stays sharp at any size. Axis ranges
// are fixed when YMin < YMax (a rate in [0,1]) and fitted to the data
// otherwise.
type plotView struct {
	widget.BaseWidget

	Title            string
	XLabel           string
	XMin, XMax       float64 // fixed x range when XMin < XMax
	YMin, YMax       float64 // fixed y range when YMin < YMax
	XFormat, YFormat func(float64) string
	Series           []series
	minSize          fyne.Size
	markers          bool
}

func newPlotView(title string, min fyne.Size) *plotView {
	p := &plotView{Title: title, minSize: min}
	p.ExtendBaseWidget(p)
	return p
}

// SetSeries replaces the data and redraws. Call it on the UI goroutine.
func (p *plotView) SetSeries(s []series) {
	p.Series = s
	p.Refresh()
}

// MinSize is part of fyne.Widget.
func (p *plotView) MinSize() fyne.Size { return p.minSize }

// CreateRenderer is part of fyne.Widget.
func (p *plotView) CreateRenderer() fyne.WidgetRenderer {
	r := &plotRenderer{p: p}
	r.Refresh()
	return r
}

type plotRenderer struct {
	p    *plotView
	objs []fyne.CanvasObject
	size fyne.Size
}

func (r *plotRenderer) Destroy()                     {}
func (r *plotRenderer) MinSize() fyne.Size           { return r.p.minSize }
func (r *plotRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *plotRenderer) Layout(size fyne.Size) {
	if size != r.size {
		r.size = size
		r.build()
	}
}

func (r *plotRenderer) Refresh() {
	r.size = r.p.Size()
	r.build()
	canvas.Refresh(r.p)
}

// ranges returns the axis ranges: fixed, or the data's padded.
func (p *plotView) ranges() (x0, x1, y0, y1 float64) {
	x0, x1, y0, y1 = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range p.Series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
			y0, y1 = math.Min(y0, s.Y[i]), math.Max(y1, s.Y[i])
		}
	}
	if p.XMin < p.XMax {
		x0, x1 = p.XMin, p.XMax
	}
	if p.YMin < p.YMax {
		y0, y1 = p.YMin, p.YMax
	} else if y0 <= y1 {
		pad := (y1 - y0) * 0.08
		if pad == 0 {
			pad = math.Max(math.Abs(y0)*0.1, 0.1)
		}
		y0, y1 = y0-pad, y1+pad
	}
	if !(x0 < x1) {
		if x0 > x1 { // no data
			x0, x1 = 0, 1
		} else {
			x0, x1 = x0-0.5, x1+0.5
		}
	}
	if !(y0 < y1) {
		y0, y1 = 0, 1
	}
	return
}

// build lays the plot out at r.size.
func (r *plotRenderer) build() {
	p := r.p
	th := p.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, variant)
	grid := th.Color(theme.ColorNameSeparator, variant)
	textSize := th.Size(theme.SizeNameCaptionText)
	r.objs = r.objs[:0]
	w, h := r.size.Width, r.size.Height
	if w < 40 || h < 40 {
		return
	}
	x0, x1, y0, y1 := p.ranges()
	xf, yf := p.XFormat, p.YFormat
	if xf == nil {
		xf = func(v float64) string { return trimFloat(v) }
	}
	if yf == nil {
		yf = func(v float64) string { return trimFloat(v) }
	}
	left, right, top, bottom := float32(44), float32(8), textSize+10, textSize+8
	if p.XLabel != "" {
		bottom += textSize + 2
	}
	if len(p.Series) > 1 {
		top += textSize + 4
	}
	pw, ph := w-left-right, h-top-bottom
	if pw < 10 || ph < 10 {
		return
	}
	toX := func(v float64) float32 { return left + float32((v-x0)/(x1-x0))*pw }
	toY := func(v float64) float32 { return top + ph - float32((v-y0)/(y1-y0))*ph }

	title := canvas.NewText(p.Title, fg)
	title.TextSize, title.TextStyle = textSize+1, fyne.TextStyle{Bold: true}
	title.Move(fyne.NewPos(left, 2))
	r.objs = append(r.objs, title)

	// Grid and tick labels.
	for _, v := range ticks(y0, y1, 4) {
		y := toY(v)
		l := canvas.NewLine(grid)
		l.Position1, l.Position2 = fyne.NewPos(left, y), fyne.NewPos(left+pw, y)
		t := canvas.NewText(yf(v), fg)
		t.TextSize, t.Alignment = textSize, fyne.TextAlignTrailing
		t.Resize(fyne.NewSize(left-4, textSize))
		t.Move(fyne.NewPos(0, y-textSize/2-1))
		r.objs = append(r.objs, l, t)
	}
	for _, v := range ticks(x0, x1, 5) {
		x := toX(v)
		l := canvas.NewLine(grid)
		l.Position1, l.Position2 = fyne.NewPos(x, top), fyne.NewPos(x, top+ph)
		t := canvas.NewText(xf(v), fg)
		t.TextSize, t.Alignment = textSize, fyne.TextAlignCenter
		t.Resize(fyne.NewSize(60, textSize))
		t.Move(fyne.NewPos(x-30, top+ph+2))
		r.objs = append(r.objs, l, t)
	}
	if p.XLabel != "" {
		t := canvas.NewText(p.XLabel, fg)
		t.TextSize, t.Alignment = textSize, fyne.TextAlignCenter
		t.Resize(fyne.NewSize(pw, textSize))
		t.Move(fyne.NewPos(left, h-textSize-4))
		r.objs = append(r.objs, t)
	}
	frame := canvas.NewRectangle(color.Transparent)
	frame.StrokeColor, frame.StrokeWidth = fg, 1
	frame.Move(fyne.NewPos(left, top))
	frame.Resize(fyne.NewSize(pw, ph))
	r.objs = append(r.objs, frame)

	// Lines, thinned to plotMaxPoints and clipped to the frame.
	clampY := func(v float32) float32 { return min(max(v, top), top+ph) }
	legendX := left
	for _, s := range p.Series {
		col, width := s.lineColor()
		n := min(len(s.X), len(s.Y))
		stride := max(1, (n+plotMaxPoints-1)/plotMaxPoints)
		var prev fyne.Position
		have := false
		for i := 0; i < n; i += stride {
			j := i
			if i+stride >= n {
				j = n - 1
			}
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) {
				have = false
				continue
			}
			pt := fyne.NewPos(toX(s.X[j]), clampY(toY(s.Y[j])))
			if have {
				r.objs = appendLine(r.objs, prev, pt, col, width, s.Faint)
			}
			if p.markers && !s.Faint {
				c := canvas.NewCircle(col)
				c.Resize(fyne.NewSize(6, 6))
				c.Move(pt.Subtract(fyne.NewPos(3, 3)))
				r.objs = append(r.objs, c)
			}
			prev, have = pt, true
			if j == n-1 {
				break
			}
		}
		if len(p.Series) > 1 {
			y := textSize + 8 + textSize/2
			r.objs = appendLine(r.objs, fyne.NewPos(legendX, y), fyne.NewPos(legendX+16, y), col, max(width, 1.5), s.Faint)
			t := canvas.NewText(s.Name, fg)
			t.TextSize = textSize
			t.Move(fyne.NewPos(legendX+20, textSize+6))
			r.objs = append(r.objs, t)
			legendX += 30 + fyne.MeasureText(s.Name, textSize, fyne.TextStyle{}).Width
		}
	}
}

// Dashes of faint lines, in canvas units.
const dashOn, dashOff = 5, 4

// appendLine adds the line from a to b to objs, solid or dashed.
func appendLine(objs []fyne.CanvasObject, a, b fyne.Position, col color.Color, width float32, dashed bool) []fyne.CanvasObject {
	line := func(p, q fyne.Position) {
		l := canvas.NewLine(col)
		l.StrokeWidth = width
		l.Position1, l.Position2 = p, q
		objs = append(objs, l)
	}
	d := b.Subtract(a)
	n := float32(math.Hypot(float64(d.X), float64(d.Y)))
	if !dashed || n <= dashOn {
		line(a, b)
		return objs
	}
	at := func(t float32) fyne.Position { return a.Add(fyne.NewPos(d.X*t/n, d.Y*t/n)) }
	for t := float32(0); t < n; t += dashOn + dashOff {
		line(at(t), at(min(t+dashOn, n)))
	}
	return objs
}

// ticks returns about n round values spanning [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 1 {
		return nil
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// trimFloat formats v with at most three significant decimals.
func trimFloat(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// percent formats a fraction as a percentage.
func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

// seriesColors are distinct, colour-blind-safe line colours (Okabe–Ito).
var seriesColors = []color.NRGBA{
	{0, 114, 178, 255}, {230, 159, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{86, 180, 233, 255}, {213, 94, 0, 255}, {240, 228, 66, 255},
}

func seriesColor(i int) color.Color { return seriesColors[i%len(seriesColors)] }
