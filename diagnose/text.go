package diagnose

import (
	"bytes"
	"net"
	"regexp"
	"strconv"
)

// Phrases that classify a line of an application or server log. Matching is case-insensitive.
var (
	reuseWords   = [][]byte{[]byte("refresh_token_reused"), []byte("reuse detected"), []byte("reuse_detected"), []byte("detect_reuse"), []byte("token reuse"), []byte("reused refresh token"), []byte("refresh token reuse")}
	failureWords = [][]byte{[]byte("invalid_grant"), []byte("bad_refresh_token"), []byte("already claimed"), []byte("claimed twice")}
	successWords = [][]byte{[]byte("token refreshed"), []byte("refreshed token"), []byte("refreshed the token"), []byte("refresh succeeded"), []byte("refresh successful"), []byte("refreshed access token"), []byte("refresh ok")}
	endpoints    = [][]byte{[]byte("/token"), []byte("token endpoint"), []byte("token_endpoint")}
)

var (
	reLeadIP  = lazyRegexp(`^(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+) `)
	reSysHost = lazyRegexp(`^(?:<\d+>)?[A-Z][a-z]{2} +\d{1,2} [\d:.]+ ([A-Za-z0-9._-]+) `)
	reSysPID  = lazyRegexp(`^(?:<\d+>)?[A-Z][a-z]{2} +\d{1,2} [\d:.]+ \S+ [^\s\[]+\[(\d+)\]`)
)

// Field names that say who and where, as key=value, key: value or "key":"value".
var (
	clientKeys = []string{"client_id", "clientId", "client-id", "clientid"}
	userKeys   = []string{"user_id", "userId", "user", "username", "sub", "subject"}
	ipKeys     = []string{"ip", "client_ip", "remote_addr", "remote_ip", "src_ip", "ipAddress", "remote"}
	hostKeys   = []string{"host", "hostname"}
	pidKeys    = []string{"pid"}
	familyKeys = []string{"rt", "rt_fingerprint", "refresh_token_fingerprint"}
)

// text reads one line of a plain-text log.
func (rd *reader) text(line []byte, where string) {
	if isKeycloakEvent(line) {
		rd.keycloakText(line, where)
		return
	}
	t, ok := textTime(line, rd.year)
	out, code, relevant := classifyText(line)
	if !relevant {
		return
	}
	if !ok {
		rd.stats.Malformed++ // about a refresh, but when?
		return
	}
	e := textEntry(line, out, code, "text", where)
	e.Time = t
	rd.add(e)
}

// textEntry fills an entry from a line's words: who, where from, which refresh token.
func textEntry(line []byte, out Outcome, code, format, where string) Entry {
	e := Entry{Outcome: out, Code: code, Format: format, Where: where, Text: clip(line)}
	e.Actor.Client = value(line, clientKeys)
	e.Actor.User = value(line, userKeys)
	if e.Actor.IP = value(line, ipKeys); e.Actor.IP == "" {
		e.Actor.IP = find(reLeadIP(), line, "")
	}
	if host, _, err := net.SplitHostPort(e.Actor.IP); err == nil {
		e.Actor.IP = host
	}
	if e.Host = find(reSysHost(), line, ""); e.Host == "" {
		e.Host = value(line, hostKeys)
	}
	if e.PID, _ = strconv.Atoi(value(line, pidKeys)); e.PID == 0 {
		e.PID, _ = strconv.Atoi(find(reSysPID(), line, ""))
	}
	e.Family = value(line, familyKeys)
	return e
}

// classifyText decides what a line says about a refresh, if anything.
func classifyText(line []byte) (out Outcome, code string, ok bool) {
	low := lowerASCII(line)
	for _, w := range reuseWords {
		if bytes.Contains(low, w) {
			return Reuse, string(w), true
		}
	}
	if bytes.Contains(low, []byte("ferrt")) && !bytes.Contains(low, []byte("fertft")) {
		return Reuse, "ferrt", true
	}
	for _, w := range failureWords {
		if bytes.Contains(low, w) {
			return Failure, string(w), true
		}
	}
	for _, w := range successWords {
		if bytes.Contains(low, w) {
			return Success, "", true
		}
	}
	if !containsAny(low, endpoints) {
		return 0, "", false
	}
	switch status := statusOf(line, low); status {
	case "200":
		return Success, "", true
	case "400", "401", "403":
		return Failure, "HTTP " + status, true
	}
	return 0, "", false
}

// lowerASCII lowers A–Z only, so every byte keeps its offset: an index found in the result is an
// index into line. bytes.ToLower would not do: it turns each invalid UTF-8 byte into a 3-byte
// U+FFFD and changes the length of some letters (İ, K).
func lowerASCII(line []byte) []byte {
	low := make([]byte, len(line))
	for i, c := range line {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return low
}

func containsAny(b []byte, words [][]byte) bool {
	for _, w := range words {
		if bytes.Contains(b, w) {
			return true
		}
	}
	return false
}

// find returns re's first group in line. When hint is set, lines without it are not searched.
func find(re *regexp.Regexp, line []byte, hint string) string {
	if hint != "" && !bytes.Contains(line, []byte(hint)) {
		return ""
	}
	m := re.FindSubmatch(line)
	if m == nil {
		return ""
	}
	return string(bytes.TrimRight(m[1], ".:")) // "client_id=reports: 400 …"
}

// Secrets a log line may carry; evidence never repeats them.
var (
	reSecretField = lazyRegexp(`(?i)((?:refresh_token|access_token|id_token|client_secret|password|assertion|device_code)["']?\s*[=:]\s*["']?)[^\s"'&,;}]+`)
	reBearer      = lazyRegexp(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
	reJWT         = lazyRegexp(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
)

// clip copies the start of a record for evidence; redact cleans it when it is shown.
func clip(line []byte) string {
	return string(line[:min(len(line), 400)])
}

// redact shortens a record for evidence and removes tokens and secrets from it.
func redact(text string) string {
	b := reSecretField().ReplaceAll([]byte(text), []byte("${1}[redacted]"))
	b = reBearer().ReplaceAll(b, []byte("${1}[redacted]"))
	b = reJWT().ReplaceAll(b, []byte("[jwt redacted]"))
	return shorten(b)
}

// statusOf finds a line's HTTP status: a status field, else the first three-digit number after
// the token endpoint ("POST /oauth2/token HTTP/1.1" 400, "POST /token rt=…: 200").
func statusOf(line, low []byte) string {
	if v := value(line, []string{"status", "status_code", "statusCode"}); isStatus(v) {
		return v
	}
	i := bytes.Index(low, []byte("token"))
	if i < 0 {
		return ""
	}
	for _, f := range bytes.FieldsFunc(line[i:], func(r rune) bool { return r == ' ' || r == '"' || r == ':' || r == '=' || r == ',' }) {
		if isStatus(string(f)) {
			return string(f)
		}
	}
	return ""
}

func isStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}
