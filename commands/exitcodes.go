package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/flows"
	"github.com/tokctl/tokctl/lockfile"
)

// The exit codes, documented in README.md. Scripts rely on them: keep them stable.
const (
	ExitOK          = 0   // success
	ExitError       = 1   // any other error
	ExitUsage       = 2   // usage or configuration error: bad flag, unknown profile, unreadable config
	ExitLogin       = 3   // login required: no credential, or the refresh token is permanently invalid
	ExitLockTimeout = 4   // timed out waiting for the lock; the message names the holder
	ExitUnavailable = 5   // provider unreachable or failing after retries, or a Redis store unreachable
	ExitInterrupted = 130 // interrupted (SIGINT, SIGTERM)
)

// userError is an error with its exit code and an optional hint for what to do next.
type userError struct {
	code int
	err  error
	hint string
}

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &userError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func withHint(code int, err error, hint string) error {
	return &userError{code: code, err: err, hint: hint}
}

// classify maps an error to its exit code and hint. It is the one place that decides.
func classify(err error) (code int, hint string) {
	var (
		ue      *userError
		login   *creds.LoginRequiredError
		held    *lockfile.HeldError
		unavail *creds.UnavailableError
		corrupt *creds.CorruptError
		perm    *creds.PermissionError
		perr    *flows.ProviderError
		link    *creds.SymlinkError
		kerr    *creds.KeyringError
	)
	switch {
	case errors.As(err, &ue):
		return ue.code, ue.hint
	case errors.Is(err, context.Canceled):
		return ExitInterrupted, ""
	case isStoreError(err):
		code, hint, _ := storeHint(err)
		return code, hint
	case errors.As(err, &login):
		return ExitLogin, ""
	case errors.As(err, &held):
		return ExitLockTimeout, "if that process is stuck, stop it; tokctl breaks the lock of a process that died"
	case errors.As(err, &unavail):
		return ExitUnavailable, "the provider may be down or unreachable; retry later (run with -v for details)"
	case errors.As(err, &corrupt) && isRedisStore(corrupt.Location):
		return ExitError, "the value in Redis was left untouched; inspect it, or log in again (or tokctl import) to replace it"
	case errors.As(err, &corrupt):
		return ExitError, "the file was left untouched; inspect it, or move it aside and log in again"
	case errors.As(err, &link):
		return ExitError, fmt.Sprintf("put the file itself at %s; \"tokctl token --creds-file\" follows links deliberately", link.Path)
	case errors.As(err, &perm):
		return ExitError, fmt.Sprintf("run \"chmod 600 %s\"", perm.Path)
	case errors.As(err, &kerr):
		return ExitError, keyringHint(kerr)
	case errors.Is(err, config.ErrNoProfile):
		return ExitUsage, "list profiles with \"tokctl profile list\"; create one with \"tokctl profile set NAME ...\""
	case errors.As(err, &perr) && (perr.Code == "invalid_client" || perr.Code == "unauthorized_client"):
		return ExitError, "check the profile's client id and client secret (tokctl profile show)"
	}
	return ExitError, ""
}

func isStoreError(err error) bool {
	_, _, ok := storeHint(err)
	return ok
}
