// Package defense holds defenses against adversarial examples as classifier
// wrappers: each wraps any engine.Classifier and is one itself, so every
// attack, evaluation and front-end runs on a defended model unchanged.
//
// Input transformations (JPEG compression, bit-depth reduction, median and
// Gaussian filtering) classify T(x) instead of x. Their gradients are what
// an adaptive attacker uses (Athalye, Carlini and Wagner 2018): exact where
// T is differentiable (blur, a linear map), straight-through (BPDA: the
// wrapped model's gradient at T(x), as if T were the identity) for JPEG,
// bits and median. Feature squeezing (Xu, Evans and Qi 2018) is a detector
// that adds a "rejected" class; randomized smoothing (Cohen, Rosenfeld and
// Kolter 2019) classifies by a vote under Gaussian noise, certifies an L2
// radius, and gives the expectation of the gradient over the noise (EOT).
// PatchCleanser (Xiang et al. 2022) classifies by double masking and
// certifies an image against any patch up to a size.
//
// Parse reads a defense from the command line's NAME[:k=v,…] and Spec.Wrap
// puts it around a model; Defenses lists them with their parameters.
package defense
