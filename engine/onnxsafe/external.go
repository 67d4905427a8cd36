package onnxsafe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/advlab/advlab/internal/fsutil"
)

// ortMemAddr marks ONNX Runtime's in-memory "locations", which make it read
// from a raw address the file names.
const ortMemAddr = "_ORT_MEM_ADDR_"

// externalRef is a tensor's parsed external_data entries.
type externalRef struct {
	location       string
	offset, length int64 // length -1 when absent
}

// inlineExternal reads the n elements of t from the file its external_data
// names, after checking that the file is a regular file inside the model's
// folder holding exactly the bytes t declares, and stores them in raw_data.
func (l *loader) inlineExternal(t *onnx.TensorProto, name string, n int64, dt dtype) error {
	if dt.field == stringData {
		return fmt.Errorf("%s is a string tensor stored in an external file, which ONNX does not allow; the model is corrupt", name)
	}
	if len(t.GetRawData()) > 0 || otherFields(t, -1) {
		return fmt.Errorf("%s is stored in an external file and also inline; the model is corrupt", name)
	}
	ref, err := parseExternal(t.GetExternalData(), name)
	if err != nil {
		return err
	}
	need := dt.rawBytes(n)
	if ref.length >= 0 && ref.length != need {
		return fmt.Errorf("%s declares %v (%d bytes of %s) but its external data is %d bytes long; the model is corrupt", name, t.GetDims(), need, typeName(t.GetDataType()), ref.length)
	}
	if err := l.spend(name, need); err != nil {
		return err
	}
	if l.dir == "" {
		return fmt.Errorf("%s is stored in the external file %q, and this model has no folder to read it from: advlab only reads weights from files beside a model opened from disk", name, ref.location)
	}
	p, err := l.resolve(ref.location, name)
	if err != nil {
		return err
	}
	f, size, err := fsutil.OpenRegular(p, true)
	if err != nil {
		return fmt.Errorf("%s is stored in %q, which advlab cannot use: %w", name, ref.location, err)
	}
	defer f.Close()
	if ref.offset > size || need > size-ref.offset {
		return fmt.Errorf("%s is stored at offset %d, %d bytes long, beyond the end of %q (%d bytes); the weights file is truncated or does not belong to this model", name, ref.offset, need, ref.location, size)
	}
	buf := make([]byte, need)
	if _, err := io.ReadFull(io.NewSectionReader(f, ref.offset, need), buf); err != nil {
		return fmt.Errorf("%s: reading %d bytes at offset %d of %q: %v; check the weights file", name, need, ref.offset, ref.location, err)
	}
	t.RawData = buf
	t.DataLocation = onnx.TensorProto_DEFAULT
	t.ExternalData = nil
	return nil
}

// parseExternal reads external_data strictly: each known key once, offset
// and length as plain decimal numbers, and a location that is a clean
// relative path naming no ONNX Runtime memory address.
func parseExternal(kvs []*onnx.StringStringEntryProto, name string) (externalRef, error) {
	ref := externalRef{length: -1}
	seen := map[string]bool{}
	for _, kv := range kvs {
		k, v := kv.GetKey(), kv.GetValue()
		if seen[k] {
			return ref, fmt.Errorf("%s names its external-data key %q twice; the model is corrupt", name, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "location":
			ref.location = v
		case "offset":
			ref.offset, err = parseSize(v)
		case "length":
			ref.length, err = parseSize(v)
		case "checksum":
		default:
			return ref, fmt.Errorf("%s has the external-data key %q, which advlab does not read (only location, offset, length and checksum); save the model again with onnx.save", name, k)
		}
		if err != nil {
			return ref, fmt.Errorf("%s has external-data %s %q, not a non-negative decimal number; the model is corrupt", name, k, v)
		}
	}
	loc := ref.location
	switch {
	case loc == "":
		return ref, fmt.Errorf("%s is marked as stored in an external file but names none; the model is corrupt", name)
	case strings.Contains(loc, ortMemAddr):
		return ref, fmt.Errorf("%s is stored at %q, an ONNX Runtime memory address: advlab only reads weights from files beside the model", name, loc)
	case strings.ContainsRune(loc, 0), strings.Contains(loc, `\`):
		return ref, fmt.Errorf("%s is stored at %q, which is not a plain relative file name: advlab only reads weights from files beside the model", name, loc)
	case filepath.IsAbs(loc) || path.IsAbs(loc) || filepath.VolumeName(loc) != "" || !filepath.IsLocal(filepath.FromSlash(loc)):
		return ref, fmt.Errorf("%s is stored at %q, outside the model's folder: advlab only reads weights from files beside the model", name, loc)
	case path.Clean(loc) != loc:
		return ref, fmt.Errorf("%s is stored at %q, which is not a clean relative path (write it as %q): advlab only reads weights from files beside the model", name, loc, path.Clean(loc))
	}
	return ref, nil
}

// parseSize parses a decimal int64 with no sign, space or prefix.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// resolve turns a checked relative location into the path of the file it
// names with every symlink resolved, refusing one that lands outside the
// model's folder (itself resolved, so a folder reached through a link works).
func (l *loader) resolve(loc, name string) (string, error) {
	if l.realDir == "" {
		real, err := filepath.EvalSymlinks(l.dir)
		if err != nil {
			return "", fmt.Errorf("%s is stored beside the model, but the model's folder %q cannot be read: %v", name, l.dir, unwrapPath(err))
		}
		l.realDir = real
	}
	real, err := filepath.EvalSymlinks(filepath.Join(l.realDir, filepath.FromSlash(loc)))
	if err != nil {
		return "", fmt.Errorf("%s is stored in %q beside the model, which cannot be read: %v; copy the weights file next to the model", name, loc, unwrapPath(err))
	}
	rel, err := filepath.Rel(l.realDir, real)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is stored in %q, a link to %q outside the model's folder: advlab only reads weights from files beside the model", name, loc, real)
	}
	return real, nil
}

// unwrapPath drops the path an os error repeats, which the caller quotes.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
