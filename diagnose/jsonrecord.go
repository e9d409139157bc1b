package diagnose

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// jsonRecord holds the fields of every JSON format diagnose knows. Every field is raw, so a
// record whose fields have unexpected types still decodes; the readers check what they use.
type jsonRecord struct {
	// tokctl's event log
	Kind, Profile, PID, Host, RT, Outcome, Error, ClientID, Time, Status json.RawMessage
	// Okta System Log
	EventType, Published, Actor, Client, Target, DebugContext json.RawMessage
	// Auth0 tenant logs
	Type, Date, UserID, IP, Description, Data json.RawMessage
	// Ory Hydra (logrus)
	Msg, Level, HTTPRequest, HTTPResponse, ServiceName json.RawMessage
	// Keycloak's JSON console log: Msg, Timestamp (or AtTimestamp, ECS)
	// other JSON logs: more names for the time
	TS, Timestamp, AtTimestamp json.RawMessage
}

// UnmarshalJSON maps the field names (which differ from Go's) without reflection on each key.
func (r *jsonRecord) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for k, v := range m {
		if p := r.field(k); p != nil {
			*p = v
		}
	}
	return nil
}

func (r *jsonRecord) field(name string) *json.RawMessage {
	switch name {
	case "kind":
		return &r.Kind
	case "profile":
		return &r.Profile
	case "pid":
		return &r.PID
	case "host", "hostname":
		return &r.Host
	case "rt":
		return &r.RT
	case "outcome":
		return &r.Outcome
	case "error":
		return &r.Error
	case "client_id", "clientId":
		return &r.ClientID
	case "time":
		return &r.Time
	case "status":
		return &r.Status
	case "eventType":
		return &r.EventType
	case "published":
		return &r.Published
	case "actor":
		return &r.Actor
	case "client":
		return &r.Client
	case "target":
		return &r.Target
	case "debugContext":
		return &r.DebugContext
	case "type":
		return &r.Type
	case "date":
		return &r.Date
	case "user_id":
		return &r.UserID
	case "ip":
		return &r.IP
	case "description":
		return &r.Description
	case "data":
		return &r.Data
	case "msg", "message":
		return &r.Msg
	case "level":
		return &r.Level
	case "http_request":
		return &r.HTTPRequest
	case "http_response":
		return &r.HTTPResponse
	case "service_name":
		return &r.ServiceName
	case "ts":
		return &r.TS
	case "timestamp":
		return &r.Timestamp
	case "@timestamp":
		return &r.AtTimestamp
	}
	return nil
}

// object reads one JSON record (a line, or an element of an array) of any known format.
func (rd *reader) object(raw []byte, where string) {
	var r jsonRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		rd.stats.Malformed++
		return
	}
	if len(r.Data) > 0 && r.Data[0] == '{' && len(r.Type) == 0 { // an Auth0 log stream wrapper
		var inner jsonRecord
		if json.Unmarshal(r.Data, &inner) == nil && len(inner.Type) > 0 {
			r = inner
		}
	}
	var (
		e   Entry
		ok  bool
		bad bool
	)
	switch {
	case len(r.EventType) > 0:
		e, ok, bad = okta(&r)
	case len(r.Type) > 0 && len(r.Date) > 0:
		e, ok, bad = auth0(&r)
	case tokctlKinds[str(r.Kind)] && len(r.PID) > 0:
		e, ok, bad = tokctl(&r)
	case len(r.Msg) > 0 && isKeycloakEvent(r.Msg):
		e, ok, bad = keycloakJSON(&r)
	case len(r.HTTPRequest) > 0 || bytes.Contains(r.ServiceName, []byte("Hydra")):
		e, ok, bad = hydra(&r, raw)
	default:
		e, ok, bad = genericJSON(&r, raw)
	}
	if bad {
		rd.stats.Malformed++
	}
	if !ok {
		return
	}
	e.Where = where
	if e.Text == "" {
		e.Text = clip(raw)
	}
	rd.add(e)
}

// genericJSON reads a JSON-lines application log: its time field, and its words as text.
func genericJSON(r *jsonRecord, raw []byte) (Entry, bool, bool) {
	out, code, relevant := classifyText(raw)
	if !relevant {
		return Entry{}, false, false
	}
	t, ok := firstTime(r.Time, r.TS, r.Timestamp, r.AtTimestamp, r.Date, r.Published)
	if !ok {
		return Entry{}, false, true
	}
	e := textEntry(raw, out, code, "json", "")
	e.Time = t
	return e, true, false
}

func firstTime(fields ...json.RawMessage) (time.Time, bool) {
	for _, f := range fields {
		if len(f) > 0 {
			if t, ok := valueTime(f); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// str returns a JSON string's value, or "" for anything else.
func str(raw json.RawMessage) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// num returns a JSON number's (or numeric string's) integer value, or 0.
func num(raw json.RawMessage) int {
	n, err := strconv.Atoi(string(bytes.Trim(raw, `"`)))
	if err != nil {
		return 0
	}
	return n
}
