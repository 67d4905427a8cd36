package modelconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		wantPath string // base name; "" for none
		wantErr  string
	}{
		{"none", func(t *testing.T, dir string) {}, "", ""},
		{"base json", func(t *testing.T, dir string) { write(t, filepath.Join(dir, "m.json"), `{"name":"a"}`) }, "m.json", ""},
		{"onnx json", func(t *testing.T, dir string) { write(t, filepath.Join(dir, "m.onnx.json"), `{"name":"b"}`) }, "m.onnx.json", ""},
		{"both", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "m.json"), `{}`)
			write(t, filepath.Join(dir, "m.onnx.json"), `{}`)
		}, "", "two sidecars"},
		{"folder", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "m.json"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "", "is a folder"},
		{"device", func(t *testing.T, dir string) {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "m.json")); err != nil {
				t.Skip("no symlinks here:", err)
			}
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
		}, "", "is a character device"},
		{"dangling link", func(t *testing.T, dir string) {
			if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "m.onnx.json")); err != nil {
				t.Skip("no symlinks here:", err)
			}
		}, "", "reading the model's sidecar"},
		{"too big", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "m.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(MaxConfigBytes + 1); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
		}, "", "more than the 16777216 advlab reads"},
		{"unreadable", func(t *testing.T, dir string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads any file")
			}
			p := filepath.Join(dir, "m.json")
			write(t, p, `{}`)
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
		}, "", "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			path, data, err := Find(filepath.Join(dir, "m.onnx"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Find error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantPath == "" {
				if path != "" || data != nil {
					t.Fatalf("Find = %q, %q, want nothing", path, data)
				}
				return
			}
			if filepath.Base(path) != tt.wantPath {
				t.Errorf("Find path = %q, want %s", path, tt.wantPath)
			}
			want, _ := os.ReadFile(filepath.Join(dir, tt.wantPath))
			if string(data) != string(want) {
				t.Errorf("Find data = %q, want %q", data, want)
			}
		})
	}
}

func TestFindBothNamesBoth(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m.json"), `{}`)
	write(t, filepath.Join(dir, "m.onnx.json"), `{}`)
	_, _, err := Find(filepath.Join(dir, "m.onnx"))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "m.json")) || !strings.Contains(err.Error(), filepath.Join(dir, "m.onnx.json")) {
		t.Fatalf("error %v does not name both sidecars", err)
	}
}

func TestFindModelWithoutExtension(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m.json"), `{"name": "x"}`)
	path, _, err := Find(filepath.Join(dir, "m"))
	if err != nil || filepath.Base(path) != "m.json" {
		t.Fatalf("Find = %q, %v; want m.json", path, err)
	}
}
