package gui

// Dropping files on the window, and opening the paths given at start: what
// a path is decides where it goes.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/advlab/advlab/imgops"
)

// fileKind is what a path holds, which decides how it opens.
type fileKind int

const (
	kindUnknown fileKind = iota
	kindModel
	kindFolder
	kindImage
	kindPatch
	kindSession
)

// kindOf guesses what a path is: a model (.onnx), a folder of images, a
// patch (a PNG carrying advlab's patch metadata) or an image.
func kindOf(path string) fileKind {
	st, err := os.Stat(path)
	if err != nil {
		return kindUnknown
	}
	if st.IsDir() {
		return kindFolder
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return kindModel
	case sessionExt:
		return kindSession
	case ".png":
		if isPatchFile(path) {
			return kindPatch
		}
		return kindImage
	case ".jpg", ".jpeg", ".gif", ".bmp", ".webp":
		return kindImage
	}
	return kindUnknown
}

// isPatchFile reports whether a PNG carries advlab's patch metadata.
func isPatchFile(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	info, err := imgops.ReadPNGInfo(data)
	if err != nil {
		return false
	}
	_, ok := info.Text[imgops.PatchKeyword]
	return ok
}

// onDropped opens dropped .onnx files as models, folders and images as the
// image set, and patch files as the patch.
func (wb *Workbench) onDropped(_ fyne.Position, uris []fyne.URI) {
	var unknown []string
	for _, u := range uris {
		p := u.Path()
		switch kindOf(p) {
		case kindModel:
			wb.openModel(p)
		case kindFolder, kindImage:
			wb.openImages(p)
		case kindPatch:
			wb.openPatch(p)
		case kindSession:
			wb.openSession(p)
		default:
			unknown = append(unknown, filepath.Base(p))
		}
	}
	if len(unknown) > 0 {
		wb.showError("Opening dropped files", fmt.Errorf("advlab does not know what to do with %s; drop .onnx models, image folders, images, patch PNGs or .advlab sessions", strings.Join(unknown, ", ")))
	}
}
