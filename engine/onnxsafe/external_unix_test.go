//go:build unix

package onnxsafe

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

func TestLoadRefusesFIFO(t *testing.T) {
	runDefects(t, []defect{
		{"FIFO in the folder", func(t *testing.T, dir, outside string) *onnx.ModelProto {
			if err := syscall.Mkfifo(filepath.Join(dir, "w.bin"), 0o644); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}, Limits{}, "named pipe (FIFO), not a regular file"},
	})
}

func TestLoadRefusesCharDeviceInFolder(t *testing.T) {
	dir := t.TempDir()
	// mknod needs privileges; without them there is nothing to test.
	if err := syscall.Mknod(filepath.Join(dir, "w.bin"), syscall.S_IFCHR|0o644, 1<<8|5); err != nil {
		t.Skipf("cannot make a device node here (%v)", err)
	}
	data := marshal(t, withW(externalTensor("W", []int64{4, 3}, "w.bin", "", "")))
	_, err := loadGuarded(t, data, dir, Limits{})
	wantOneLineError(t, err, "character device, not a regular file")
}
