package diagnose

import (
	"bytes"
	"regexp"
	"strconv"
)

// Phrases that classify a line of an application or server log. Matching is case-insensitive.
var (
	reuseWords   = [][]byte{[]byte("refresh_token_reused"), []byte("reuse detected"), []byte("reuse_detected"), []byte("detect_reuse"), []byte("token reuse"), []byte("reused refresh token"), []byte("refresh token reuse")}
	failureWords = [][]byte{[]byte("invalid_grant"), []byte("bad_refresh_token"), []byte("already claimed")}
	successWords = [][]byte{[]byte("token refreshed"), []byte("refreshed token"), []byte("refreshed the token"), []byte("refresh succeeded"), []byte("refresh successful"), []byte("refreshed access token"), []byte("refresh ok")}
	endpoints    = [][]byte{[]byte("/token"), []byte("token endpoint"), []byte("token_endpoint")}
)

var (
	reStatus  = regexp.MustCompile(`(?i)(?:status(?:_code)?["']?\s*[=:]\s*["']?|http/\d(?:\.\d)?" |\bhttp |\s->\s|: )([1-5]\d\d)\b`)
	reClient  = regexp.MustCompile(`(?i)client[_-]?id["']?\s*[=:]\s*["']?([^\s"'&,;})\]]+)`)
	reUser    = regexp.MustCompile(`(?i)\b(?:user_id|userid|user|username|sub|subject|actor)["']?\s*[=:]\s*["']?([^\s"'&,;})\]]+)`)
	reIP      = regexp.MustCompile(`(?i)\b(?:ip|client_ip|remote_addr|remote_ip|src_ip|ipaddress|remote)["']?\s*[=:]\s*["']?([0-9a-f]*[.:][0-9a-f.:]+)`)
	reLeadIP  = regexp.MustCompile(`^(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+) `)
	reHost    = regexp.MustCompile(`(?i)\b(?:host|hostname)["']?\s*[=:]\s*["']?([A-Za-z0-9._-]+)`)
	rePID     = regexp.MustCompile(`(?i)(?:\bpid["']?\s*[=:]\s*|^\S+ +\d+ [\d:.]+ \S+ [^\s\[]+\[)(\d+)`)
	reSysHost = regexp.MustCompile(`^(?:<\d+>)?[A-Z][a-z]{2} +\d{1,2} [\d:.]+ ([A-Za-z0-9._-]+) `)
	reFamily  = regexp.MustCompile(`(?i)\b(?:rt|rt_fingerprint|refresh_token_fingerprint)["']?\s*[=:]\s*["']?((?:rt_)?#[0-9a-f]{6,}|sha256:[0-9a-f]{6,}|[0-9a-f]{8,64})`)
)

// text reads one line of a plain-text log.
func (rd *reader) text(line []byte, where string) {
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
	e := Entry{Outcome: out, Code: code, Format: format, Where: where, Text: redact(line)}
	e.Actor.Client = find(reClient, line, "lient")
	e.Actor.User = find(reUser, line, "")
	if e.Actor.IP = find(reIP, line, ""); e.Actor.IP == "" {
		e.Actor.IP = find(reLeadIP, line, "")
	}
	if e.Host = find(reSysHost, line, ""); e.Host == "" {
		e.Host = find(reHost, line, "ost")
	}
	e.PID, _ = strconv.Atoi(find(rePID, line, ""))
	e.Family = find(reFamily, line, "")
	return e
}

// classifyText decides what a line says about a refresh, if anything.
func classifyText(line []byte) (out Outcome, code string, ok bool) {
	low := bytes.ToLower(line)
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
	switch status := find(reStatus, line, ""); status {
	case "200":
		return Success, "", true
	case "400", "401", "403":
		return Failure, "HTTP " + status, true
	}
	return 0, "", false
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
	reSecretField = regexp.MustCompile(`(?i)((?:refresh_token|access_token|id_token|client_secret|password|assertion|device_code)["']?\s*[=:]\s*["']?)[^\s"'&,;}]+`)
	reBearer      = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
	reJWT         = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
)

// redact shortens a record for evidence and removes tokens and secrets from it.
func redact(line []byte) string {
	if len(line) > 400 {
		line = line[:400]
	}
	b := reSecretField.ReplaceAll(line, []byte("${1}[redacted]"))
	b = reBearer.ReplaceAll(b, []byte("${1}[redacted]"))
	b = reJWT.ReplaceAll(b, []byte("[jwt redacted]"))
	return shorten(b)
}
