package engine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadImageManifest(t *testing.T) {
	ok := grayPNG(t, 5, 4, 7)
	outside := putFiles(t, map[string][]byte{"secret.png": ok})
	tests := []struct {
		name      string
		csv       string
		files     map[string][]byte
		link      map[string]string // name in the folder → target
		labels    []string
		wantRel   []string
		wantTruth []int
		wantErr   string
	}{
		{
			name:      "GTSRB Test.csv",
			csv:       "Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n53,54,6,5,48,49,2,Test/00001.png\n42,45,5,5,36,40,0,Test/00000.png\n",
			files:     map[string][]byte{"Test/00000.png": ok, "Test/00001.png": ok},
			labels:    []string{"stop", "yield", "priority"},
			wantRel:   []string{"Test/00001.png", "Test/00000.png"},
			wantTruth: []int{2, 0},
		},
		{
			name:      "file,label header with class names",
			csv:       "filename , Label\nb.png,dog\nsub/a.png,cat\n",
			files:     map[string][]byte{"b.png": ok, "sub/a.png": ok},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"b.png", "sub/a.png"},
			wantTruth: []int{1, 0},
		},
		{
			name:      "two columns without header",
			csv:       "x.png,1\n",
			files:     map[string][]byte{"x.png": ok},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"x.png"},
			wantTruth: []int{1},
		},
		{
			name:      "files only: unlabelled",
			csv:       "image\nx.png\n",
			files:     map[string][]byte{"x.png": ok},
			labels:    []string{"cat", "dog"},
			wantRel:   []string{"x.png"},
			wantTruth: []int{-1},
		},
		{name: "climbs out", csv: "path,label\n../x.png,1\n", wantErr: "line 2: \"../x.png\" is outside the manifest's folder"},
		{name: "absolute", csv: "path,label\n" + filepath.Join(outside, "secret.png") + ",1\n", wantErr: "outside the manifest's folder"},
		{name: "link out", csv: "path,label\nin.png,1\n", link: map[string]string{"in.png": filepath.Join(outside, "secret.png")}, wantErr: "\"in.png\" links to outside"},
		{name: "missing file", csv: "path,label\nnope.png,1\n", wantErr: "line 2: reading \"nope.png\": no such file"},
		{name: "missing label", csv: "path,label\nx.png,\n", files: map[string][]byte{"x.png": ok}, wantErr: "x.png has no label"},
		{name: "no file column", csv: "label,width\n1,2\n", wantErr: "no file column"},
		{name: "three columns, no header", csv: "a,b,c\n", wantErr: "no header row"},
		{name: "ragged rows", csv: "path,label\nx.png\n", wantErr: "wrong number of fields"},
		{name: "empty", csv: "", wantErr: "no images in the manifest"},
		{name: "header only", csv: "path,label\n", wantErr: "lists no files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"data/labels.csv": []byte(tc.csv)}
			for k, v := range tc.files {
				files["data/"+k] = v
			}
			dir := putFiles(t, files)
			for name, target := range tc.link {
				if err := os.Symlink(target, filepath.Join(dir, "data", name)); err != nil {
					t.Skipf("no symbolic links: %v", err)
				}
			}
			d, err := LoadImageManifest(filepath.Join(dir, "data", "labels.csv"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, it := range d.Items {
				rel = append(rel, it.Rel)
				if it.Image == nil || it.Image.Bounds().Dx() != 5 {
					t.Errorf("%s not decoded", it.Rel)
				}
			}
			if !reflect.DeepEqual(rel, tc.wantRel) {
				t.Errorf("items %v, want %v", rel, tc.wantRel)
			}
			truth, err := d.LabelsFor(tc.labels)
			if err != nil || !reflect.DeepEqual(truth, tc.wantTruth) {
				t.Errorf("labels %v %v, want %v", truth, err, tc.wantTruth)
			}
		})
	}
}

func TestLoadImageManifestBadCSVPath(t *testing.T) {
	for _, p := range []string{filepath.Join(t.TempDir(), "missing.csv"), t.TempDir()} {
		if _, err := LoadImageManifest(p); err == nil || errors.Is(err, ErrNoImages) {
			t.Errorf("LoadImageManifest(%s) = %v", p, err)
		}
	}
}
