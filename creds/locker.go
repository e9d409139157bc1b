package creds

import (
	"context"
	"errors"
	"time"

	"github.com/tokctl/tokctl/lockfile"
)

// LockingStore is a Store that keeps its own lock next to the credential: a fleet store whose
// callers run on several hosts, where a lock file would exclude only the callers of one host.
// Source takes this lock instead of the lock file at LockPath, re-reads and saves through the
// returned Held, and so never writes a credential it does not hold the lock for.
type LockingStore interface {
	Store
	// Lock waits until the caller holds the store's lock or ctx ends. On ctx's deadline it
	// returns an error matching lockfile.ErrTimeout (a *lockfile.HeldError naming the holder,
	// when one is known); when req.Watch returns true, lockfile.ErrNotNeeded.
	Lock(ctx context.Context, req LockRequest) (Held, error)
}

// LockRequest tells a LockingStore who asks and how to wait.
type LockRequest struct {
	// Command is recorded in the lock's owner record, e.g. "tokctl token".
	Command string
	// Watch, if set, is called while waiting whenever the credential may have changed (a
	// notification from the store, or a poll). Returning true ends the wait with
	// lockfile.ErrNotNeeded.
	Watch func() bool
	// Seen, if set, is told the holder waited for (broken=false) and each expired holder
	// whose lock was taken over (broken=true).
	Seen func(holder lockfile.Owner, broken bool)
}

// Held is a lock taken on a credential. Load and Save act on the credential under the lock.
// Release must be called exactly once, after the result is saved.
type Held interface {
	// Load re-reads the credential. A fenced store remembers what it read: Save succeeds only
	// if the stored credential is still that one.
	Load() (*Credential, error)
	// Save persists c while the lock is still held. A store whose lock can expire (a lease)
	// refuses with an error wrapping ErrFenced when the lease was lost or the stored
	// credential changed since Load; it never overwrites a newer credential.
	Save(c *Credential) error
	// Deadline is the latest moment a token request may still be in flight: the end of the
	// lease as last confirmed, less a safety margin. Source gives every request a deadline no
	// later than this, so a holder never refreshes on a lease it has lost. Zero means the lock
	// cannot expire under its holder.
	Deadline() time.Time
	// Release gives the lock up.
	Release()
}

// ErrFenced is matched by the error of a Held's Save refused because the lock was lost (its
// lease ran out) or the credential changed under it. The provider may already have rotated the
// refresh token that Save would have stored; the credential in the store is the newer one.
var ErrFenced = errors.New("lost the lock before the credential could be saved")

// ErrLeaseLost is matched by a refresh that was not started, or not finished, because the
// lock's lease ran out first.
var ErrLeaseLost = errors.New("the lock's lease ran out")

// StoreUnavailableError means the store itself could not be reached (a fleet store's server
// is down or the network is cut). Nothing was refreshed and nothing was written.
type StoreUnavailableError struct {
	Location string
	Err      error
}

func (e *StoreUnavailableError) Error() string {
	return "credential store " + e.Location + " unavailable: " + e.Err.Error()
}

func (e *StoreUnavailableError) Unwrap() error { return e.Err }

// lock takes the credential's lock: the store's own when it keeps one, else the lock file.
func (s *Source) lock(ctx context.Context, watch func() bool, seen func(lockfile.Owner, bool)) (Held, error) {
	if ls, ok := s.Store.(LockingStore); ok {
		return ls.Lock(ctx, LockRequest{Command: s.Command, Watch: watch, Seen: seen})
	}
	l, err := lockfile.Acquire(ctx, s.LockPath, lockfile.Options{Command: s.Command, Watch: watch, Seen: seen})
	if err != nil {
		return nil, err
	}
	return &fileHeld{store: s.Store, lock: l}, nil
}

// fileHeld is a lock file held on a Store that keeps no lock of its own. The lock cannot expire
// under a live holder (the kernel drops its flock only when the holder dies), so saves are
// not fenced.
type fileHeld struct {
	store Store
	lock  *lockfile.Lock
}

func (h *fileHeld) Load() (*Credential, error) { return h.store.Load() }
func (h *fileHeld) Save(c *Credential) error   { return h.store.Save(c) }
func (h *fileHeld) Deadline() time.Time        { return time.Time{} }
func (h *fileHeld) Release()                   { h.lock.Release() }
