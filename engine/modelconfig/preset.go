package modelconfig

import "sort"

// Preset is a named set of preprocessing defaults, for a family of models
// trained the same way. A configuration's explicit keys override a preset's
// values one by one.
type Preset struct {
	// Range is the range [0,1] pixels are scaled to.
	Range [2]float32
	// Mean and Std are in Range's units and the model's channel order; one
	// value stands for every channel.
	Mean, Std []float32
	// ChannelOrder is the model's colour order.
	ChannelOrder ChannelOrder
	// Resize and CropFraction say how images reach the input size.
	Resize       ResizeMode
	CropFraction float32
}

// presets are facts of how well-known model families were trained.
var presets = map[string]Preset{
	// torchvision: RGB in [0,1], ImageNet's per-channel mean and std.
	"imagenet": {Range: [2]float32{0, 1}, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225},
		ChannelOrder: RGB, Resize: CenterCrop, CropFraction: 0.875},
	// Caffe (VGG, ResNet of Caffe, Caffe2 SqueezeNet): BGR in 0..255 minus the
	// mean pixel in BGR order, no scaling.
	"imagenet-caffe": {Range: [2]float32{0, 255}, Mean: []float32{103.939, 116.779, 123.68}, Std: []float32{1},
		ChannelOrder: BGR, Resize: CenterCrop, CropFraction: 0.875},
	// TensorFlow-slim (Inception, MobileNet): x/127.5 − 1, i.e. RGB in [-1,1].
	"imagenet-tf": {Range: [2]float32{-1, 1}, Mean: []float32{0}, Std: []float32{1},
		ChannelOrder: RGB, Resize: CenterCrop, CropFraction: 0.875},
	// CIFAR-10's training-set mean and standard deviation.
	"cifar10": {Range: [2]float32{0, 1}, Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616},
		ChannelOrder: RGB, Resize: Stretch},
	// MNIST's training-set mean and standard deviation.
	"mnist": {Range: [2]float32{0, 1}, Mean: []float32{0.1307}, Std: []float32{0.3081},
		ChannelOrder: RGB, Resize: Stretch},
}

// PresetNames returns the names a "preset" key accepts, sorted.
func PresetNames() []string {
	out := make([]string, 0, len(presets))
	for k := range presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, bool) {
	p, ok := presets[name]
	p.Mean = append([]float32(nil), p.Mean...)
	p.Std = append([]float32(nil), p.Std...)
	return p, ok
}
