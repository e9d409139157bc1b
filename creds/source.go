package creds

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/lockfile"
)

// Defaults for a Source's zero fields.
const (
	DefaultMinTTL         = 60 * time.Second
	DefaultLockTimeout    = 30 * time.Second
	DefaultRefreshTimeout = 30 * time.Second
)

// Source hands out a valid access token, refreshing it when needed, such that any number of
// concurrent callers — goroutines sharing the Source, or processes sharing the store — cause
// exactly one refresh and none of them presents a refresh token a sibling already used.
//
// A Source is safe for concurrent use. Its fields must not change after the first call.
type Source struct {
	Store     Store
	Refresher Refresher
	// LockPath is the cross-process lock file, conventionally the credential path + ".lock";
	// it must sit in a directory that only the user can write. Every party sharing the store
	// must use the same one — config.Paths.OpenStore names it as tokctl does. A LockingStore
	// (such as the Redis store) keeps its own lock and ignores it.
	LockPath string
	// MinTTL: a token valid for less than this is refreshed (zero: DefaultMinTTL; negative:
	// only an expired token is refreshed).
	MinTTL time.Duration
	// LockTimeout bounds the wait for a sibling's refresh (default DefaultLockTimeout).
	LockTimeout time.Duration
	// RefreshTimeout bounds the refresh including retries (default DefaultRefreshTimeout).
	RefreshTimeout time.Duration
	// Command is recorded in the lock's owner record, e.g. "tokctl token".
	Command string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Warnf receives warnings meant for the user; Debugf diagnostics. Neither is ever given a
	// token. Both may be nil.
	Warnf, Debugf func(format string, args ...any)
	// Events, if set, is told of each refresh attempt, lock wait, stale lock broken and
	// triage decision (see Event), synchronously: it must be quick and must not fail. The hot
	// path reports nothing.
	Events func(Event)

	mu sync.Mutex // single-flight within the process
}

var _ oauth2.TokenSource = (*Source)(nil)

// Token implements oauth2.TokenSource.
func (s *Source) Token() (*oauth2.Token, error) {
	c, err := s.Get(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.Type(), RefreshToken: c.RefreshToken, Expiry: c.Expiry}, nil
}

// Get returns a credential whose access token is valid for at least MinTTL, refreshing it under
// the lock when needed (design.md §4). Errors: *LoginRequiredError, *lockfile.HeldError (timed
// out waiting), *UnavailableError, *CorruptError, *PermissionError, or a configuration error.
func (s *Source) Get(ctx context.Context) (*Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	c, err := s.Store.Load()
	if err != nil {
		return nil, loadError(err)
	}
	if c.FreshFor(s.minTTL(), s.now()) {
		return c, nil // the hot path: no lock, no network
	}
	if c, err, done := s.settled(c, nil); done {
		return c, err
	}

	first := c
	var adopted *Credential
	lctx, cancel := context.WithTimeout(ctx, s.lockTimeout())
	defer cancel()
	var holder *lockfile.Owner
	waitStart := time.Now()
	held, err := s.lock(lctx, s.watcher(first, &adopted), s.lockObserver(&holder))
	if e, ok := lockWaitEvent(holder, time.Since(waitStart), err); ok {
		s.emit(e)
	}
	switch {
	case errors.Is(err, lockfile.ErrNotNeeded):
		return s.settledOrErr(adopted, first)
	case err != nil:
		return nil, err
	}
	defer held.Release()

	c, err = held.Load() // re-read: a sibling may have refreshed while we waited
	if err != nil {
		return nil, loadError(err)
	}
	if c, err, done := s.settled(c, first); done {
		return c, err
	}
	return s.refresh(ctx, held, c)
}

// settled decides whether c can be answered without a refresh: it is fresh; it was refreshed by
// a sibling since we first read it (first) and works; or it cannot be refreshed at all.
func (s *Source) settled(c, first *Credential) (*Credential, error, bool) {
	now := s.now()
	switch {
	case c.FreshFor(s.minTTL(), now):
		return c, nil, true
	case first != nil && c.AccessToken != first.AccessToken && !c.Expired(now):
		// A sibling refreshed: its token is what the provider issued, even when the provider's
		// lifetime is shorter than MinTTL. Refreshing again would only burn a rotation.
		return c, nil, true
	case c.RefreshToken == "" && needsRefreshToken(s.Refresher):
		return s.noRefresh(c, &LoginRequiredError{Reason: "the credential has no refresh token"})
	}
	if f := lookup(s.failures(), c.RefreshToken); f != nil {
		// Permanent, as for the caller that saw the rejection (design.md §4.5): providers
		// that revoke the grant revoke its access tokens too.
		return nil, &LoginRequiredError{Reason: "the refresh token was rejected " + f.describe(now)}, true
	}
	return nil, nil, false
}

// settledOrErr answers a caller that stopped waiting because the credential changed.
func (s *Source) settledOrErr(adopted, first *Credential) (*Credential, error) {
	if c, err, done := s.settled(adopted, first); done {
		return c, err
	}
	return nil, fmt.Errorf("credential changed while waiting but is still not usable")
}

// noRefresh returns a still-working access token with a warning, or err when it has expired.
func (s *Source) noRefresh(c *Credential, err error) (*Credential, error, bool) {
	if !c.Expired(s.now()) {
		s.warnf("%v; using the current access token until it expires at %s", err, c.Expiry.Format(time.RFC3339))
		return c, nil, true
	}
	return nil, err, true
}

// watcher returns the lock-wait callback: it reloads the credential only when the store says
// it may have changed, and stops the wait when a sibling's result settles the call. Its first
// call always reloads: a sibling may have saved between the first read and the wait.
func (s *Source) watcher(first *Credential, adopted **Credential) func() bool {
	st, ok := s.Store.(Stamper)
	if !ok {
		return nil
	}
	failures := s.failures()
	var last, lastFail string
	looked := false
	return func() bool {
		stamp, failStamp := st.Stamp(), failures.stamp()
		if looked && stamp == last && failStamp == lastFail {
			return false
		}
		looked, last, lastFail = true, stamp, failStamp
		c, err := s.Store.Load()
		if err != nil {
			return false // judged again under the lock, with a proper error
		}
		if _, _, done := s.settled(c, first); done {
			*adopted = c
			return true
		}
		return false
	}
}

// needsRefreshToken is false for refreshers that fetch a new token from the client's own
// credentials (client credentials grant): they implement NeedsRefreshToken() bool.
func needsRefreshToken(r Refresher) bool {
	n, ok := r.(interface{ NeedsRefreshToken() bool })
	return !ok || n.NeedsRefreshToken()
}

func loadError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return &LoginRequiredError{Err: err} // "no credential stored in LOCATION"
	}
	return err
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// minTTL is MinTTL, DefaultMinTTL when zero, and no margin at all when negative.
func (s *Source) minTTL() time.Duration {
	if s.MinTTL < 0 {
		return 0
	}
	return orDefault(s.MinTTL, DefaultMinTTL)
}

func (s *Source) lockTimeout() time.Duration { return orDefault(s.LockTimeout, DefaultLockTimeout) }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Source) warnf(format string, args ...any) {
	if s.Warnf != nil {
		s.Warnf(format, args...)
	}
}

func (s *Source) debugf(format string, args ...any) {
	if s.Debugf != nil {
		s.Debugf(format, args...)
	}
}
