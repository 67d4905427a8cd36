package onnxsafe

import (
	"strings"
	"testing"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// loadGuarded runs Load on its own goroutine and fails the test if Load
// panics or has not returned after a generous minute (a FIFO or a device
// would hang it forever; this is no speed assertion).
func loadGuarded(t *testing.T, data []byte, dir string, lim Limits) (*onnx.ModelProto, error) {
	t.Helper()
	type result struct {
		mp    *onnx.ModelProto
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p}
			}
		}()
		mp, err := Load(data, dir, lim)
		done <- result{mp: mp, err: err}
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			t.Fatalf("Load panicked: %v", r.panic)
		}
		return r.mp, r.err
	case <-time.After(60 * time.Second):
		t.Fatal("Load did not return within a minute: it hangs")
	}
	return nil, nil
}

// wantOneLineError checks that err exists, is one line, and says want.
func wantOneLineError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded; want an error containing %q", want)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error spans several lines: %q", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q; want it to contain %q", msg, want)
	}
}

// everyTensor calls f on every TensorProto of a model, wherever it sits.
func everyTensor(mp *onnx.ModelProto, f func(*onnx.TensorProto)) {
	var graph func(g *onnx.GraphProto)
	attr := func(a *onnx.AttributeProto) {
		if a.GetT() != nil {
			f(a.GetT())
		}
		for _, t := range a.GetTensors() {
			f(t)
		}
		for _, s := range append([]*onnx.SparseTensorProto{a.GetSparseTensor()}, a.GetSparseTensors()...) {
			if s != nil {
				f(s.GetValues())
				f(s.GetIndices())
			}
		}
		if a.GetG() != nil {
			graph(a.GetG())
		}
		for _, g := range a.GetGraphs() {
			graph(g)
		}
	}
	graph = func(g *onnx.GraphProto) {
		for _, t := range g.GetInitializer() {
			f(t)
		}
		for _, s := range g.GetSparseInitializer() {
			f(s.GetValues())
			f(s.GetIndices())
		}
		for _, n := range g.GetNode() {
			for _, a := range n.GetAttribute() {
				attr(a)
			}
		}
	}
	graph(mp.GetGraph())
	for _, fn := range mp.GetFunctions() {
		for _, n := range fn.GetNode() {
			for _, a := range n.GetAttribute() {
				attr(a)
			}
		}
	}
}

// selfContained fails unless no tensor of mp references external data.
func selfContained(t *testing.T, mp *onnx.ModelProto) {
	t.Helper()
	everyTensor(mp, func(x *onnx.TensorProto) {
		if x == nil {
			return
		}
		if x.GetDataLocation() != onnx.TensorProto_DEFAULT || len(x.GetExternalData()) > 0 {
			t.Errorf("tensor %q still references external data %v", x.GetName(), x.GetExternalData())
		}
	})
}
