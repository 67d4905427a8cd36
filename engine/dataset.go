package engine

import (
	"fmt"
	"image"
	"sort"
	"strings"

	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/imgops"
)

// DatasetItem is one decoded image of a Dataset.
type DatasetItem struct {
	// Path is the file the image came from.
	Path string
	// Rel is the path relative to the dataset's root in the ImageFolder
	// layout ("<class>/<file>"), or the file's base name for loose files.
	Rel string
	// Class is the name of the image's class folder or its manifest label;
	// "" when its true label is unknown.
	Class string
	// Image is the decoded image at its own size, downscaled to MaxImageSide
	// when larger.
	Image image.Image
}

// Dataset is a set of images, labelled by class folder (the ImageFolder
// layout DIR/<class>/<file>), by a CSV manifest, or not at all, decoded once
// and kept at their own size up to MaxImageSide, so that models with
// different input sizes can each take tensors at their own size.
//
// The ImageFolder rules: images are .png, .jpg, .jpeg, .gif, .bmp or .webp
// files one level below the root; the folder name is the class and is matched
// to a model's labels by LabelsFor; items are in sorted order (class folder,
// then file name); a folder with no class folders but images of its own is
// an unlabelled set; hidden files and files of other types are skipped and
// counted in Notes; a file with an image extension that does not decode is an
// error naming the file, because a silently smaller evaluation set would make
// accuracies incomparable; a folder with no images at all is an error.
type Dataset struct {
	// Root is the folder the dataset was read from (the CSV's folder for a
	// manifest, "" for loose files).
	Root string
	// Classes are the class names that hold at least one image, sorted.
	Classes []string
	// Items are the images, sorted by class and then by file name (in the
	// manifest's order for a manifest).
	Items []DatasetItem
	// Notes are one-line remarks on what was skipped while reading.
	Notes []string

	tensors map[tensorKey]shapedTensor
}

// tensorKey is the size and resizing of a cached batch.
type tensorKey struct {
	shape  ImageShape
	resize Resize
}

// shapedTensor is a Dataset's images at one size, cached for reuse.
type shapedTensor struct {
	data    []float32
	resized int
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Items) }

// Tensor returns every image as one NCHW batch of shape in [0,1], stretched
// to the shape when its size differs; see TensorAs.
func (d *Dataset) Tensor(shape ImageShape) (t []float32, resized int) {
	return d.TensorAs(shape, Resize{})
}

// TensorFor returns every image as one NCHW batch for classifier c, at its
// input shape and resized the way it asks (see Resizer).
func (d *Dataset) TensorFor(c Classifier) (t []float32, resized int) {
	return d.TensorAs(c.InputShape(), ResizeOf(c))
}

// TensorAs returns every image as one NCHW batch of shape in [0,1], and how
// many images had to be resized to fit (gift's linear resampling, after a
// centre crop when r asks for one). Colour images become luminance for
// one-channel models. The result is cached per shape and resize and shared:
// callers must not modify it.
func (d *Dataset) TensorAs(shape ImageShape, r Resize) (t []float32, resized int) {
	key := tensorKey{shape, r}
	if st, ok := d.tensors[key]; ok {
		return st.data, st.resized
	}
	size := shape.Size()
	t = make([]float32, len(d.Items)*size)
	for i, it := range d.Items {
		img := it.Image
		if r.CenterCrop {
			img = centerCrop(img, shape.Height, shape.Width, r.CropFraction)
		}
		x, rs := imgops.ImageToTensor(img, shape.Channels, shape.Height, shape.Width)
		copy(t[i*size:], x)
		if rs {
			resized++
		}
	}
	if d.tensors == nil {
		d.tensors = map[tensorKey]shapedTensor{}
	}
	d.tensors[key] = shapedTensor{data: t, resized: resized}
	return t, resized
}

