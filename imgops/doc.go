// Package imgops is advlab's image core for adversarial patches (Brown et al.
// 2017, "Adversarial Patch"): the Patch and its Mask, the seeded sampler of
// patch Transforms (rotation, scale, location and optional perspective,
// brightness, contrast, noise and blur), the patch application operator
// A(p, x, l, t) with its exact adjoint (Apply and Composition.PullBack), the
// print regularisers (total variation and the non-printability score of
// Sharif et al. 2016) and the printable export (PNG with physical resolution
// and metadata, self-describing patch files, PDF at an exact physical size).
//
// Conventions shared with the engine: images are float32 in [0,1], batches are
// NCHW stored in one []float32 of n*c*h*w, and a model has c=3 (RGB) or c=1
// (grayscale, the luminance 0.299R+0.587G+0.114B of the composite).
//
// Image coordinates are continuous with the origin at the top-left corner of
// the top-left pixel, x to the right and y down; pixel (i, j) (row i, column j)
// covers [j, j+1)×[i, i+1) and its centre is (j+0.5, i+0.5). Patch coordinates
// follow the same convention inside the patch.
//
// imgops never imports the engine or a GUI toolkit.
package imgops
