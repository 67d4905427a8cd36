package modelconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// MinStdFraction is the smallest std Resolve accepts, as a fraction of the
// input range's width: one 8-bit grey level is 1/255 of the range, so a std a
// million times smaller than the range only amplifies rounding noise, and is
// always a mistake (such as 1e-45 for 1).
const MinStdFraction = 1e-6

// Resize is how an image is brought to the model's input size.
type Resize struct {
	// Mode is Stretch or CenterCrop.
	Mode ResizeMode
	// CropFraction is the centre crop's fraction for CenterCrop: the short
	// side is scaled to S/CropFraction, then the centre S×S is kept.
	CropFraction float32
}

// Preprocess is how an RGB pixel with values x in [0,1] becomes the model's
// input: model channel c takes the source channel SourceChannel(c) and maps it
// to ((x·(Range[1]−Range[0]) + Range[0]) − Mean[c]) / Std[c].
type Preprocess struct {
	// Range is the range [0,1] pixels are scaled to before the mean is taken off.
	Range [2]float32
	// Mean and Std have one value per model channel, in the model's channel
	// order and Range's units.
	Mean, Std []float32
	// ChannelOrder is the model's colour order (RGB for grey models).
	ChannelOrder ChannelOrder
	// Resize says how images reach the input size.
	Resize Resize

	from sources
}

// sources records where each choice came from, for Describe.
type sources struct{ rng, mean, std, order, resize string }

// Resolve turns the configuration into the preprocessing of a model with the
// given number of input channels (1 for grey, 3 for colour, up to 4). Explicit
// keys win over the preset's values, which win over the defaults: RGB, range
// [0,1], mean 0, std 1, stretch. A crop_fraction without resize implies
// center_crop.
func (c Config) Resolve(channels int) (Preprocess, error) {
	if channels < 1 || channels > 4 {
		return Preprocess{}, fmt.Errorf("the model's input has %d channels; advlab handles 1 to 4", channels)
	}
	for i, s := range [][]int{c.InputSize, c.ImageShape} {
		if key := []string{"input_size", "image_shape"}[i]; len(s) == 3 && s[0] != channels {
			return Preprocess{}, fmt.Errorf("%s %v says %d channels but the model's input has %d; fix %s", key, s, s[0], channels, key)
		}
	}
	src := c.Source
	if src == "" {
		src = "sidecar"
	}
	p := Preprocess{Range: [2]float32{0, 1}, ChannelOrder: RGB, Resize: Resize{Mode: Stretch}}
	p.from = sources{"default", "default", "default", "default", "default"}
	mean, std := []float32{0}, []float32{1}
	if c.Preset != "" {
		pre, ok := LookupPreset(c.Preset)
		if !ok {
			return Preprocess{}, fmt.Errorf("preset %q is unknown; use one of %s", c.Preset, strings.Join(PresetNames(), ", "))
		}
		from := "preset " + c.Preset
		p.Range, mean, std, p.ChannelOrder = pre.Range, pre.Mean, pre.Std, pre.ChannelOrder
		p.Resize = Resize{Mode: pre.Resize, CropFraction: pre.CropFraction}
		p.from = sources{from, from, from, from, from}
	}
	if len(c.InputRange) == 2 {
		p.Range, p.from.rng = [2]float32{c.InputRange[0], c.InputRange[1]}, src
	} else if c.InputRange != nil {
		return Preprocess{}, fmt.Errorf("input_range %v: give [low, high], e.g. [0, 255]", c.InputRange)
	}
	if c.Mean != nil {
		mean, p.from.mean = c.Mean, src
	}
	if c.Std != nil {
		std, p.from.std = c.Std, src
	}
	if c.ChannelOrder != "" {
		p.ChannelOrder, p.from.order = c.ChannelOrder, src
	}
	switch {
	case c.Resize != "":
		p.Resize, p.from.resize = Resize{Mode: c.Resize, CropFraction: c.CropFraction}, src
	case c.CropFraction != 0:
		p.Resize, p.from.resize = Resize{Mode: CenterCrop, CropFraction: c.CropFraction}, src
	}
	if p.Resize.Mode == CenterCrop && p.Resize.CropFraction == 0 {
		p.Resize.CropFraction = 0.875
	}
	if p.Resize.Mode == Stretch {
		p.Resize.CropFraction = 0
	}
	if !(p.Range[1] > p.Range[0]) {
		return Preprocess{}, fmt.Errorf("input_range %v must have high > low", p.Range)
	}
	if p.ChannelOrder == BGR && channels != 3 {
		return Preprocess{}, fmt.Errorf("channel_order BGR (%s) needs a 3-channel input, and the model's has %d; remove channel_order or the preset", p.from.order, channels)
	}
	var err error
	if p.Mean, err = perChannel("mean", p.from.mean, mean, channels); err != nil {
		return Preprocess{}, err
	}
	if p.Std, err = perChannel("std", p.from.std, std, channels); err != nil {
		return Preprocess{}, err
	}
	width := float64(p.Range[1]) - float64(p.Range[0])
	for i, m := range p.Mean {
		if m != m || m > 3e38 || m < -3e38 {
			return Preprocess{}, fmt.Errorf("mean %v (%s): value %d is not a finite number", p.Mean, p.from.mean, i+1)
		}
	}
	for i, s := range p.Std {
		if !(float64(s) >= MinStdFraction*width) || s > 3e38 {
			return Preprocess{}, fmt.Errorf("std %v (%s): value %d must be finite and at least %s (a millionth of the input range %v)", p.Std, p.from.std, i+1, strconv.FormatFloat(MinStdFraction*width, 'g', 4, 64), p.Range)
		}
	}
	return p, nil
}

