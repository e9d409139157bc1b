package lockfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// state is a judge's verdict on the lock path.
type state int

const (
	stateGone  state = iota // no lock file: try the exclusive create again
	stateHeld               // someone holds the lock: wait
	stateStale              // the holder is gone: the file may be broken (under the guard)
)

// judgement is what a judge found at the lock path.
type judgement struct {
	state state
	info  os.FileInfo // identity of the judged file; nil when gone
	owner Owner       // what the file says; an unknown holder has only Since (the file's mtime)
	kind  contentKind
	why   string // short reason, for errors and tests
}

// tokctlOwner returns the record when the file holds a tokctl record.
func (j judgement) tokctlOwner() *Owner {
	if j.kind != kindTokctl {
		return nil
	}
	o := j.owner
	return &o
}

// openExisting opens the lock file for judging.
func openExisting(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, nil, err // an *fs.PathError naming the path
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("lock path %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return f, fi, nil
}

// judgePath judges the file at path and closes it again.
func judgePath(path string, opt Options, seen *sighting) (judgement, error) {
	f, fi, err := openExisting(path)
	if errors.Is(err, fs.ErrNotExist) {
		return judgement{state: stateGone}, nil
	}
	if err != nil {
		return judgement{}, err
	}
	defer f.Close()
	return judgeFile(f, fi, opt, seen)
}

// judgeFile decides whether the lock file f (fi is its Stat) is held or
// stale. When flock works and no holder has LOCK_EX, f is left carrying
// LOCK_SH until the caller closes it: a creator that has not yet taken its
// LOCK_EX cannot do so, and so cannot start writing, while the verdict is
// acted on. seen, if not nil, remembers when this waiter first saw the file;
// that stands in for the file's age when the file's times lie in the future.
func judgeFile(f *os.File, fi os.FileInfo, opt Options, seen *sighting) (judgement, error) {
	free, err := tryLockShared(f)
	unsupported := errors.Is(err, errFlockUnsupported)
	if err != nil && !unsupported {
		return judgement{}, fmt.Errorf("probe lock file %s: %w", f.Name(), err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return judgement{}, fmt.Errorf("read lock file %s: %w", f.Name(), err)
	}
	j := judgement{info: fi}
	if len(data) > maxRecord {
		j.kind = kindGarbage
	} else {
		j.owner, j.kind = parseOwner(data)
	}
	if j.kind == kindEmpty || j.kind == kindPartial || j.kind == kindGarbage {
		j.owner = Owner{Since: fi.ModTime()}
	}
	now := time.Now()
	age := now.Sub(changed(f, fi))
	if first := seen.since(fi); age < 0 && !first.IsZero() {
		age = now.Sub(first) // clock skew: go by how long we have watched it
	}
	if !free && !unsupported {
		j.state, j.why = stateHeld, "holder has the flock"
		return j, nil
	}
	j.state, j.why = judgeContent(j.owner, j.kind, age, unsupported, opt)
	return j, nil
}

// judgeContent decides an unflocked lock file by what it holds and how long
// ago it last changed. flockless is true when the judge itself cannot flock.
func judgeContent(o Owner, kind contentKind, age time.Duration, flockless bool, opt Options) (state, string) {
	switch kind {
	case kindEmpty, kindPartial:
		if age >= opt.StaleEmpty {
			return stateStale, "empty or half-written and unheld"
		}
		return stateHeld, "being written"
	case kindTokctl:
		if o.Lease || flockless {
			return judgeLease(o, age)
		}
		// The record is written only after LOCK_EX is taken, and the
		// lock is released only by close (after unlink) or by death.
		return stateStale, "holder released its flock (exited or killed)"
	case kindForeign:
		if canProbePIDs && sameHost(o.Host) {
			if pidAlive(o.PID) {
				return stateHeld, "holder process is alive"
			}
			return stateStale, "holder process is gone"
		}
	}
	if age >= opt.StaleForeign {
		return stateStale, "unjudgeable content is old"
	}
	return stateHeld, "unjudgeable content is recent"
}

// Inspect reports who holds the lock at path, without waiting, creating or
// changing anything (it takes flock(LOCK_SH) for a moment to probe the
// holder). With no lock file it returns nil, false, nil. Otherwise holder
// is what the file says (for a foreign lock only what could be parsed, e.g.
// the pid; for unreadable content only the file's mtime as Since) and held
// is judged exactly as Acquire would judge it, with default Options.
func Inspect(path string) (holder *Owner, held bool, err error) {
	j, err := judgePath(path, Options{}.withDefaults(), nil)
	if err != nil {
		return nil, false, fmt.Errorf("inspect lock %s: %w", path, err)
	}
	if j.state == stateGone {
		return nil, false, nil
	}
	o := j.owner
	return &o, j.state == stateHeld, nil
}
