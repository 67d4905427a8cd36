package onnxrt

import (
	"fmt"
	"runtime"
	"strings"
	"unicode"

	ort "github.com/yalue/onnxruntime_go"
)

// NewSessionOptions returns the options every advlab session uses: all graph
// optimisations and one intra-op thread per core, whose threads stop
// spinning when a run returns. A model's forward and gradient sessions have
// a thread pool each and attacks alternate between them; spinning workers
// of the idle pool took a core from the running one (batch-8 ResNet-18 on
// two cores: gradient 32 → 18 ms, forward 14 → 7 ms when alternated; no
// change when one session runs alone).
func NewSessionOptions() (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if err := opts.SetIntraOpNumThreads(runtime.NumCPU()); err != nil {
		opts.Destroy()
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		opts.Destroy()
		return nil, err
	}
	if err := opts.AddSessionConfigEntry("session.force_spinning_stop", "1"); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

// NewSession starts an ONNX Runtime session on a serialised graph.
func NewSession(data []byte, inputs, outputs []string) (*ort.DynamicAdvancedSession, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	opts, err := NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, inputs, outputs, opts)
	return s, oneLine(err)
}

// Run runs s once, like s.Run, with ONNX Runtime's error made one line.
func Run(s *ort.DynamicAdvancedSession, inputs, outputs []ort.Value) error {
	return oneLine(s.Run(inputs, outputs))
}

// oneLine returns err with every control character of its message (ONNX
// Runtime quotes the model's own node names and operator types, which may
// hold newlines, and some of its messages span lines) written as a \xNN
// escape, so that an error always reads as one line.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.ContainsFunc(msg, unicode.IsControl) {
		return err
	}
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return lineError{msg: b.String(), err: err}
}

// lineError is an error whose message is made one line; it wraps the
// original.
type lineError struct {
	msg string
	err error
}

func (e lineError) Error() string { return e.msg }
func (e lineError) Unwrap() error { return e.err }
