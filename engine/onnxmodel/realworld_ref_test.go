package onnxmodel_test

import (
	"math"
	"os"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/zootest"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
)

// originalModel runs a downloaded model's own file in ONNX Runtime, one
// image at a time, fed the way its README says, bypassing everything advlab
// does to a model (opset upgrade, float16 conversion, canonical graph,
// preprocessing): the reference the corpus test holds advlab to.
type originalModel struct {
	rw               zootest.RealWorldModel
	s                *ort.DynamicAdvancedSession
	inShape          ort.Shape
	outShape         ort.Shape
	channels, pixels int
}

// newOriginal starts a session on rw's file in dir at batch 1.
func newOriginal(tb testing.TB, rw zootest.RealWorldModel, dir string) *originalModel {
	tb.Helper()
	if err := onnxrt.Init(); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(rw.Path(dir))
	if err != nil {
		tb.Fatal(err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		tb.Fatal(err)
	}
	// An IR-3 file lists its weights as inputs too; the image comes first.
	in, out := ins[0], outs[0]
	one := func(s ort.Shape) ort.Shape {
		c := s.Clone()
		for i, d := range c {
			if d < 0 {
				c[i] = 1
			}
		}
		c[0] = 1
		return c
	}
	o := &originalModel{rw: rw, inShape: one(in.Dimensions), outShape: one(out.Dimensions)}
	if len(o.inShape) != 4 {
		tb.Fatalf("%s: input %q has shape %v, want NCHW", rw.File, in.Name, in.Dimensions)
	}
	o.channels, o.pixels = int(o.inShape[1]), int(o.inShape[2]*o.inShape[3])
	if o.s, err = onnxrt.NewSession(data, []string{in.Name}, []string{out.Name}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { o.s.Destroy() })
	return o
}

// input maps one NCHW RGB image in [0,1] to the original's input units.
func (o *originalModel) input(img []float32) []float32 {
	out := make([]float32, len(img))
	for c := 0; c < o.channels; c++ {
		src := c
		if o.rw.BGR {
			src = o.channels - 1 - c
		}
		for p := 0; p < o.pixels; p++ {
			out[c*o.pixels+p] = (img[src*o.pixels+p]*o.rw.Scale - o.rw.Mean[c]) / o.rw.Std[c]
		}
	}
	return out
}

// probs returns the original's class probabilities for one [0,1] image.
func (o *originalModel) probs(tb testing.TB, img []float32) []float64 {
	tb.Helper()
	x := o.input(img)
	var raw []float32
	if o.rw.Float16 {
		in, err := ort.NewCustomDataTensor(o.inShape, float16Bytes(x), ort.TensorElementDataTypeFloat16)
		if err != nil {
			tb.Fatal(err)
		}
		defer in.Destroy()
		buf := make([]byte, 2*o.outShape.FlattenedSize())
		out, err := ort.NewCustomDataTensor(o.outShape, buf, ort.TensorElementDataTypeFloat16)
		if err != nil {
			tb.Fatal(err)
		}
		defer out.Destroy()
		if err := o.s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
			tb.Fatalf("running %s: %v", o.rw.File, err)
		}
		raw = float16Floats(buf)
	} else {
		in, err := ort.NewTensor(o.inShape, x)
		if err != nil {
			tb.Fatal(err)
		}
		defer in.Destroy()
		out, err := ort.NewEmptyTensor[float32](o.outShape)
		if err != nil {
			tb.Fatal(err)
		}
		defer out.Destroy()
		if err := o.s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
			tb.Fatalf("running %s: %v", o.rw.File, err)
		}
		raw = append([]float32(nil), out.GetData()...)
	}
	switch o.rw.Output {
	case "logits":
		return engine.Softmax(raw)
	case "log_probabilities":
		p := make([]float64, len(raw))
		for i, v := range raw {
			p[i] = math.Exp(float64(v))
		}
		return p
	}
	p := make([]float64, len(raw))
	for i, v := range raw {
		p[i] = float64(v)
	}
	return p
}

// loss is the original's cross-entropy of one [0,1] image for target.
func (o *originalModel) loss(tb testing.TB, img []float32, target int) float64 {
	return -math.Log(o.probs(tb, img)[target])
}
