package archtest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// layers is the module's dependency direction, top first: a package may
// import only packages of the layers below its own (the README's layout
// section draws the same picture). A new package must be placed here.
var layers = [][]string{
	{"cmd/advlab"},
	{"cli", "gui/enginebackend"},
	{"gui"},
	{"engine/eval", "engine/defense"},
	{"engine/attack", "engine/patch", "engine/internal/zootest"},
	{"engine/boxmin", "engine/onnxmodel", "engine/saliency"},
	{"engine/onnxgrad", "engine/onnxsafe", "engine/onnxupgrade", "engine/internal/testkit"},
	{"engine/onnxrt", "engine/internal/onnxproto"},
	{"engine"},
	{"imgops", "engine/modelconfig", "zoo"},
	{"internal/fsutil", "internal/humanize", "internal/clocale", "internal/archtest", "internal/treesnap"},
}

// layerViolations returns, for a graph of module-relative import paths
// (package → its imports, other modules' among them), one line for every
// package missing from layers and every import of a package that is not in
// a lower layer.
func layerViolations(graph map[string][]string, layers [][]string) []string {
	level := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			level[p] = i
		}
	}
	var out []string
	for p, deps := range graph {
		lp, ok := level[p]
		if !ok {
			out = append(out, fmt.Sprintf("%s is in no layer: place it in archtest's layers", p))
			continue
		}
		for _, d := range deps {
			if ld, ok := level[d]; ok && ld <= lp {
				out = append(out, fmt.Sprintf("%s imports %s, which is not below it", p, d))
			}
		}
	}
	sort.Strings(out)
	return out
}

// moduleGraph returns every package's imports, non-test files only, with
// the module's own packages relative to the module ("engine/onnxrt").
func moduleGraph(module string, pkgs map[string]*pkg) map[string][]string {
	graph := map[string][]string{}
	for ip, p := range pkgs {
		if len(p.Files) == 0 {
			continue
		}
		var deps []string
		for _, d := range imports(p.Files) {
			deps = append(deps, strings.TrimPrefix(strings.TrimPrefix(d, module), "/"))
		}
		graph[strings.TrimPrefix(strings.TrimPrefix(ip, module), "/")] = deps
	}
	return graph
}

// TestLayers checks the dependency direction: cli and gui/enginebackend
// above eval, attack and patch, above onnxmodel, above onnxgrad, above
// onnxrt; everything above the engine root, above imgops and modelconfig.
func TestLayers(t *testing.T) {
	module, pkgs, _ := loadModule(t)
	for _, v := range layerViolations(moduleGraph(module, pkgs), layers) {
		t.Error(v)
	}
}

// TestLayerViolationsFindsUpwardImports feeds the checker a graph with an
// upward import, an import within a layer and an unplaced package.
func TestLayerViolationsFindsUpwardImports(t *testing.T) {
	graph := map[string][]string{
		"engine/onnxrt": {"fmt", "engine/onnxgrad"},
		"engine/attack": {"engine/patch", "engine"},
		"engine/patch":  {"engine"},
		"engine/new":    {"engine"},
		"engine":        {"imgops"},
		"imgops":        nil,
	}
	lay := [][]string{{"engine/attack", "engine/patch"}, {"engine/onnxgrad"}, {"engine/onnxrt"}, {"engine"}, {"imgops"}}
	want := []string{
		"engine/attack imports engine/patch, which is not below it",
		"engine/new is in no layer: place it in archtest's layers",
		"engine/onnxrt imports engine/onnxgrad, which is not below it",
	}
	if got := layerViolations(graph, lay); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// closure returns p and every package of graph it imports, directly or not.
func closure(graph map[string][]string, p string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(q string) {
		if seen[q] {
			return
		}
		seen[q] = true
		for _, d := range graph[q] {
			visit(d)
		}
	}
	visit(p)
	return seen
}

// TestSeams checks what the layers alone allow: the engine and the image
// core never reach Fyne, not even through a test, and the GUI never reaches
// ONNX Runtime or the gradient graphs, directly or through another package
// (its tests neither; its external test package, which wires the real
// engine into the workbench's checks, may).
func TestSeams(t *testing.T) {
	module, pkgs, _ := loadModule(t)
	graph := moduleGraph(module, pkgs)
	rel := func(ip string) string { return strings.TrimPrefix(strings.TrimPrefix(ip, module), "/") }
	for ip, p := range pkgs {
		r := rel(ip)
		headless := r == "engine" || strings.HasPrefix(r, "engine/") || r == "imgops" || r == "zoo"
		if headless {
			for q := range closure(graph, r) {
				for _, d := range graph[q] {
					if strings.HasPrefix(d, "fyne.io/") {
						t.Errorf("%s reaches Fyne: %s imports %s", r, q, d)
					}
				}
			}
			for _, d := range imports(append(p.Tests, p.XTests...)) {
				if strings.HasPrefix(d, "fyne.io/") || strings.HasPrefix(d, module+"/gui") {
					t.Errorf("the tests of %s import %s", r, d)
				}
			}
		}
		if r == "gui" {
			for q := range closure(graph, r) {
				if strings.HasPrefix(q, "engine/onnx") {
					t.Errorf("gui reaches %s", q)
				}
			}
			for _, d := range imports(p.Tests) {
				if strings.HasPrefix(rel(d), "engine/onnx") {
					t.Errorf("gui's tests import %s: take a Backend and wire the engine in gui_test", d)
				}
			}
		}
	}
	if _, ok := graph["gui"]; !ok {
		t.Fatal("no gui package found")
	}
}
