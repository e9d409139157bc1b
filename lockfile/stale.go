package lockfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// guardSuffix names the guard file beside the lock: PATH.guard. It is
// created (0600) on first use and never deleted, so its flock always
// refers to the same inode; breaking a stale lock happens only under it.
const guardSuffix = ".guard"

// guardPoll is how often a breaker retries a busy guard. Breakers hold it
// for microseconds.
const guardPoll = time.Millisecond

// lockGuard takes the flock of the lock's guard file, waiting until ctx
// ends. unlock releases it. Where the filesystem cannot flock, the guard is
// skipped (lease mode relies on timing anyway) and unlock does nothing.
func lockGuard(ctx context.Context, path string) (unlock func(), err error) {
	g := flock.New(path+guardSuffix, flock.SetPermissions(0o600))
	ok, err := g.TryLockContext(ctx, guardPoll)
	if err != nil {
		if errors.Is(err, errFlockUnsupported) || unsupportedErr(err) {
			return func() {}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock guard %s: %w", g.Path(), err)
	}
	if !ok {
		return nil, ctx.Err()
	}
	return func() { g.Close() }, nil
}

// lockGuardWithin is lockGuard with a time limit instead of a context.
func lockGuardWithin(path string, d time.Duration) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return lockGuard(ctx, path)
}

// breakStale removes the lock file judged stale in j, if it is still stale.
// Under the guard it opens the path afresh, checks that it is the same
// inode that was judged (dev and ino), and judges it again: inode numbers
// are reused, and the file may have changed hands since, so only the
// re-judgement under the guard is trusted. The re-judge leaves LOCK_SH on
// the file until after the unlink, so no creator can flock it meanwhile.
// It reports retry when the path changed (removed here or by someone else),
// so the caller should try the exclusive create again at once.
func breakStale(ctx context.Context, path string, j judgement, opt Options, seen *sighting) (retry bool, err error) {
	unlock, err := lockGuard(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return false, nil // the caller's wait loop reports the context
		}
		return false, err
	}
	defer unlock()

	f, fi, err := openExisting(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if !os.SameFile(fi, j.info) {
		return true, nil // replaced since we judged it
	}
	if testHook != nil {
		testHook("break-opened")
	}
	again, err := judgeFile(f, fi, opt, seen)
	if err != nil {
		return false, err
	}
	if again.state != stateStale {
		return false, nil
	}
	// The holder may have released (unlink, then close) after our open:
	// then we judged a file no longer at the path, and our LOCK_SH went
	// through only because it was closed. Check the path again now that
	// we hold LOCK_SH: a live holder can no longer release it (it has no
	// flock), other breakers wait for the guard, and O_EXCL cannot replace
	// an existing file, so the path stays put until our unlink.
	if at, err := os.Lstat(path); err != nil || !os.SameFile(at, fi) {
		return true, nil
	}
	if !unlinkBeforeClose {
		f.Close()
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove stale lock file: %w", err)
	}
	if opt.Seen != nil {
		opt.Seen(again.owner, true)
	}
	return true, nil
}
