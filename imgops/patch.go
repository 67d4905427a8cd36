package imgops

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/disintegration/gift"
)

// Mask is a W×H coverage map in [0,1], row-major: 1 where the patch is
// opaque, 0 where it is absent, fractions on anti-aliased edges. A Mask gives
// a Patch its shape (a circle, an ellipse, a sticker outline) and, sized like
// an image, says where a patch may be placed (Options.Placement).
type Mask struct {
	// W and H are the mask's width and height in pixels.
	W, H int
	// Pix holds W*H coverages, row-major.
	Pix []float32
	// Shape names how the mask was made; it is recorded in patch files.
	Shape MaskShape
}

// MaskShape names how a mask was made. Its values are those patch files
// and checkpoints record (PatchMeta.MaskShape), so the CLI's flags, the
// workbench's choices and the trainer's options all speak them.
type MaskShape string

const (
	// MaskCircle is the disc inscribed in a square patch (CircleMask).
	MaskCircle MaskShape = "circle"
	// MaskEllipse is the ellipse inscribed in the patch (EllipseMask).
	MaskEllipse MaskShape = "ellipse"
	// MaskRect covers the whole patch (RectMask); an opaque PNG without
	// metadata loads as one.
	MaskRect MaskShape = "rect"
	// MaskAlpha is the alpha channel of an image, a sticker's outline
	// (MaskFromAlpha); a transparent PNG without metadata loads as one.
	MaskAlpha MaskShape = "alpha"
	// MaskPicture is a placement mask drawn as a picture (MaskFromImage).
	MaskPicture MaskShape = "image"
)

// maskSupersample is the number of subsamples per axis used to anti-alias
// the edges of the analytic masks.
const maskSupersample = 4

// RectMask returns a w×h mask that covers the whole rectangle.
func RectMask(w, h int) Mask {
	m := Mask{W: w, H: h, Pix: make([]float32, w*h), Shape: MaskRect}
	for i := range m.Pix {
		m.Pix[i] = 1
	}
	return m
}

// CircleMask returns a d×d mask holding the inscribed disc of diameter d.
func CircleMask(d int) Mask {
	m := EllipseMask(d, d)
	m.Shape = MaskCircle
	return m
}

// EllipseMask returns a w×h mask holding the ellipse inscribed in the
// rectangle. Edge pixels hold the fraction of the pixel the ellipse covers
// (estimated on a 4×4 grid of subsamples), so the outline is anti-aliased.
func EllipseMask(w, h int) Mask {
	m := Mask{W: w, H: h, Pix: make([]float32, w*h), Shape: MaskEllipse}
	if w <= 0 || h <= 0 {
		return m
	}
	a, b := float64(w)/2, float64(h)/2
	const n = maskSupersample
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			in := 0
			for si := 0; si < n; si++ {
				y := (float64(i) + (float64(si)+0.5)/n - b) / b
				for sj := 0; sj < n; sj++ {
					x := (float64(j) + (float64(sj)+0.5)/n - a) / a
					if x*x+y*y <= 1 {
						in++
					}
				}
			}
			m.Pix[i*w+j] = float32(in) / (n * n)
		}
	}
	return m
}

// MaskFromAlpha returns the alpha channel of img, resized to w×h with gift's
// linear resampling, as a mask: the outline of a sticker drawn in any editor.
func MaskFromAlpha(img image.Image, w, h int) Mask {
	m := maskFromImage(img, w, h, true)
	m.Shape = MaskAlpha
	return m
}

// MaskFromImage returns a mask from img resized to w×h: its alpha channel
// when img has transparent pixels, otherwise its luminance (white is 1). It
// suits placement masks drawn as black-and-white pictures.
func MaskFromImage(img image.Image, w, h int) Mask {
	m := maskFromImage(img, w, h, !isOpaque(img))
	m.Shape = MaskPicture
	return m
}

