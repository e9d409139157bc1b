package commands

import (
	"os"
	"path/filepath"

	"github.com/tokctl/tokctl/config"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/eventlog"
)

// noEventLogEnv disables the event log like --no-event-log.
const noEventLogEnv = "TOKCTL_NO_EVENT_LOG"

// eventLogPath is where tokctl appends its events: STATE/events.jsonl.
func eventLogPath(p config.Paths) string { return filepath.Join(p.State, eventlog.FileName) }

// eventLog returns the state directory's event log, or nil when --no-event-log or
// TOKCTL_NO_EVENT_LOG is set. Nothing is opened until an event is written: the hot path of
// "tokctl token" writes none. Write failures show with -v only.
func (u *ui) eventLog(p config.Paths) *eventlog.Log {
	if u.noEventLog || os.Getenv(noEventLogEnv) == "1" || os.Getenv(noEventLogEnv) == "true" {
		return nil
	}
	if u.events == nil || u.events.Path() != eventLogPath(p) {
		u.events = eventlog.New(eventLogPath(p), eventlog.DefaultMaxSize)
		u.events.Errorf = u.debugf
	}
	return u.events
}

// eventHook adapts a Source's events for profile prof to event log records (nil: no log).
func (u *ui) eventHook(p config.Paths, prof *config.Profile) func(creds.Event) {
	l := u.eventLog(p)
	if l == nil {
		return nil
	}
	return func(e creds.Event) { l.Write(eventRecord(prof, e)) }
}

// logEvent appends r for profile prof, unless the log is disabled.
func (u *ui) logEvent(p config.Paths, prof *config.Profile, r eventlog.Record) {
	if l := u.eventLog(p); l != nil {
		r.Profile, r.ClientID = prof.Name, prof.ClientID
		l.Write(r)
	}
}

// loginEvent records a finished login: the new refresh token's fingerprint, never the token.
func (u *ui) loginEvent(p config.Paths, prof *config.Profile, c *creds.Credential) {
	u.logEvent(p, prof, eventlog.Record{Kind: "login", Outcome: "success", RefreshToken: creds.Fingerprint(c.RefreshToken)})
}

func eventRecord(prof *config.Profile, e creds.Event) eventlog.Record {
	r := eventlog.Record{
		Kind: string(e.Kind), Profile: prof.Name, ClientID: prof.ClientID, RefreshToken: e.Fingerprint,
		Outcome: e.Outcome, Status: e.Status, Error: e.Code, Attempt: e.Attempt, Adopted: e.Adopted,
		DurationMS: float64(e.Duration.Microseconds()) / 1000,
	}
	if e.Holder != nil {
		r.HolderPID, r.HolderHost = e.Holder.PID, e.Holder.Host
	}
	return r
}
