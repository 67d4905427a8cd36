// Package archtest holds the tests of advlab's architecture that span the
// whole module: which package may import which (the dependency direction of
// the README's layout), and that every package and exported name carries a
// doc comment that starts with its name. It has no code of its own; its
// tests read the module's source with go/parser.
package archtest
