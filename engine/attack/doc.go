// Package attack crafts adversarial examples against an engine.Classifier:
// Szegedy et al.'s box-constrained L-BFGS (on boxmin), FGSM, PGD under L∞ or
// L2, Carlini–Wagner L2, DeepFool and the black-box Square Attack, each an
// Attack that runs on a batch of [0,1] images. RunBatched splits a data set
// into batches; the registry (registry.go) is the one table of every
// method's parameters and defaults, which the CLI's flags and the GUI's
// attack form are built from.
package attack
