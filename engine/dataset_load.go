package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

// imageExts are the file extensions a Dataset reads, lower case.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".webp": true}

// ErrNoImages is wrapped by the errors of LoadImageFolder when the folder
// holds no images, so that callers can treat it as a usage mistake.
var ErrNoImages = errors.New("no images")

// ErrUnreadableImage is wrapped by the errors of the image loaders when a
// file does not decode as an image, so that callers can say what to do with
// it. It is imgops.ErrUnreadableImage.
var ErrUnreadableImage = imgops.ErrUnreadableImage

// ErrOverBudget is wrapped by the errors of the image loaders when a set's
// decoded images would take more than MaxDatasetBytes.
var ErrOverBudget = errors.New("over the memory budget for an image set")

// MaxImageSide is the longest side an image is kept at: larger ones are
// downscaled when decoded, keeping their aspect ratio, so that a photo costs
// at most 4 MiB however many megapixels its file holds. Models take far
// smaller inputs, so nothing a model sees is lost.
const MaxImageSide = 1024

// MaxDatasetBytes bounds the decoded pixels of one image set.
const MaxDatasetBytes = 2 << 30

// datasetBudget is MaxDatasetBytes, lowered by tests.
var datasetBudget int64 = MaxDatasetBytes

// imageSource is where a dataset's files come from: the operating system's
// files (read as regular files only, symbolic links followed) or an fs.FS.
type imageSource interface {
	join(elem ...string) string
	readDir(p string) ([]fs.DirEntry, error)
	stat(p string) (fs.FileInfo, error)
	read(p string) ([]byte, error)
}

// osSource reads the operating system's files.
type osSource struct{}

func (osSource) join(elem ...string) string              { return filepath.Join(elem...) }
func (osSource) readDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(p) }
func (osSource) stat(p string) (fs.FileInfo, error)      { return os.Stat(p) }
func (osSource) read(p string) ([]byte, error)           { return fsutil.ReadRegular(p, imgops.MaxImageBytes) }

// fsSource reads an fs.FS, such as the zoo's embedded images.
type fsSource struct{ fsys fs.FS }

func (s fsSource) join(elem ...string) string              { return path.Join(elem...) }
func (s fsSource) readDir(p string) ([]fs.DirEntry, error) { return fs.ReadDir(s.fsys, p) }
func (s fsSource) stat(p string) (fs.FileInfo, error)      { return fs.Stat(s.fsys, p) }
func (s fsSource) read(p string) ([]byte, error) {
	f, err := s.fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, imgops.MaxImageBytes+1))
	if err == nil && len(data) > imgops.MaxImageBytes {
		err = fmt.Errorf("%s holds more than advlab's limit of %d bytes for an image", p, imgops.MaxImageBytes)
	}
	return data, err
}

// LoadImageFolder reads an ImageFolder dataset: dir/<class>/<file>.
func LoadImageFolder(dir string) (*Dataset, error) {
	return LoadImageFolderContext(context.Background(), dir, 0)
}

// LoadImageFolderContext reads an ImageFolder dataset, dir/<class>/<file>,
// or a folder of photos without class folders as an unlabelled set. limit >
// 0 keeps that many images, spread over the classes (Subset), and only those
// are decoded. Class folders and images reached through symbolic links are
// followed when they resolve to a folder and a regular file respectively;
// since only one level of class folders is read, a link cannot make a loop.
// A FIFO or device with an image's name is an error at once, not a hang.
// ctx is checked between images, so that a cancelled load stops within one
// image's decoding.
func LoadImageFolderContext(ctx context.Context, dir string, limit int) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading images: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("reading images: %s is a file; give a folder laid out as <folder>/<class>/<image>, or of images", dir)
	}
	return loadFolder(ctx, osSource{}, dir, limit)
}

// LoadImageFS reads an ImageFolder dataset from root in a file system, such
// as the zoo's embedded sample images.
func LoadImageFS(fsys fs.FS, root string) (*Dataset, error) {
	return loadFolder(context.Background(), fsSource{fsys}, root, 0)
}

