// Package patch trains and measures adversarial patches (Brown et al.
// 2017): Train optimises a universal, optionally targeted patch by
// expectation over transformation (random rotation, scale and placement
// through imgops's patch operator, over many images and the models of an
// ensemble) with total-variation and non-printability regularisers, and
// reports every step; Evaluate measures a patch's success rate against its
// scale beside a noise patch of the same size; checkpoints let a run stop
// and resume.
package patch
