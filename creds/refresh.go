package creds

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxAttempts bounds the refresh retries of transient failures within RefreshTimeout.
const maxAttempts = 4

// refresh runs under the lock: it calls the provider once (retrying only transient failures),
// persists the merged result before returning it, and triages a rejected refresh token.
func (s *Source) refresh(ctx context.Context, held Held, c *Credential) (*Credential, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.RefreshTimeout, DefaultRefreshTimeout))
	defer cancel()
	backoff := 200 * time.Millisecond
	var lastErr error
	for attempt := 1; ; attempt++ {
		s.debugf("refreshing (attempt %d, refresh token %s)", attempt, Fingerprint(c.RefreshToken))
		sent := time.Now()
		tortureAt("before-post")
		resp, err := s.attempt(ctx, held, c)
		s.emit(refreshEvent(c, attempt, time.Since(sent), err))
		if err == nil {
			merged := merge(c, resp)
			tortureAt("after-response")
			if err := held.Save(merged); err != nil {
				// The provider has rotated; without the save the new refresh token is lost.
				return nil, err
			}
			tortureAt("saved")
			s.failures().clear()
			s.debugf("refreshed; new access token expires %s", merged.Expiry.Format(time.RFC3339))
			return merged, nil
		}
		var grant *GrantError
		if errors.As(err, &grant) {
			next, err, done := s.triage(held, c, grant)
			if done {
				return next, err
			}
			c = next // a sibling outside the lock rotated: continue with its refresh token
			continue
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, ErrLeaseLost) {
			return nil, err // interrupted, or no longer the holder: no token, no warning
		}
		var transient *TransientError
		if !errors.As(err, &transient) {
			return s.fallback(c, err)
		}
		lastErr = err
		wait := backoff + rand.N(backoff/2)
		if transient.RetryAfter > 0 {
			wait = transient.RetryAfter
		}
		deadline, _ := ctx.Deadline()
		if attempt >= maxAttempts || time.Until(deadline) < wait {
			return s.fallback(c, &UnavailableError{Attempts: attempt, Err: lastErr})
		}
		s.debugf("transient failure: %v; retrying in %s", err, wait.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return s.fallback(c, &UnavailableError{Attempts: attempt, Err: lastErr})
		}
		backoff *= 2
	}
}

// triage handles a rejected refresh token (design.md §4.5). If the store now holds a different
// refresh token, someone outside the lock rotated it: adopt it (done=false returns it for one more
// try, or done=true when its access token is already usable). Otherwise the rejection is
// permanent: record it so siblings do not re-send a dead token, keep the credential, and ask for
// a login.
func (s *Source) triage(held Held, sent *Credential, grant *GrantError) (*Credential, error, bool) {
	now, err := held.Load()
	if err != nil {
		return nil, loadError(err), true
	}
	if now.RefreshToken != "" && now.RefreshToken != sent.RefreshToken {
		s.debugf("refresh token %s was rotated by someone else; adopting %s", Fingerprint(sent.RefreshToken), Fingerprint(now.RefreshToken))
		s.emit(Event{Kind: EventTriage, Outcome: "adopted", Fingerprint: Fingerprint(sent.RefreshToken), Adopted: Fingerprint(now.RefreshToken), Code: grant.Code})
		if !now.Expired(s.now()) && now.AccessToken != sent.AccessToken {
			return now, nil, true
		}
		return now, nil, false
	}
	record(s.failures(), sent.RefreshToken, grant, s.now())
	s.emit(Event{Kind: EventTriage, Outcome: "permanent", Fingerprint: Fingerprint(sent.RefreshToken), Code: grant.Code})
	return nil, &LoginRequiredError{Reason: "the provider rejected the refresh token", Err: grant}, true
}

// fallback answers a refresh that could not complete: the current access token when it still
// works (with a warning), else err.
func (s *Source) fallback(c *Credential, err error) (*Credential, error) {
	if !c.Expired(s.now()) {
		s.warnf("refresh failed: %v; using the current access token, valid until %s", err, c.Expiry.Format(time.RFC3339))
		return c, nil
	}
	return nil, err
}

// attempt sends one refresh request, with a deadline no later than the held lock's: a request
// still in flight when a lease runs out could rotate a refresh token that another host, by
// then holding the lock, is about to send. A lease already too short is not used at all.
func (s *Source) attempt(ctx context.Context, held Held, c *Credential) (*Credential, error) {
	deadline := held.Deadline()
	if deadline.IsZero() {
		return s.Refresher.Refresh(ctx, c)
	}
	if !time.Now().Before(deadline) {
		return nil, ErrLeaseLost
	}
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp, err := s.Refresher.Refresh(actx, c)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		return nil, fmt.Errorf("%w: the token request did not finish in time: %v", ErrLeaseLost, err)
	}
	return resp, err
}
