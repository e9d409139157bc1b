//go:build unix

package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// oNoFollow makes opening a symlinked lock path fail instead of following it.
const oNoFollow = unix.O_NOFOLLOW

// flockFile applies how to f, retrying on EINTR (the Go runtime's preemption
// signals interrupt blocking flock). Filesystems without flock support
// yield an error wrapping errFlockUnsupported.
func flockFile(f *os.File, how int) error {
	if flockUnsupported {
		return fmt.Errorf("%w (test hook)", errFlockUnsupported)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for {
		var ferr error
		if err := rc.Control(func(fd uintptr) { ferr = unix.Flock(int(fd), how) }); err != nil {
			return err
		}
		switch {
		case ferr == nil:
			return nil
		case errors.Is(ferr, unix.EINTR):
			continue
		case unsupportedErr(ferr):
			return fmt.Errorf("%w: %w", errFlockUnsupported, ferr)
		default:
			return ferr
		}
	}
}

// lockExclusive blocks until f carries flock(LOCK_EX). Judges hold LOCK_SH
// only for the microseconds it takes to read a record, so this never waits long.
func lockExclusive(f *os.File) error {
	return flockFile(f, unix.LOCK_EX)
}

// tryLockShared takes flock(LOCK_SH|LOCK_NB) on f. It reports false when
// another descriptor holds LOCK_EX, i.e. a live tokctl holder owns the file.
func tryLockShared(f *os.File) (bool, error) {
	err := flockFile(f, unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// canProbePIDs is true: kill(pid, 0) tells whether a local process exists.
const canProbePIDs = true

// pidAlive reports whether a process with this id exists on this machine.
// EPERM means it exists but belongs to someone else; a zombie has exited
// and holds nothing, so it counts as dead.
func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return false
	}
	return !zombie(pid)
}

// zombie reports whether /proc says pid has exited but is not yet reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}

// changed returns the newer of f's mtime and ctime: the last time anyone
// created, wrote or touched the lock file.
func changed(f *os.File, fi os.FileInfo) time.Time {
	t := fi.ModTime()
	rc, err := f.SyscallConn()
	if err != nil {
		return t
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return t
	}
	if c := time.Unix(st.Ctim.Unix()); c.After(t) {
		return c
	}
	return t
}

// touch sets f's mtime to now, through the descriptor, so a heartbeat never
// touches a file that replaced ours at the path.
func touch(f *os.File, _ string) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	now := unix.NsecToTimeval(time.Now().UnixNano())
	var terr error
	if err := rc.Control(func(fd uintptr) { terr = unix.Futimes(int(fd), []unix.Timeval{now, now}) }); err != nil {
		return err
	}
	return terr
}

// unlinkBeforeClose is true where an open file can be unlinked, so Release
// removes the path while still holding the flock.
const unlinkBeforeClose = true

// unsupportedErr reports an errno meaning "this filesystem cannot flock".
func unsupportedErr(err error) bool {
	return errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS)
}
