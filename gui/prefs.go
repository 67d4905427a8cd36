package gui

import (
	"strconv"

	"fyne.io/fyne/v2"
)

// Preference keys. Recent files are lists, most recent first; parameters are
// stored as the text of their fields, so that what the user typed comes back
// exactly.
const (
	prefRecentModels  = "recent.models"
	prefRecentFolders = "recent.folders"
	prefRecentPatches = "recent.patches"
	prefLastDir       = "last.dir"
	maxRecent         = 8
)

// prefs wraps the app's preferences with the workbench's conventions.
type prefs struct{ p fyne.Preferences }

// recent returns the list under key.
func (p prefs) recent(key string) []string { return p.p.StringList(key) }

// addRecent puts path first in the list under key, without duplicates.
func (p prefs) addRecent(key, path string) {
	out := []string{path}
	for _, s := range p.p.StringList(key) {
		if s != path && len(out) < maxRecent {
			out = append(out, s)
		}
	}
	p.p.SetStringList(key, out)
}

// removeRecent drops path from the list under key (it no longer opens).
func (p prefs) removeRecent(key, path string) {
	var out []string
	for _, s := range p.p.StringList(key) {
		if s != path {
			out = append(out, s)
		}
	}
	p.p.SetStringList(key, out)
}

// text returns the stored text of a field, or def.
func (p prefs) text(key, def string) string { return p.p.StringWithFallback(key, def) }

// setText stores the text of a field.
func (p prefs) setText(key, v string) { p.p.SetString(key, v) }

// float parses the stored text under key, or returns def.
func (p prefs) float(key string, def float64) float64 {
	v, err := strconv.ParseFloat(p.p.String(key), 64)
	if err != nil {
		return def
	}
	return v
}