// perChannel spreads one value over every channel, or checks there is one per channel.
func perChannel(key, from string, v []float32, channels int) ([]float32, error) {
	out := make([]float32, channels)
	switch len(v) {
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case channels:
		copy(out, v)
	default:
		return nil, fmt.Errorf("%s %v (%s) has %d values but the model's input has %d channels; give one value per channel or a single value", key, v, from, len(v), channels)
	}
	return out, nil
}

// SourceChannel returns which channel of the RGB (or grey) pixel feeds model
// channel c: 2−c for BGR, c otherwise.
func (p Preprocess) SourceChannel(c int) int {
	if p.ChannelOrder == BGR && c < 3 {
		return 2 - c
	}
	return c
}

// Affine returns scale and offset such that model channel c's input is
// x·scale + offset for its source pixel value x in [0,1].
func (p Preprocess) Affine(c int) (scale, offset float32) {
	w := p.Range[1] - p.Range[0]
	return w / p.Std[c], (p.Range[0] - p.Mean[c]) / p.Std[c]
}

// Apply maps one pixel, given in RGB order (or one grey value) with values
// in [0,1], to the model's input values in the model's channel order.
func (p Preprocess) Apply(pixel []float32) []float32 {
	out := make([]float32, len(p.Mean))
	for c := range out {
		x := pixel[p.SourceChannel(c)]
		out[c] = ((x*(p.Range[1]-p.Range[0]) + p.Range[0]) - p.Mean[c]) / p.Std[c]
	}
	return out
}

// IsIdentity reports whether the preprocessing leaves [0,1] pixels unchanged
// (resizing aside).
func (p Preprocess) IsIdentity() bool {
	if p.Range != [2]float32{0, 1} || (p.ChannelOrder == BGR && len(p.Mean) == 3) {
		return false
	}
	for i := range p.Mean {
		if p.Mean[i] != 0 || p.Std[i] != 1 {
			return false
		}
	}
	return true
}

// Describe says in one line what preprocessing was chosen and where each part
// came from (sidecar, metadata, preset or default), e.g. "BGR, 0..255 minus
// mean [103.9 116.8 123.7] (preset imagenet-caffe), centre crop 0.875 (preset
// imagenet-caffe)".
func (p Preprocess) Describe() string {
	var b strings.Builder
	order := string(p.ChannelOrder)
	if len(p.Mean) == 1 {
		order = "grey"
	}
	fmt.Fprintf(&b, "%s, %s..%s", order, num(p.Range[0]), num(p.Range[1]))
	parts := []struct{ what, from string }{{"range", p.from.rng}}
	if len(p.Mean) > 1 {
		parts = append(parts, struct{ what, from string }{"order", p.from.order})
	}
	if !allEqual(p.Mean, 0) {
		fmt.Fprintf(&b, " minus mean %s", nums(p.Mean))
		parts = append(parts, struct{ what, from string }{"mean", p.from.mean})
	}
	if !allEqual(p.Std, 1) {
		fmt.Fprintf(&b, " divided by std %s", nums(p.Std))
		parts = append(parts, struct{ what, from string }{"std", p.from.std})
	}
	b.WriteString(" (" + attribution(parts) + ")")
	if p.Resize.Mode == CenterCrop {
		fmt.Fprintf(&b, ", centre crop %s", num(p.Resize.CropFraction))
	} else {
		b.WriteString(", stretched to the input size")
	}
	b.WriteString(" (" + orDefault(p.from.resize) + ")")
	return b.String()
}

// attribution names the common source of the parts, and any part that differs.
func attribution(parts []struct{ what, from string }) string {
	count := map[string]int{}
	main := ""
	for _, p := range parts {
		f := orDefault(p.from)
		count[f]++
		if count[f] > count[main] {
			main = f
		}
	}
	out := main
	for _, p := range parts {
		if f := orDefault(p.from); f != main {
			out += "; " + p.what + " from " + f
		}
	}
	return out
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func allEqual(v []float32, x float32) bool {
	for _, e := range v {
		if e != x {
			return false
		}
	}
	return true
}

func num(x float32) string { return strconv.FormatFloat(float64(x), 'g', 4, 32) }

func nums(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = num(x)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// OutputKind returns what the model's class output holds: the configured
// output, or Logits when none is stated.
func (c Config) OutputKind() Output {
	if c.Output == "" {
		return Logits
	}
	return c.Output
}
