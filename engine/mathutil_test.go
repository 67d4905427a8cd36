package engine

import (
	"math"
	"slices"
	"testing"
)

func TestSoftmax(t *testing.T) {
	for _, tc := range []struct {
		name string
		z    []float32
		want []float64
	}{
		// Closed forms: e^z / Σ e^z.
		{"two classes", []float32{0, float32(math.Log(3))}, []float64{0.25, 0.75}},
		{"uniform", []float32{2, 2, 2, 2}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"shift invariant, no overflow", []float32{1000, 1001}, []float64{1 / (1 + math.E), math.E / (1 + math.E)}},
		{"one class", []float32{-7}, []float64{1}},
		{"empty", nil, []float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Softmax(tc.z)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v; want %v", got, tc.want)
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-6 {
					t.Errorf("p[%d] = %v; want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		z    []float32
		want int
	}{
		{"largest", []float32{0.1, 0.7, 0.2}, 1},
		{"first on ties", []float32{3, 1, 3}, 0},
		{"negative", []float32{-5, -2, -9}, 1},
		{"skips NaN", []float32{nan, 1, 2}, 2},
		{"all NaN", []float32{nan, nan}, 0},
		{"empty", nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Argmax(tc.z); got != tc.want {
				t.Errorf("Argmax(%v) = %d; want %d", tc.z, got, tc.want)
			}
		})
	}
	if got := Argmax([]float64{0, 2, 1}); got != 1 {
		t.Errorf("float64: got %d; want 1", got)
	}
}

func TestTopK(t *testing.T) {
	p := []float64{0.1, 0.4, 0.1, 0.3, 0.1}
	for _, tc := range []struct {
		name string
		k    int
		want []int
	}{
		{"top 1", 1, []int{1}},
		{"top 3, ties by index", 3, []int{1, 3, 0}},
		{"all", 5, []int{1, 3, 0, 2, 4}},
		{"more than there are", 9, []int{1, 3, 0, 2, 4}},
		{"none", 0, []int{}},
		{"negative", -1, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TopK(p, tc.k); !slices.Equal(got, tc.want) {
				t.Errorf("TopK(%v, %d) = %v; want %v", p, tc.k, got, tc.want)
			}
		})
	}
}
