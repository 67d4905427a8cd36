package imgops

import (
	"encoding/binary"

	"github.com/disintegration/gift"
)

// jpegOrientation returns the EXIF orientation (1–8, TIFF tag 0x0112) of a
// JPEG file's bytes: 1, upright, when the file has no APP1 Exif segment, no
// orientation tag or a malformed one. Only the markers before the first scan
// are read, since metadata comes before the image data.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return 1
		}
		m := data[p+1]
		switch {
		case m == 0xFF: // fill byte before a marker
			p++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // markers without a length
			p += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads the orientation tag of a TIFF header's first IFD,
// or returns 0 when there is none or it is malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := uint64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > uint64(len(t)) {
		return 0
	}
	n := uint64(bo.Uint16(t[ifd:]))
	for i := uint64(0); i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > uint64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		const typeShort = 3
		if bo.Uint16(t[e+2:]) != typeShort || bo.Uint32(t[e+4:]) != 1 {
			return 0
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

// orientationFilter returns the transform that turns an image stored with
// EXIF orientation o upright, or nil for 1 (already upright). Orientation 6
// (the stored top row is the visual right side) needs a quarter turn
// clockwise, which is gift's Rotate270 (gift turns counter-clockwise).
func orientationFilter(o int) gift.Filter {
	switch o {
	case 2:
		return gift.FlipHorizontal()
	case 3:
		return gift.Rotate180()
	case 4:
		return gift.FlipVertical()
	case 5:
		return gift.Transpose()
	case 6:
		return gift.Rotate270()
	case 7:
		return gift.Transverse()
	case 8:
		return gift.Rotate90()
	}
	return nil
}