func maskFromImage(img image.Image, w, h int, alpha bool) Mask {
	m := Mask{W: w, H: h, Pix: make([]float32, w*h)}
	if w <= 0 || h <= 0 {
		return m
	}
	src := resizeNRGBA64(img, w, h)
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			o := src.PixOffset(j, i)
			px := src.Pix[o : o+8 : o+8]
			var v float32
			if alpha {
				v = float32(uint16(px[6])<<8|uint16(px[7])) / 0xffff
			} else {
				r := float32(uint16(px[0])<<8|uint16(px[1])) / 0xffff
				g := float32(uint16(px[2])<<8|uint16(px[3])) / 0xffff
				b := float32(uint16(px[4])<<8|uint16(px[5])) / 0xffff
				v = lumR*r + lumG*g + lumB*b
			}
			m.Pix[i*w+j] = v
		}
	}
	return m
}

// Area returns the sum of the mask's coverage, in pixels: the area of the
// shape. The area fraction of Brown et al. is measured with it.
func (m Mask) Area() float64 {
	var s float64
	for _, v := range m.Pix {
		s += float64(v)
	}
	return s
}

// Validate reports whether the mask's size and values are consistent.
func (m Mask) Validate() error {
	if m.W <= 0 || m.H <= 0 {
		return fmt.Errorf("mask is %d×%d; want a positive size", m.W, m.H)
	}
	if len(m.Pix) != m.W*m.H {
		return fmt.Errorf("mask is %d×%d but holds %d values", m.W, m.H, len(m.Pix))
	}
	for i, v := range m.Pix {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("mask value %d is %v; want [0,1]", i, v)
		}
	}
	return nil
}

// Patch is an adversarial patch: RGB colours in [0,1] stored CHW (3×H×W,
// planes R, G, B) and the Mask (H×W) that gives its shape. Only the pixels
// the mask covers ever reach an image.
type Patch struct {
	// W and H are the patch's width and height in pixels.
	W, H int
	// Pix holds the colours: planes R, G, B of H rows of W values.
	Pix []float32
	// Mask is the patch's W×H shape.
	Mask Mask
}

// NewGreyPatch returns a patch of mask's size filled with mid grey (0.5), the
// neutral start for training.
func NewGreyPatch(mask Mask) *Patch {
	p := &Patch{W: mask.W, H: mask.H, Pix: make([]float32, 3*mask.W*mask.H), Mask: mask}
	for i := range p.Pix {
		p.Pix[i] = 0.5
	}
	return p
}

// NewNoisePatch returns a patch of mask's size filled with uniform noise in
// [0,1] drawn from a PCG generator seeded with seed: the same seed gives the
// same patch.
func NewNoisePatch(mask Mask, seed uint64) *Patch {
	r := newRand(seed)
	p := &Patch{W: mask.W, H: mask.H, Pix: make([]float32, 3*mask.W*mask.H), Mask: mask}
	for i := range p.Pix {
		p.Pix[i] = r.Float32()
	}
	return p
}

// NewPatchFromImage returns a patch of mask's size whose colours are img
// resized (gift, linear) to that size; the alpha of img is ignored, so pair
// it with MaskFromAlpha(img, ...) for a sticker outline.
func NewPatchFromImage(img image.Image, mask Mask) *Patch {
	p := &Patch{W: mask.W, H: mask.H, Mask: mask}
	p.Pix, _ = ImageToTensor(img, 3, mask.H, mask.W)
	return p
}

// Validate reports whether the patch, its colours and its mask are
// consistent.
func (p *Patch) Validate() error {
	if p == nil {
		return errors.New("no patch")
	}
	if p.W <= 0 || p.H <= 0 {
		return fmt.Errorf("patch is %d×%d; want a positive size", p.W, p.H)
	}
	if len(p.Pix) != 3*p.W*p.H {
		return fmt.Errorf("patch is %d×%d but holds %d values; want 3×%d×%d", p.W, p.H, len(p.Pix), p.H, p.W)
	}
	if p.Mask.W != p.W || p.Mask.H != p.H {
		return fmt.Errorf("patch is %d×%d but its mask is %d×%d", p.W, p.H, p.Mask.W, p.Mask.H)
	}
	if err := p.Mask.Validate(); err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	return nil
}

