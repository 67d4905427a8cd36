// Package boxmin minimises a smooth function over a box, lo ≤ x ≤ hi, by a
// projected L-BFGS driven by reverse communication (the caller evaluates
// each point the Minimizer asks for), so that an attack can run one
// minimisation per image and evaluate them all in one batched gradient
// call. It is the optimiser of Szegedy et al.'s box-constrained L-BFGS
// attack; boxmin.go says why it is not L-BFGS-B.
package boxmin
