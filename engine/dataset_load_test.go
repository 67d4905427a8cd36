package engine

import (
	"context"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/advlab/advlab/imgops"
)

// tripCtx is a context whose Err reports cancellation from its n-th call
// on, as if Ctrl-C came while the n-th image was being read.
type tripCtx struct {
	context.Context
	calls, n int
}

func (c *tripCtx) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func TestLoadImageFolderUnlabelled(t *testing.T) {
	ok := grayPNG(t, 4, 4, 9)
	tests := []struct {
		name      string
		files     map[string][]byte
		labels    []string
		wantRel   []string
		wantTruth []int
		wantNote  string
	}{
		{
			name:      "photos without class folders",
			files:     map[string][]byte{"b.png": ok, "a.jpg.png": ok, "notes.txt": []byte("x")},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"a.jpg.png", "b.png"},
			wantTruth: []int{-1, -1},
			wantNote:  "they are not in class folders",
		},
		{
			name:      "class folders that match no label",
			files:     map[string][]byte{"holiday/1.png": ok, "work/2.png": ok},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"holiday/1.png", "work/2.png"},
			wantTruth: []int{-1, -1},
			wantNote:  "their classes (holiday, work) match none",
		},
		{
			name:      "labelled folders need no note",
			files:     map[string][]byte{"dog/1.png": ok, "cat/2.png": ok},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"cat/2.png", "dog/1.png"},
			wantTruth: []int{0, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := LoadImageFolderContext(context.Background(), putFiles(t, tc.files), 0)
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, it := range d.Items {
				rel = append(rel, it.Rel)
				if it.Image == nil {
					t.Fatalf("%s not decoded", it.Rel)
				}
			}
			if !reflect.DeepEqual(rel, tc.wantRel) {
				t.Errorf("items %v, want %v", rel, tc.wantRel)
			}
			truth, err := d.LabelsFor(tc.labels)
			if err != nil || !reflect.DeepEqual(truth, tc.wantTruth) {
				t.Errorf("LabelsFor = %v, %v; want %v", truth, err, tc.wantTruth)
			}
			note := d.UnlabelledNote(tc.labels)
			if (tc.wantNote == "") != (note == "") || !strings.Contains(note, tc.wantNote) {
				t.Errorf("note %q, want it to contain %q", note, tc.wantNote)
			}
		})
	}
}

