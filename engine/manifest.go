package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/advlab/advlab/internal/fsutil"
)

// maxManifestBytes bounds the size of a CSV manifest.
const maxManifestBytes = 64 << 20

// manifestFileColumns and manifestLabelColumns are the header names, in order
// of preference and compared without case or punctuation, that name a
// manifest's file and label columns (GTSRB's Test.csv has ClassId and Path).
var (
	manifestFileColumns  = []string{"path", "file", "filename", "image", "imagepath", "filepath"}
	manifestLabelColumns = []string{"label", "class", "classid", "classname"}
)

// LoadImageManifest reads the images a CSV manifest lists; see
// LoadImageManifestContext.
func LoadImageManifest(csvPath string) (*Dataset, error) {
	return LoadImageManifestContext(context.Background(), csvPath, 0)
}

// LoadImageManifestContext reads the images a CSV manifest lists, with their
// labels, in the manifest's order. A header row is recognised by a column
// named path, file, filename or image (the file) and label, class or classid
// (the label, a class name or index matched by ClassIndex); other columns are
// ignored. Without a header a manifest has two columns, file then label, or
// one, files without labels. Paths are relative to the CSV's folder and must
// stay inside it, symbolic links included. limit > 0 keeps that many images,
// spread over the labels, and only those are decoded; ctx is checked between
// images.
func LoadImageManifestContext(ctx context.Context, csvPath string, limit int) (*Dataset, error) {
	data, err := fsutil.ReadRegular(csvPath, maxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the image manifest: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("image manifest %s: %w; give a CSV with a header row naming the file and label columns", csvPath, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w in the manifest %s: it is empty", ErrNoImages, csvPath)
	}
	fileCol, labelCol, header, err := manifestColumns(rows[0])
	if err != nil {
		return nil, fmt.Errorf("image manifest %s: %w", csvPath, err)
	}
	if header {
		rows = rows[1:]
	}
	root := filepath.Dir(csvPath)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("image manifest %s: %w", csvPath, err)
	}
	d := &Dataset{Root: root}
	classes := map[string]bool{}
	for i, row := range rows {
		line := i + 1
		if header {
			line++
		}
		rel := strings.TrimSpace(row[fileCol])
		p, err := manifestPath(root, realRoot, rel)
		if err != nil {
			return nil, fmt.Errorf("image manifest %s, line %d: %w", csvPath, line, err)
		}
		it := DatasetItem{Path: p, Rel: filepath.ToSlash(filepath.Clean(filepath.FromSlash(rel)))}
		if labelCol >= 0 {
			if it.Class = strings.TrimSpace(row[labelCol]); it.Class == "" {
				return nil, fmt.Errorf("image manifest %s, line %d: %s has no label; label every image or drop the label column", csvPath, line, rel)
			}
			if !classes[it.Class] {
				classes[it.Class] = true
				d.Classes = append(d.Classes, it.Class)
			}
		}
		d.Items = append(d.Items, it)
	}
	if len(d.Items) == 0 {
		return nil, fmt.Errorf("%w in the manifest %s: it lists no files", ErrNoImages, csvPath)
	}
	sort.Strings(d.Classes)
	if labelCol < 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("the manifest %s has no label column: its %d images are read as unlabelled", csvPath, len(d.Items)))
	}
	d = d.Subset(limit)
	if err := decodeItems(ctx, osSource{}, d); err != nil {
		return nil, err
	}
	return d, nil
}

// manifestColumns finds the file and label columns (label -1: none) of a
// manifest from its first row, and whether that row is a header.
func manifestColumns(first []string) (file, label int, header bool, err error) {
	names := make([]string, len(first))
	for i, c := range first {
		names[i] = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, c)
	}
	find := func(want []string) int {
		for _, w := range want {
			for i, n := range names {
				if n == w {
					return i
				}
			}
		}
		return -1
	}
	file, label = find(manifestFileColumns), find(manifestLabelColumns)
	switch {
	case file >= 0:
		return file, label, true, nil
	case label >= 0:
		return 0, 0, false, fmt.Errorf("the header names a label column but no file column; name it one of %s", strings.Join(manifestFileColumns, ", "))
	case len(first) == 2:
		return 0, 1, false, nil
	case len(first) == 1:
		return 0, -1, false, nil
	}
	return 0, 0, false, fmt.Errorf("%d columns and no header row; give a header naming the file column (%s) and the label column (%s)",
		len(first), strings.Join(manifestFileColumns, ", "), strings.Join(manifestLabelColumns, ", "))
}

// errOutsideManifest is wrapped by the errors of manifestPath for a path
// that leaves the manifest's folder.
var errOutsideManifest = errors.New("outside the manifest's folder")

// manifestPath returns the file a manifest names by rel, refusing one that
// is absolute, climbs out of root with .., or resolves through a symbolic
// link to outside realRoot (root with its links resolved).
func manifestPath(root, realRoot, rel string) (string, error) {
	if rel == "" {
		return "", errors.New("the file column is empty")
	}
	local := filepath.FromSlash(rel)
	if !filepath.IsLocal(local) {
		return "", fmt.Errorf("%q is %w; list files below it, relative to it", rel, errOutsideManifest)
	}
	p := filepath.Join(root, local)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("reading %q: %w", rel, unwrapPath(err))
	}
	if r, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(r) {
		return "", fmt.Errorf("%q links to %w; copy the file below it", rel, errOutsideManifest)
	}
	return p, nil
}

// unwrapPath returns a path error's reason without its path, which the
// caller quotes itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
