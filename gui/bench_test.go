package gui

import (
	"testing"

	"fyne.io/fyne/v2"
)

var plotMinForTest = fyne.NewSize(300, 200)

// BenchmarkOpenWindow builds the whole window and loads the demo (from the
// fake backend, so that it measures the GUI and not ONNX Runtime).
func BenchmarkOpenWindow(b *testing.B) {
	be := newFakeBackend()
	for i := 0; i < b.N; i++ {
		wb, _ := newTestWorkbench(b, be)
		if len(wb.models) != 1 {
			b.Fatal("the demo did not load")
		}
	}
}
