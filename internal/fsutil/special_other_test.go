//go:build !unix

package fsutil

import "testing"

// specialFiles has no named pipes or devices to make here.
func specialFiles(*testing.T, string) map[string]string { return map[string]string{} }
