package lockfile

import (
	"errors"
	"time"
)

// Lease mode: on filesystems where flock(2) fails with ENOLCK, EOPNOTSUPP,
// ENOTSUP or ENOSYS (some FUSE and network filesystems), a held lock cannot
// be told from a dead one by trying its flock. The holder then writes
// Lease: true into its record and touches the file's mtime every
// leaseHeartbeat; a judge treats a lease as stale when its holder's pid is
// gone (same host) or when the mtime is older than leaseTTL.

var (
	// flockUnsupported makes every flock call fail as on a filesystem
	// without flock support. Tests set it to exercise lease mode.
	flockUnsupported = false

	// leaseHeartbeat is how often a lease holder touches its lock file.
	leaseHeartbeat = 1 * time.Second

	// leaseTTL is how old a lease's mtime may get before it is stale.
	leaseTTL = 5 * time.Second
)

// errFlockUnsupported marks flock failures that mean "this filesystem
// cannot flock", as opposed to "someone else holds the lock".
var errFlockUnsupported = errors.New("flock not supported on this filesystem")

// judgeLease decides a lease record: stale when the holder is a dead local
// process, or when the heartbeat stopped for leaseTTL (which also covers a
// recycled pid and holders on other hosts).
func judgeLease(o Owner, age time.Duration) (state, string) {
	if canProbePIDs && sameHost(o.Host) && !pidAlive(o.PID) {
		return stateStale, "lease holder process is gone"
	}
	if age >= leaseTTL {
		return stateStale, "lease heartbeat stopped"
	}
	return stateHeld, "lease is fresh"
}

// heartbeat touches the lock file every interval until stop is closed,
// then closes done.
func (l *Lock) heartbeat(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			// A failed touch is not fatal: the lease merely ages, and a
			// judge that breaks it is caught by Release's inode check.
			_ = touch(l.file, l.path)
		}
	}
}

// startHeartbeat begins touching the lock file; Release stops it.
func (l *Lock) startHeartbeat() {
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go l.heartbeat(leaseHeartbeat, l.stop, l.done)
}

// stopHeartbeat ends the heartbeat goroutine and waits for it to exit, so
// no touch can land after Release returns.
func (l *Lock) stopHeartbeat() {
	if l.stop == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.stop = nil
}
