// Package eventlog appends tokctl's own events — refresh attempts, lock waits, stale locks
// broken, invalid_grant triage decisions, logins — to a JSON-lines file under the state
// directory, for "tokctl diagnose" and for people.
//
// The log is shared by every tokctl process of the user. Each record is one line written with
// one write(2) on a descriptor opened with O_APPEND, so concurrent appends never interleave
// within a line. When the file reaches MaxSize it is renamed to PATH.1 (replacing the previous
// one) by whichever writer first takes a non-blocking flock on it and still finds it at the
// path; the others carry on. At worst a line lands in PATH.1 instead of PATH.
//
// A Log never blocks its caller on another process and never fails it: errors go to Errorf,
// if set, and are otherwise dropped. Nothing is opened until the first Write. Records never
// carry a token; refresh tokens appear only as a short SHA-256 fingerprint.
package eventlog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultMaxSize is the size at which the log is rotated to PATH.1.
const DefaultMaxSize = 1 << 20

// FileName is the log's name in tokctl's state directory.
const FileName = "events.jsonl"

// Record is one line of the log. Time, PID and Host are filled in by Write when zero.
type Record struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"` // refresh, lock_wait, lock_break, triage, login
	Profile  string    `json:"profile,omitempty"`
	PID      int       `json:"pid"`
	Host     string    `json:"host"`
	ClientID string    `json:"client_id,omitempty"`
	// RefreshToken is the refresh token's fingerprint (creds.Fingerprint), never the token.
	RefreshToken string  `json:"rt,omitempty"`
	Outcome      string  `json:"outcome"`
	Status       int     `json:"status,omitempty"`      // HTTP status of the token endpoint's answer
	Error        string  `json:"error,omitempty"`       // OAuth2 error code
	Attempt      int     `json:"attempt,omitempty"`     // refresh attempt within one call
	DurationMS   float64 `json:"duration_ms,omitempty"` // of the request or the wait
	HolderPID    int     `json:"holder_pid,omitempty"`  // the lock holder waited for, or broken
	HolderHost   string  `json:"holder_host,omitempty"`
	Adopted      string  `json:"adopted_rt,omitempty"` // fingerprint adopted by a triage
}

// Log appends Records to a file. The zero value is not usable; use New. A Log is safe for
// concurrent use.
type Log struct {
	path    string
	maxSize int64
	// Errorf, if set, hears of failures to write (for -v); the caller never does.
	Errorf func(format string, args ...any)

	mu   sync.Mutex
	f    *os.File
	host string
}

// New returns a log at path, rotated at maxSize bytes (DefaultMaxSize when <= 0). It touches
// nothing on disk.
func New(path string, maxSize int64) *Log {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Log{path: path, maxSize: maxSize}
}

// Path returns the log's path.
func (l *Log) Path() string { return l.path }

// Write appends r as one line. It fills in Time, PID and Host when zero.
func (l *Log) Write(r Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if r.PID == 0 {
		r.PID = os.Getpid()
	}
	if r.Host == "" {
		if l.host == "" {
			l.host, _ = os.Hostname()
		}
		r.Host = l.host
	}
	line, err := json.Marshal(r)
	if err != nil {
		l.errorf("event log: %v", err)
		return
	}
	line = append(line, '\n')
	if l.f == nil {
		if l.f, err = openAppend(l.path); err != nil {
			l.errorf("event log: %v", err)
			return
		}
	}
	if _, err := l.f.Write(line); err != nil { // one write: O_APPEND keeps lines whole
		l.errorf("event log %s: %v", l.path, err)
		return
	}
	if st, err := l.f.Stat(); err == nil && st.Size() >= l.maxSize {
		l.rotate()
	}
}

// Close closes the file, if open. Write may be called again afterwards.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// rotate renames the full file to PATH.1, unless another writer is doing so or has done so.
// Holding the non-blocking flock of the full file, it checks that the path still names that
// file: a writer that rotated before us has put a new file there. Then our next Write reopens.
func (l *Log) rotate() {
	defer func() { l.f.Close(); l.f = nil }()
	if !tryLock(l.f) {
		return // another writer is rotating this very file
	}
	mine, err1 := l.f.Stat()
	at, err2 := os.Stat(l.path)
	if err1 != nil || err2 != nil || !os.SameFile(mine, at) {
		return
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		l.errorf("event log: rotate: %v", err)
	}
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if os.IsNotExist(err) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}
	return f, err
}

func (l *Log) errorf(format string, args ...any) {
	if l.Errorf != nil {
		l.Errorf(format, args...)
	}
}
