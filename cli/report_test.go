package cli

import (
	"bufio"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReportQuick runs `report --quick` on the demo zoo: every PNG it
// writes decodes, every link of report.md resolves, and the patch curve's
// table in report.md says what evalpatch itself prints when the command
// line report.md gives for it is run again (evalpatch's human table, not
// its JSON: another path through the numbers).
func TestReportQuick(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runAdvlab("report", "--quick", "-o", dir, "--zoo", filepath.Join("..", "zoo"), "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "report.md") {
		t.Errorf("stdout %q does not name report.md", stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	pngs := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".png") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Errorf("%s does not decode: %v", path, err)
		} else if b := img.Bounds(); b.Dx() < 8 || b.Dy() < 8 {
			t.Errorf("%s is %v", path, b)
		}
		pngs++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(md), -1)
	figures := 0
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(l[1]))); err != nil {
			t.Errorf("report.md links %q, which does not resolve: %v", l[1], err)
		}
		if strings.HasSuffix(l[1], ".png") {
			figures++
		}
	}
	for _, want := range []string{"patch-curve.png", "attention.png", "sweep-rotation.png", "sweep-jpeg.png", "szegedy.md",
		"saliency/patched/", "## Distractors", "## Transfer", "## Table 3", "## Defenses", "| signs-resnet+bits3 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if figures < 6 || pngs < figures {
		t.Errorf("%d figures linked, %d PNGs written", figures, pngs)
	}
	checkCurveAgainstEvalPatch(t, string(md))
}

// checkCurveAgainstEvalPatch reruns the evalpatch command report.md gives
// for the patch curve, without its JSON and files, and compares its printed
// success and control rates with report.md's table, model by model and
// scale by scale.
func checkCurveAgainstEvalPatch(t *testing.T, md string) {
	t.Helper()
	var line string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "advlab evalpatch ") && strings.Contains(l, "patch-curve.png") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatal("report.md gives no evalpatch command for the patch curve")
	}
	var args []string
	fields := strings.Fields(line)[1:]
	for i := 0; i < len(fields); i++ {
		switch fields[i] {
		case "--json":
		case "--csv", "--plot":
			i++
		default:
			args = append(args, fields[i])
		}
	}
	code, stdout, stderr := runAdvlab(args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	// printed[model][scale] = "success control"
	printed := map[string]map[string]string{}
	model := ""
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		l := sc.Text()
		f := strings.Fields(l)
		switch {
		case !strings.HasPrefix(l, " ") && strings.Contains(l, "(clean accuracy"):
			model = f[0]
			printed[model] = map[string]string{}
		case model != "" && len(f) >= 4 && f[0] != "side":
			printed[model][f[0]] = f[2] + " " + f[3]
		}
	}
	rows, inCurve := 0, false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "## ") { // only the curve's section: other tables have as many columns
			inCurve = strings.HasPrefix(l, "## Patch success against size")
		}
		c := strings.Split(l, "|")
		if !inCurve {
			continue
		}
		if len(c) != 9 || !strings.HasPrefix(strings.TrimSpace(c[1]), "signs-") {
			continue
		}
		m, scale := strings.TrimSpace(c[1]), strings.TrimSpace(c[3])
		got := strings.TrimSpace(c[5]) + " " + strings.TrimSpace(c[6])
		if want, ok := printed[m][scale]; !ok || got != want {
			t.Errorf("report.md: %s at %s: success, control %q; evalpatch prints %q", m, scale, got, want)
		}
		rows++
	}
	if rows != 6 {
		t.Errorf("report.md's curve table has %d rows; want 3 models × 2 scales\n%s", rows, md)
	}
}

// TestReportBadOptions: mistakes fail with exit status 2 before any work.
func TestReportBadOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"report", "--quick"}, "-o DIR is required"},
		{"no zoo", []string{"report", "--quick", "-o", t.TempDir(), "--zoo", t.TempDir()}, "lacks"},
		{"stray argument", []string{"report", "-o", t.TempDir(), "extra"}, "unexpected argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runAdvlab(tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
