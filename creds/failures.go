package creds

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Rejection records that the provider rejected a refresh token for good. It names the token by
// its Fingerprint, never the token, so the callers queued behind the lock answer "login
// required" at once instead of each re-sending a token known dead.
type Rejection struct {
	Fingerprint string    `json:"refresh_token_fingerprint"`
	At          time.Time `json:"at"`
	Error       string    `json:"error"`
}

// RejectionStore is implemented by stores that keep the Rejection with the credential: a fleet
// store, whose every host must see it. For the other stores Source keeps it in a file beside
// the lock (FailurePath). A RejectionStore's Stamp must change when its Rejection does.
type RejectionStore interface {
	// LoadRejection returns the recorded Rejection, nil when there is none.
	LoadRejection() (*Rejection, error)
	SaveRejection(r Rejection) error
	ClearRejection() error
}

// rejections is where a Source keeps its Rejection.
type rejections interface {
	load() *Rejection
	save(Rejection)
	clear()
	stamp() string // changes when the record is written or removed ("" if the store stamps it)
}

func (s *Source) failures() rejections {
	if rs, ok := s.Store.(RejectionStore); ok {
		return storeRejections{rs}
	}
	return failureFile{FailurePath(s.LockPath)}
}

// lookup returns the Rejection of refreshToken, nil when none is recorded for that token.
func lookup(r rejections, refreshToken string) *Rejection {
	f := r.load()
	if f == nil || f.Fingerprint != Fingerprint(refreshToken) {
		return nil
	}
	return f
}

func record(r rejections, refreshToken string, grant *GrantError, now time.Time) {
	r.save(Rejection{Fingerprint(refreshToken), now.UTC(), grant.Code})
}

// FailurePath returns where a Source with this lock path records a rejected refresh token.
func FailurePath(lockPath string) string {
	return strings.TrimSuffix(lockPath, ".lock") + ".refresh-failed"
}

// failureFile keeps the Rejection as JSON in a file beside the lock.
type failureFile struct{ path string }

func (l failureFile) load() *Rejection {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil
	}
	var f Rejection
	if json.Unmarshal(data, &f) != nil {
		return nil
	}
	return &f
}

func (l failureFile) save(f Rejection) {
	data, _ := json.Marshal(f)
	tmp := l.path + ".tmp" + strconv.Itoa(os.Getpid())
	if os.WriteFile(tmp, data, 0o600) == nil {
		os.Rename(tmp, l.path)
	}
}

func (l failureFile) clear() { os.Remove(l.path) }

func (l failureFile) stamp() string {
	st, err := os.Stat(l.path)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

// storeRejections keeps the Rejection in a RejectionStore. Errors are dropped, as for the
// file: the record only saves queued callers a request, and the store's own errors surface on
// the next Load.
type storeRejections struct{ s RejectionStore }

func (r storeRejections) load() *Rejection {
	f, err := r.s.LoadRejection()
	if err != nil {
		return nil
	}
	return f
}

func (r storeRejections) save(f Rejection) { r.s.SaveRejection(f) }
func (r storeRejections) clear()           { r.s.ClearRejection() }
func (r storeRejections) stamp() string    { return "" }

func (f *Rejection) describe(now time.Time) string {
	return fmt.Sprintf("(%s, %s ago)", f.Error, now.Sub(f.At).Round(time.Second))
}

// RecordedFailure describes the recorded permanent rejection of refreshToken for the credential
// in store, locked at lockPath ("invalid_grant at 2026-…"), or "" when none is recorded for that
// token.
func RecordedFailure(store Store, lockPath, refreshToken string) string {
	f := lookup((&Source{Store: store, LockPath: lockPath}).failures(), refreshToken)
	if f == nil {
		return ""
	}
	return f.Error + " at " + f.At.Format(time.RFC3339)
}
