package cli

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/advlab/advlab/imgops"
)

// writeTestPatch saves a small circular patch file with metadata.
func writeTestPatch(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "patch.png")
	p := imgops.NewNoisePatch(imgops.CircleMask(40), 1)
	if err := imgops.SavePatch(path, p, imgops.PatchMeta{Target: "toaster", Models: []string{"resnet18.onnx"}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), &Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// placedWidthMM reads the width at which the PDF's content stream draws its
// image (the `w 0 0 h x y cm /I.. Do` operator), in millimetres.
func placedWidthMM(t *testing.T, pdf []byte) (w, h float64) {
	t.Helper()
	re := regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	cm := regexp.MustCompile(`q ([0-9.]+) 0 0 ([0-9.]+) [0-9.]+ [0-9.]+ cm /I`)
	for _, m := range re.FindAllSubmatch(pdf, -1) {
		s := m[1]
		if r, err := zlib.NewReader(bytes.NewReader(s)); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				s = b
			}
		}
		if c := cm.FindSubmatch(s); c != nil {
			w, _ := strconv.ParseFloat(string(c[1]), 64)
			h, _ := strconv.ParseFloat(string(c[2]), 64)
			return w * 25.4 / 72, h * 25.4 / 72
		}
	}
	t.Fatal("no image placement in the PDF")
	return 0, 0
}

func TestExportPDF(t *testing.T) {
	dir := t.TempDir()
	patch := writeTestPatch(t, dir)
	tests := []struct {
		name string
		args []string
		mm   float64
		page string
	}{
		{"5cm on a4", []string{"--size", "5cm", "--dpi", "300"}, 50, "/MediaBox [0 0 595.28 841.89]"},
		{"2in on letter, flags after", []string{"--size=2in", "--paper", "letter"}, 50.8, "/MediaBox [0 0 612.00 792.00]"},
		{"mm", []string{"--size", "75mm", "--dpi", "150"}, 75, "/MediaBox [0 0 595.28 841.89]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".pdf")
			args := append([]string{"export", patch, "-o", out}, tc.args...)
			code, stdout, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "wrote "+out) {
				t.Errorf("stdout %q does not report the file", stdout)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(tc.page)) {
				t.Errorf("the PDF has no %s", tc.page)
			}
			w, h := placedWidthMM(t, data)
			if math.Abs(w-tc.mm) > 0.1 || math.Abs(h-tc.mm) > 0.1 {
				t.Errorf("patch printed %.2f×%.2f mm, want %v mm", w, h, tc.mm)
			}
		})
	}
}

func TestExportPNG(t *testing.T) {
	dir := t.TempDir()
	patch := writeTestPatch(t, dir)
	out := filepath.Join(dir, "print.png")
	code, _, stderr := runCLI("export", "--size", "2in", "--dpi", "200", patch, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	info, err := imgops.ReadPNGInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	p, meta, err := imgops.DecodePatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(info.DPI-200) > 0.01 || p.W != 400 || p.H != 400 || meta.Target != "toaster" {
		t.Errorf("PNG at %v dpi, %d×%d px, target %q; want 200 dpi, 400×400, toaster", info.DPI, p.W, p.H, meta.Target)
	}
}

func TestExportPalette(t *testing.T) {
	dir := t.TempDir()
	patch := writeTestPatch(t, dir)
	pal := filepath.Join(dir, "pal.csv")
	os.WriteFile(pal, []byte("r,g,b\n10,20,30\n"), 0o644)
	out := filepath.Join(dir, "p.pdf")
	if code, _, stderr := runCLI("export", patch, "--size", "4cm", "--palette", pal, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("10,20\n"), 0o644)
	code, _, stderr := runCLI("export", patch, "--size", "4cm", "--palette", bad, "-o", out)
	if code != 1 || !strings.Contains(stderr, "bad.csv") || !strings.Contains(stderr, "line 1") {
		t.Errorf("bad palette: exit %d, %q", code, stderr)
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	patch := writeTestPatch(t, dir)
	out := filepath.Join(dir, "out.pdf")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no patch", []string{"--size", "5cm", "-o", out}, 2, "want the patch file"},
		{"two patches", []string{patch, patch, "--size", "5cm", "-o", out}, 2, "want one patch file, got 2"},
		{"no size", []string{patch, "-o", out}, 2, "--size is required"},
		{"bad unit", []string{patch, "--size", "5xx", "-o", out}, 2, `--size 5xx: unknown unit "xx"; use cm, mm or in`},
		{"no unit", []string{patch, "--size", "5", "-o", out}, 2, "--size 5: no unit"},
		{"no output", []string{patch, "--size", "5cm"}, 2, "-o is required"},
		{"format", []string{patch, "--size", "5cm", "-o", "x.jpg"}, 2, "name the output .pdf or .png"},
		{"paper", []string{patch, "--size", "5cm", "--paper", "a3", "-o", out}, 2, "--paper a3: use a4 or letter"},
		{"dpi", []string{patch, "--size", "5cm", "--dpi", "5", "-o", out}, 2, "--dpi 5: use 50 to 2400"},
		{"unknown flag", []string{patch, "--sise", "5cm", "-o", out}, 2, "flag provided but not defined"},
		{"missing file", []string{filepath.Join(dir, "nope.png"), "--size", "5cm", "-o", out}, 1, "nope.png"},
		{"too big", []string{patch, "--size", "40cm", "-o", out}, 1, "does not fit on A4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"export"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n"); tc.name != "unknown flag" && lines > 0 {
				t.Errorf("error spans %d lines: %q", lines+1, stderr)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed export left an output file")
	}
}
