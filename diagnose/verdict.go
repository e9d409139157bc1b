package diagnose

import (
	"fmt"
	"time"
)

// Verdicts.
const (
	Race            = "race"
	ReuseRevocation = "reuse-revocation"
	RevokedExpired  = "revoked/expired"
	Unknown         = "unknown"
)

// judge gives a burst its verdict, the reason in one sentence, and the fix that applies.
func (a *Analyzer) judge(c *cluster) Incident {
	st := a.actors[c.key]
	laterSuccess := st.lastSuccess.After(c.end)
	laterFailure := st.lastFailure.After(c.end.Add(a.opt.Window))
	race := c.raceShape(a.opt)
	inc := Incident{Start: c.start, End: c.end, Actor: c.actor, Hosts: c.hosts, IPs: c.ips, PIDs: c.pids,
		Successes: c.n[Success], Failures: c.n[Failure], ReuseDetected: c.n[Reuse], Revoked: c.n[Revoked]}
	switch {
	case c.n[Reuse] > 0:
		inc.Verdict = ReuseRevocation
		inc.Reason = "the provider detected the reuse of a refresh token and revoked the token family"
		if race {
			inc.Reason += ", right after a successful refresh: concurrent callers sent the same refresh token"
		}
	case race && !laterSuccess && laterFailure:
		inc.Verdict = ReuseRevocation
		inc.Reason = "one refresh succeeded, concurrent ones with the same credential were refused, and every refresh after that failed: the provider revoked the token family"
	case c.adopted:
		inc.Verdict = Race
		inc.Reason = "tokctl's refresh token was rotated by a program that does not take tokctl's lock; tokctl adopted the new one"
	case race:
		inc.Verdict = Race
		inc.Reason = fmt.Sprintf("a refresh succeeded and %d refused within %s for the same credential", c.failures(), a.opt.Window)
		if laterSuccess {
			inc.Reason += "; later refreshes succeed (transient)"
		}
	case c.failures() >= 2 && laterSuccess && c.n[Revoked] == 0:
		inc.Verdict = Race
		inc.Reason = fmt.Sprintf("%d refreshes refused within %s, and a later one succeeds: concurrent callers (the winning refresh is not in the log)", c.failures(), a.opt.Window)
	case !laterSuccess:
		inc.Verdict = RevokedExpired
		inc.Reason = "refused with no successful refresh near it or after it: the grant is gone (revoked, expired, password changed)"
		if c.failures() > 1 {
			inc.Reason += fmt.Sprintf("; %d callers hit it at once", c.failures())
		}
	default:
		inc.Verdict = Unknown
		inc.Reason = "a refresh was refused with no success near it, and a later one succeeds: not enough evidence (widen --window, or add the provider's log)"
	}
	inc.Fix = a.fix(inc, c)
	return inc
}

// fix says what to change, for the callers' topology as far as the log shows it.
func (a *Analyzer) fix(inc Incident, c *cluster) string {
	if inc.Verdict == RevokedExpired || inc.Verdict == Unknown {
		if inc.Verdict == Unknown {
			return "nothing certain; if it repeats under load, treat it as a race"
		}
		return "log in again (tokctl login); no concurrency fix needed"
	}
	var fix string
	switch {
	case c.adopted:
		fix = "let the other program get its token from tokctl (tokctl token --creds-file PATH), or take the same lock file (PATH.lock)"
	case len(c.hosts) > 1 || (len(c.hosts) == 0 && len(c.ips) > 1):
		fix = "the callers run on several hosts: share one store with a lock around the refresh — tokctl's Redis store does this (tokctl profile set NAME --store redis://HOST:PORT/DB on every host)"
	case len(c.pids) > 1:
		fix = "several processes share the credential: take a lock around the refresh and re-read after taking it — tokctl token does this (or tokctl token --creds-file for your app's file)"
	case len(c.pids) == 1:
		fix = "one process refreshes concurrently: single-flight the refresh (one in-flight refresh shared by every caller)"
	default:
		fix = "CLIs and scripts: get tokens from tokctl token; inside one process: single-flight the refresh; several processes: a lock around the refresh with a re-read (tokctl's lock file); several hosts: a shared store with a lock around the refresh (tokctl profile set NAME --store redis://HOST:PORT/DB)"
	}
	if inc.Verdict == ReuseRevocation {
		return "the user must log in again (tokctl login); then stop the race: " + fix
	}
	return fix
}

// Incident is one judged burst.
type Incident struct {
	Verdict       string     `json:"verdict"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Actor         Actor      `json:"actor"`
	Hosts         []string   `json:"hosts,omitempty"`
	IPs           []string   `json:"ips,omitempty"`
	PIDs          []int      `json:"pids,omitempty"`
	Successes     int        `json:"successes"`
	Failures      int        `json:"failures"`
	ReuseDetected int        `json:"reuse_detected"`
	Revoked       int        `json:"revoked"`
	Reason        string     `json:"reason"`
	Fix           string     `json:"fix"`
	Evidence      []Evidence `json:"evidence"`
}

// Evidence is one log record behind an incident.
type Evidence struct {
	Time    time.Time `json:"time"`
	Outcome Outcome   `json:"outcome"`
	Code    string    `json:"code,omitempty"`
	Host    string    `json:"host,omitempty"`
	Where   string    `json:"where"`
	Text    string    `json:"text"`
}