// Clone returns a deep copy of p.
func (p *Patch) Clone() *Patch {
	q := *p
	q.Pix = append([]float32(nil), p.Pix...)
	q.Mask.Pix = append([]float32(nil), p.Mask.Pix...)
	return &q
}

// Clamp clips every colour to [0,1], the projection a trainer applies after
// each step.
func (p *Patch) Clamp() {
	for i, v := range p.Pix {
		p.Pix[i] = min(max(v, 0), 1)
	}
}

// Image returns the patch as an 8-bit NRGBA image with the mask in alpha, for
// previews.
func (p *Patch) Image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, p.W, p.H))
	n := p.W * p.H
	for k := 0; k < n; k++ {
		o := 4 * k
		img.Pix[o] = to8(p.Pix[k])
		img.Pix[o+1] = to8(p.Pix[n+k])
		img.Pix[o+2] = to8(p.Pix[2*n+k])
		img.Pix[o+3] = to8(p.Mask.Pix[k])
	}
	return img
}

// Thumbnail returns the patch's preview image (see Image) scaled with gift
// to fit a maxSide×maxSide box, keeping its aspect ratio, for lists and
// previews in the GUI.
func (p *Patch) Thumbnail(maxSide int) *image.NRGBA {
	src := p.Image()
	g := gift.New(gift.ResizeToFit(maxSide, maxSide, gift.LinearResampling))
	dst := image.NewNRGBA(g.Bounds(src.Bounds()))
	g.Draw(dst, src)
	return dst
}

// image64 returns the patch as a 16-bit NRGBA image with the mask in alpha.
func (p *Patch) image64() *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(0, 0, p.W, p.H))
	n := p.W * p.H
	for k := 0; k < n; k++ {
		o := 8 * k
		put16(img.Pix[o:], p.Pix[k])
		put16(img.Pix[o+2:], p.Pix[n+k])
		put16(img.Pix[o+4:], p.Pix[2*n+k])
		put16(img.Pix[o+6:], p.Mask.Pix[k])
	}
	return img
}

// Resize returns the patch resampled to w×h with gift's linear resampling.
// Colours are resized premultiplied by the mask and divided back, so the
// masked-out colours never bleed into the shape's edge.
func (p *Patch) Resize(w, h int) *Patch {
	n := p.W * p.H
	pre := image.NewRGBA64(image.Rect(0, 0, p.W, p.H))
	alpha := image.NewGray16(image.Rect(0, 0, p.W, p.H))
	for k := 0; k < n; k++ {
		m := p.Mask.Pix[k]
		o := 8 * k
		put16(pre.Pix[o:], m*p.Pix[k])
		put16(pre.Pix[o+2:], m*p.Pix[n+k])
		put16(pre.Pix[o+4:], m*p.Pix[2*n+k])
		put16(pre.Pix[o+6:], 1)
		put16(alpha.Pix[2*k:], m)
	}
	g := gift.New(gift.Resize(w, h, gift.LinearResampling))
	rpre := image.NewRGBA64(image.Rect(0, 0, w, h))
	g.Draw(rpre, pre)
	ralpha := image.NewGray16(image.Rect(0, 0, w, h))
	g.Draw(ralpha, alpha)
	q := &Patch{W: w, H: h, Pix: make([]float32, 3*w*h),
		Mask: Mask{W: w, H: h, Pix: make([]float32, w*h), Shape: p.Mask.Shape}}
	wn := w * h
	for k := 0; k < wn; k++ {
		m := get16(ralpha.Pix[2*k:])
		q.Mask.Pix[k] = m
		if m <= 0 {
			continue
		}
		o := 8 * k
		for c := 0; c < 3; c++ {
			q.Pix[c*wn+k] = min(get16(rpre.Pix[o+2*c:])/m, 1)
		}
	}
	return q
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func to8(v float32) uint8 {
	return uint8(min(max(v, 0), 1)*255 + 0.5)
}

func put16(b []byte, v float32) {
	u := uint16(min(max(v, 0), 1)*0xffff + 0.5)
	b[0], b[1] = byte(u>>8), byte(u)
}

func get16(b []byte) float32 {
	return float32(uint16(b[0])<<8|uint16(b[1])) / 0xffff
}
