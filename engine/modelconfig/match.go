package modelconfig

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// MatchLabel finds the class a name (such as an image folder's name) stands
// for. It tries, in order, and stops at the first rule that matches: the exact
// label; the label ignoring case, with underscores, hyphens and spaces
// equivalent; a whole comma-separated synonym list ("tench, Tinca tinca");
// the first synonym of a label; any synonym; and, when no label is itself a
// number, a class index. For the built-in ImageNet labels the synonyms are
// WordNet's. A name that matches several classes under the first rule that
// matches is an error naming them. A WordNet id (n01440764) names its class
// among the built-in ImageNet labels, as ImageNet's own folders do.
func MatchLabel(labels []string, name string) (int, error) {
	if len(labels) == 0 {
		return -1, fmt.Errorf("the model has no labels to match %q against", name)
	}
	normLabel, normSyn := normalized(labels)
	n, whole := normalize(name), normalize(strings.Join(splitSyn(name), ","))
	rules := []func(i int) bool{
		func(i int) bool { return labels[i] == name },
		func(i int) bool { return normLabel[i] == n },
		func(i int) bool { return strings.Join(normSyn[i], ",") == whole },
		func(i int) bool { return normSyn[i][0] == n },
		func(i int) bool {
			for _, x := range normSyn[i] {
				if x == n {
					return true
				}
			}
			return false
		},
	}
	for _, rule := range rules {
		var hits []int
		for i := range labels {
			if rule(i) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return hits[0], nil
		}
		var names []string
		for _, h := range hits {
			names = append(names, fmt.Sprintf("%d %q", h, labels[h]))
		}
		return -1, fmt.Errorf("%q matches %d classes (%s); name the class exactly or by its index", SanitizeLabel(name), len(hits), strings.Join(names, ", "))
	}
	if i, err := strconv.Atoi(strings.TrimSpace(name)); err == nil && !anyNumeric(labels) {
		if i >= 0 && i < len(labels) {
			return i, nil
		}
		return -1, fmt.Errorf("class index %d is out of range; the model has classes 0 to %d", i, len(labels)-1)
	}
	if isWordNetID(name) {
		if imagenetSynonyms(labels) != nil {
			off := len(labels) - 1000 // the background entry of 1001 classes
			for i, id := range imagenetWNIDs() {
				if id == name {
					return i + off, nil
				}
			}
			return -1, fmt.Errorf("%q is no ImageNet-1k WordNet id; name the folder by the class's name or index", name)
		}
		return -1, fmt.Errorf("%q looks like a WordNet id, but the model's labels are not ImageNet-1k's; name the folder by the class's name, e.g. %q, or its index", name, labels[0])
	}
	hint := ""
	if c := closest(name, labels); c != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", c)
	}
	shown := labels
	if len(shown) > 20 {
		shown = append(append([]string{}, shown[:20]...), "…")
	}
	return -1, fmt.Errorf("%q is not one of the model's classes%s; they are %s", SanitizeLabel(name), hint, strings.Join(shown, ", "))
}

// normalized returns each label normalised, and its synonyms normalised:
// WordNet's for the built-in ImageNet lists (computed once), else the label's
// comma-separated parts.
func normalized(labels []string) ([]string, [][]string) {
	if imagenetSynonyms(labels) != nil {
		idx := imagenetIndex()
		off := 1 - (len(labels) - 1000) // skip the background entry for 1000 classes
		return idx.label[off:], idx.syn[off:]
	}
	return buildIndex(labels, nil)
}

type normIndex struct {
	label []string
	syn   [][]string
}

// imagenetIndex holds the normalised 1001-class list (background first).
var imagenetIndex = sync.OnceValue(func() normIndex {
	labels, _ := ImageNetLabels(1001)
	l, s := buildIndex(labels, imagenetSynonyms(labels))
	return normIndex{l, s}
})

func buildIndex(labels []string, syn [][]string) ([]string, [][]string) {
	normLabel := make([]string, len(labels))
	normSyn := make([][]string, len(labels))
	for i, l := range labels {
		normLabel[i] = normalize(l)
		parts := splitSyn(l)
		if syn != nil {
			parts = syn[i]
		}
		for _, x := range parts {
			normSyn[i] = append(normSyn[i], normalize(x))
		}
	}
	return normLabel, normSyn
}

// normalize folds case and treats runs of underscores, hyphens and spaces as one space.
func normalize(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '_' || r == '-' || r == ' ' || r == '\t' })
	return strings.Join(f, " ")
}

func splitSyn(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

func anyNumeric(labels []string) bool {
	for _, l := range labels {
		if _, err := strconv.Atoi(l); err == nil {
			return true
		}
	}
	return false
}

func isWordNetID(s string) bool {
	if len(s) != 9 || s[0] != 'n' {
		return false
	}
	return strings.TrimLeft(s[1:], "0123456789") == ""
}
