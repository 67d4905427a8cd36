package imgops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"time"

	"github.com/advlab/advlab/internal/fsutil"
)

// PatchKeyword is the PNG text keyword under which a patch file keeps its
// JSON metadata.
const PatchKeyword = "advlab-patch"

// PatchFormat names the version of the patch file format.
const PatchFormat = "advlab-patch/1"

// PatchMeta is the metadata a patch file carries, so that a patch file is
// self-describing: what it was trained for, against what, and how.
type PatchMeta struct {
	// Format is PatchFormat; SavePatch fills it.
	Format string `json:"format"`
	// Target is the label the patch pushes models towards.
	Target string `json:"target,omitempty"`
	// TargetIndex is the target's class index (nil when unknown or
	// untargeted).
	TargetIndex *int `json:"target_index,omitempty"`
	// Models names the models the patch was trained against.
	Models []string `json:"models,omitempty"`
	// Training holds the trainer's options as it marshals them.
	Training json.RawMessage `json:"training,omitempty"`
	// MaskShape is the mask's shape; SavePatch fills it from the mask when
	// empty.
	MaskShape MaskShape `json:"mask_shape,omitempty"`
	// Created is when the patch was made; SavePatch fills it when zero.
	Created time.Time `json:"created"`
	// Extra holds any other key/values. Numbers come back from JSON as
	// float64.
	Extra map[string]any `json:"extra,omitempty"`
}

// EncodePatch writes p as a 16-bit RGBA PNG (colours in RGB, the mask in
// alpha) with meta as JSON in an iTXt chunk, and its physical resolution
// when dpi > 0. Colours are stored un-premultiplied, so those under a
// transparent mask survive.
func EncodePatch(w io.Writer, p *Patch, meta PatchMeta, dpi float64) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("saving the patch: %w", err)
	}
	meta.Format = PatchFormat
	if meta.MaskShape == "" {
		meta.MaskShape = p.Mask.Shape
	}
	if meta.Created.IsZero() {
		meta.Created = time.Now().UTC().Truncate(time.Second)
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("saving the patch's metadata: %w", err)
	}
	return EncodePNG(w, p.image64(), dpi, map[string]string{PatchKeyword: string(js)})
}

// SavePatch writes p and meta to path as a patch file (see EncodePatch),
// atomically.
func SavePatch(path string, p *Patch, meta PatchMeta) error {
	return fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		return EncodePatch(w, p, meta, 0)
	})
}

// maxPatchPixels bounds the size of a patch file decoded into memory, and
// maxPatchFileBytes the file read: the largest patch as 16-bit RGBA
// stored uncompressed, with room for its chunks.
const (
	maxPatchPixels    = 1 << 26
	maxPatchFileBytes = 8*maxPatchPixels + 1<<20
)

// DecodePatch reads a patch file: the colours and the mask (alpha) of any
// PNG, and the metadata when the file carries it (a PNG without it gives a
// zero PatchMeta, so a sticker drawn elsewhere loads as a patch too).
func DecodePatch(data []byte) (*Patch, PatchMeta, error) {
	var meta PatchMeta
	info, err := ReadPNGInfo(data)
	if err != nil {
		return nil, meta, err
	}
	if js, ok := info.Text[PatchKeyword]; ok {
		if err := json.Unmarshal([]byte(js), &meta); err != nil {
			return nil, meta, fmt.Errorf("patch metadata: %w", err)
		}
		if err := meta.check(); err != nil {
			return nil, PatchMeta{}, fmt.Errorf("patch metadata: %w", err)
		}
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, meta, fmt.Errorf("decoding the patch: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPatchPixels {
		return nil, meta, fmt.Errorf("patch is %d×%d pixels; want at most %d", cfg.Width, cfg.Height, maxPatchPixels)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, meta, fmt.Errorf("decoding the patch: %w", err)
	}
	p := patchFromNRGBA(img)
	if isOpaque(img) {
		p.Mask.Shape = MaskRect
	}
	if meta.MaskShape != "" {
		p.Mask.Shape = meta.MaskShape
	}
	return p, meta, nil
}

// MaxClasses is the most classes a classifier advlab loads may have (the
// model gate's default class limit is this value), so no patch targets a
// class index at or beyond it.
const MaxClasses = 1 << 20

// check refuses metadata this version cannot vouch for: another format
// version, and a target index no classifier advlab loads can have.
func (meta PatchMeta) check() error {
	if meta.Format != PatchFormat {
		return fmt.Errorf("format %q is not %q, the version this advlab reads; re-save the patch with a matching advlab", meta.Format, PatchFormat)
	}
	if i := meta.TargetIndex; i != nil {
		if limit := int64(MaxClasses); *i < 0 || int64(*i) >= limit {
			return fmt.Errorf("target_index %d is outside 0..%d, the class indices advlab's models can have; the file is corrupt", *i, limit-1)
		}
	}
	return nil
}

// LoadPatch reads the patch file at path (see DecodePatch).
func LoadPatch(path string) (*Patch, PatchMeta, error) {
	data, err := fsutil.ReadRegular(path, maxPatchFileBytes)
	if err != nil {
		return nil, PatchMeta{}, fmt.Errorf("reading the patch: %w", err)
	}
	p, meta, err := DecodePatch(data)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	return p, meta, nil
}

// patchFromNRGBA converts a decoded image to a patch, reading colours
// un-premultiplied (exactly, for the NRGBA and NRGBA64 images that image/png
// returns for RGBA files) and alpha as the mask.
func patchFromNRGBA(img image.Image) *Patch {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	p := &Patch{W: w, H: h, Pix: make([]float32, 3*n), Mask: Mask{W: w, H: h, Pix: make([]float32, n), Shape: MaskAlpha}}
	var src *image.NRGBA64
	switch m := img.(type) {
	case *image.NRGBA64:
		src = m
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := m.PixOffset(b.Min.X+x, b.Min.Y+y)
				k := y*w + x
				p.Pix[k], p.Pix[n+k], p.Pix[2*n+k] = float32(m.Pix[o])/255, float32(m.Pix[o+1])/255, float32(m.Pix[o+2])/255
				p.Mask.Pix[k] = float32(m.Pix[o+3]) / 255
			}
		}
		return p
	default:
		src = resizeNRGBA64(img, w, h)
		b = src.Bounds()
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := src.PixOffset(b.Min.X+x, b.Min.Y+y)
			k := y*w + x
			p.Pix[k], p.Pix[n+k], p.Pix[2*n+k] = get16(src.Pix[o:]), get16(src.Pix[o+2:]), get16(src.Pix[o+4:])
			p.Mask.Pix[k] = get16(src.Pix[o+6:])
		}
	}
	return p
}
