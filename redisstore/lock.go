package redisstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/redisconn"
)

// pollMax is the longest a waiter sleeps between looks at the lock when no notification comes
// (the subscription failed, or a holder died and its lease is running out).
const pollMax = 250 * time.Millisecond

// owner is the lock's value: who holds it, and a random token that makes it unique, so that
// compare-and-pexpire and compare-and-delete act only on the holder's own lock.
type owner struct {
	Token string `json:"token"`
	lockfile.Owner
}

func (s *Store) newOwner(command string) (string, error) {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", err
	}
	data, err := json.Marshal(owner{hex.EncodeToString(b[:]), lockfile.Owner{PID: os.Getpid(), Host: s.host, Since: time.Now().UTC().Truncate(time.Millisecond), Command: command}})
	return string(data), err
}

func parseOwner(v string) (lockfile.Owner, bool) {
	var o owner
	if json.Unmarshal([]byte(v), &o) != nil || o.PID <= 0 {
		return lockfile.Owner{}, false
	}
	return o.Owner, true
}

// Lock implements creds.LockingStore (see the package doc).
func (s *Store) Lock(ctx context.Context, req creds.LockRequest) (creds.Held, error) {
	val, err := s.newOwner(req.Command)
	if err != nil {
		return nil, err
	}
	lease := s.target.Lease
	if lockDisabled {
		return &held{s: s, lease: lease, confirmed: time.Now().Add(lease), unlocked: true}, nil
	}
	var (
		sub    *subscription
		holder string // the holder's record last seen
		seen   lockfile.Owner
		known  bool
		waited bool // slept at least once
	)
	settled := func() bool { return req.Watch != nil && req.Watch() }
	defer func() { sub.close() }()
	for {
		sent := time.Now()
		v, err := s.do(ctx, retryOutage, func(c *redisconn.Conn) (any, error) {
			return tryLock.run(ctx, c, []string{s.keys.lock}, val, itoa(int(lease.Milliseconds())))
		})
		if err != nil {
			return nil, s.lockError(ctx, err)
		}
		got, _ := v.([]any)
		mine := len(got) == 3 && got[1] == val // a try whose reply was lost had taken it
		if len(got) > 0 && got[0] == int64(1) || mine {
			end := sent.Add(lease)
			if ttl, _ := got[len(got)-1].(int64); mine && ttl >= 0 {
				end = sent.Add(time.Duration(ttl) * time.Millisecond)
			}
			h := &held{s: s, val: val, lease: lease, confirmed: end}
			if err := h.replicate(ctx); err != nil {
				h.Release()
				return nil, err
			}
			h.startRenewal()
			return h, nil
		}
		wait := pollMax
		if len(got) == 3 {
			if rec, _ := got[1].(string); rec != holder {
				holder = rec
				if seen, known = parseOwner(rec); known && req.Seen != nil {
					req.Seen(seen, false)
				}
			}
			if ttl, _ := got[2].(int64); ttl >= 0 && time.Duration(ttl)*time.Millisecond < wait {
				wait = time.Duration(ttl)*time.Millisecond + time.Millisecond // the lease runs out first
			}
		}
		if sub == nil {
			sub = s.subscribe()
			continue // a release between our SET and the SUBSCRIBE would otherwise go unheard
		}
		if !waited && settled() { // a sibling may have finished before we subscribed
			return nil, lockfile.ErrNotNeeded
		}
		timer := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-sub.c:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				desc := "an unknown holder"
				if known {
					desc = seen.String()
				} else if holder == "" {
					desc = "a holder that released it just now"
				}
				e := &lockfile.HeldError{Path: s.Location(), Holder: desc}
				if known {
					e.Owner = &seen
				}
				return nil, e
			}
			return nil, ctx.Err()
		}
		timer.Stop()
		// Look at the credential before trying the lock again: a holder that saved and released
		// woke every waiter at once, and each takes the new token without queueing for the lock.
		if waited = true; settled() {
			return nil, lockfile.ErrNotNeeded
		}
	}
}

// lockError reports a failure to talk to the server while taking the lock; an interrupted
// wait is reported as such.
func (s *Store) lockError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &lockfile.HeldError{Path: s.Location(), Holder: "nobody it could see (the store did not answer in time)"}
		}
		return ctx.Err()
	}
	return err
}