// loadFolder lists root/<class>/<file> in src, keeps limit of them and
// decodes those.
func loadFolder(ctx context.Context, src imageSource, root string, limit int) (*Dataset, error) {
	top, err := src.readDir(root)
	if err != nil {
		return nil, fmt.Errorf("reading images in %s: %w", root, err)
	}
	d := &Dataset{Root: root}
	var loose []DatasetItem
	var other, emptyClasses int
	for _, e := range top { // readDir sorts by name
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading images in %s: %w", root, err)
		}
		p := src.join(root, name)
		if isDir(src, e, p) {
			n, skipped, err := d.listClass(src, root, name)
			if err != nil {
				return nil, err
			}
			other += skipped
			if n == 0 {
				emptyClasses++
				continue
			}
			d.Classes = append(d.Classes, name)
			continue
		}
		if !imageExts[strings.ToLower(path.Ext(name))] {
			other++
			continue
		}
		loose = append(loose, DatasetItem{Path: p, Rel: name})
	}
	switch {
	case len(d.Items) == 0 && len(loose) > 0:
		d.Items = loose
		d.Notes = append(d.Notes, fmt.Sprintf("%s has no class folders: read its %d images as unlabelled", root, len(loose)))
	case len(d.Items) == 0:
		return nil, fmt.Errorf("%w in %s: expected %s/<class>/<image>.png (or .jpg, .jpeg, .gif, .bmp, .webp), or images directly in it", ErrNoImages, root, root)
	case len(loose) > 0:
		d.Notes = append(d.Notes, fmt.Sprintf("skipped %d image(s) directly in %s: beside class folders, images must sit in one", len(loose), root))
	}
	if other > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("skipped %d file(s) that are not images or are hidden", other))
	}
	if emptyClasses > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%d class folder(s) hold no images", emptyClasses))
	}
	d = d.Subset(limit)
	if err := decodeItems(ctx, src, d); err != nil {
		return nil, err
	}
	return d, nil
}

// isDir reports whether entry e at p is a folder, following a symbolic link.
func isDir(src imageSource, e fs.DirEntry, p string) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir()
	}
	st, err := src.stat(p)
	return err == nil && st.IsDir()
}

// listClass lists the images of one class folder and returns how many it
// found and how many files it skipped. Entries that are neither folders nor
// hidden but carry an image's name are listed whatever they are, so that a
// FIFO is refused by name when read.
func (d *Dataset) listClass(src imageSource, root, class string) (n, skipped int, err error) {
	dir := src.join(root, class)
	entries, err := src.readDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("reading images in %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		p := src.join(dir, name)
		if strings.HasPrefix(name, ".") || !imageExts[strings.ToLower(path.Ext(name))] || isDir(src, e, p) {
			skipped++
			continue
		}
		d.Items = append(d.Items, DatasetItem{Path: p, Rel: class + "/" + name, Class: class})
		n++
	}
	return n, skipped, nil
}

// decodeItems reads and decodes every item of d from src, downscaled to
// MaxImageSide, within the budget, checking ctx between images.
func decodeItems(ctx context.Context, src imageSource, d *Dataset) error {
	var total int64
	downscaled := 0
	for i := range d.Items {
		it := &d.Items[i]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading images: stopped after %d of %d: %w", i, len(d.Items), err)
		}
		data, err := src.read(it.Path)
		if err != nil {
			return fmt.Errorf("reading image: %w", err)
		}
		img, down, err := imgops.DecodeImage(data, modelconfig.SanitizeLabel(it.Path), MaxImageSide)
		if err != nil {
			return err
		}
		if total += imgops.DecodedBytes(img); total > datasetBudget {
			return fmt.Errorf("%w: the first %d of %d images take %d MiB decoded (each at most %d px a side), over advlab's %d MiB; use fewer images",
				ErrOverBudget, i+1, len(d.Items), total>>20, MaxImageSide, datasetBudget>>20)
		}
		it.Image = img
		if down {
			downscaled++
		}
	}
	if downscaled > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("downscaled %d image(s) larger than %d px a side when reading them", downscaled, MaxImageSide))
	}
	return nil
}

// LoadImageFiles reads loose image files, in the order given, as an unlabelled
// dataset (for classifying single images).
func LoadImageFiles(paths []string) (*Dataset, error) {
	return LoadImageFilesContext(context.Background(), paths)
}

// LoadImageFilesContext is LoadImageFiles checking ctx between images.
func LoadImageFilesContext(ctx context.Context, paths []string) (*Dataset, error) {
	if len(paths) == 0 {
		return nil, errors.New("no image given")
	}
	d := &Dataset{}
	for _, p := range paths {
		d.Items = append(d.Items, DatasetItem{Path: p, Rel: filepath.Base(p)})
	}
	if err := decodeItems(ctx, osSource{}, d); err != nil {
		return nil, err
	}
	return d, nil
}
