package engine

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// grayPNG encodes a w×h image whose every pixel is v.
func grayPNG(tb testing.TB, w, h int, v uint8) []byte {
	tb.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// putFiles writes files (relative path → content) under a new temp folder.
func putFiles(tb testing.TB, files map[string][]byte) string {
	tb.Helper()
	dir := tb.TempDir()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if data == nil { // a folder
			if err := os.MkdirAll(p, 0o755); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestLoadImageFolder(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	ok := grayPNG(t, 4, 4, 128)
	tests := []struct {
		name      string
		files     map[string][]byte
		wantRel   []string
		wantClass []string
		wantNotes int
		wantErr   string
	}{
		{
			name:      "sorted by class then file",
			files:     map[string][]byte{"b/2.png": ok, "b/10.png": ok, "a/z.jpg": jpg.Bytes(), "a/a.PNG": ok},
			wantRel:   []string{"a/a.PNG", "a/z.jpg", "b/10.png", "b/2.png"},
			wantClass: []string{"a", "b"},
		},
		{
			name:      "skips hidden, loose, non-image files and empty classes with notes",
			files:     map[string][]byte{"a/x.png": ok, "a/.hidden.png": ok, "a/readme.txt": []byte("hi"), "loose.png": ok, "empty": nil, ".git/config": []byte("x")},
			wantRel:   []string{"a/x.png"},
			wantClass: []string{"a"},
			wantNotes: 3,
		},
		{
			name:    "undecodable image names the file",
			files:   map[string][]byte{"a/x.png": ok, "a/broken.png": []byte("not a png")},
			wantErr: "broken.png is not a readable image",
		},
		{
			name:    "empty folder",
			files:   map[string][]byte{"a": nil},
			wantErr: "no images in",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := putFiles(t, tt.files)
			d, err := LoadImageFolder(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, it := range d.Items {
				rel = append(rel, it.Rel)
			}
			if !reflect.DeepEqual(rel, tt.wantRel) {
				t.Errorf("items %v, want %v", rel, tt.wantRel)
			}
			if !reflect.DeepEqual(d.Classes, tt.wantClass) {
				t.Errorf("classes %v, want %v", d.Classes, tt.wantClass)
			}
			if len(d.Notes) != tt.wantNotes {
				t.Errorf("notes %q, want %d", d.Notes, tt.wantNotes)
			}
		})
	}
}

func TestLoadImageFolderNotAFolder(t *testing.T) {
	dir := putFiles(t, map[string][]byte{"x.png": grayPNG(t, 2, 2, 0)})
	for _, p := range []string{filepath.Join(dir, "x.png"), filepath.Join(dir, "missing")} {
		if _, err := LoadImageFolder(p); err == nil {
			t.Errorf("LoadImageFolder(%s) succeeded", p)
		}
	}
}

func TestDatasetLabelsFor(t *testing.T) {
	ok := grayPNG(t, 2, 2, 0)
	tests := []struct {
		name    string
		classes []string
		labels  []string
		want    []int
		wantErr string
	}{
		{"exact", []string{"cat", "dog"}, []string{"dog", "cat"}, []int{1, 0}, ""},
		{"case-insensitive", []string{"Cat"}, []string{"dog", "cat"}, []int{1}, ""},
		{"numeric index into names", []string{"1"}, []string{"dog", "cat"}, []int{1}, ""},
		{"digits", []string{"3", "7"}, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, []int{3, 7}, ""},
		{"unknown folder beside a known one lists the labels", []string{"bird", "cat"}, []string{"dog", "cat"}, nil, "they are dog, cat"},
		{"index out of range beside a match", []string{"1", "5"}, []string{"dog", "cat"}, nil, "out of range"},
		{"no folder matches: unlabelled", []string{"bird", "holiday"}, []string{"dog", "cat"}, []int{-1, -1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for _, c := range tt.classes {
				files[c+"/x.png"] = ok
			}
			d, err := LoadImageFolder(putFiles(t, files))
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.LabelsFor(tt.labels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("labels %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDatasetTensor checks values, layout, resizing counts and that each
// shape gets its own tensor from the same decoded images.
func TestDatasetTensor(t *testing.T) {
	rgb := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	for i := 0; i < 4; i++ {
		rgb.Set(i%2, i/2, color.NRGBA{R: 255, G: 0, B: 51, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, rgb); err != nil {
		t.Fatal(err)
	}
	dir := putFiles(t, map[string][]byte{"a/red.png": buf.Bytes(), "b/big.png": grayPNG(t, 4, 4, 255)})
	d, err := LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	x, resized := d.Tensor(ImageShape{3, 2, 2})
	if resized != 1 || len(x) != 2*12 {
		t.Fatalf("resized %d, len %d; want 1, 24", resized, len(x))
	}
	want := []float32{1, 1, 1, 1, 0, 0, 0, 0, 0.2, 0.2, 0.2, 0.2}
	for i, v := range want {
		if d := x[i] - v; d > 1e-3 || d < -1e-3 {
			t.Fatalf("red image tensor %v, want %v", x[:12], want)
		}
	}
	for _, v := range x[12:] {
		if v < 0.999 {
			t.Fatalf("white image resized to %v", x[12:])
		}
	}
	g, resized := d.Tensor(ImageShape{1, 4, 4})
	if resized != 1 || len(g) != 32 {
		t.Fatalf("grey: resized %d, len %d", resized, len(g))
	}
	if lum := 0.299 + 0.114*0.2; g[0] < float32(lum)-1e-3 || g[0] > float32(lum)+1e-3 {
		t.Errorf("luminance %v, want %v", g[0], lum)
	}
}

func TestLoadImageFiles(t *testing.T) {
	dir := putFiles(t, map[string][]byte{"x.png": grayPNG(t, 2, 2, 0), "bad.jpg": []byte("no")})
	d, err := LoadImageFiles([]string{filepath.Join(dir, "x.png")})
	if err != nil || d.Len() != 1 || d.Items[0].Rel != "x.png" {
		t.Fatalf("LoadImageFiles: %v %+v", err, d)
	}
	if l, err := d.LabelsFor([]string{"a"}); err != nil || l[0] != -1 {
		t.Errorf("loose file label %v %v, want -1", l, err)
	}
	if _, err := LoadImageFiles([]string{filepath.Join(dir, "bad.jpg")}); err == nil || !strings.Contains(err.Error(), "bad.jpg") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := LoadImageFiles(nil); err == nil {
		t.Error("no files accepted")
	}
}

func TestDatasetSubset(t *testing.T) {
	ok := grayPNG(t, 2, 2, 0)
	dir := putFiles(t, map[string][]byte{"a/1.png": ok, "a/2.png": ok, "a/3.png": ok, "b/1.png": ok, "c/1.png": ok, "c/2.png": ok})
	d, err := LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Subset(4)
	var rel []string
	for _, it := range s.Items {
		rel = append(rel, it.Rel)
	}
	if want := []string{"a/1.png", "a/2.png", "b/1.png", "c/1.png"}; !reflect.DeepEqual(rel, want) {
		t.Errorf("subset %v, want %v", rel, want)
	}
	if !reflect.DeepEqual(s.Classes, []string{"a", "b", "c"}) {
		t.Errorf("classes %v", s.Classes)
	}
	if d.Subset(100) != d {
		t.Error("a subset larger than the set is not the set")
	}
}

func TestLoadImageFS(t *testing.T) {
	fsys := fstest.MapFS{
		"samples/b/1.png":   {Data: grayPNG(t, 3, 3, 10)},
		"samples/a/2.png":   {Data: grayPNG(t, 3, 3, 20)},
		"samples/a/x.txt":   {Data: []byte("no")},
		"samples/c/bad.gif": {Data: []byte("GIF89a")},
	}
	if _, err := LoadImageFS(fsys, "samples"); !errors.Is(err, ErrUnreadableImage) || !strings.Contains(err.Error(), "samples/c/bad.gif is not a readable image") {
		t.Fatalf("bad image: %v", err)
	}
	delete(fsys, "samples/c/bad.gif")
	d, err := LoadImageFS(fsys, "samples")
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Items[0].Path != "samples/a/2.png" || d.Items[1].Rel != "b/1.png" || len(d.Notes) != 1 {
		t.Errorf("dataset %+v", d)
	}
	if _, err := LoadImageFS(fsys, "nope"); err == nil {
		t.Error("a missing root was accepted")
	}
}

// TestLabelsForInMemorySet checks that a set handed over in memory (no
// folder, as the workbench's) names itself in the error rather than leave
// "of :" in the message.
func TestLabelsForInMemorySet(t *testing.T) {
	d := &Dataset{Classes: []string{"1", "stop"}, Items: []DatasetItem{{Rel: "1/1.png", Class: "1"}, {Rel: "stop/1.png", Class: "stop"}}}
	_, err := d.LabelsFor([]string{"0", "1"})
	if err == nil || !strings.HasPrefix(err.Error(), `class "stop" of the image set: `) {
		t.Errorf("err = %v", err)
	}
}
