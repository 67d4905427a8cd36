package cli

// The figures of Szegedy et al. (2013), "Intriguing properties of neural
// networks" (arXiv:1312.6199v4), Section 4.3, that `advlab szegedy` sets its
// own beside (Tables 1 and 2; Table 3 names the networks only).

// szegedyNet is one MNIST network of the paper.
type szegedyNet struct {
	File  string // zoo/digits/<File>.onnx
	Paper string // the paper's name for it
	Desc  string // the paper's description
	// TrainErr and TestErr are Table 1's error rates; Distortion its
	// average minimum distortion, sqrt(Σr²/n) on [0,1] pixels.
	TrainErr, TestErr, Distortion float64
}

// szegedyNets are Table 1's rows in the paper's order (and Table 2's).
var szegedyNets = []szegedyNet{
	{File: "fc10-wd1e-4", Paper: "FC10(1e-4)", Desc: "softmax regression, λ = 1e-4", TrainErr: 0.067, TestErr: 0.074, Distortion: 0.062},
	{File: "fc10-wd1e-2", Paper: "FC10(1e-2)", Desc: "softmax regression, λ = 1e-2", TrainErr: 0.10, TestErr: 0.094, Distortion: 0.1},
	{File: "fc10-wd1", Paper: "FC10(1)", Desc: "softmax regression, λ = 1", TrainErr: 0.212, TestErr: 0.20, Distortion: 0.14},
	{File: "fc100-100-10", Paper: "FC100-100-10", Desc: "sigmoid network, λ = 1e-5, 1e-5, 1e-6", TrainErr: 0, TestErr: 0.0164, Distortion: 0.058},
	{File: "fc200-200-10", Paper: "FC200-200-10", Desc: "sigmoid network, λ = 1e-5, 1e-5, 1e-6", TrainErr: 0, TestErr: 0.0154, Distortion: 0.065},
	{File: "ae400-10", Paper: "AE400-10", Desc: "autoencoder + softmax, λ = 1e-6", TrainErr: 0.0057, TestErr: 0.019, Distortion: 0.086},
}

// szegedyTable2 is the paper's Table 2: the error of each column network
// (szegedyNets order) on the adversarial examples crafted for the row
// network, then the two Gaussian-noise baselines, with each row's average
// distortion last.
var szegedyTable2 = []struct {
	Row    string
	Errors [6]float64
	Dist   float64
}{
	{"FC10(1e-4)", [6]float64{1, 0.117, 0.227, 0.02, 0.039, 0.027}, 0.062},
	{"FC10(1e-2)", [6]float64{0.871, 1, 0.352, 0.359, 0.273, 0.098}, 0.1},
	{"FC10(1)", [6]float64{0.719, 0.762, 1, 0.481, 0.47, 0.344}, 0.14},
	{"FC100-100-10", [6]float64{0.289, 0.137, 0.211, 1, 0.066, 0.02}, 0.058},
	{"FC200-200-10", [6]float64{0.382, 0.14, 0.238, 0.203, 1, 0.027}, 0.065},
	{"AE400-10", [6]float64{0.234, 0.16, 0.248, 0.094, 0.066, 1}, 0.086},
	{"Gaussian noise, stddev=0.1", [6]float64{0.05, 0.101, 0.183, 0, 0, 0.008}, 0.1},
	{"Gaussian noise, stddev=0.3", [6]float64{0.156, 0.113, 0.227, 0.05, 0.043, 0.031}, 0.3},
}

// szegedyNoise are the standard deviations of the noise baselines.
var szegedyNoise = []float64{0.1, 0.3}

// szegedyTable3Net is one network of the paper's Table 3 (cross-training-set
// generalisation): the MNIST training set split into two disjoint halves,
// P1 and P2, with a network trained on each.
type szegedyTable3Net struct {
	File  string // zoo/digits/<File>.onnx
	Paper string // the paper's name for it
	Half  string // the training half: "P1" or "P2"
}

// szegedyTable3Nets are Table 3's networks in the paper's order. Only the
// networks are transcribed: the search tool available when this was written
// found no reliable copy of the table's figures, so the report gives the
// measured table alone rather than numbers from memory.
var szegedyTable3Nets = []szegedyTable3Net{
	{File: "fc100-100-10-p1", Paper: "FC100-100-10", Half: "P1"},
	{File: "fc123-456-10-p1", Paper: "FC123-456-10", Half: "P1"},
	{File: "fc100-100-10-p2", Paper: "FC100-100-10'", Half: "P2"},
}
