package modelconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// realworld is the shared folder of third-party models, labels and images:
// the repository root's sibling shared/realworld, or ADVLAB_REALWORLD where a
// checkout lives elsewhere (a worktree). Tests that need it skip without it.
var realworld = func() string {
	if d := os.Getenv("ADVLAB_REALWORLD"); d != "" {
		return d
	}
	return "../../../shared/realworld"
}()

func TestImageNetLabels(t *testing.T) {
	tests := []struct {
		k     int
		ok    bool
		known map[int]string
	}{
		{1000, true, map[int]string{0: "tench", 1: "goldfish", 2: "great white shark", 134: "crane (bird)", 517: "crane (machine)",
			638: "maillot", 639: "tank suit", 999: "toilet tissue"}},
		{1001, true, map[int]string{0: "background", 1: "tench", 2: "goldfish", 1000: "toilet tissue"}},
		{10, false, nil},
		{0, false, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("k=", tt.k), func(t *testing.T) {
			l, ok := ImageNetLabels(tt.k)
			if ok != tt.ok || (ok && len(l) != tt.k) {
				t.Fatalf("ImageNetLabels(%d) = %d labels, %v", tt.k, len(l), ok)
			}
			for i, want := range tt.known {
				if l[i] != want {
					t.Errorf("label %d = %q, want %q", i, l[i], want)
				}
			}
			seen := map[string]int{}
			for i, s := range l {
				if j, dup := seen[s]; dup {
					t.Errorf("labels %d and %d are both %q", j, i, s)
				}
				seen[s] = i
				if s != SanitizeLabel(s) || s == "" {
					t.Errorf("label %d %q is not clean", i, s)
				}
			}
		})
	}
	l, _ := ImageNetLabels(1000)
	l[0] = "changed"
	if again, _ := ImageNetLabels(1000); again[0] != "tench" {
		t.Error("ImageNetLabels returns a shared slice")
	}
}

// TestImageNetLabelsMatchSource checks the embedded list against the label
// files it was generated from, and the 1001-class variant against its own file.
func TestImageNetLabelsMatchSource(t *testing.T) {
	for _, tt := range []struct {
		file    string
		k       int
		indexed bool
	}{
		{"imagenet1000_winml_Labels.txt", 1000, true},
		{"imagenet1001_with_background_coral.txt", 1001, false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(realworld, "labels", tt.file))
			if err != nil {
				t.Skip("shared/realworld labels absent:", err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			labels, _ := ImageNetLabels(tt.k)
			if len(lines) != tt.k {
				t.Fatalf("%s has %d lines, want %d", tt.file, len(lines), tt.k)
			}
			entries := make([]string, len(lines))
			count := map[string]int{}
			for i, l := range lines {
				if tt.indexed {
					_, l, _ = strings.Cut(l, ",")
				}
				entries[i] = strings.Trim(strings.TrimSpace(l), `"`)
				count[entries[i]]++
			}
			for i, entry := range entries {
				got, err := MatchLabel(labels, entry)
				if count[entry] > 1 { // "crane" names two classes: it must be refused as ambiguous
					if err == nil || !strings.Contains(err.Error(), "matches 2 classes") {
						t.Errorf("line %d %q matches class %d (%v), want an ambiguity error", i, entry, got, err)
					}
					continue
				}
				if err != nil || got != i {
					t.Errorf("line %d %q matches class %d (%v), want %d", i, entry, got, err, i)
				}
				first := strings.TrimSpace(strings.Split(entry, ",")[0])
				if labels[i] != first && !strings.HasPrefix(labels[i], first+" (") && !strings.Contains(entry, labels[i]) {
					t.Errorf("class %d is %q, not a name from %q", i, labels[i], entry)
				}
			}
		})
	}
}

// TestMatchRealWorldFolders matches every ImageNet sample folder name to the
// class whose line of the label file carries that name.
func TestMatchRealWorldFolders(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(realworld, "labels", "imagenet1000_winml_Labels.txt"))
	if err != nil {
		t.Skip("shared/realworld absent:", err)
	}
	want := map[string]int{}
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		_, entry, _ := strings.Cut(l, ",")
		want[strings.Trim(entry, `"`)] = i
	}
	dirs, err := os.ReadDir(filepath.Join(realworld, "data", "imagenet"))
	if err != nil || len(dirs) == 0 {
		t.Skip("no ImageNet sample folders:", err)
	}
	for _, k := range []int{1000, 1001} {
		labels, _ := ImageNetLabels(k)
		for _, d := range dirs {
			idx, ok := want[d.Name()]
			if !ok {
				t.Errorf("folder %q is not a line of the label file", d.Name())
				continue
			}
			if got, err := MatchLabel(labels, d.Name()); err != nil || got != idx+k-1000 {
				t.Errorf("k=%d: folder %q matches %d (%v), want %d", k, d.Name(), got, err, idx+k-1000)
			}
		}
	}
}