// LabelsFor maps every image's class to an index into labels (a model's
// class names), each class matched by ClassIndex. A class that matches no
// label while others do is an error that lists the model's labels: silently
// dropping a class would change the evaluation set between models. When no
// class matches any label (photos sorted by something else than the model's
// classes) the images are unlabelled, as loose files are: every index is -1,
// the clean prediction stands in for the truth, and UnlabelledNote says so.
func (d *Dataset) LabelsFor(labels []string) ([]int, error) {
	byClass := map[string]int{}
	var firstErr error
	for _, c := range d.Classes {
		i, err := ClassIndex(labels, c)
		if err != nil {
			if firstErr == nil {
				where := d.Root
				if where == "" {
					where = "the image set" // images handed over in memory
				}
				firstErr = fmt.Errorf("class %q of %s: %w", modelconfig.SanitizeLabel(c), where, err)
			}
			continue
		}
		byClass[c] = i
	}
	if firstErr != nil && len(byClass) > 0 {
		return nil, firstErr
	}
	out := make([]int, len(d.Items))
	for i, it := range d.Items {
		if l, ok := byClass[it.Class]; ok && it.Class != "" {
			out[i] = l
			continue
		}
		out[i] = -1
	}
	return out, nil
}

// UnlabelledNote returns a one-line note when no image of d has a true class
// among labels (LabelsFor gives -1 to all), or "" when some have: what a
// report on such a set must say about its success rates.
func (d *Dataset) UnlabelledNote(labels []string) string {
	l, err := d.LabelsFor(labels)
	if err != nil {
		return ""
	}
	for _, v := range l {
		if v >= 0 {
			return ""
		}
	}
	why := "they are not in class folders"
	if len(d.Classes) > 0 {
		why = fmt.Sprintf("their classes (%s) match none of the model's labels", sanitizedList(d.Classes, 5))
	}
	where := "given"
	if d.Root != "" {
		where = "of " + d.Root
	}
	return fmt.Sprintf("no true labels for the %d images %s: %s; success is measured against the model's clean predictions", d.Len(), where, why)
}

// sanitizedList joins up to n names made safe to print, with a count of the rest.
func sanitizedList(names []string, n int) string {
	out := make([]string, 0, n+1)
	for i, s := range names {
		if i == n {
			out = append(out, fmt.Sprintf("and %d more", len(names)-n))
			break
		}
		out = append(out, modelconfig.SanitizeLabel(s))
	}
	return strings.Join(out, ", ")
}

// ClassIndex finds name among a model's labels, the one rule by which
// advlab matches a class folder, a --target or a patch's target to a model's
// classes (modelconfig.MatchLabel: exactly, then ignoring case and
// separators, then by synonym, then as a class index). The error lists the
// labels.
func ClassIndex(labels []string, name string) (int, error) {
	return modelconfig.MatchLabel(labels, name)
}

// Subset returns a dataset of the first n images of every class in turn
// (round-robin over classes, in sorted order), so a small subset still covers
// every class. n ≥ Len returns d itself.
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= len(d.Items) {
		return d
	}
	byClass := map[string][]int{}
	for i, it := range d.Items {
		byClass[it.Class] = append(byClass[it.Class], i)
	}
	classes := append([]string(nil), d.Classes...)
	if len(classes) == 0 {
		classes = []string{""}
	}
	var idx []int
	for round := 0; len(idx) < n; round++ {
		added := false
		for _, c := range classes {
			if items := byClass[c]; round < len(items) && len(idx) < n {
				idx = append(idx, items[round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	sort.Ints(idx) // keep the dataset's own order
	picked := make([]DatasetItem, len(idx))
	for k, i := range idx {
		picked[k] = d.Items[i]
	}
	out := &Dataset{Root: d.Root, Items: picked, Notes: d.Notes}
	for _, it := range picked {
		if it.Class != "" && (len(out.Classes) == 0 || out.Classes[len(out.Classes)-1] != it.Class) {
			out.Classes = append(out.Classes, it.Class)
		}
	}
	return out
}
