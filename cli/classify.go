package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/modelconfig"
)

func init() {
	register(&command{
		name:    "classify",
		summary: "print a model's top-k classes of images or folders of images, and the accuracy over class folders",
		run:     runClassify,
	})
}

const classifyUsage = "[--model M.onnx] [--defense NAME[:k=v,…]] [--top K] [--json] (IMAGE_OR_DIR... | --labels-csv FILE)"

// classifyBatch is how many images go through the model at once.
const classifyBatch = 64

// classifyExts names the image types classify reads, for messages.
const classifyExts = ".png, .jpg, .jpeg, .gif, .bmp or .webp"

// classifyReport is the --json output.
type classifyReport struct {
	Model  string          `json:"model"`
	Labels []string        `json:"labels"`
	Top    int             `json:"top"`
	Images []classifyImage `json:"images"`
	// Accuracy is over the images in class folders; absent when there are
	// none or when a folder matches none of the model's labels.
	Accuracy *classifyAccuracy `json:"accuracy,omitempty"`
	Notes    []string          `json:"notes"`
}

// classifyImage is one image's result.
type classifyImage struct {
	File string `json:"file"`
	// Class is the image's class folder ("" for loose files), and Correct
	// whether the top class is that folder's label (absent when unknown).
	Class       string          `json:"class,omitempty"`
	Correct     *bool           `json:"correct,omitempty"`
	Predictions []classifyGuess `json:"predictions"`
}

// classifyGuess is one of an image's top-k classes.
type classifyGuess struct {
	Label       string    `json:"label"`
	Index       int       `json:"index"`
	Probability jsonFloat `json:"probability"`
}

// classifyAccuracy is the top-1 accuracy over the labelled images.
type classifyAccuracy struct {
	Correct int       `json:"correct"`
	Total   int       `json:"total"`
	Rate    jsonFloat `json:"rate"`
}

// runClassify classifies images with a model: softmax probabilities of the
// top K classes per image, as a table or one JSON object. Files are read as
// given; folders are walked recursively, and an image whose path below the
// folder starts with a class folder (DIR/<class>/.../<image>, the ImageFolder
// layout) is labelled with it, so the accuracy is reported when every such
// folder matches one of the model's labels. Images of any size are resized to
// the model's input with a note. A file with an image extension that does not
// decode stops the command with an error naming it, as everywhere in advlab:
// a silently smaller set would make accuracies incomparable. Other files in
// folders are skipped with a note.
func runClassify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "classify", classifyUsage)
	model := fs.String("model", "", "ONNX classifier to run (default: the embedded demo model)")
	top := fs.Int("top", 5, "how many of the most probable classes to print per image")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	manifest := fs.String("labels-csv", "", "classify the images a CSV manifest lists, with their labels (columns path/file/filename/image and label/class/classid)")
	var df defenseFlags
	df.register(fs, false, "classify through it", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0 && *manifest == "":
		return usagef("want images or folders of images: advlab classify %s", classifyUsage)
	case len(pos) > 0 && *manifest != "":
		return usagef("--labels-csv lists the images; give no others (%q)", pos[0])
	case *top < 1:
		return usagef("--top %d must be at least 1", *top)
	}
	if err := df.check(); err != nil {
		return err
	}
	var ds *engine.Dataset
	var notes []string
	if *manifest != "" {
		ds, err = loadImageSet(ctx, env, imageSetFlags{csv: *manifest}, 0)
	} else {
		ds, notes, err = readClassifyImages(ctx, pos)
	}
	if err != nil {
		return err
	}
	m, err := loadModel(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	var c engine.Classifier = m
	wrapped, err := df.wrap(m)
	if err != nil {
		return err
	}
	if len(wrapped) > 0 {
		c = wrapped[0]
		x, _ := ds.TensorFor(m)
		if err := calibrate(ctx, env, c, x, ds.Len()); err != nil {
			return err
		}
	}

	rep, err := classifyImages(ctx, c, ds, *top)
	if interrupted(err) && rep != nil {
		fmt.Fprintf(env.Stderr, "advlab classify: interrupted; reporting the %d of %d images done\n", len(rep.Images), ds.Len())
	} else if err != nil {
		return err
	}
	rep.Notes = append(notes, rep.Notes...)
	for _, n := range rep.Notes {
		fmt.Fprintf(env.Stderr, "note: %s\n", n)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
		return err
	}
	printClassifyReport(env.Stdout, rep)
	return err
}

// readClassifyImages reads every image the arguments name, in order (a
// folder's images sorted by path), with each image's class folder, and notes
// on what was skipped.
func readClassifyImages(ctx context.Context, args []string) (*engine.Dataset, []string, error) {
	type file struct{ path, rel, class string }
	var files []file
	var notes []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, fmt.Errorf("reading images: %w", err)
		}
		if !st.IsDir() {
			files = append(files, file{path: a, rel: filepath.Base(a)})
			continue
		}
		var found, skipped int
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			hidden := p != a && strings.HasPrefix(d.Name(), ".")
			if d.IsDir() {
				if hidden {
					return filepath.SkipDir
				}
				return nil
			}
			if hidden || !isImageFile(p) {
				skipped++
				return nil
			}
			rel, err := filepath.Rel(a, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			class := ""
			if i := strings.IndexByte(rel, '/'); i > 0 {
				class = rel[:i]
			}
			files = append(files, file{path: p, rel: rel, class: class})
			found++
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("reading images in %s: %w", a, err)
		}
		if found == 0 {
			return nil, nil, fmt.Errorf("%w in %s: expected %s files, loose or in class folders (%s/<class>/<image>)", engine.ErrNoImages, a, classifyExts, a)
		}
		if skipped > 0 {
			notes = append(notes, fmt.Sprintf("skipped %d file(s) in %s that are not %s images or are hidden", skipped, a, classifyExts))
		}
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	ds, err := engine.LoadImageFilesContext(ctx, paths)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; classify reads %s files: convert or remove it", err, classifyExts)
	}
	classes := map[string]bool{}
	for i, f := range files {
		ds.Items[i].Rel, ds.Items[i].Class = f.rel, f.class
		if f.class != "" && !classes[f.class] {
			classes[f.class] = true
			ds.Classes = append(ds.Classes, f.class)
		}
	}
	sort.Strings(ds.Classes)
	return ds, notes, nil
}

