// Package lockfile is tokctl's cross-process lock: a file created with
// O_CREAT|O_EXCL beside the file it protects (conventionally CREDPATH.lock),
// holding a one-line JSON owner record (pid, host, start time, command).
//
// Guarantees, each proven by the package's tests with real processes:
//
//   - Exclusive: never two holders at once, across goroutines, processes
//     and containers sharing the filesystem, including while a stale lock
//     is being broken.
//   - Interoperable: a shell script's `set -o noclobber; echo $$ > PATH.lock`
//     (or any O_EXCL lock holding a pid, or JSON with a "pid") excludes
//     Acquire while that process lives on this host, and a held tokctl lock
//     makes the script's exclusive create fail.
//   - Crash-safe: the holder keeps flock(LOCK_EX) on the lock file's
//     descriptor. When it dies, even by SIGKILL, the kernel drops the flock
//     and the next waiter's poll finds the file stale. An empty or
//     half-written file that nobody flocks (a holder that died between
//     create and record) is stale after Options.StaleEmpty; content that
//     cannot be judged (garbage, a pid on another host) after
//     Options.StaleForeign.
//   - Careful breaking: a stale file is removed only under the flock of
//     PATH.guard, a second file that is never deleted, and only after the
//     path is opened afresh, shown to be the very inode judged stale,
//     judged stale again, and (with the file's LOCK_SH now held) shown once
//     more to be at the path. A creator that loses its file before it could
//     flock it notices and starts over.
//   - Bounded: Acquire waits until its context ends. A deadline yields a
//     *HeldError naming the holder (errors.Is(err, ErrTimeout)); a timeout
//     never hands out the lock.
//   - Fast handoff: waiters poll every 1-5 ms with jitter, so a release or a
//     holder's death is noticed within milliseconds.
//   - Tidy release: Release unlinks the file and then closes it (so no
//     waiter can flock a file still at the path), and never unlinks a lock
//     file that is not its own.
//   - Lease fallback: where flock fails as unsupported, the holder marks
//     its record as a lease and touches the file every second; judges
//     break a lease whose local holder pid is gone or whose mtime is older
//     than five seconds. This mode relies on timing and is best effort.
//
// The directory is the caller's and should be private (0700); Acquire
// never creates it. Every lock file is created with mode 0600. Acquire may
// be called from many goroutines: each call has its own descriptor, and
// flock excludes descriptors, not processes. (On NFS, where flock is
// emulated with per-process fcntl locks, callers should single-flight
// within a process, as tokctl does.)
package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrTimeout is matched (errors.Is) by the *HeldError returned when the
// context's deadline passes while another process holds the lock.
var ErrTimeout = errors.New("timed out waiting for the lock")

// ErrNotNeeded is returned when Options.Watch reports that waiting is no
// longer needed, e.g. because a sibling already refreshed the credential.
var ErrNotNeeded = errors.New("lock no longer needed")

// Options tune Acquire. The zero value is ready to use.
type Options struct {
	// Command is recorded in Owner.Command, e.g. "tokctl token".
	Command string
	// Watch, if set, is called while waiting, once before each poll's sleep
	// (every few milliseconds). Returning true makes Acquire give up and
	// return ErrNotNeeded. It is called from Acquire's goroutine.
	Watch func() bool
	// StaleEmpty is how long an empty or half-written lock file that nobody
	// flocks may sit before it counts as stale. Default 2s.
	StaleEmpty time.Duration
	// StaleForeign is how long an unflocked lock file whose content cannot
	// be judged (garbage, or a pid on another host) may sit before it counts
	// as stale. Default 60s.
	StaleForeign time.Duration
	// Seen, if set, is told the holder Acquire waits for (broken=false, once per lock file
	// seen held) and the record of each stale lock it removes (broken=true). It is called
	// from Acquire's goroutine.
	Seen func(holder Owner, broken bool)
}

