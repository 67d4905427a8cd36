package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAttackThroughADefense(t *testing.T) {
	dir := brightFolder(t, 4)
	tests := []struct {
		name string
		args []string
		// check inspects the JSON report.
		check func(t *testing.T, r attackReport)
	}{
		{"adaptive BPDA breaks bit reduction", []string{"--method", "pgd", "--eps", "0.2", "--defense", "bits:bits=1"}, func(t *testing.T, r attackReport) {
			// One bit rounds 0.35 to 0 and 0.65 to 1; a uniform ±0.2 step
			// moves every pixel across 0.5, which survives the rounding.
			if r.Model != "brightness+bits1" || r.CleanAccuracy != 1 || r.AdversarialAccuracy != 0 || r.Transferred != nil {
				t.Errorf("model %s, clean %g, adversarial %g, transferred %v", r.Model, r.CleanAccuracy, r.AdversarialAccuracy, r.Transferred)
			}
		}},
		{"non-adaptive transfers from the bare model", []string{"--method", "fgsm", "--eps", "0.2", "--defense", "bits:bits=1", "--non-adaptive"}, func(t *testing.T, r attackReport) {
			// FGSM's ±0.2 on the bare model lands every pixel across 0.5 too.
			if r.Model != "brightness" || r.Transferred == nil || r.Transferred.Model != "brightness+bits1" ||
				r.Transferred.CleanAccuracy != 1 || r.Transferred.AdversarialAccuracy != 0 {
				t.Errorf("model %s, transferred %+v", r.Model, r.Transferred)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			useFake(t, &brightness{})
			code, out, errs := runAdvlab(append([]string{"attack", "--images", dir, "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r attackReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestDefenseUsageErrors(t *testing.T) {
	dir := brightFolder(t, 1)
	for _, args := range [][]string{
		{"attack", "--method", "pgd", "--images", dir, "--non-adaptive"},
		{"attack", "--method", "pgd", "--images", dir, "--defense", "jpeg:quality=0"},
		{"attack", "--method", "pgd", "--images", dir, "--defense", "nope"},
	} {
		t.Run(strings.Join(args[4:], " "), func(t *testing.T) {
			useFake(t, &brightness{})
			code, _, errs := runAdvlab(args...)
			if code != 2 || !strings.Contains(errs, "--") {
				t.Errorf("exit %d, stderr %q; want a usage error", code, errs)
			}
		})
	}
}