// isImageFile reports whether p has one of the extensions advlab decodes.
func isImageFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp":
		return true
	}
	return false
}

// classifyImages runs m on every image of ds and returns the top k classes of
// each, and the accuracy over the images in class folders when every folder
// matches a label of m.
//
// It checks ctx before each batch: once ctx is done it returns the report of
// the images classified so far (Images cut to them, accuracy over them)
// with ctx's error.
func classifyImages(ctx context.Context, m engine.Classifier, ds *engine.Dataset, k int) (*classifyReport, error) {
	labels := m.Labels()
	k = min(k, len(labels))
	rep := &classifyReport{Model: m.Name(), Labels: labels, Top: k, Images: make([]classifyImage, ds.Len()), Notes: []string{}}
	shape := m.InputShape()
	x, resized := ds.TensorFor(m)
	if resized > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("resized %d of %d image(s) to %dx%d, the input size of %s", resized, ds.Len(), shape.Width, shape.Height, m.Name()))
	}
	truth := make([]int, ds.Len())
	var unmatched []string
	for _, c := range ds.Classes {
		if _, err := engine.ClassIndex(labels, c); err != nil {
			unmatched = append(unmatched, modelconfig.SanitizeLabel(c))
		}
	}
	if len(unmatched) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no accuracy: class folder(s) %s match none of the labels of %s (%s)",
			strings.Join(unmatched, ", "), m.Name(), strings.Join(labels, ", ")))
	}
	labelled := 0
	for i, it := range ds.Items {
		truth[i] = -1
		if it.Class != "" && len(unmatched) == 0 {
			truth[i], _ = engine.ClassIndex(labels, it.Class)
			labelled++
		}
	}

	size, c := shape.Size(), len(labels)
	correct := 0
	labelledDone := 0
	var stopped error
	done := 0
	for start := 0; start < ds.Len(); start += classifyBatch {
		if stopped = ctx.Err(); stopped != nil {
			break
		}
		n := min(classifyBatch, ds.Len()-start)
		logits, err := m.Logits(ctx, x[start*size:(start+n)*size], n)
		if interrupted(err) {
			stopped = err
			break
		}
		if err != nil {
			return nil, err
		}
		done = start + n
		for j := 0; j < n; j++ {
			i := start + j
			it := ds.Items[i]
			img := classifyImage{File: it.Path, Class: it.Class}
			p := engine.Softmax(logits[j*c : (j+1)*c])
			for _, idx := range engine.TopK(p, k) {
				img.Predictions = append(img.Predictions, classifyGuess{Label: labels[idx], Index: idx, Probability: jsonFloat(p[idx])})
			}
			if truth[i] >= 0 {
				labelledDone++
				ok := img.Predictions[0].Index == truth[i]
				img.Correct = &ok
				if ok {
					correct++
				}
			}
			rep.Images[i] = img
		}
	}
	rep.Images = rep.Images[:done]
	if labelled > 0 && labelledDone > 0 {
		rep.Accuracy = &classifyAccuracy{Correct: correct, Total: labelledDone, Rate: jsonFloat(eval.Rate(correct, labelledDone))}
	}
	return rep, stopped
}

// interrupted reports whether err is a cancelled or expired context.
func interrupted(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// printClassifyReport writes the table: one row per image with its class
// folder (when any image has one) and its top classes, then the accuracy.
func printClassifyReport(w io.Writer, rep *classifyReport) {
	withClass := false
	for _, im := range rep.Images {
		withClass = withClass || im.Class != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "FILE"
	if withClass {
		head += "\tCLASS"
	}
	fmt.Fprintf(tw, "%s\tTOP %d (label:probability)\n", head, rep.Top)
	for _, im := range rep.Images {
		row := modelconfig.SanitizeLabel(im.File)
		if withClass {
			mark := modelconfig.SanitizeLabel(im.Class)
			if im.Correct != nil && !*im.Correct {
				mark += " ✗"
			}
			row += "\t" + mark
		}
		guesses := make([]string, len(im.Predictions))
		for i, g := range im.Predictions {
			guesses[i] = g.Label + ":" + fmtProb(float64(g.Probability))
		}
		fmt.Fprintf(tw, "%s\t%s\n", row, strings.Join(guesses, "  "))
	}
	tw.Flush()
	if a := rep.Accuracy; a != nil {
		fmt.Fprintf(w, "accuracy of %s: %d/%d = %.1f%%\n", rep.Model, a.Correct, a.Total, 100*float64(a.Rate))
	}
}

// fmtProb formats a probability for the table.
func fmtProb(p float64) string { return fmt.Sprintf("%.3f", p) }
