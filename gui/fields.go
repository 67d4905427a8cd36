package gui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// numField is a numeric parameter typed into an entry: it checks its range
// as the user types, remembers its text in the preferences, and parses to a
// value with an error that names the field and says what to type.
type numField struct {
	Entry    *fieldEntry
	name     string
	min, max float64
	integer  bool
}

// newNumField returns a field named name (for error messages), showing the
// stored text under key or def, accepting [min, max] (whole numbers when
// integer).
func newNumField(p prefs, key, name, def string, min, max float64, integer bool) *numField {
	f := &numField{Entry: newFieldEntry(name), name: name, min: min, max: max, integer: integer}
	f.Entry.SetText(p.text(key, def))
	f.Entry.Validator = func(string) error { _, err := f.Value(); return err }
	f.Entry.OnChanged = func(s string) {
		if _, err := f.Value(); err == nil {
			p.setText(key, strings.TrimSpace(s))
		}
	}
	return f
}

// Value parses the field.
func (f *numField) Value() (float64, error) {
	s := strings.TrimSpace(f.Entry.Text)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: %q is not a number; %s", f.name, s, f.want())
	}
	if f.integer && v != math.Trunc(v) {
		return 0, fmt.Errorf("%s: %s is not a whole number; %s", f.name, s, f.want())
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%s: %s is out of range; %s", f.name, s, f.want())
	}
	return v, nil
}

// Int parses an integer field.
func (f *numField) Int() (int, error) {
	v, err := f.Value()
	return int(v), err
}

func (f *numField) want() string {
	kind := "a number"
	if f.integer {
		kind = "a whole number"
	}
	return fmt.Sprintf("type %s from %s to %s", kind, trimFloat(f.min), trimFloat(f.max))
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
