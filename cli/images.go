package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/internal/fsutil"
)

// imageSetFlags name a command's image set: a folder (--images DIR, in the
// ImageFolder layout or a plain folder of photos) or a CSV manifest
// (--labels-csv FILE).
type imageSetFlags struct{ dir, csv string }

// register adds --images, described by dirHelp, and --labels-csv to fs.
func (f *imageSetFlags) register(fs *flag.FlagSet, dirHelp string) {
	fs.StringVar(&f.dir, "images", "", dirHelp)
	fs.StringVar(&f.csv, "labels-csv", "", "CSV manifest of images and labels instead of --images: a header naming the file (path, file, filename, image) and label (label, class, classid) columns, paths relative to the CSV's folder")
}

// inputs names the flags' paths for checkOutputs.
func (f *imageSetFlags) inputs() []fsutil.Path {
	return []fsutil.Path{{Flag: "--images", Path: f.dir}, {Flag: "--labels-csv", Path: f.csv}}
}

// given reports whether either flag names a set.
func (f *imageSetFlags) given() bool { return f.dir != "" || f.csv != "" }

// source names the set in reports.
func (f *imageSetFlags) source() string {
	if f.csv != "" {
		return f.csv
	}
	return f.dir
}

// loadImageSet reads the set the flags name for a command, printing the
// loader's notes to stderr; a missing or empty set is a usage error. limit >
// 0 keeps that many images, spread over the classes, and decodes only those.
// ctx cancels the reading between images.
func loadImageSet(ctx context.Context, env *Env, set imageSetFlags, limit int) (*engine.Dataset, error) {
	switch {
	case set.dir != "" && set.csv != "":
		return nil, usagef("--images and --labels-csv exclude each other: give one")
	case !set.given():
		return nil, usagef("--images DIR (DIR/<class>/<image>.png, or a folder of images) or --labels-csv FILE is required")
	case limit < 0:
		return nil, usagef("--limit %d must be at least 0", limit)
	}
	var ds *engine.Dataset
	var err error
	flagName := "--images"
	if set.csv != "" {
		flagName = "--labels-csv"
		ds, err = engine.LoadImageManifestContext(ctx, set.csv, limit)
	} else {
		ds, err = engine.LoadImageFolderContext(ctx, set.dir, limit)
	}
	if err != nil {
		if errors.Is(err, engine.ErrNoImages) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, engine.ErrOverBudget) {
			return nil, usagef("%s: %v", flagName, err)
		}
		return nil, err
	}
	for _, n := range ds.Notes {
		fmt.Fprintf(env.Stderr, "note: %s\n", n)
	}
	return ds, nil
}

// noteUnlabelled prints, for each classifier that sees none of the images'
// true classes, that success is measured against its clean predictions.
func noteUnlabelled(env *Env, cs []engine.Classifier, ds *engine.Dataset) {
	for _, c := range cs {
		if n := ds.UnlabelledNote(c.Labels()); n != "" {
			fmt.Fprintf(env.Stderr, "note: %s (%s)\n", n, c.Name())
		}
	}
}
