package imgops

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/advlab/advlab/internal/fsutil"
)

// image/png writes neither the physical resolution (pHYs) nor text chunks
// and reads neither back, so imgops inserts and parses those chunks itself
// on top of its output (PNG specification, 3rd edition, §11.3).

const pngSignature = "\x89PNG\r\n\x1a\n"

// maxTextBytes bounds the inflated size of a compressed text chunk, so that
// a small hostile file cannot expand into gigabytes.
const maxTextBytes = 8 << 20

// metresPerInch converts dots per inch to the pixels per metre of pHYs.
const metresPerInch = 0.0254

// Chunk is one PNG chunk: its four-letter type and its data (length and CRC
// are computed when it is written).
type Chunk struct {
	// Type is the chunk's four-letter type, such as "pHYs" or "iTXt".
	Type string
	// Data is the chunk's content, without length or CRC.
	Data []byte
}

// ReadChunks splits a PNG file into its chunks, up to and including IEND,
// checking the signature, every length and every CRC. The data of each chunk
// aliases data. It never panics on hostile input.
func ReadChunks(data []byte) ([]Chunk, error) {
	if !bytes.HasPrefix(data, []byte(pngSignature)) {
		return nil, errors.New("not a PNG file (bad signature)")
	}
	rest := data[len(pngSignature):]
	var chunks []Chunk
	for {
		if len(rest) < 12 {
			return nil, fmt.Errorf("PNG truncated after %d chunks (no IEND)", len(chunks))
		}
		n := binary.BigEndian.Uint32(rest)
		if n > 1<<31-1 || uint64(n) > uint64(len(rest)-12) {
			return nil, fmt.Errorf("PNG chunk %d declares %d bytes; only %d remain", len(chunks), n, len(rest)-12)
		}
		typ := rest[4:8]
		for _, b := range typ {
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
				return nil, fmt.Errorf("PNG chunk %d has an invalid type %q", len(chunks), typ)
			}
		}
		body := rest[8 : 8+n]
		want := binary.BigEndian.Uint32(rest[8+n:])
		if got := crc32.Update(crc32.ChecksumIEEE(typ), crc32.IEEETable, body); got != want {
			return nil, fmt.Errorf("PNG chunk %s: CRC %08x, want %08x", typ, got, want)
		}
		chunks = append(chunks, Chunk{Type: string(typ), Data: body})
		rest = rest[12+n:]
		if string(typ) == "IEND" {
			return chunks, nil
		}
	}
}

// appendChunk appends c to buf with its length and CRC.
func appendChunk(buf []byte, c Chunk) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(c.Data)))
	start := len(buf)
	buf = append(buf, c.Type...)
	buf = append(buf, c.Data...)
	return binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf[start:]))
}

// InsertChunks returns the PNG file data with chunks inserted right after
// its IHDR, where pHYs must be (before IDAT) and where text chunks are read
// first. A pHYs already present is dropped when chunks hold a new one.
func InsertChunks(data []byte, chunks ...Chunk) ([]byte, error) {
	old, err := ReadChunks(data)
	if err != nil {
		return nil, err
	}
	if len(old) == 0 || old[0].Type != "IHDR" {
		return nil, errors.New("PNG does not start with IHDR")
	}
	newPhys := slices.ContainsFunc(chunks, func(c Chunk) bool { return c.Type == "pHYs" })
	for _, c := range chunks {
		if len(c.Type) != 4 || uint64(len(c.Data)) > 1<<31-1 {
			return nil, fmt.Errorf("invalid chunk %q of %d bytes", c.Type, len(c.Data))
		}
	}
	out := append(make([]byte, 0, len(data)+64), pngSignature...)
	out = appendChunk(out, old[0])
	for _, c := range chunks {
		out = appendChunk(out, c)
	}
	for _, c := range old[1:] {
		if newPhys && c.Type == "pHYs" {
			continue
		}
		out = appendChunk(out, c)
	}
	return out, nil
}

// PhysChunk returns a pHYs chunk recording dpi dots per inch, as pixels per
// metre (rounded) in both directions.
func PhysChunk(dpi float64) Chunk {
	ppm := uint32(math.Round(dpi / metresPerInch))
	d := binary.BigEndian.AppendUint32(nil, ppm)
	d = binary.BigEndian.AppendUint32(d, ppm)
	return Chunk{Type: "pHYs", Data: append(d, 1)}
}

// TextChunk returns a text chunk: tEXt when text is printable ASCII (plus
// newlines), otherwise iTXt holding UTF-8. The keyword must be 1–79
// printable Latin-1 characters without leading, trailing or double spaces.
func TextChunk(keyword, text string) (Chunk, error) {
	if err := checkKeyword(keyword); err != nil {
		return Chunk{}, err
	}
	if !utf8.ValidString(text) {
		return Chunk{}, fmt.Errorf("PNG text %q is not UTF-8", keyword)
	}
	if isPlainASCII(text) {
		return Chunk{Type: "tEXt", Data: []byte(keyword + "\x00" + text)}, nil
	}
	// keyword, NUL, compression flag 0, method 0, empty language tag NUL,
	// empty translated keyword NUL, text.
	return Chunk{Type: "iTXt", Data: []byte(keyword + "\x00\x00\x00\x00\x00" + text)}, nil
}

