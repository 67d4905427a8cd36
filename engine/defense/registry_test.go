package defense

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/internal/testkit"
)

func TestParseAndWrap(t *testing.T) {
	lin := testkit.NewLinear(1, 3, 1)
	tests := []struct {
		spec, name string
	}{
		{"jpeg", "linear+jpeg75"},
		{"jpeg:quality=50", "linear+jpeg50"},
		{"bits:bits=3", "linear+bits3"},
		{" median : size=2 ", "linear+median2"},
		{"blur:sigma=1.5", "linear+blur1.5"},
		{"squeeze:bits=4,median=3,fpr=0.01", "linear+squeeze4b3m"},
		{"smooth:sigma=0.5,n=10", "linear+smooth0.5"},
		{"cleanser:size=2,masks=3", "linear+cleanser2px"},
		{"cleanser:size=0.25", "linear+cleanser1px"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Wrap(lin)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tc.name {
				t.Errorf("name %q, want %q", c.Name(), tc.name)
			}
			again, err := Parse(s.String())
			if err != nil || !reflect.DeepEqual(again.Values, s.Values) {
				t.Errorf("%q does not parse back: %v", s.String(), err)
			}
		})
	}
}

func TestDefaultsAreTheOptions(t *testing.T) {
	lin := testkit.NewLinear(1, 3, 1)
	for _, spec := range []string{"smooth", "squeeze"} {
		s, _ := Parse(spec)
		all := []string{}
		for _, p := range s.Params {
			all = append(all, p.Name+"="+p.Default)
		}
		typed, err := Parse(spec + ":" + strings.Join(all, ","))
		if err != nil {
			t.Fatalf("%s with its defaults typed: %v", spec, err)
		}
		for _, sp := range []Spec{s, typed} {
			c, err := sp.Wrap(lin)
			if err != nil {
				t.Fatal(err)
			}
			switch c := c.(type) {
			case *Smoothed:
				if c.Options() != DefaultSmoothOptions() {
					t.Errorf("smooth options %+v", c.Options())
				}
			case *Squeezed:
				if c.opts != DefaultSqueezeOptions() {
					t.Errorf("squeeze options %+v", c.opts)
				}
			}
		}
	}
	for _, d := range Defenses() {
		if d.Description == "" || d.Gradient == "" || len(d.Params) == 0 {
			t.Errorf("%s lacks a description, gradient or parameters", d.Name)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, spec := range []string{"", "jpg", "jpeg:quality=0", "jpeg:quality=101", "jpeg:q=5", "jpeg:quality", "bits:bits=9",
		"blur:sigma=-1", "blur:sigma=nan", "smooth:n=0", "smooth:alpha=1", "squeeze:bits=8,median=1", "cleanser:size=0", "cleanser:masks=0", "cleanser:fill=2", "jpeg:quality=5,quality=6", "median:size=x"} {
		t.Run(spec, func(t *testing.T) {
			_, err := Parse(spec)
			if !errors.Is(err, ErrInvalidSpec) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%q) = %v, want a one-line ErrInvalidSpec", spec, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"jpeg:quality=50", "smooth:sigma=0.5,n=10", "squeeze:fpr=0.1", "x:=,=", "blur:sigma=1e308"} {
		f.Add(s)
	}
	lin := testkit.NewLinear(1, 3, 1)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("%q: %v does not wrap ErrInvalidSpec", spec, err)
			}
			return
		}
		if _, err := s.Wrap(lin); err != nil {
			t.Fatalf("%q parsed but does not wrap: %v", spec, err)
		}
	})
}
