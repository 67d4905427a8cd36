package cli

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// defensesArgs runs the report on the embedded demo model and 4 of its
// images with budgets small enough for a test.
var defensesArgs = []string{"defenses", "--limit", "4", "--steps", "2", "--queries", "4", "--patch-steps", "2",
	"--patch-size", "8", "--placements", "1", "--defense", "cleanser:size=0.1,masks=2", "--defense", "bits:bits=3"}

// inUnit reports whether a rate is in [0,1].
func inUnit(v float64) bool { return v >= 0 && v <= 1 && !math.IsNaN(v) }

func TestDefensesReport(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, stdout string)
	}{
		{"--json", func(t *testing.T, stdout string) {
			var r defensesReport
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatal(err)
			}
			if r.Images != 4 || r.Target != "stop" || len(r.Rows) != 3 {
				t.Fatalf("images %d, target %q, %d rows; want 4, stop, 3", r.Images, r.Target, len(r.Rows))
			}
			for i, want := range []string{"", "cleanser:size=0.1,masks=2", "bits:bits=3"} {
				row := r.Rows[i]
				if row.Defense != want || !strings.HasPrefix(row.Model, "signs-resnet") {
					t.Errorf("row %d: model %q, defense %q; want defense %q", i, row.Model, row.Defense, want)
				}
				for name, v := range map[string]jsonFloat{"clean": row.CleanAccuracy, "robust": row.RobustAccuracy, "patch": row.PatchSuccess, "untargeted patch": row.UntargetedPatchSuccess} {
					if !inUnit(float64(v)) {
						t.Errorf("row %d: %s %g is not a rate", i, name, v)
					}
				}
				if cert := row.CertifiedAccuracy; (cert != nil) != (i == 1) || cert != nil && !inUnit(float64(*cert)) {
					t.Errorf("row %d: certified accuracy %v; want a rate for the cleanser row alone", i, cert)
				}
				if row.RobustAccuracy > row.CleanAccuracy {
					t.Errorf("row %d: robust accuracy %g above the clean %g", i, row.RobustAccuracy, row.CleanAccuracy)
				}
			}
			if r.Rows[1].Model != "signs-resnet+cleanser7px" || r.Rows[1].CertifiedSide != 7 {
				t.Errorf("cleanser row is %q, certified side %d; 10%% of a 64-pixel side is 7 pixels", r.Rows[1].Model, r.Rows[1].CertifiedSide)
			}
		}},
		{"--csv", func(t *testing.T, stdout string) {
			recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 || strings.Join(recs[0], ",") != "model,defense,clean_accuracy,robust_accuracy,patch_success,untargeted_patch_success,certified_accuracy" {
				t.Fatalf("CSV %q", recs)
			}
			for i, rec := range recs[1:] {
				if (rec[6] != "") != (i == 1) {
					t.Errorf("row %v: the certified column belongs to the cleanser row alone", rec)
				}
				for _, cell := range rec[2:6] {
					if v, err := strconv.ParseFloat(cell, 64); err != nil || !inUnit(v) {
						t.Errorf("row %v: %q is not a rate", rec, cell)
					}
				}
			}
			if recs[1][1] != "none" || recs[3][1] != "bits:bits=3" {
				t.Errorf("defenses column %q, %q", recs[1][1], recs[3][1])
			}
		}},
		{"table", func(t *testing.T, stdout string) {
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) < 5 || !strings.HasPrefix(lines[1], "MODEL") || !strings.Contains(lines[1], "PATCH SUCCESS") || !strings.Contains(lines[1], "UNTARGETED PATCH") {
				t.Fatalf("table %q", stdout)
			}
			for i, l := range lines[2:5] {
				if want := map[bool]int{true: 5, false: 4}[i == 1]; strings.Count(l, "%") != want {
					t.Errorf("row %q has not %d percentages", l, want)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			args := defensesArgs
			if tc.format != "table" {
				args = append(append([]string(nil), args...), tc.format)
			}
			code, stdout, stderr := runAdvlab(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			tc.check(t, stdout)
		})
	}
}

func TestDefensesUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--json", "--csv"},
		{"--area", "0"},
		{"--defense", "nope"},
		{"--target", "no-such-class"},
		{"--eps", "-1"},
		{"--patch-size", "65"}, // larger than the demo model's 64-pixel side
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runAdvlab(append([]string{"defenses", "--limit", "1"}, args...)...)
			if code != 2 || strings.Contains(strings.TrimSpace(stderr), "\n") {
				t.Errorf("exit %d, stderr %q; want a one-line usage error", code, stderr)
			}
		})
	}
}