func checkKeyword(k string) error {
	if len(k) == 0 || len(k) > 79 || strings.HasPrefix(k, " ") || strings.HasSuffix(k, " ") || strings.Contains(k, "  ") {
		return fmt.Errorf("PNG text keyword %q: want 1-79 characters without leading, trailing or double spaces", k)
	}
	for _, r := range k {
		if !(r >= 32 && r <= 126 || r >= 161 && r <= 255) {
			return fmt.Errorf("PNG text keyword %q: want printable Latin-1 characters", k)
		}
	}
	return nil
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 32 && c <= 126 || c == '\n') {
			return false
		}
	}
	return true
}

// PNGInfo is what a PNG file says about itself beyond its pixels.
type PNGInfo struct {
	// DPI is the physical resolution from pHYs in dots per inch (x
	// direction), or 0 when the file has none or gives no unit.
	DPI float64
	// Text maps each tEXt, zTXt and iTXt keyword to its text, in UTF-8.
	Text map[string]string
}

// ReadPNGInfo parses the physical resolution and the text chunks of PNG file
// data. Malformed text chunks are errors; it never panics on hostile input.
func ReadPNGInfo(data []byte) (PNGInfo, error) {
	chunks, err := ReadChunks(data)
	if err != nil {
		return PNGInfo{}, err
	}
	info := PNGInfo{Text: map[string]string{}}
	for _, c := range chunks {
		switch c.Type {
		case "pHYs":
			if len(c.Data) != 9 {
				return PNGInfo{}, fmt.Errorf("PNG pHYs chunk has %d bytes; want 9", len(c.Data))
			}
			if c.Data[8] == 1 {
				info.DPI = float64(binary.BigEndian.Uint32(c.Data)) * metresPerInch
			}
		case "tEXt", "zTXt", "iTXt":
			k, v, err := parseText(c)
			if err != nil {
				return PNGInfo{}, err
			}
			info.Text[k] = v
		}
	}
	return info, nil
}

// parseText decodes one text chunk into its keyword and UTF-8 text.
func parseText(c Chunk) (string, string, error) {
	key, rest, ok := bytes.Cut(c.Data, []byte{0})
	if !ok || len(key) == 0 || len(key) > 79 {
		return "", "", fmt.Errorf("PNG %s chunk has no valid keyword", c.Type)
	}
	keyword := latin1(key)
	switch c.Type {
	case "tEXt":
		return keyword, latin1(rest), nil
	case "zTXt":
		if len(rest) < 1 || rest[0] != 0 {
			return "", "", fmt.Errorf("PNG zTXt %q: unknown compression method", keyword)
		}
		text, err := inflateText(rest[1:])
		if err != nil {
			return "", "", fmt.Errorf("PNG zTXt %q: %w", keyword, err)
		}
		return keyword, latin1(text), nil
	}
	if len(rest) < 2 {
		return "", "", fmt.Errorf("PNG iTXt %q is truncated", keyword)
	}
	compressed, method := rest[0], rest[1]
	rest = rest[2:]
	_, rest, ok1 := bytes.Cut(rest, []byte{0}) // language tag
	_, rest, ok2 := bytes.Cut(rest, []byte{0}) // translated keyword
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf("PNG iTXt %q is truncated", keyword)
	}
	text := rest
	switch {
	case compressed == 1 && method == 0:
		var err error
		if text, err = inflateText(rest); err != nil {
			return "", "", fmt.Errorf("PNG iTXt %q: %w", keyword, err)
		}
	case compressed != 0:
		return "", "", fmt.Errorf("PNG iTXt %q: unknown compression", keyword)
	}
	if !utf8.Valid(text) {
		return "", "", fmt.Errorf("PNG iTXt %q is not UTF-8", keyword)
	}
	return keyword, string(text), nil
}

func inflateText(data []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxTextBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxTextBytes {
		return nil, fmt.Errorf("text inflates beyond %d bytes", maxTextBytes)
	}
	return out, nil
}

// latin1 converts ISO 8859-1 bytes to a UTF-8 string.
func latin1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// EncodePNG writes img as a PNG with its physical resolution (pHYs at dpi;
// none when dpi is 0) and the text chunks of text, in keyword order.
func EncodePNG(w io.Writer, img image.Image, dpi float64, text map[string]string) error {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return fmt.Errorf("encoding PNG: %w", err)
	}
	var chunks []Chunk
	if dpi > 0 {
		chunks = append(chunks, PhysChunk(dpi))
	}
	keys := make([]string, 0, len(text))
	for k := range text {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c, err := TextChunk(k, text[k])
		if err != nil {
			return err
		}
		chunks = append(chunks, c)
	}
	out, err := InsertChunks(buf.Bytes(), chunks...)
	if err != nil {
		return fmt.Errorf("adding PNG chunks: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// WritePNG is EncodePNG into the file at path, written atomically.
func WritePNG(path string, img image.Image, dpi float64, text map[string]string) error {
	return fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		return EncodePNG(w, img, dpi, text)
	})
}