func TestLoadImageFolderSymlinks(t *testing.T) {
	ok := grayPNG(t, 2, 2, 1)
	elsewhere := putFiles(t, map[string][]byte{"cats/1.png": ok, "one.png": ok})
	dir := putFiles(t, map[string][]byte{"dog/1.png": ok, "dog/sub/deep.png": ok})
	links := map[string]string{
		"cat":          filepath.Join(elsewhere, "cats"),    // a linked class folder: followed
		"dog/2.png":    filepath.Join(elsewhere, "one.png"), // a linked image: read
		"dog/loop.png": dir,                                 // a link to a folder with an image's name: skipped
		"loop":         dir,                                 // the root itself: one level is read, no loop
		"gone":         filepath.Join(elsewhere, "missing"), // dangling: skipped
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	d, err := LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, it := range d.Items {
		rel = append(rel, it.Rel)
	}
	if want := []string{"cat/1.png", "dog/1.png", "dog/2.png"}; !reflect.DeepEqual(rel, want) {
		t.Errorf("items %v, want %v", rel, want)
	}
	if want := []string{"cat", "dog"}; !reflect.DeepEqual(d.Classes, want) {
		t.Errorf("classes %v, want %v (the loop holds no images of its own)", d.Classes, want)
	}
}

func TestLoadImageFolderCancel(t *testing.T) {
	files := map[string][]byte{}
	for _, n := range []string{"a/1.png", "a/2.png", "b/3.png", "b/4.png", "b/5.png"} {
		files[n] = grayPNG(t, 3, 3, 5)
	}
	dir := putFiles(t, files)
	for _, n := range []int{1, 3, 6} {
		ctx := &tripCtx{Context: context.Background(), n: n}
		d, err := LoadImageFolderContext(ctx, dir, 0)
		if !errors.Is(err, context.Canceled) || d != nil {
			t.Errorf("cancelled at check %d: %v", n, err)
		}
	}
	if d, err := LoadImageFolderContext(&tripCtx{Context: context.Background(), n: 100}, dir, 0); err != nil || d.Len() != 5 {
		t.Errorf("uncancelled load: %v", err)
	}
}

func TestLoadImageFolderBounds(t *testing.T) {
	ok := grayPNG(t, 8, 8, 3)
	bomb := pngBombHeader(t)
	t.Run("bomb header is a one-line error", func(t *testing.T) {
		_, err := LoadImageFolder(putFiles(t, map[string][]byte{"a/ok.png": ok, "a/zz.png": bomb}))
		if !errors.Is(err, imgops.ErrImageTooLarge) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "zz.png") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("limit decodes only the images kept", func(t *testing.T) {
		d, err := LoadImageFolderContext(context.Background(), putFiles(t, map[string][]byte{"a/1.png": ok, "a/zz.png": bomb, "b/1.png": ok}), 2)
		if err != nil || d.Len() != 2 {
			t.Fatalf("limited load: %v", err)
		}
	})
	t.Run("budget", func(t *testing.T) {
		defer func(b int64) { datasetBudget = b }(datasetBudget)
		datasetBudget = 3 * 64 // three 8×8 grey images
		files := map[string][]byte{}
		for _, n := range []string{"a/1.png", "a/2.png", "a/3.png", "a/4.png", "a/5.png"} {
			files[n] = ok
		}
		dir := putFiles(t, files)
		_, err := LoadImageFolder(dir)
		if !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "the first 4 of 5 images") || !strings.Contains(err.Error(), "use fewer") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
		if d, err := LoadImageFolderContext(context.Background(), dir, 3); err != nil || d.Len() != 3 {
			t.Errorf("three images within the budget: %v", err)
		}
	})
}

// pngBombHeader returns a PNG file of a few dozen bytes declaring 60000×60000
// pixels, made by encoding a 1×1 image and rewriting its IHDR.
func pngBombHeader(tb testing.TB) []byte {
	tb.Helper()
	data := grayPNG(tb, 1, 1, 0)
	out := append([]byte{}, data[:33]...) // signature and IHDR chunk
	out[16], out[17], out[18], out[19] = 0, 0, 0xEA, 0x60
	out[20], out[21], out[22], out[23] = 0, 0, 0xEA, 0x60
	crc := crc32.ChecksumIEEE(out[12:29])
	out[29], out[30], out[31], out[32] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	return out
}

// TestLoadImageFolderMemory loads six 5-megapixel photos and checks that
// what stays in memory is what MaxImageSide allows, not their full size.
func TestLoadImageFolderMemory(t *testing.T) {
	big := image.NewNRGBA(image.Rect(0, 0, 2560, 1920))
	for i := range big.Pix {
		big.Pix[i] = uint8(i / 2560)
	}
	f, err := os.CreateTemp(t.TempDir(), "*.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, big); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	big = nil
	files := map[string][]byte{}
	for _, n := range []string{"a/1.png", "a/2.png", "a/3.png", "b/4.png", "b/5.png", "b/6.png"} {
		files[n] = data
	}
	dir := putFiles(t, files)
	data = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	full := int64(6 * 2560 * 1920 * 4)
	// Six 1024×768 NRGBA images are 18 MiB; allow the loader's slack.
	if limit := int64(6*1024*768*4) + 8<<20; kept > limit {
		t.Errorf("%d MiB kept for six 5 MP images (%d MiB at full size), want at most %d MiB", kept>>20, full>>20, limit>>20)
	}
	for _, it := range d.Items {
		if b := it.Image.Bounds(); b.Dx() != 1024 || b.Dy() != 768 {
			t.Errorf("%s kept at %v, want 1024×768", it.Rel, b)
		}
	}
	if !strings.Contains(strings.Join(d.Notes, ";"), "downscaled 6 image(s)") {
		t.Errorf("notes %q", d.Notes)
	}
	runtime.KeepAlive(d)
}