func (o Options) withDefaults() Options {
	if o.StaleEmpty <= 0 {
		o.StaleEmpty = 2 * time.Second
	}
	if o.StaleForeign <= 0 {
		o.StaleForeign = 60 * time.Second
	}
	return o
}

// Lock is a held lock. Release it exactly when the protected work is done
// (and persisted). Its methods are safe for concurrent use.
type Lock struct {
	path  string
	file  *os.File
	lease bool // flock unavailable: heartbeat instead
	noop  bool // built with -tags tokctl_nolock

	mu       sync.Mutex
	released bool
	stop     chan struct{} // heartbeat, lease mode only
	done     chan struct{}
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// tryCreate makes one attempt at the exclusive create. It returns nil, nil
// when the path already exists, or when the new file was broken as stale
// before its flock could be taken (the caller simply tries again).
func tryCreate(path string, opt Options) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("create lock file: directory %s does not exist: %w", filepath.Dir(path), err)
	case err != nil:
		return nil, fmt.Errorf("create lock file: %w", err)
	}
	l := &Lock{path: path, file: f}
	if testHook != nil {
		testHook("created")
	}
	if err := lockExclusive(f); err != nil {
		if !errors.Is(err, errFlockUnsupported) {
			l.discard()
			return nil, fmt.Errorf("flock lock file %s: %w", path, err)
		}
		l.lease = true
	}
	// A judge may have found our file empty, judged it stale (it must be
	// older than StaleEmpty, so we were stalled) and unlinked it before
	// our LOCK_EX went through. Then the path is no longer ours.
	if err := l.ours(); err != nil {
		f.Close()
		return nil, nil
	}
	if testHook != nil {
		testHook("flocked")
	}
	rec := Owner{PID: os.Getpid(), Host: hostname(), Since: time.Now().UTC(), Command: opt.Command, Lease: l.lease}
	if _, err := f.Write(rec.record()); err != nil {
		l.discard()
		return nil, fmt.Errorf("write lock record %s: %w", path, err)
	}
	if l.lease {
		if err := l.ours(); err != nil {
			f.Close()
			return nil, nil
		}
		l.startHeartbeat()
	}
	return l, nil
}

// testHook, when set by tests, runs at named points: in tryCreate after
// the create ("created") and after the flock ("flocked"), and in Release
// between unlink and close ("release"), and in breakStale after opening
// the path afresh ("break-opened"), so tests can stall or die there.
var testHook func(point string)

// errLost reports a lock file that vanished or was replaced while held.
var errLost = errors.New("lock file was removed or replaced while held")

// ours checks that the path still names the file we hold.
func (l *Lock) ours() error {
	mine, err := l.file.Stat()
	if err != nil {
		return err
	}
	at, err := os.Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !os.SameFile(mine, at)) {
		return errLost
	}
	return err
}

// discard gives up a file we created but could not complete.
func (l *Lock) discard() {
	if l.ours() == nil {
		os.Remove(l.path)
	}
	l.file.Close()
}

// Release gives up the lock: it removes the lock file, then closes it, which
// drops the flock. If the path no longer names our file (someone wrongly
// broke the lock), it leaves the path alone and reports that. Calling
// Release again does nothing and returns nil.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released || l.noop {
		l.released = true
		return nil
	}
	l.released = true
	l.stopHeartbeat()
	if l.lease {
		// A lease can be broken while held; the guard keeps a breaker and
		// its successor from slipping in between our check and our unlink.
		if unlock, err := lockGuardWithin(l.path, time.Second); err == nil {
			defer unlock()
		}
	}
	errOwn := l.ours()
	var errRm, errClose error
	if !unlinkBeforeClose {
		errClose = l.file.Close()
	}
	if errOwn == nil {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errRm = err
		}
	}
	if testHook != nil {
		testHook("release")
	}
	if unlinkBeforeClose {
		errClose = l.file.Close()
	}
	if err := errors.Join(errOwn, errRm, errClose); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}
