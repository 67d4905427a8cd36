package engine

import (
	"strings"
	"testing"
)

func TestClassIndex(t *testing.T) {
	named := []string{"stop", "Yield", "yield_ahead", "STOP_sign"}
	numeric := []string{"0", "1", "2"}
	tests := []struct {
		name   string
		labels []string
		query  string
		want   int // -1: an error listing the labels
	}{
		{"exact", named, "yield_ahead", 2},
		{"exact wins over folding", []string{"a", "A"}, "A", 1},
		{"case-insensitive", named, "yield", 1},
		{"ambiguous folding", []string{"Cat", "CAT"}, "cat", -1},
		{"index into named labels", named, "3", 3},
		{"index out of range", named, "4", -1},
		{"numeric labels match by name", []string{"1", "0"}, "0", 1},
		{"numeric labels take no index", numeric[:2], "2", -1},
		{"negative index", named, "-1", -1},
		{"unknown", named, "zebra", -1},
		{"no labels", nil, "0", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClassIndex(tc.labels, tc.query)
			if tc.want < 0 {
				if err == nil || !strings.Contains(err.Error(), tc.query) {
					t.Fatalf("ClassIndex(%v, %q) = %d, %v; want an error naming it", tc.labels, tc.query, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ClassIndex(%v, %q) = %d, %v; want %d", tc.labels, tc.query, got, err, tc.want)
			}
		})
	}
}
