// Package diagnose finds OAuth2 refresh-token races in logs and explains them.
//
// It reads, one record at a time and in bounded memory whatever the input's size:
//
//   - tokctl's own event log (STATE/events.jsonl);
//   - Okta System Log exports (a JSON array or JSON lines): token grant events
//     (app.oauth2.as.token.grant*) with outcome.result SUCCESS or FAILURE, and reuse
//     detection (app.oauth2.as.token.detect_reuse);
//   - Auth0 tenant log exports (a JSON array or JSON lines, plain or wrapped in "data"):
//     sertft (refresh token exchanged), fertft (exchange failed), ferrt (reuse detected);
//   - Ory Hydra's server log (logrus JSON or text): token endpoint requests with their status,
//     successes included;
//   - Keycloak's event log (org.keycloak.events, plain or JSON console lines): REFRESH_TOKEN and
//     REFRESH_TOKEN_ERROR events, grouped by realm, client and session (see keycloak.go);
//   - Dex's log: "claimed twice" refusals (Dex logs no successful refresh: read it with the
//     application's or the proxy's log);
//   - any text or JSON-lines application log mentioning invalid_grant, a refresh token, or an
//     HTTP 400/401 from a token endpoint, with RFC 3339, Apache/nginx, syslog or epoch times.
//
// The format is detected per input (gzip is unpacked), and per record within it. Each relevant
// record becomes an Entry: when, who (client, user, IP), from where (host, pid), and whether a
// refresh succeeded, failed, or the provider detected reuse.
//
// An Analyzer groups the entries of each actor into bursts — entries no more than Window
// apart — and judges each burst that contains a failure:
//
//   - race: a refresh succeeded and, within the window, others with the same credential failed;
//     the actor refreshes successfully afterwards (transient);
//   - reuse-revocation: the provider detected the reuse of a refresh token (or every refresh
//     after such a race failed): the token family is revoked and the user must log in again;
//   - revoked/expired: failures with no success near them and none after: the grant is gone
//     (revoked, expired, password changed), not a concurrency problem;
//   - unknown: failures the evidence cannot explain.
//
// Clock skew: entries from different hosts are grouped with Skew added to the window, and their
// order is not trusted — a failure on one host up to Skew before a success on another still
// counts as following it. Entries of one host keep their order.
package diagnose

import (
	"strconv"
	"time"
)

// Outcome is what a log record says happened to a refresh.
type Outcome uint8

// Outcomes, from a refresh's point of view.
const (
	Success Outcome = iota + 1 // a refresh token was exchanged
	Failure                    // the exchange was refused (invalid_grant, 400/401 at a token endpoint)
	Reuse                      // the provider detected reuse of a refresh token (family revoked)
	Revoked                    // a rejection already judged permanent (tokctl's triage)
	Note                       // context only: a lock wait, a login, an adopted rotation
)

var outcomeNames = [...]string{"", "success", "failure", "reuse-detected", "revoked", "note"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText makes outcomes readable in JSON.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Actor is whose credential a record concerns, as far as the log tells.
type Actor struct {
	Realm   string `json:"realm,omitempty"` // a Keycloak realm
	Client  string `json:"client_id,omitempty"`
	User    string `json:"user,omitempty"`
	Profile string `json:"profile,omitempty"` // a tokctl profile
	IP      string `json:"ip,omitempty"`
	Session string `json:"session,omitempty"` // a Keycloak user session: the token family itself
}

// key groups records of one credential family: the realm, client and session when the log
// names a session (the user is left out: Keycloak logs some refusals without it); else realm,
// client, user and profile when the log names any of them; else the IP address.
func (a Actor) key() string {
	if a.Session != "" {
		return "session\x00" + a.Realm + "\x00" + a.Client + "\x00" + a.Session
	}
	if a.Client != "" || a.User != "" || a.Profile != "" {
		return a.Realm + "\x00" + a.Client + "\x00" + a.User + "\x00" + a.Profile
	}
	return "ip\x00" + a.IP
}

// Entry is one refresh-related record.
type Entry struct {
	Time    time.Time
	Outcome Outcome
	Code    string // invalid_grant, ferrt, 401 …
	Actor   Actor
	Host    string // the host that wrote the record, when known
	PID     int    // the process, when known
	Family  string // the refresh token's fingerprint, when the log gives one
	Format  string // the format the record was read as
	Where   string // "FILE:LINE"
	Text    string // the record, shortened, for evidence
}

// Options tune the analysis. The zero value uses the defaults.
type Options struct {
	// Window is the largest gap between entries of one burst (default 1s).
	Window time.Duration
	// Skew is the clock difference tolerated between hosts (default 1s).
	Skew time.Duration
	// Year completes syslog timestamps, which have none (default: this year).
	Year int
}

// Default window and skew.
const (
	DefaultWindow = time.Second
	DefaultSkew   = time.Second
)

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Skew < 0 {
		o.Skew = 0
	} else if o.Skew == 0 {
		o.Skew = DefaultSkew
	}
	if o.Year == 0 {
		o.Year = time.Now().Year()
	}
	return o
}

// shorten keeps evidence lines readable.
func shorten(b []byte) string {
	const max = 200
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
