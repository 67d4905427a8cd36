package imgops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// lengthUnits converts each accepted unit to millimetres.
var lengthUnits = map[string]float64{"mm": 1, "cm": 10, "in": 25.4}

// ParseLength parses a physical length such as "5cm", "50 mm" or "2in" and
// returns it in millimetres. Errors are one line, say what to write, and
// leave naming the input to the caller (e.g. "--size 5xx: unknown unit").
func ParseLength(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+')
	})
	if i < 0 {
		return 0, errors.New("no unit; use cm, mm or in (e.g. 5cm)")
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mm, ok := lengthUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q; use cm, mm or in (e.g. 5cm)", unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) {
		return 0, errors.New("want a positive number before the unit (e.g. 5cm)")
	}
	return v * mm, nil
}

// Paper is a sheet size for the PDF export.
type Paper string

// The paper sizes the PDF export knows.
const (
	A4     Paper = "a4"
	Letter Paper = "letter"
)

// ParsePaper parses a paper name, case-insensitively; "" means A4.
func ParsePaper(s string) (Paper, error) {
	switch p := Paper(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return A4, nil
	case A4, Letter:
		return p, nil
	}
	return "", fmt.Errorf("unknown paper %q; use a4 or letter", s)
}

// Size returns the sheet's width and height in millimetres (portrait).
func (p Paper) Size() (w, h float64) {
	if p == Letter {
		return 215.9, 279.4
	}
	return 210, 297
}
