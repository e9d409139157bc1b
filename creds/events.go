package creds

import (
	"context"
	"errors"
	"time"

	"github.com/tokctl/tokctl/lockfile"
)

// EventKind names what a Source did.
type EventKind string

// The events a Source reports through its Events hook. The hot path (a fresh credential read
// without the lock) reports nothing.
const (
	// EventRefresh is one request to the token endpoint. Outcome: "success", "rejected" (the
	// provider refused the refresh token: Code says how), "transient" (retried or given up),
	// "error" (any other final failure) or "canceled".
	EventRefresh EventKind = "refresh"
	// EventLockWait is a wait for a sibling's lock. Outcome: "acquired", "sibling_refreshed"
	// (the credential became usable while waiting), "timeout" or "error". Holder names the
	// process waited for, when it was seen.
	EventLockWait EventKind = "lock_wait"
	// EventLockBreak is the removal of a stale lock; Holder is the dead holder's record.
	EventLockBreak EventKind = "lock_break"
	// EventTriage is the decision after a rejected refresh token (design.md §4.5). Outcome:
	// "adopted" (a program outside the lock had rotated it: its refresh token is used) or
	// "permanent" (login required).
	EventTriage EventKind = "triage"
)

// Event is one thing worth an audit line. It never carries a token: refresh tokens appear only
// as their Fingerprint.
type Event struct {
	Kind    EventKind
	Outcome string
	// Fingerprint is the Fingerprint of the refresh token the event concerns (the one sent,
	// for a refresh; the rejected one, for a triage).
	Fingerprint string
	// Adopted is the Fingerprint of the refresh token adopted by a triage.
	Adopted  string
	Status   int    // HTTP status of the token endpoint's answer, when known
	Code     string // OAuth2 error code (invalid_grant …) of a failed refresh
	Attempt  int    // refresh attempt number within one transaction, from 1
	Duration time.Duration
	Holder   *lockfile.Owner // the lock holder waited for, or the stale holder broken
}

// emit hands e to the Events hook, if any.
func (s *Source) emit(e Event) {
	if s.Events != nil {
		s.Events(e)
	}
}

// refreshEvent describes one token endpoint call that took d and ended in err.
func refreshEvent(c *Credential, attempt int, d time.Duration, err error) Event {
	e := Event{Kind: EventRefresh, Outcome: "success", Fingerprint: Fingerprint(c.RefreshToken), Attempt: attempt, Duration: d}
	var (
		grant     *GrantError
		transient *TransientError
		status    interface{ HTTPStatus() int }
	)
	switch {
	case err == nil:
		e.Status = 200
		return e
	case errors.As(err, &grant):
		e.Outcome, e.Code = "rejected", grant.Code
	case errors.Is(err, context.Canceled):
		e.Outcome = "canceled"
	case errors.As(err, &transient):
		e.Outcome = "transient"
	default:
		e.Outcome = "error"
	}
	if errors.As(err, &status) {
		e.Status = status.HTTPStatus()
	}
	if e.Code == "" {
		var coded interface{ OAuthCode() string }
		if errors.As(err, &coded) {
			e.Code = coded.OAuthCode()
		}
	}
	return e
}

// lockObserver returns the lockfile callback that notes the holder waited for and reports each
// stale lock broken.
func (s *Source) lockObserver(holder **lockfile.Owner) func(lockfile.Owner, bool) {
	if s.Events == nil {
		return nil
	}
	return func(o lockfile.Owner, broken bool) {
		if broken {
			s.emit(Event{Kind: EventLockBreak, Outcome: "stale", Holder: &o})
			return
		}
		*holder = &o
	}
}

// lockWaitEvent reports a wait for the lock that ended with err (nil: acquired) after d. A lock
// taken at once, with no holder seen, is not worth an event.
func lockWaitEvent(holder *lockfile.Owner, d time.Duration, err error) (Event, bool) {
	e := Event{Kind: EventLockWait, Outcome: "acquired", Duration: d, Holder: holder}
	switch {
	case err == nil && holder == nil:
		return e, false
	case err == nil:
	case errors.Is(err, lockfile.ErrNotNeeded):
		e.Outcome = "sibling_refreshed"
	case errors.Is(err, lockfile.ErrTimeout):
		e.Outcome = "timeout"
	default:
		e.Outcome = "error"
	}
	return e, true
}
