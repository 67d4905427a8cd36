package imgops

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // decoder registration
	_ "image/jpeg" // decoder registration
	_ "image/png"  // decoder registration

	"github.com/advlab/advlab/internal/fsutil"
	"github.com/disintegration/gift"
	_ "golang.org/x/image/bmp"  // decoder registration
	_ "golang.org/x/image/webp" // decoder registration
)

// MaxImagePixels bounds the pixels of one image file advlab decodes, so that
// a hostile header (a 60000×60000 PNG of a few hundred bytes) cannot make it
// allocate gigabytes: the header is read first and the image refused.
const MaxImagePixels = 64 << 20

// MaxImageBytes bounds the size of one image file advlab reads.
const MaxImageBytes = 256 << 20

// ErrUnreadableImage is wrapped by the errors of DecodeImage when the data
// is not an image of a type advlab decodes.
var ErrUnreadableImage = errors.New("not a readable image")

// ErrImageTooLarge is wrapped by the errors of DecodeImage when an image's
// header declares more than MaxImagePixels pixels.
var ErrImageTooLarge = errors.New("too large")

// DecodeImage decodes the bytes of a PNG, JPEG, GIF, BMP or WebP file, named
// name in messages. It reads the header first and refuses images of more
// than MaxImagePixels pixels; it turns a JPEG upright by its EXIF
// orientation; and when maxSide > 0 it downscales an image whose longer side
// exceeds maxSide to that side, keeping the aspect ratio (gift's linear
// resampling, which averages over the shrunk footprint), so that the image
// kept costs at most maxSide² pixels whatever the file's size. downscaled
// reports that last step.
func DecodeImage(data []byte, name string, maxSide int) (img image.Image, downscaled bool, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s is %w: %v", name, ErrUnreadableImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, false, fmt.Errorf("%s is %w: a %dx%d image is over advlab's limit of %d pixels; scale it down first",
			name, ErrImageTooLarge, cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s is %w: %v", name, ErrUnreadableImage, err)
	}
	var filters []gift.Filter
	if b := img.Bounds(); maxSide > 0 && max(b.Dx(), b.Dy()) > maxSide {
		w, h := fitSide(b.Dx(), b.Dy(), maxSide)
		filters = append(filters, gift.Resize(w, h, gift.LinearResampling))
		downscaled = true
	}
	if format == "jpeg" {
		if f := orientationFilter(jpegOrientation(data)); f != nil {
			filters = append(filters, f)
		}
	}
	if len(filters) == 0 {
		return img, false, nil
	}
	g := gift.New(filters...)
	dst := newLike(img, g.Bounds(img.Bounds()))
	g.Draw(dst, img)
	return dst, downscaled, nil
}

// fitSide returns w×h scaled so that its longer side is side, the shorter
// rounded and at least 1.
func fitSide(w, h, side int) (int, int) {
	if w >= h {
		return side, max(1, (h*side+w/2)/w)
	}
	return max(1, (w*side+h/2)/h), side
}

// newLike returns an empty image of bounds r that keeps what src's pixels
// hold: grey stays grey, 16-bit stays 16-bit, everything else is 8-bit NRGBA.
func newLike(src image.Image, r image.Rectangle) draw.Image {
	switch src.(type) {
	case *image.Gray:
		return image.NewGray(r)
	case *image.Gray16:
		return image.NewGray16(r)
	case *image.NRGBA64, *image.RGBA64:
		return image.NewNRGBA64(r)
	}
	return image.NewNRGBA(r)
}

// DecodedBytes returns the memory an image's pixels occupy, for budgets over
// many images; types it does not know count four bytes a pixel.
func DecodedBytes(img image.Image) int64 {
	switch m := img.(type) {
	case *image.Gray:
		return int64(len(m.Pix))
	case *image.Gray16:
		return int64(len(m.Pix))
	case *image.NRGBA:
		return int64(len(m.Pix))
	case *image.RGBA:
		return int64(len(m.Pix))
	case *image.NRGBA64:
		return int64(len(m.Pix))
	case *image.RGBA64:
		return int64(len(m.Pix))
	case *image.CMYK:
		return int64(len(m.Pix))
	case *image.Paletted:
		return int64(len(m.Pix)) + 4*int64(len(m.Palette))
	case *image.YCbCr:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr))
	case *image.NYCbCrA:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr) + len(m.A))
	}
	b := img.Bounds()
	return 4 * int64(b.Dx()) * int64(b.Dy())
}

// LoadImage decodes the image file at path at its own size (see
// DecodeImage), read as a regular file so that a FIFO fails at once.
func LoadImage(path string) (image.Image, error) {
	data, err := fsutil.ReadRegular(path, MaxImageBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	img, _, err := DecodeImage(data, path, 0)
	return img, err
}
