package onnxupgrade

import "math"

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
