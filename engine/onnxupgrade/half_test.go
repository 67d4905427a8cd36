package onnxupgrade

import (
	"math"
	"testing"
)

// float32ToFloat16 encodes f as IEEE 754 binary16, rounding to nearest even
// and keeping NaN a NaN.
// The tests use it to feed float16 models.
func float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	switch {
	case exp == 0xff: // infinity or NaN
		if frac != 0 {
			return sign | 0x7e00 | uint16(frac>>13)
		}
		return sign | 0x7c00
	case exp-127 > 15: // overflows to infinity
		return sign | 0x7c00
	case exp-127 >= -14: // normal
		e := uint32(exp - 127 + 15)
		v := e<<10 | frac>>13
		return sign | uint16(roundEven(v, frac&0x1fff, 0x1000))
	case exp-127 >= -25: // subnormal, or rounds up to the smallest one
		m := frac | 0x800000 // the implicit leading 1
		shift := uint32(-14-(exp-127)) + 13
		v := m >> shift
		return sign | uint16(roundEven(v, m&(1<<shift-1), 1<<(shift-1)))
	}
	return sign // underflows to zero
}

// roundEven rounds the truncated value v up when the dropped bits rest are
// more than half (half is the halfway value), or exactly half and v odd. A
// carry out of the fraction correctly bumps the exponent.
func roundEven(v, rest, half uint32) uint32 {
	if rest > half || (rest == half && v&1 == 1) {
		return v + 1
	}
	return v
}

// halfReference decodes binary16 from its definition, independently of the
// bit manipulation in float16ToFloat32.
func halfReference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	case 0:
		return sign * math.Ldexp(frac/1024, -14)
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

func TestFloat16ToFloat32AllValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got := float16ToFloat32(uint16(h))
		want := halfReference(uint16(h))
		switch {
		case math.IsNaN(want):
			if !math.IsNaN(float64(got)) {
				t.Fatalf("%#04x: got %v, want NaN", h, got)
			}
		case float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want):
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
		if back := float32ToFloat16(got); back != uint16(h) && !math.IsNaN(want) {
			t.Fatalf("%#04x: encodes back to %#04x", h, back)
		}
	}
}

func TestFloat16Cases(t *testing.T) {
	tests := []struct {
		name string
		bits uint16
		want float64
	}{
		{"one", 0x3c00, 1},
		{"minus two", 0xc000, -2},
		{"largest", 0x7bff, 65504},
		{"smallest normal", 0x0400, math.Ldexp(1, -14)},
		{"smallest subnormal", 0x0001, math.Ldexp(1, -24)},
		{"largest subnormal", 0x03ff, math.Ldexp(1023, -24)},
		{"negative zero", 0x8000, math.Copysign(0, -1)},
		{"infinity", 0x7c00, math.Inf(1)},
		{"minus infinity", 0xfc00, math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := float64(float16ToFloat32(tt.bits))
			if got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
				t.Errorf("float16 %#04x = %v, want %v", tt.bits, got, tt.want)
			}
		})
	}
	for _, bits := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if f := float16ToFloat32(bits); !math.IsNaN(float64(f)) {
			t.Errorf("float16 %#04x = %v, want NaN", bits, f)
		}
	}
}

func TestBFloat16Cases(t *testing.T) {
	tests := []struct {
		name string
		bits uint16
		want float64
	}{
		{"one", 0x3f80, 1},
		{"minus 1.5", 0xbfc0, -1.5},
		{"smallest subnormal", 0x0001, math.Ldexp(1, -133)},
		{"smallest normal", 0x0080, math.Ldexp(1, -126)},
		{"largest", 0x7f7f, math.Ldexp(255, 120)},
		{"infinity", 0x7f80, math.Inf(1)},
		{"minus infinity", 0xff80, math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := float64(bfloat16ToFloat32(tt.bits)); got != tt.want {
				t.Errorf("bfloat16 %#04x = %v, want %v", tt.bits, got, tt.want)
			}
		})
	}
	if f := bfloat16ToFloat32(0x7fc0); !math.IsNaN(float64(f)) {
		t.Errorf("bfloat16 0x7fc0 = %v, want NaN", f)
	}
}

// TestFloat32ToFloat16Rounding checks the test helper that feeds float16
// models: halfway cases round to even.
func TestFloat32ToFloat16Rounding(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},           // halfway, rounds to even 1
		{1 + 3.0/2048, 0x3c02},           // halfway, rounds to even
		{65520, 0x7c00},                  // rounds to infinity
		{float32(math.Ldexp(1, -25)), 0}, // halfway to the smallest subnormal: even is 0
		{float32(math.Ldexp(3, -26)), 1}, // above halfway
		{float32(math.Ldexp(1, -30)), 0}, // underflow
		{-float32(math.Ldexp(1, -24)), 0x8001},
	}
	for _, tt := range tests {
		if got := float32ToFloat16(tt.in); got != tt.want {
			t.Errorf("float32ToFloat16(%v) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}
