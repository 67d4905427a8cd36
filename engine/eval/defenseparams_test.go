package eval

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestDefenseParamsStateTheDefaults checks every documented parameter of
// the defense comparison against the DefaultDefenseOptions field it
// documents, read by reflection, and that no field goes undocumented.
func TestDefenseParamsStateTheDefaults(t *testing.T) {
	field := map[string]string{
		"eps": "Eps", "steps": "Steps", "queries": "Queries", "area": "Area", "target": "Target", "patch-steps": "PatchSteps",
		"patch-size": "PatchSize", "placements": "Placements", "batch": "Batch", "seed": "Seed",
	}
	o := reflect.ValueOf(DefaultDefenseOptions())
	documented := map[string]bool{}
	for _, p := range DefenseParams() {
		t.Run(p.Name, func(t *testing.T) {
			if p.Label == "" || p.Help == "" {
				t.Errorf("%s has no label or help", p.Name)
			}
			want := fmt.Sprint(DefaultDefenseImages)
			if f, ok := field[p.Name]; ok {
				documented[f] = true
				want = fmt.Sprint(o.FieldByName(f).Interface())
			} else if p.Name != "limit" {
				t.Fatalf("%s documents no option", p.Name)
			}
			if p.Default != want {
				t.Errorf("default %q; the option's is %q", p.Default, want)
			}
			if p.Fraction && !(strings.Contains(p.Unit, "fraction")) {
				t.Errorf("a fraction in %q", p.Unit)
			}
		})
	}
	for i := 0; i < o.NumField(); i++ {
		if f := o.Type().Field(i).Name; !documented[f] {
			t.Errorf("DefenseOptions.%s has no parameter", f)
		}
	}
}
