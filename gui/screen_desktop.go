//go:build !ci && !js && !wasm && !android && !ios && !mobile

package gui

import (
	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// screenSize returns the primary monitor's work area (the screen less the
// panels) in Fyne units at scale, or a zero size when it is not known. It
// runs on the main goroutine, where Fyne's desktop driver keeps GLFW (which
// the creation of the window has initialised).
func screenSize(scale float32) (size fyne.Size) {
	defer func() {
		if recover() != nil { // GLFW not initialised: keep the default size
			size = fyne.Size{}
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return fyne.Size{}
	}
	_, _, w, h := m.GetWorkarea()
	if scale <= 0 {
		scale = 1
	}
	return fyne.NewSize(float32(w)/scale, float32(h)/scale)
}
