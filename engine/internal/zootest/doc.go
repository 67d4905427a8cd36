// Package zootest loads, for the engine's tests, the demo zoo's models with
// their sample images and the PyTorch-exported architecture fixtures, and
// skips a test with the reason when they are absent.
package zootest