func TestMatchLabel(t *testing.T) {
	imagenet, _ := ImageNetLabels(1000)
	tf, _ := ImageNetLabels(1001)
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	signs := []string{"stop", "general_caution", "speed limit 30", "Yield"}
	tests := []struct {
		name    string
		labels  []string
		in      string
		want    int
		wantErr string
	}{
		{"exact", signs, "stop", 0, ""},
		{"case", signs, "yield", 3, ""},
		{"underscore for space", signs, "speed_limit_30", 2, ""},
		{"hyphen for underscore", signs, "General-Caution", 1, ""},
		{"index", signs, "2", 2, ""},
		{"index out of range", signs, "7", -1, "class index 7 is out of range"},
		{"numeric labels are names", []string{"1", "2", "3"}, "1", 0, ""},
		{"numeric labels no index fallback", []string{"1", "2", "3"}, "0", -1, "is not one of the model's classes"},
		{"digits", digits, "7", 7, ""},
		{"unknown suggests", signs, "stopp", -1, `did you mean "stop"?`},
		{"imagenet short", imagenet, "goldfish", 1, ""},
		{"imagenet full entry", imagenet, "goldfish, Carassius auratus", 1, ""},
		{"imagenet synonym", imagenet, "white shark", 2, ""},
		{"imagenet scientific", imagenet, "carcharodon_carcharias", 2, ""},
		{"imagenet maillot", imagenet, "maillot", 638, ""},
		{"imagenet tank suit entry", imagenet, "maillot, tank suit", 639, ""},
		{"imagenet crane ambiguous", imagenet, "crane", -1, `matches 2 classes (134 "crane (bird)", 517 "crane (machine)")`},
		{"imagenet crane bird", imagenet, "crane (bird)", 134, ""},
		{"imagenet index", imagenet, "999", 999, ""},
		{"tf background", tf, "background", 0, ""},
		{"tf shifted", tf, "tench", 1, ""},
		{"wnid", imagenet, "n01440764", 0, ""},
		{"wnid last", imagenet, "n15075141", 999, ""},
		{"wnid tf shifted", tf, "n01443537", 2, ""},
		{"wnid unknown", imagenet, "n00000001", -1, "no ImageNet-1k WordNet id"},
		{"wnid without ImageNet labels", signs, "n01440764", -1, "not ImageNet-1k's"},
		{"user synonyms", []string{"tench, Tinca tinca", "goldfish, Carassius auratus"}, "Tinca tinca", 0, ""},
		{"user ambiguous", []string{"a", "A"}, "A ", -1, "matches 2 classes"},
		{"no labels", nil, "x", -1, "no labels"},
		{"escape codes in name", signs, "\x1b[2Jnope", -1, `"nope" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MatchLabel(tt.labels, tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("MatchLabel(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("MatchLabel(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestWordNetIDsMatchTheSamples checks the built-in WordNet ids against the
// shared ImageNet photos, each named n<id>_<class>.jpg in its class's folder:
// the id and the folder name must give the same class.
func TestWordNetIDsMatchTheSamples(t *testing.T) {
	if ids := imagenetWNIDs(); len(ids) != 1000 || !slices.IsSorted(ids) {
		t.Fatalf("%d WordNet ids, sorted %v; want the 1000 of ImageNet-1k in sorted order", len(ids), slices.IsSorted(ids))
	}
	dir := realworld
	files, _ := filepath.Glob(filepath.Join(dir, "data", "imagenet", "*", "n*.jpg"))
	if len(files) == 0 {
		t.Skip("no ImageNet samples in", dir)
	}
	labels, _ := ImageNetLabels(1000)
	for _, f := range files {
		id, _, _ := strings.Cut(filepath.Base(f), "_")
		byID, err := MatchLabel(labels, id)
		if err != nil {
			t.Fatal(err)
		}
		byName, err := MatchLabel(labels, filepath.Base(filepath.Dir(f)))
		if err != nil || byID != byName {
			t.Errorf("%s: WordNet id gives class %d, the folder %d (%v)", f, byID, byName, err)
		}
	}
}
