// Package treesnap records a folder tree, every path with its mode and
// content, so that a test can show that a failed or refused run changed
// nothing on disk.
package treesnap

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// File is what a Tree records of one path.
type File struct {
	Mode os.FileMode
	Data string // a regular file's content
}

// Tree maps every path under a root to what it holds.
type Tree map[string]File

// Take records every path under root, failing the test when it cannot.
func Take(tb testing.TB, root string) Tree {
	tb.Helper()
	out := Tree{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		f := File{Mode: info.Mode()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f.Data = string(b)
		}
		out[p] = f
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Diff describes how after differs from before, in path order: "removed
// P", "changed P", "added P"; "" if not at all.
func Diff(before, after Tree) string {
	var d []string
	for p, f := range before {
		if g, ok := after[p]; !ok {
			d = append(d, "removed "+p)
		} else if g != f {
			d = append(d, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "added "+p)
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i][strings.IndexByte(d[i], ' '):] < d[j][strings.IndexByte(d[j], ' '):] })
	return strings.Join(d, "; ")
}
