package modelconfig

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/advlab/advlab/internal/fsutil"
)

// MaxLabelRunes bounds the length of a sanitised label.
const MaxLabelRunes = 200

// SanitizeLabel makes s safe to print: it removes terminal escape sequences
// (CSI, OSC and other ESC sequences, and their 8-bit forms), control and
// bidirectional-override characters and invalid UTF-8, turns runs of white
// space into one space, trims, and cuts the result to MaxLabelRunes runes.
func SanitizeLabel(s string) string { return sanitize(s, MaxLabelRunes) }

// maxTextRunes bounds descriptive one-line texts (architecture, training),
// which run longer than labels.
const maxTextRunes = 4000

// sanitize is SanitizeLabel with a bound of maxRunes runes.
func sanitize(s string, maxRunes int) string {
	var b strings.Builder
	space := false
	n := 0
	emit := func(r rune) bool {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			return true
		}
		if space {
			if n >= maxRunes-1 {
				return false
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= maxRunes {
			return false
		}
		b.WriteRune(r)
		n++
		return true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			i++
			continue
		case r == 0x1b: // ESC
			i = skipEscape(s, i+1)
			continue
		case r == 0x9b: // 8-bit CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f: // 8-bit OSC, DCS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			r = ' '
		case unicode.IsControl(r) || isBidiControl(r):
			i += size
			continue
		}
		i += size
		if !emit(r) {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// skipEscape returns the index after the escape sequence whose ESC ends at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', '^', '_', 'X':
		return skipString(s, i+1)
	}
	// Two-character escapes (ESC c, ESC 7) and nF sequences (ESC ( B):
	// intermediate bytes 0x20–0x2F, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips parameter and intermediate bytes and the final byte of a CSI.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips an OSC/DCS-style string up to BEL or ST (ESC \ or 0x9c).
func skipString(s string, i int) int {
	for i < len(s) {
		if s[i] == 0x07 {
			return i + 1
		}
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
			return i + 2
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x9c {
			return i + size
		}
		i += size
	}
	return i
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// ReadLabelsFile reads the class names in file, a path relative to the
// model's folder dir that must stay inside it (see ParseLabels for the format).
func ReadLabelsFile(dir, file string) ([]string, error) {
	if file == "" || filepath.IsAbs(file) || !filepath.IsLocal(filepath.FromSlash(file)) {
		return nil, fmt.Errorf("labels file %q leaves the model's folder; give a path inside it, e.g. \"labels.txt\"", file)
	}
	path := filepath.Join(dir, filepath.FromSlash(file))
	if real, err := filepath.EvalSymlinks(path); err == nil {
		absDir, err := filepath.Abs(dir)
		if err == nil {
			if r, err2 := filepath.EvalSymlinks(absDir); err2 == nil {
				absDir = r
			}
		}
		rel, err := filepath.Rel(absDir, real)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("labels file %q links outside the model's folder; copy the file beside the model", file)
		}
	}
	data, err := fsutil.ReadRegular(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("reading labels file: %w", err)
	}
	labels, err := ParseLabels(data)
	if err != nil {
		return nil, fmt.Errorf("labels file %s: %w", file, err)
	}
	return labels, nil
}

// ParseLabels reads a labels text file: either one label per line, in class
// order, or "index,label" lines (the label may contain commas, and may be
// quoted) covering each index 0..K-1 once, optionally under one header line
// such as "index,label". Blank lines at the end are ignored; every label is
// sanitised (see SanitizeLabel).
func ParseLabels(data []byte) ([]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("it holds no labels; write one class name per line")
	}
	if len(lines) > maxLabels+1 {
		return nil, fmt.Errorf("it has %d lines, more than advlab's limit of %d classes", len(lines), maxLabels)
	}
	indexed, first := true, 0
	for i, l := range lines {
		if _, _, ok := indexLine(l); !ok {
			if i == 0 && len(lines) > 1 {
				first = 1 // a header
				continue
			}
			indexed = false
			break
		}
	}
	if !indexed {
		out := make([]string, len(lines))
		for i, l := range lines {
			if out[i] = SanitizeLabel(l); out[i] == "" {
				return nil, fmt.Errorf("line %d is empty; give every class a name, one per line", i+1)
			}
		}
		return out, nil
	}
	lines = lines[first:]
	out := make([]string, len(lines))
	for i, l := range lines {
		idx, label, _ := indexLine(l)
		line := i + first + 1
		if idx >= len(out) {
			return nil, fmt.Errorf("line %d: index %d is out of range for %d classes; number the classes 0 to %d", line, idx, len(out), len(out)-1)
		}
		if out[idx] != "" {
			return nil, fmt.Errorf("line %d: index %d is given twice", line, idx)
		}
		if out[idx] = SanitizeLabel(label); out[idx] == "" {
			return nil, fmt.Errorf("line %d: the label of class %d is empty", line, idx)
		}
	}
	return out, nil
}

// indexLine splits "12,label" (or "12, \"label\"") into its index and label.
func indexLine(l string) (int, string, bool) {
	num, label, ok := strings.Cut(l, ",")
	if !ok {
		return 0, "", false
	}
	num = strings.TrimSpace(num)
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, "", false
	}
	idx, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	label = strings.TrimSpace(label)
	if len(label) >= 2 && label[0] == '"' && label[len(label)-1] == '"' {
		label = label[1 : len(label)-1]
	}
	return idx, label, true
}
