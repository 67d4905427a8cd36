package cli

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/patch"
)

// flagDefaults reads the flags and their printed defaults from a command's
// --help: flag's PrintDefaults omits the default of a zero value.
func flagDefaults(t *testing.T, command string) (map[string]string, map[string]string) {
	t.Helper()
	_, _, help := runCLI(command, "--help")
	defs, usage := map[string]string{}, map[string]string{}
	re := regexp.MustCompile(`(?m)^  -(\S+)(?: \S+)?\n\s+(.*)$`)
	for _, m := range re.FindAllStringSubmatch(help, -1) {
		usage[m[1]] = m[2]
		if d := regexp.MustCompile(`\(default "?([^")]*)"?\)$`).FindStringSubmatch(m[2]); d != nil {
			defs[m[1]] = d[1]
		} else {
			defs[m[1]] = ""
		}
	}
	if len(usage) == 0 {
		t.Fatalf("no flags in %s --help:\n%s", command, help)
	}
	return defs, usage
}

// TestPatchFlagDefaultsAreTheEngines checks the patch commands' and the
// defense comparison's flags against the engine's options structs: each default is the option's, and
// the help is the engine's table's.
func TestPatchFlagDefaultsAreTheEngines(t *testing.T) {
	o, e, d := patch.DefaultOptions(), patch.DefaultEvalOptions(), eval.DefaultDefenseOptions()
	g := func(v float64) string {
		if v == 0 {
			return "" // not printed
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	cases := []struct {
		command string
		params  []patch.Param
		want    map[string]string
	}{
		{"patch", patch.TrainParams(), map[string]string{
			"size": strconv.Itoa(o.Width), "mask": string(o.Shape), "rotation": g(o.Transforms.MaxAngleDeg), "steps": g(float64(o.Steps)),
			"batch": g(float64(o.BatchSize)), "lr": g(o.LearningRate), "optimizer": string(o.Optimizer), "tv": g(o.TVWeight), "nps": g(o.NPSWeight),
			"seed": g(float64(o.Seed)),
		}},
		{"evalpatch", patch.EvalParams(), map[string]string{
			"rotation": g(e.Transforms.MaxAngleDeg), "placements": g(float64(e.Placements)), "seed": g(float64(e.Seed)),
			"distractor-scale": g(e.DistractorScale), "scales": strings.Trim(strings.ReplaceAll(fmt.Sprint(e.Scales), " ", ","), "[]"),
		}},
		{"defenses", eval.DefenseParams(), map[string]string{
			"eps": g(d.Eps), "steps": g(float64(d.Steps)), "queries": g(float64(d.Queries)), "area": g(d.Area), "target": d.Target,
			"patch-steps": g(float64(d.PatchSteps)), "patch-size": g(float64(d.PatchSize)), "placements": g(float64(d.Placements)),
			"limit": g(eval.DefaultDefenseImages), "batch": g(float64(d.Batch)), "seed": g(float64(d.Seed)),
		}},
	}
	// --size also takes WxH; --scales lists the scales the table counts.
	ownHelp := map[string]bool{"size": true, "scales": true}
	for _, tc := range cases {
		defs, usage := flagDefaults(t, tc.command)
		for name, want := range tc.want {
			t.Run(tc.command+"/"+name, func(t *testing.T) {
				got, ok := defs[name]
				if !ok {
					t.Fatalf("no --%s flag", name)
				}
				if got != want {
					t.Errorf("--%s defaults to %q; the engine's is %q", name, got, want)
				}
				if p, ok := patch.LookupParam(tc.params, name); ok && !ownHelp[name] && !strings.HasPrefix(usage[name], p.Help) {
					t.Errorf("--%s help %q is not the engine's %q", name, usage[name], p.Help)
				}
			})
		}
	}
}
