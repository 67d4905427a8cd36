package engine

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decoder registration
	_ "image/jpeg" // decoder registration
	_ "image/png"  // decoder registration
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/imgops"
	_ "golang.org/x/image/bmp"  // decoder registration
	_ "golang.org/x/image/webp" // decoder registration
)

// imageExts are the file extensions a Dataset reads, lower case.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".webp": true}

// ErrNoImages is wrapped by the errors of LoadImageFolder when the folder
// holds no images, so that callers can treat it as a usage mistake.
var ErrNoImages = errors.New("no images")

// ErrUnreadableImage is wrapped by the errors of the image loaders when a
// file does not decode as an image, so that callers can say what to do with
// it.
var ErrUnreadableImage = errors.New("not a readable image")

// maxImagePixels bounds the size of one decoded image, so a hostile header
// cannot make the loader allocate gigabytes.
const maxImagePixels = 64 << 20

// DatasetItem is one decoded image of a Dataset.
type DatasetItem struct {
	// Path is the file the image came from.
	Path string
	// Rel is the path relative to the dataset's root in the ImageFolder
	// layout ("<class>/<file>"), or the file's base name for loose files.
	Rel string
	// Class is the name of the image's class folder; "" for loose files, whose
	// true label is unknown.
	Class string
	// Image is the decoded image at its own size.
	Image image.Image
}

// Dataset is a set of labelled images in the ImageFolder layout
// (DIR/<class>/<file>), decoded once and kept at their own size, so that
// models with different input sizes can each take tensors at their own size.
//
// The ImageFolder rules: images are .png, .jpg, .jpeg, .gif, .bmp or .webp
// files one level below the root; the folder name is the class and is matched
// to a model's labels by LabelsFor; items are in sorted order (class folder,
// then file name); hidden files and files of other types are skipped and
// counted in Notes; a file with an image extension that does not decode is an
// error naming the file, because a silently smaller evaluation set would make
// accuracies incomparable; a folder with no images at all is an error.
type Dataset struct {
	// Root is the folder the dataset was read from ("" for loose files).
	Root string
	// Classes are the class folder names that hold at least one image, sorted.
	Classes []string
	// Items are the images, sorted by class and then by file name.
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

// LoadImageFolder reads an ImageFolder dataset: dir/<class>/<file>.
func LoadImageFolder(dir string) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading images: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("reading images: %s is a file; give a folder laid out as <folder>/<class>/<image>", dir)
	}
	return loadImageFS(os.DirFS(dir), ".", dir, func(class, name string) string { return filepath.Join(dir, class, name) })
}

// LoadImageFS reads an ImageFolder dataset from root in a file system, such
// as the zoo's embedded sample images.
func LoadImageFS(fsys fs.FS, root string) (*Dataset, error) {
	return loadImageFS(fsys, root, root, func(class, name string) string { return path.Join(root, class, name) })
}

// loadImageFS reads root/<class>/<file> from fsys; shown names the root in
// messages and pathOf the files in items and messages.
func loadImageFS(fsys fs.FS, root, shown string, pathOf func(class, name string) string) (*Dataset, error) {
	top, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("reading images in %s: %w", shown, err)
	}
	d := &Dataset{Root: shown}
	var loose, other, emptyClasses int
	for _, e := range top { // fs.ReadDir sorts by name
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !e.IsDir() {
			loose++
			continue
		}
		n, skipped, err := d.readClass(fsys, root, e.Name(), pathOf)
		if err != nil {
			return nil, err
		}
		other += skipped
		if n == 0 {
			emptyClasses++
			continue
		}
		d.Classes = append(d.Classes, e.Name())
	}
	if len(d.Items) == 0 {
		return nil, fmt.Errorf("%w in %s: expected %s/<class>/<image>.png (or .jpg, .jpeg, .gif, .bmp, .webp)", ErrNoImages, shown, shown)
	}
	if loose > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("skipped %d file(s) directly in %s: images must sit in a class folder", loose, shown))
	}
	if other > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("skipped %d file(s) that are not images or are hidden", other))
	}
	if emptyClasses > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%d class folder(s) hold no images", emptyClasses))
	}
	return d, nil
}

// readClass decodes the images of one class folder and returns how many it
// read and how many files it skipped.
func (d *Dataset) readClass(fsys fs.FS, root, class string, pathOf func(class, name string) string) (n, skipped int, err error) {
	entries, err := fs.ReadDir(fsys, path.Join(root, class))
	if err != nil {
		return 0, 0, fmt.Errorf("reading images: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !imageExts[strings.ToLower(path.Ext(name))] {
			skipped++
			continue
		}
		shown := pathOf(class, name)
		f, err := fsys.Open(path.Join(root, class, name))
		if err != nil {
			return 0, 0, fmt.Errorf("reading image: %w", err)
		}
		img, err := decodeImage(f, shown)
		f.Close()
		if err != nil {
			return 0, 0, err
		}
		d.Items = append(d.Items, DatasetItem{Path: shown, Rel: class + "/" + name, Class: class, Image: img})
		n++
	}
	return n, skipped, nil
}

// LoadImageFiles reads loose image files, in the order given, as an unlabelled
// dataset (for classifying single images).
func LoadImageFiles(paths []string) (*Dataset, error) {
	if len(paths) == 0 {
		return nil, errors.New("no image given")
	}
	d := &Dataset{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("reading image: %w", err)
		}
		img, err := decodeImage(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		d.Items = append(d.Items, DatasetItem{Path: p, Rel: filepath.Base(p), Image: img})
	}
	return d, nil
}

// maxImageBytes bounds the size of one image file.
const maxImageBytes = 256 << 20

// decodeImage decodes one image file, named path in messages, bounding its
// size before decoding.
func decodeImage(f io.Reader, path string) (image.Image, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxImageBytes {
		return nil, fmt.Errorf("%s is larger than advlab's limit of %d bytes for an image", path, maxImageBytes)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is %w: %v", path, ErrUnreadableImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("%s: a %dx%d image is outside advlab's limit of %d pixels", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is %w: %v", path, ErrUnreadableImage, err)
	}
	return img, nil
}

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

// LabelsFor maps every image's class folder to an index into labels (a
// model's class names), each folder matched by ClassIndex. A folder that
// matches no label is an error that lists the model's labels: silently dropping a class would change the
// evaluation set between models. Loose files get -1.
func (d *Dataset) LabelsFor(labels []string) ([]int, error) {
	byClass := map[string]int{}
	for _, c := range d.Classes {
		i, err := ClassIndex(labels, c)
		if err != nil {
			where := d.Root
			if where == "" {
				where = "the image set" // images handed over in memory
			}
			return nil, fmt.Errorf("class folder %q of %s: %w", c, where, err)
		}
		byClass[c] = i
	}
	out := make([]int, len(d.Items))
	for i, it := range d.Items {
		if it.Class == "" {
			out[i] = -1
			continue
		}
		out[i] = byClass[it.Class]
	}
	return out, nil
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
