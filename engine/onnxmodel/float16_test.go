package onnxmodel_test

import (
	"encoding/binary"
	"math"
	"testing"
)

// float16Bytes rounds values to IEEE 754 half precision, little-endian.
func float16Bytes(values []float32) []byte {
	out := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(out[2*i:], float32ToFloat16(v))
	}
	return out
}

// float16Floats decodes little-endian IEEE 754 half-precision values.
func float16Floats(raw []byte) []float32 {
	out := make([]float32, len(raw)/2)
	for i := range out {
		out[i] = float16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return out
}

// float32ToFloat16 rounds f to the nearest half-precision value, ties to even.
func float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 // a quiet NaN
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // half's biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e >= 1 {
		h := uint32(e)<<10 | mant>>13
		if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
			h++ // a carry into the exponent is the right rounding, up to infinity
		}
		return sign | uint16(h)
	}
	// A subnormal half: units of 2^-24.
	shift := uint(14 - e)
	if shift > 24 {
		return sign
	}
	m := mant | 0x800000
	h := m >> shift
	if rem, half := m&(1<<shift-1), uint32(1)<<(shift-1); rem > half || rem == half && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

// float16ToFloat32 returns the half-precision value h exactly.
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		v := float32(math.Ldexp(float64(mant), -24))
		if sign != 0 {
			v = -v
		}
		return v
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// TestFloat16Conversion pins the half-precision rounding the float16 variants
// are fed with against IEEE 754's encodings, and checks that every half
// survives a round trip.
func TestFloat16Conversion(t *testing.T) {
	for _, c := range []struct {
		name string
		f    float32
		h    uint16
	}{
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"zero", 0, 0x0000},
		{"minus zero", float32(math.Copysign(0, -1)), 0x8000},
		{"tenth", 0.1, 0x2e66},
		{"largest", 65504, 0x7bff},
		{"tie to infinity", 65520, 0x7c00},
		{"infinity", float32(math.Inf(1)), 0x7c00},
		{"smallest normal", float32(math.Ldexp(1, -14)), 0x0400},
		{"smallest subnormal", float32(math.Ldexp(1, -24)), 0x0001},
		{"tie below the smallest subnormal", float32(math.Ldexp(1, -25)), 0x0000},
		{"above the tie", float32(math.Ldexp(1.5, -25)), 0x0001},
		{"tie to even down", 1 + float32(math.Ldexp(1, -11)), 0x3c00},
		{"tie to even up", 1 + 3*float32(math.Ldexp(1, -11)), 0x3c02},
		{"subnormal tie to even", float32(math.Ldexp(3, -25)), 0x0002},
		{"float32 subnormal", math.Float32frombits(1), 0x0000},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := float32ToFloat16(c.f); got != c.h {
				t.Errorf("float32ToFloat16(%g) = %#04x, want %#04x", c.f, got, c.h)
			}
		})
	}
	if h := float32ToFloat16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN became %#04x", h)
	}
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaNs
		}
		if got := float32ToFloat16(float16ToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, float16ToFloat32(uint16(h)), got)
		}
	}
}
