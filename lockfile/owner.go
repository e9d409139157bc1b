package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Owner is the record a holder writes into the lock file: one line of JSON,
// written after the holder has taken flock(LOCK_EX) on the file.
type Owner struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Since   time.Time `json:"since"`
	Command string    `json:"command,omitempty"`
	// Lease is true when flock was unavailable and the holder keeps the
	// lock alive by touching the file's mtime instead (see package doc).
	Lease bool `json:"lease,omitempty"`
}

// String describes the holder for people, e.g.
//
//	pid 4242 on host box since 2026-11-29T17:03:49Z ("tokctl token")
//
// A foreign lock that only names a process reads "pid 4242"; an owner
// without a pid reads "unknown holder (lock file created TIME)", where TIME
// is Since, set to the lock file's modification time.
func (o Owner) String() string {
	if o.PID <= 0 {
		if o.Since.IsZero() {
			return "unknown holder"
		}
		return "unknown holder (lock file created " + formatTime(o.Since) + ")"
	}
	s := "pid " + strconv.Itoa(o.PID)
	if o.Host != "" {
		s += " on host " + o.Host
	}
	if !o.Since.IsZero() {
		s += " since " + formatTime(o.Since)
	}
	if o.Command != "" {
		s += fmt.Sprintf(" (%q)", o.Command)
	}
	return s
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// contentKind classifies what a lock file holds.
type contentKind int

const (
	kindEmpty   contentKind = iota // nothing yet (or only whitespace)
	kindPartial                    // a truncated JSON object: a writer died mid-record
	kindTokctl                     // a complete tokctl record (pid and since)
	kindForeign                    // another tool's lock: a bare pid, or JSON with a pid
	kindGarbage                    // anything else
)

// maxPID bounds what we accept as a process id (Linux's PID_MAX_LIMIT).
const maxPID = 1 << 22

// maxRecord bounds how much of a lock file is read; records are ~150 bytes.
const maxRecord = 4096

// rawRecord is the superset of the record shapes we accept.
type rawRecord struct {
	PID      json.Number `json:"pid"`
	Host     string      `json:"host"`
	Hostname string      `json:"hostname"`
	Since    *time.Time  `json:"since"`
	Command  string      `json:"command"`
	Lease    bool        `json:"lease"`
}

// parseOwner reads a lock file's content. It accepts tokctl's own record,
// the shell idiom `echo $$ > PATH.lock` (a pid and a newline), and a JSON
// object with "pid" and optionally "host" or "hostname". A record is a
// tokctl record when it has a pid and a valid "since".
func parseOwner(data []byte) (Owner, contentKind) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Owner{}, kindEmpty
	}
	if data[0] != '{' {
		pid, ok := parsePID(string(data))
		if !ok {
			return Owner{}, kindGarbage
		}
		return Owner{PID: pid}, kindForeign
	}
	var raw rawRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Owner{}, kindPartial
		}
		return Owner{}, kindGarbage
	}
	if dec.InputOffset() != int64(len(data)) {
		return Owner{}, kindGarbage // trailing bytes after the object
	}
	pid, ok := parsePID(raw.PID.String())
	if !ok {
		return Owner{}, kindGarbage
	}
	o := Owner{PID: pid, Host: raw.Host, Command: raw.Command, Lease: raw.Lease}
	if o.Host == "" {
		o.Host = raw.Hostname
	}
	if raw.Since == nil || raw.Since.IsZero() {
		return Owner{PID: pid, Host: o.Host}, kindForeign
	}
	o.Since = *raw.Since
	return o, kindTokctl
}

func parsePID(s string) (int, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || pid > maxPID {
		return 0, false
	}
	return pid, true
}

// record renders the owner as the one-line JSON record written to the file.
func (o Owner) record() []byte {
	b, err := json.Marshal(o)
	if err != nil { // cannot happen: plain fields only
		panic(fmt.Sprintf("lockfile: marshal owner: %v", err))
	}
	return append(b, '\n')
}

// hostname is this machine's name as recorded in and compared against lock
// records. Tests replace it to simulate holders on other hosts.
var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// sameHost reports whether a record's host is this machine. A record that
// names no host (a shell script's bare pid) is taken to be local.
func sameHost(h string) bool {
	return h == "" || h == hostname()
}
