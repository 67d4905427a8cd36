// Package onnxsafe is advlab's gate for untrusted ONNX model files. Load parses
// a model's bytes, checks every size the model declares against Limits before
// anything is allocated from it, and inlines every tensor stored in an external
// file (dense, sparse, in attributes, in subgraphs and functions), reading only
// regular files inside the model's folder. What it returns references no file,
// so ONNX Runtime is handed bytes it cannot use to read, map or over-allocate.
package onnxsafe

import "github.com/advlab/advlab/imgops"

// Limits bound what a model may declare. A zero field takes the value of
// DefaultLimits, so Limits{} means the defaults.
type Limits struct {
	// MaxTotalBytes bounds the bytes of all tensors together: inline data,
	// external data, and the dense size of every sparse tensor, which ONNX
	// Runtime materialises.
	MaxTotalBytes int64
	// MaxElements bounds the element count of one tensor (dense or sparse).
	MaxElements int64
	// MaxStrings bounds the element count of one string tensor.
	MaxStrings int64
	// MaxStringBytes bounds the bytes of all string tensors together.
	MaxStringBytes int64
	// MaxDim bounds every static dimension the graphs declare for their
	// inputs, outputs and value_info, except the batch (the first dimension
	// of a graph input or output).
	MaxDim int64
	// MaxBatch bounds a graph input's or output's first dimension.
	MaxBatch int64
	// MaxClasses bounds every dimension but the batch of the main graph's
	// outputs: a classifier's class count.
	MaxClasses int64
}

// DefaultLimits returns limits that admit any real image classifier: 4 GiB of
// tensors, 2^31 elements per tensor, 1<<20 strings per string tensor and
// 64 MiB of strings in all, dimensions up to 1<<24, batches up to 1<<16 and at
// most 1<<20 classes.
func DefaultLimits() Limits {
	return Limits{
		MaxTotalBytes:  4 << 30,
		MaxElements:    1 << 31,
		MaxStrings:     1 << 20,
		MaxStringBytes: 64 << 20,
		MaxDim:         1 << 24,
		MaxBatch:       1 << 16,
		MaxClasses:     imgops.MaxClasses,
	}
}

// withDefaults fills the zero (or negative) fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, def *int64 }{
		{&l.MaxTotalBytes, &d.MaxTotalBytes},
		{&l.MaxElements, &d.MaxElements},
		{&l.MaxStrings, &d.MaxStrings},
		{&l.MaxStringBytes, &d.MaxStringBytes},
		{&l.MaxDim, &d.MaxDim},
		{&l.MaxBatch, &d.MaxBatch},
		{&l.MaxClasses, &d.MaxClasses},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return l
}
