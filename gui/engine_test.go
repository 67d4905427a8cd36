package gui_test

// This file wires the real engine into the workbench's checks of package
// gui (its *_engine_test.go files), which take a Backend: package gui
// cannot import gui/enginebackend, which imports it, but its external test
// package can.

import (
	"testing"

	"github.com/advlab/advlab/engine/onnxrt"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/gui/enginebackend"
)

// engineBackend returns the real engine, skipping where ONNX Runtime is
// missing.
func engineBackend(tb testing.TB) gui.Backend {
	tb.Helper()
	if err := onnxrt.Init(); err != nil {
		tb.Skip("no ONNX Runtime:", err)
	}
	return enginebackend.New()
}

func TestGUIAndCLIPatchFilesAgree(t *testing.T) {
	gui.GUIAndCLIPatchFilesAgree(t, engineBackend(t))
}

func TestEngineErrorsSayWhatToDo(t *testing.T) {
	gui.ErrorsSayWhatToDo(t, engineBackend(t))
}

func TestUIHandlesEventsWhileTheDemoTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	gui.UIHandlesEventsWhileTheDemoTrains(t, engineBackend(t))
}

// TestExportDialogRefusesWhatTheExporterRefuses needs no ONNX Runtime: the
// engine's exporter is imgops.
func TestExportDialogRefusesWhatTheExporterRefuses(t *testing.T) {
	gui.ExportDialogRefusesWhatTheExporterRefuses(t, enginebackend.New())
}

func BenchmarkUILatencyDemoTraining(b *testing.B) {
	gui.UILatencyDemoTraining(b, engineBackend(b))
}

func BenchmarkOpenWindowEngine(b *testing.B) {
	gui.OpenWindow(b, engineBackend(b))
}
