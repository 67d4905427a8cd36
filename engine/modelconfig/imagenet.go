package modelconfig

import (
	_ "embed"
	"strings"
	"sync"
)

// imagenet1k.txt holds the 1000 ImageNet-1k classes in the standard order, one
// a line: the short name advlab shows, a tab, and the class's WordNet synonyms.
// It was generated from /work/shared/realworld/labels/imagenet1000_winml_Labels.txt
// ("index,synonym, synonym, ..." lines; the last line's stray closing quote
// dropped) by taking each entry's first synonym, except where that repeats
// another class's: 134 "crane (bird)" and 517 "crane (machine)" (both entries
// are just "crane"), and 639 "tank suit" (638 is "maillot", 639 "maillot, tank
// suit"):
//
//	python3 -c 'import sys; fix={134:"crane (bird)",517:"crane (machine)",639:"tank suit"}
//	for i,l in enumerate(open(sys.argv[1])):
//	    full=l.rstrip("\n").split(",",1)[1].strip().strip("\"")
//	    print(fix.get(i, full.split(",")[0].strip())+"\t"+full)' imagenet1000_winml_Labels.txt
//
//go:embed imagenet1k.txt
var imagenetText string

// imagenet1k_wnids.txt holds the classes' WordNet ids (n01440764 …), one a
// line in the same order, which is their sorted order: ImageNet-1k numbers
// its classes by sorting their WordNet ids. ImageNet's own folders are named
// by them.
//
//go:embed imagenet1k_wnids.txt
var imagenetWNIDText string

// imagenetWNIDs returns the WordNet id of each of the 1000 classes.
var imagenetWNIDs = sync.OnceValue(func() []string {
	return strings.Fields(imagenetWNIDText)
})

var imagenet = sync.OnceValues(func() (short []string, synonyms [][]string) {
	for _, l := range strings.Split(strings.TrimSuffix(imagenetText, "\n"), "\n") {
		name, full, _ := strings.Cut(l, "\t")
		short = append(short, name)
		var syn []string
		for _, s := range strings.Split(full, ",") {
			syn = append(syn, strings.TrimSpace(s))
		}
		synonyms = append(synonyms, syn)
	}
	return short, synonyms
})

// ImageNetLabels returns the built-in ImageNet-1k class names for a model with
// k outputs: the 1000 classes for k = 1000, and "background" followed by them
// for k = 1001 (TensorFlow's models). ok is false for any other k.
func ImageNetLabels(k int) (labels []string, ok bool) {
	short, _ := imagenet()
	switch k {
	case 1000:
		return append([]string(nil), short...), true
	case 1001:
		return append([]string{"background"}, short...), true
	}
	return nil, false
}

// imagenetSynonyms returns the WordNet synonyms of each class when labels is
// the built-in ImageNet list (with or without background), else nil.
func imagenetSynonyms(labels []string) [][]string {
	short, syn := imagenet()
	off := len(labels) - len(short)
	if off != 0 && off != 1 {
		return nil
	}
	if off == 1 && labels[0] != "background" {
		return nil
	}
	for i, s := range short {
		if labels[i+off] != s {
			return nil
		}
	}
	if off == 0 {
		return syn
	}
	return append([][]string{{"background"}}, syn...)
}
