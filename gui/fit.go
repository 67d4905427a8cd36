package gui

import (
	"fmt"
	"image"
	"strings"

	"github.com/advlab/advlab/engine"
)

// fitSamples is how many images of a set are looked at to tell whether it
// is in colour: enough for a mixed folder, cheap for a large one.
const fitSamples = 32

// setTraits is what the workbench knows of an image set to tell whether it
// fits a model: whether its images are in colour, and their size when they
// all share one.
type setTraits struct {
	Colour, Grey bool // some image is in colour; some is grey
	W, H         int  // the size of the images, 0 when they differ
	Classes      []string
}

// traitsOf looks at up to fitSamples images of set, spread over it.
func traitsOf(set *ImageSet) setTraits {
	var t setTraits
	if set == nil || len(set.Samples) == 0 {
		return t
	}
	seen := map[string]bool{}
	for _, s := range set.Samples {
		if s.Class != "" && !seen[s.Class] {
			seen[s.Class] = true
			t.Classes = append(t.Classes, s.Class)
		}
	}
	step := max(1, len(set.Samples)/fitSamples)
	first := true
	for i := 0; i < len(set.Samples); i += step {
		img := set.Samples[i].Image
		if img == nil {
			continue
		}
		if isColour(img) {
			t.Colour = true
		} else {
			t.Grey = true
		}
		b := img.Bounds()
		switch {
		case first:
			t.W, t.H, first = b.Dx(), b.Dy(), false
		case b.Dx() != t.W || b.Dy() != t.H:
			t.W, t.H = 0, 0
		}
	}
	return t
}

// isColour reports whether any pixel of img (on a grid of about 32×32) has
// channels that differ.
func isColour(img image.Image) bool {
	b := img.Bounds()
	sx, sy := max(1, b.Dx()/32), max(1, b.Dy()/32)
	for y := b.Min.Y; y < b.Max.Y; y += sy {
		for x := b.Min.X; x < b.Max.X; x += sx {
			r, g, bl, _ := img.At(x, y).RGBA()
			// More than a rounding step apart: JPEG grey is not quite grey.
			if absInt(int(r>>8)-int(g>>8)) > 2 || absInt(int(g>>8)-int(bl>>8)) > 2 {
				return true
			}
		}
	}
	return false
}

// fitNotes says, one line each, how the image set does not fit model m:
// colour images for a grey model (or grey for a colour one), images far
// from the model's input size, class folders that are none of its classes.
// Results of such a pair compare unlike inputs; nil when the set fits.
func fitNotes(m Model, t setTraits) []string {
	if m == nil {
		return nil
	}
	d := m.Details()
	var notes []string
	switch {
	case d.Channels == 1 && t.Colour:
		notes = append(notes, fmt.Sprintf("%s reads 1-channel grey images but the images are in colour: they are turned grey, so its results compare grey and colour inputs", m.Name()))
	case d.Channels == 3 && t.Grey && !t.Colour:
		notes = append(notes, fmt.Sprintf("%s reads colour images but the images are grey", m.Name()))
	}
	if t.W > 0 && d.Width > 0 && d.Height > 0 && (t.W > 2*d.Width || 2*t.W < d.Width || t.H > 2*d.Height || 2*t.H < d.Height) {
		notes = append(notes, fmt.Sprintf("the images are %d×%d but %s reads %d×%d: every image is resized", t.W, t.H, m.Name(), d.Width, d.Height))
	}
	if len(t.Classes) > 0 {
		var unknown []string
		for _, c := range t.Classes {
			if _, err := engine.ClassIndex(m.Labels(), c); err != nil {
				unknown = append(unknown, c)
			}
		}
		if len(unknown) == len(t.Classes) {
			notes = append(notes, fmt.Sprintf("none of the class folders (%s) is a class of %s: open images of its classes", abbreviate(unknown, 4), m.Name()))
		} else if len(unknown) > 0 {
			notes = append(notes, fmt.Sprintf("class folders %s are not classes of %s", abbreviate(unknown, 4), m.Name()))
		}
	}
	return notes
}

// abbreviate joins the first n of s and says how many more there are.
func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:n], ", "), len(s)-n)
}

// fitWarning is the notes for every model of ms against the current set, as
// the text of a warning label ("" when all fit).
func (wb *Workbench) fitWarning(ms ...Model) string {
	var lines []string
	for _, m := range ms {
		for _, n := range fitNotes(m, wb.traits) {
			lines = append(lines, "⚠ "+n+".")
		}
	}
	return strings.Join(lines, "\n")
}
