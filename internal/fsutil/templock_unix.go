//go:build unix

package fsutil

import (
	"os"
	"syscall"
)

// A live writer holds an exclusive flock on its temporary file until it
// closes it; the kernel drops the lock when the process dies, so a
// temporary file whose lock can be taken belongs to a killed run.

// closeBeforeRename is false: the lock is kept until the temporary file
// has its final name, so no cleaner can remove it in between.
const closeBeforeRename = false

// lockTemp takes the lock that marks tmp as being written.
func lockTemp(tmp *os.File) error {
	return syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX)
}

// removeIfStale removes the temporary file at path unless a live writer
// holds it, keeping the lock while it removes it.
func removeIfStale(path string) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // alive
	}
	os.Remove(path)
}
