package creds

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// failureLog remembers, beside the lock, that the provider rejected a refresh token for good.
// It stores the token's fingerprint, never the token, so the callers queued behind the lock
// answer "login required" at once instead of each re-sending a token known dead.
type failureLog struct{ path string }

type failure struct {
	Fingerprint string    `json:"refresh_token_fingerprint"`
	At          time.Time `json:"at"`
	Error       string    `json:"error"`
}

func (s *Source) failures() failureLog { return failureLog{FailurePath(s.LockPath)} }

// FailurePath returns where a Source with this lock path records a rejected refresh token.
func FailurePath(lockPath string) string {
	return strings.TrimSuffix(lockPath, ".lock") + ".refresh-failed"
}

func (l failureLog) lookup(refreshToken string) *failure {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil
	}
	var f failure
	if json.Unmarshal(data, &f) != nil || f.Fingerprint != Fingerprint(refreshToken) {
		return nil
	}
	return &f
}

func (l failureLog) record(refreshToken string, grant *GrantError, now time.Time) {
	data, _ := json.Marshal(failure{Fingerprint(refreshToken), now.UTC(), grant.Code})
	tmp := l.path + ".tmp" + strconv.Itoa(os.Getpid())
	if os.WriteFile(tmp, data, 0o600) == nil {
		os.Rename(tmp, l.path)
	}
}

func (l failureLog) clear() { os.Remove(l.path) }

// stamp changes when the log is written or removed.
func (l failureLog) stamp() string {
	st, err := os.Stat(l.path)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

func (f *failure) describe(now time.Time) string {
	return fmt.Sprintf("(%s, %s ago)", f.Error, now.Sub(f.At).Round(time.Second))
}

// RecordedFailure describes the recorded permanent rejection of refreshToken by the Source
// locking lockPath ("invalid_grant at 2026-…"), or "" when none is recorded for that token.
func RecordedFailure(lockPath, refreshToken string) string {
	f := failureLog{FailurePath(lockPath)}.lookup(refreshToken)
	if f == nil {
		return ""
	}
	return f.Error + " at " + f.At.Format(time.RFC3339)
}
