package creds

import (
	"context"
	"fmt"
	"time"
)

// Refresher exchanges a refresh token for a new token response (RFC 6749 §6). It is called
// at most once at a time per credential: Source holds the lock around it. The returned
// Credential carries only what the provider sent; Source merges it into the stored one.
//
// Errors tell Source what to do next: a *GrantError means the provider rejected the refresh
// token itself; a *TransientError may succeed when retried; anything else is final.
type Refresher interface {
	Refresh(ctx context.Context, c *Credential) (*Credential, error)
}

// GrantError is the provider saying the refresh token is not (or no longer) valid:
// invalid_grant, and its provider-specific spellings (GitHub's bad_refresh_token, Dex's
// "already claimed").
type GrantError struct {
	Code        string
	Description string
	Status      int // the HTTP status of the answer, 0 when unknown
}

// HTTPStatus returns the HTTP status of the provider's answer, 0 when unknown.
func (e *GrantError) HTTPStatus() int { return e.Status }

func (e *GrantError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// TransientError is a failure worth retrying: the network, a 5xx, a 429, temporarily_unavailable.
type TransientError struct {
	Err error
	// RetryAfter is the provider's Retry-After, zero when it gave none.
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// LoginRequiredError means no refresh can produce a token: there is no credential, it has no
// refresh token, or the provider rejected the refresh token for good. The stored credential is
// never deleted on this error; a new login replaces it.
type LoginRequiredError struct {
	Reason string
	Err    error // the provider's *GrantError, when there was one
}

func (e *LoginRequiredError) Error() string {
	if e.Reason == "" && e.Err != nil {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *LoginRequiredError) Unwrap() error { return e.Err }

// UnavailableError means the provider could not be reached, or kept failing, until the deadline
// and the stored access token has expired.
type UnavailableError struct {
	Attempts int
	Err      error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("provider unavailable after %d attempt(s): %v", e.Attempts, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }
