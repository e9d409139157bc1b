//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package eventlog

import (
	"os"
	"syscall"
)

// tryLock takes flock(LOCK_EX|LOCK_NB) on f, released when f is closed. It never waits.
func tryLock(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
