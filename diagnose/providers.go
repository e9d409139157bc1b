package diagnose

import (
	"encoding/json"
	"net"
	"strings"
)

// Each reader below returns the entry, whether the record is about a refresh (ok), and whether
// it was malformed (bad: about a refresh, but missing what is needed, such as its time).

// tokctlKinds are the kinds of tokctl's event log (package eventlog).
var tokctlKinds = map[string]bool{"refresh": true, "lock_wait": true, "lock_break": true, "triage": true, "login": true}

// tokctl reads a line of tokctl's own event log.
func tokctl(r *jsonRecord) (Entry, bool, bool) {
	t, ok := valueTime(r.Time)
	if !ok {
		return Entry{}, false, true
	}
	e := Entry{Time: t, Format: "tokctl", Outcome: Note, Host: str(r.Host), PID: num(r.PID), Family: str(r.RT),
		Actor: Actor{Client: str(r.ClientID), Profile: str(r.Profile)}}
	kind, outcome := str(r.Kind), str(r.Outcome)
	e.Code = kind + "/" + outcome
	switch {
	case kind == "refresh" && outcome == "success":
		e.Outcome, e.Code = Success, ""
	case kind == "refresh" && outcome == "rejected":
		e.Outcome, e.Code = Failure, str(r.Error)
	case kind == "triage" && outcome == "permanent":
		e.Outcome, e.Code = Revoked, str(r.Error)
	}
	return e, true, false
}

// oktaEvent holds what diagnose reads of an Okta System Log event.
type oktaObject struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
}

// okta reads an Okta System Log event: token grants with their outcome, and reuse detection.
func okta(r *jsonRecord) (Entry, bool, bool) {
	typ := str(r.EventType)
	reuse := strings.Contains(typ, "detect_reuse")
	if !reuse && !strings.Contains(typ, "oauth2") && !strings.Contains(typ, ".token.") {
		return Entry{}, false, false
	}
	var outcome struct{ Result, Reason string }
	json.Unmarshal(r.Outcome, &outcome)
	var debug struct {
		DebugData map[string]any `json:"debugData"`
	}
	json.Unmarshal(r.DebugContext, &debug)
	grant, _ := debug.DebugData["grantType"].(string)
	e := Entry{Format: "okta", Code: typ}
	switch {
	case reuse:
		e.Outcome = Reuse
	case !strings.Contains(typ, "token.grant"):
		return Entry{}, false, false
	case grant != "" && grant != "refresh_token":
		e.Outcome = Note
	case strings.EqualFold(outcome.Result, "SUCCESS"):
		e.Outcome, e.Code = Success, ""
	case strings.EqualFold(outcome.Result, "FAILURE") || strings.EqualFold(outcome.Result, "DENY"):
		e.Outcome, e.Code = Failure, oneOf(outcome.Reason, "FAILURE")
	default:
		e.Outcome = Note
	}
	t, ok := valueTime(r.Published)
	if !ok {
		return Entry{}, false, true
	}
	e.Time = t
	var actor oktaObject
	json.Unmarshal(r.Actor, &actor)
	if isOktaClient(actor.Type) {
		e.Actor.Client = actor.ID
	} else {
		e.Actor.User = oneOf(actor.AlternateID, actor.ID)
	}
	var targets []oktaObject
	json.Unmarshal(r.Target, &targets)
	for _, tg := range targets {
		switch {
		case isOktaClient(tg.Type) && e.Actor.Client == "":
			e.Actor.Client = tg.ID
		case tg.Type == "User" && e.Actor.User == "":
			e.Actor.User = oneOf(tg.AlternateID, tg.ID)
		}
	}
	if id, ok := debug.DebugData["clientId"].(string); ok && id != "" {
		e.Actor.Client = id
	}
	var client struct {
		IPAddress string `json:"ipAddress"`
	}
	json.Unmarshal(r.Client, &client)
	e.Actor.IP = client.IPAddress
	return e, true, false
}

func isOktaClient(t string) bool {
	return strings.Contains(t, "Client") || t == "AppInstance"
}

// auth0Types are the Auth0 log event codes about refresh tokens.
var auth0Types = map[string]Outcome{"sertft": Success, "fertft": Failure, "ferrt": Reuse}

// auth0 reads an Auth0 tenant log event.
func auth0(r *jsonRecord) (Entry, bool, bool) {
	typ := str(r.Type)
	if auth0Types[typ] == 0 {
		return Entry{}, false, false // a login, an API call …: not about refresh tokens
	}
	t, ok := valueTime(r.Date)
	if !ok {
		return Entry{}, false, true
	}
	e := Entry{Time: t, Format: "auth0", Outcome: auth0Types[typ], Code: typ,
		Actor: Actor{Client: str(r.ClientID), User: str(r.UserID), IP: str(r.IP)}}
	if e.Outcome == Success {
		e.Code = ""
	}
	return e, true, false
}

// hydra reads Ory Hydra's request log (logrus JSON): POSTs to /oauth2/token and their status,
// and the errors it logs about them.
func hydra(r *jsonRecord, raw []byte) (Entry, bool, bool) {
	var req struct{ Path, Method, Remote string }
	json.Unmarshal(r.HTTPRequest, &req)
	var resp struct{ Status int }
	json.Unmarshal(r.HTTPResponse, &resp)
	out, code, relevant := classifyText(raw)
	switch {
	case relevant:
	case strings.HasSuffix(req.Path, "/token") && resp.Status == 200:
		out, relevant = Success, true
	case strings.HasSuffix(req.Path, "/token") && resp.Status >= 400 && resp.Status < 500:
		out, code, relevant = Failure, "HTTP "+itoa(resp.Status), true
	}
	if !relevant {
		return Entry{}, false, false
	}
	t, ok := valueTime(r.Time)
	if !ok {
		return Entry{}, false, true
	}
	e := textEntry(raw, out, code, "hydra", "")
	e.Time = t
	if host, _, err := net.SplitHostPort(req.Remote); err == nil {
		e.Actor.IP = host
	}
	return e, true, false
}

func oneOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
