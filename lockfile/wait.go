package lockfile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// Poll interval bounds: waiters start at pollMin and back off to pollMax,
// each sleep jittered by ±25%, so a release or a dead holder is noticed
// within a few milliseconds without waiters moving in lockstep.
const (
	pollMin = 1 * time.Millisecond
	pollMax = 4 * time.Millisecond
)

// HeldError is returned by Acquire when its context's deadline passed
// while the lock was held. errors.Is(err, ErrTimeout) is true.
type HeldError struct {
	Path   string // the lock file
	Holder string // Owner.String() of the holder, or a description
	Owner  *Owner // the holder's record; nil when it is not a tokctl record
}

// Error names the lock and its holder, e.g.
// `lock /home/u/.config/tokctl/creds.json.lock held by pid 4242 on host box since 2026-11-29T17:03:49Z ("tokctl token")`.
func (e *HeldError) Error() string {
	return "lock " + e.Path + " held by " + e.Holder
}

// Unwrap returns ErrTimeout.
func (e *HeldError) Unwrap() error { return ErrTimeout }

// Acquire takes the lock at path (conventionally CREDPATH.lock), waiting
// until ctx is done. On ctx's deadline it returns a *HeldError describing
// the holder; on cancellation an error wrapping ctx.Err(); when opt.Watch
// returns true, ErrNotNeeded. The lock file's directory must exist.
func Acquire(ctx context.Context, path string, opt Options) (*Lock, error) {
	if lockDisabled {
		return &Lock{path: path, noop: true}, nil
	}
	w := &waiter{ctx: ctx, path: path, opt: opt.withDefaults()}
	return w.wait()
}

// waiter is one Acquire call's polling state.
type waiter struct {
	ctx  context.Context
	path string
	opt  Options
	last judgement // latest verdict on an existing file, to name the holder
	seen sighting
	told os.FileInfo // the lock file whose holder was last passed to opt.Seen
}

func (w *waiter) wait() (*Lock, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	delay := pollMin
	for {
		if w.ctx.Err() != nil {
			return nil, w.ctxError()
		}
		l, err := tryCreate(w.path, w.opt)
		if l != nil || err != nil {
			return l, err
		}
		j, err := judgePath(w.path, w.opt, &w.seen)
		if err != nil {
			return nil, fmt.Errorf("judge lock %s: %w", w.path, err)
		}
		if j.state == stateGone {
			continue // released between our create and our look: go again
		}
		w.last = j
		if w.opt.Seen != nil && j.state == stateHeld && j.owner.PID > 0 && (w.told == nil || !os.SameFile(w.told, j.info)) {
			w.told = j.info // once per lock file, when its record names the holder
			w.opt.Seen(j.owner, false)
		}
		if j.state == stateStale {
			retry, err := breakStale(w.ctx, w.path, j, w.opt, &w.seen)
			if err != nil {
				return nil, fmt.Errorf("break stale lock %s: %w", w.path, err)
			}
			if retry {
				continue
			}
		}
		if w.opt.Watch != nil && w.opt.Watch() {
			return nil, ErrNotNeeded
		}
		sleep := delay*3/4 + rand.N(delay/2)
		if timer == nil {
			timer = time.NewTimer(sleep)
		} else {
			timer.Reset(sleep)
		}
		select {
		case <-w.ctx.Done():
			return nil, w.ctxError()
		case <-timer.C:
		}
		delay = min(delay*2, pollMax)
	}
}

// ctxError explains why the context ended: a deadline names the holder.
func (w *waiter) ctxError() error {
	if !errors.Is(w.ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("wait for lock %s: %w", w.path, w.ctx.Err())
	}
	j := w.last
	if j.info == nil { // timed out before we ever looked
		j, _ = judgePath(w.path, w.opt, nil)
	}
	e := &HeldError{Path: w.path, Holder: "unknown holder", Owner: j.tokctlOwner()}
	if j.state != stateGone {
		e.Holder = j.owner.String()
	}
	return e
}

// sighting remembers when this waiter first saw a given lock file.
type sighting struct {
	info os.FileInfo
	at   time.Time
}

// since returns when fi's file was first seen (now, if it is new). A nil
// sighting remembers nothing and returns the zero time.
func (s *sighting) since(fi os.FileInfo) time.Time {
	if s == nil {
		return time.Time{}
	}
	if s.info == nil || !os.SameFile(s.info, fi) {
		s.info, s.at = fi, time.Now()
	}
	return s.at
}
