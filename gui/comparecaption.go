package gui

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The comparison's words. A mark like ✓ read as "the attack succeeded" to
// users when it meant "the class was kept", so every verdict is a word that
// says what happened to the model's top class.
const (
	verdictChanged = "CHANGED"
	verdictKept    = "kept"
	// floatHeading and roundedHeading name the two sets of figures: the
	// adversarial as the attack crafted it (float pixels) and as a PNG
	// holds it (rounded to 8 bits), which can differ when the attack only
	// just crossed the decision boundary.
	floatHeading   = "As crafted (float pixels)"
	roundedHeading = "Saved as 8-bit PNG"
)

// verdict says whether the top class of pred differs from that of ref.
func verdict(pred, ref Prediction) string {
	if pred.Class() != ref.Class() {
		return verdictChanged
	}
	return verdictKept
}

// predLines captions an image with every model's top class; with ref set,
// each line leads with the verdict against ref's class (leading, so that
// wrapping cannot part it from its line).
func predLines(res *AttackResult, preds, ref []Prediction) string {
	var lines []string
	for i, m := range res.Models {
		if i >= len(preds) {
			break
		}
		top := preds[i].Top(1)
		if len(top) == 0 {
			continue
		}
		mark := ""
		if ref != nil && i < len(ref) {
			mark = verdict(preds[i], ref[i]) + " · "
		}
		lines = append(lines, fmt.Sprintf("%s%s: %s (%.0f%%)", mark, m.Name(), labelOf(m.Labels(), top[0].Class), 100*top[0].Prob))
	}
	return strings.Join(lines, "\n")
}

// cleanCaption is the clean column's caption: the image's file and true
// class (when its folder names one), then every model's top class.
func cleanCaption(res *AttackResult, it AttackItem, s *Sample) string {
	head := "Image #" + fmt.Sprint(it.Sample+1)
	if s != nil {
		head = filepath.Base(s.Name)
		if s.Class != "" {
			head = "True class: " + s.Class + " · " + s.Name
		}
	}
	return head + "\n" + predLines(res, it.CleanPred, nil)
}

// advCaption is the adversarial column's caption: the verdicts for the
// adversarial as crafted and, when the backend measured it, after the
// 8-bit round trip, each under its heading.
func advCaption(res *AttackResult, it AttackItem) string {
	text := floatHeading + ":\n" + predLines(res, it.AdvPred, it.CleanPred)
	if len(it.RoundedPred) > 0 {
		text += "\n" + roundedHeading + ":\n" + predLines(res, it.RoundedPred, it.CleanPred)
	} else {
		text += "\n" + roundedHeading + ": not measured"
	}
	return text
}

// gridCaption is a grid cell's three lines for the attacked model src: the
// class it sees now with the verdict, the class it saw before, and the
// verdict after the 8-bit round trip.
func gridCaption(res *AttackResult, it AttackItem) string {
	src := res.Source
	labels := res.Models[src].Labels()
	now := labelOf(labels, it.AdvPred[src].Class())
	before := labelOf(labels, it.CleanPred[src].Class())
	line1 := verdictKept + ": " + now
	line2 := " "
	if it.Flipped(src) {
		line1 = verdictChanged + " → " + now
		line2 = "was " + before
	}
	line3 := "8-bit: not measured"
	if src < len(it.RoundedPred) {
		line3 = "8-bit: " + verdict(it.RoundedPred[src], it.CleanPred[src])
	}
	return line1 + "\n" + line2 + "\n" + line3
}

// roundedRate is the share of res's images whose top class model i changed
// after the 8-bit round trip, and whether the backend measured it.
func roundedRate(res *AttackResult, i int) (float64, bool) {
	if len(res.Items) == 0 {
		return 0, false
	}
	n := 0
	for _, it := range res.Items {
		if i >= len(it.RoundedPred) {
			return 0, false
		}
		if it.FlippedRounded(i) {
			n++
		}
	}
	return float64(n) / float64(len(res.Items)), true
}

// summaryText is the share of images whose top class changed, per model,
// for the adversarials as crafted and as saved in 8 bits, each labelled.
func summaryText(res *AttackResult) string {
	order := []int{res.Source}
	for i := range res.Models {
		if i != res.Source {
			order = append(order, i)
		}
	}
	n := len(res.Items)
	rate := func(i int, flipped func(AttackItem, int) bool) string {
		k := 0
		for _, it := range res.Items {
			if flipped(it, i) {
				k++
			}
		}
		role := "transfer"
		if i == res.Source {
			role = "attacked"
		}
		return fmt.Sprintf("%s (%s) %d/%d = %.0f%%", res.Models[i].Name(), role, k, n, 100*float64(k)/float64(max(n, 1)))
	}
	var float, rounded []string
	measured := n > 0
	for _, it := range res.Items {
		measured = measured && len(it.RoundedPred) == len(res.Models)
	}
	for _, i := range order {
		float = append(float, rate(i, AttackItem.Flipped))
		if measured {
			rounded = append(rounded, rate(i, AttackItem.FlippedRounded))
		}
	}
	text := fmt.Sprintf("%s: top class changed, %s: %s", methodShort(res.Method), strings.ToLower(floatHeading), strings.Join(float, "; "))
	if measured {
		text += "\n" + roundedHeading + " (what Save images writes): " + strings.Join(rounded, "; ")
	} else {
		text += "\n" + roundedHeading + ": not measured"
	}
	return text
}
