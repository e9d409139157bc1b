package diagnose

import "bytes"

// Keycloak's event logger (the jboss-logging event listener, category org.keycloak.events)
// writes one message per event, fields separated by ", ":
//
//	type="REFRESH_TOKEN", realmId="…", realmName="main", clientId="cli", userId="…",
//	sessionId="…", ipAddress="…", token_id="…", updated_refresh_token_id="…", …,
//	grant_type="refresh_token", refresh_token_id="…", client_auth_method="client-secret"
//
// Keycloak 23 and older write the values unquoted (type=REFRESH_TOKEN, …, reason='a b' when a
// value has spaces) and no sessionId; the quote character is configurable; a missing value is
// written as null. The message is the end of a plain console line ("2026-12-05 10:00:01,123
// WARN  [org.keycloak.events] (executor-thread-3) type=…") or the "message" of a JSON console
// line (KC_LOG_CONSOLE_OUTPUT=json, default or ECS layout).
//
// REFRESH_TOKEN is a refresh that succeeded and REFRESH_TOKEN_ERROR one that was refused; other
// events (logins, code exchanges, logouts) are no refreshes and are skipped. With "revoke refresh
// token" on, a refresh token presented again is refused with the reason "Maximum allowed refresh
// token reuse exceeded", and Keycloak then detaches the client session from the user session: the
// winner's new refresh token is refused too ("Session doesn't have required client"). That is
// reuse detection revoking the token family, read as Reuse. Every other refusal ("Session not
// active", "Token is not active", "Stale token" …) is a Failure, with the reason as its code.
//
// Who: the realm, the client and the session — a Keycloak user session is the token family,
// so records of one session are grouped together and never with another session's. Logs
// without sessionId group by realm, client and user. refresh_token_id (the id, not the token,
// of the refresh token presented) tells whether a refusal presented the very token a success
// did. ipAddress is the caller; the Keycloak node's host and pid say nothing about the callers
// and are not used.

// keycloakTypes are the event types about refreshes.
var keycloakTypes = map[string]Outcome{"REFRESH_TOKEN": Success, "REFRESH_TOKEN_ERROR": Failure}

// keycloakReuse is the reason Keycloak gives when a refresh token is presented again.
const keycloakReuse = "Maximum allowed refresh token reuse exceeded"

// isKeycloakEvent is a cheap test for a Keycloak event message (or a line or JSON record
// holding one).
func isKeycloakEvent(b []byte) bool {
	return bytes.Contains(b, []byte("realmId=")) && bytes.Contains(b, []byte("type="))
}

// keycloakText reads a plain console line holding a Keycloak event.
func (rd *reader) keycloakText(line []byte, where string) {
	e, ok := keycloakEvent(line, "keycloak")
	if !ok {
		return
	}
	t, ok := textTime(line, rd.year)
	if !ok {
		rd.stats.Malformed++ // a refresh, but when?
		return
	}
	e.Time, e.Where, e.Text = t, where, clip(line)
	rd.add(e)
}

// keycloakJSON reads a JSON console line whose message is a Keycloak event.
func keycloakJSON(r *jsonRecord) (Entry, bool, bool) {
	msg := []byte(str(r.Msg))
	e, ok := keycloakEvent(msg, "keycloak-json")
	if !ok {
		return Entry{}, false, false
	}
	t, ok := firstTime(r.Timestamp, r.AtTimestamp, r.Time, r.TS)
	if !ok {
		return Entry{}, false, true
	}
	e.Time, e.Text = t, clip(msg)
	return e, true, false
}

// keycloakEvent reads the fields of an event message; ok is false for events that are no
// refreshes.
func keycloakEvent(msg []byte, format string) (Entry, bool) {
	out := keycloakTypes[kcField(msg, "type")]
	if out == 0 {
		return Entry{}, false
	}
	e := Entry{Outcome: out, Format: format, Family: kcField(msg, "refresh_token_id"),
		Actor: Actor{
			Realm:   oneOf(kcField(msg, "realmName"), kcField(msg, "realmId")),
			Client:  kcField(msg, "clientId"),
			User:    kcField(msg, "userId"),
			Session: kcField(msg, "sessionId"),
			IP:      kcField(msg, "ipAddress"),
		}}
	if out == Failure {
		reason := kcField(msg, "reason")
		e.Code = oneOf(reason, kcField(msg, "error"), "REFRESH_TOKEN_ERROR")
		if reason == keycloakReuse {
			e.Outcome = Reuse
		}
	}
	return e, true
}

// kcField returns the value of a field of a Keycloak event message — key=value, key="value" or
// key='value' — or "" when it is missing or null. Keys match whole field names only:
// "refresh_token_id" does not match inside "updated_refresh_token_id".
func kcField(msg []byte, key string) string {
	for off := 0; off < len(msg); {
		i := bytes.Index(msg[off:], []byte(key))
		if i < 0 {
			return ""
		}
		i += off
		off = i + len(key)
		if off >= len(msg) || msg[off] != '=' || (i > 0 && msg[i-1] != ' ' && msg[i-1] != ',') {
			continue
		}
		v := msg[off+1:]
		if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
			v = v[1:closingQuote(v)]
		} else if j := bytes.Index(v, []byte(", ")); j >= 0 {
			v = v[:j]
		}
		if s := string(bytes.TrimSpace(v)); s != "null" {
			return s
		}
		return ""
	}
	return ""
}

// closingQuote returns the index in v (which starts with the opening quote) of the quote that
// ends the value: the first one, not escaped, that ends the message or is followed by a comma.
func closingQuote(v []byte) int {
	q := v[0]
	for j := 1; j < len(v); j++ {
		switch {
		case v[j] == '\\':
			j++
		case v[j] == q && (j+1 == len(v) || v[j+1] == ','):
			return j
		}
	}
	return len(v)
}
