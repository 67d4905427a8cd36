package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// pkg is one directory of the module's Go source, parsed.
type pkg struct {
	// Path is the import path; Name the package clause of its non-test files.
	Path, Name string
	// Files are its non-test files, Tests its _test.go files of the same
	// package, XTests those of the external test package.
	Files, Tests, XTests []*ast.File
	// FileNames are the paths of Files, index for index.
	FileNames []string
}

// skipDir names the folders that hold no module source: fixtures, fetched
// libraries and tools' own trees.
var skipDir = map[string]bool{"testdata": true, "testdata-cache": true, "third_party": true, "node_modules": true, "vendor": true, "dist": true}

// loadModule parses every Go file of the module whose go.mod is above this
// package, by package. The fset positions name the files for messages.
func loadModule(t *testing.T) (string, map[string]*pkg, *token.FileSet) {
	t.Helper()
	root, module := moduleRoot(t)
	fset := token.NewFileSet()
	pkgs := map[string]*pkg{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || skipDir[d.Name()]) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		ip := module
		if rel != "." {
			ip += "/" + filepath.ToSlash(rel)
		}
		p := pkgs[ip]
		if p == nil {
			p = &pkg{Path: ip}
			pkgs[ip] = p
		}
		switch {
		case !strings.HasSuffix(path, "_test.go"):
			p.Name = f.Name.Name
			p.Files = append(p.Files, f)
			p.FileNames = append(p.FileNames, path)
		case strings.HasSuffix(f.Name.Name, "_test"):
			p.XTests = append(p.XTests, f)
		default:
			p.Tests = append(p.Tests, f)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the module's source: %v", err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found %d packages under %s; want the whole module", len(pkgs), root)
	}
	return module, pkgs, fset
}

// moduleRoot finds go.mod above the working directory and returns its
// folder and module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("%s/go.mod names no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// imports returns the import paths of files, sorted, without repeats.
func imports(files []*ast.File) []string {
	seen := map[string]bool{}
	for _, f := range files {
		for _, is := range f.Imports {
			seen[strings.Trim(is.Path.Value, `"`)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
