package diagnose

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Timestamps tokctl diagnose recognises in a line of text, tried in this order:
//
//	RFC 3339 / ISO 8601   2026-10-10T13:55:36.123Z, 2026-10-10 13:55:36,123+02:00, …
//	Apache / nginx        [10/Oct/2026:13:55:36 -0700]
//	syslog                Oct 10 13:55:36 (no year and no zone: Options.Year and UTC)
//	epoch                 1791640536 or 1791640536123 (seconds or milliseconds) at the start
//
// A time without a zone is taken as UTC.
var (
	reISO    = lazyRegexp(`(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?`)
	reApache = lazyRegexp(`\[(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]`)
	reSyslog = lazyRegexp(`^(?:<\d+>)?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?`)
	reEpoch  = lazyRegexp(`^\s*(\d{10}|\d{13})(?:\.(\d{1,9}))?\b`)
)

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// textTime finds the first timestamp in line. year completes syslog times.
func textTime(line []byte, year int) (time.Time, bool) {
	if t, ok := leadingISO(line); ok {
		return t, true
	}
	if m := reISO().FindSubmatch(line); m != nil {
		return isoTime(m)
	}
	if m := reApache().FindSubmatch(line); m != nil {
		mon, ok := months[string(m[2])]
		if !ok {
			return time.Time{}, false
		}
		zone, ok := offsetZone(m[7])
		if !ok {
			return time.Time{}, false
		}
		return time.Date(atoi(m[3]), mon, atoi(m[1]), atoi(m[4]), atoi(m[5]), atoi(m[6]), 0, zone), true
	}
	if m := reSyslog().FindSubmatch(line); m != nil {
		mon, ok := months[string(m[1])]
		if !ok {
			return time.Time{}, false
		}
		return time.Date(year, mon, atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5]), fraction(m[6]), time.UTC), true
	}
	if m := reEpoch().FindSubmatch(line); m != nil {
		return epochTime(m[1], m[2])
	}
	return time.Time{}, false
}

func isoTime(m [][]byte) (time.Time, bool) {
	zone := time.UTC
	if len(m[8]) > 0 && m[8][0] != 'Z' {
		z, ok := offsetZone(bytes.ReplaceAll(m[8], []byte(":"), nil))
		if !ok {
			return time.Time{}, false
		}
		zone = z
	}
	t := time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), fraction(m[7]), zone)
	// time.Date normalises 2026-13-40 into a valid date: refuse what it had to change.
	if t.Month() != time.Month(atoi(m[2])) || t.Day() != atoi(m[3]) || t.Hour() != atoi(m[4]) || t.Minute() != atoi(m[5]) {
		return time.Time{}, false
	}
	return t, true
}

// valueTime reads a JSON field's time: an RFC 3339-like string, or epoch seconds, milliseconds,
// microseconds or nanoseconds as a number or numeric string.
func valueTime(v []byte) (time.Time, bool) {
	v = bytes.Trim(v, `" `)
	if len(v) == 0 {
		return time.Time{}, false
	}
	if m := reISO().FindSubmatch(v); m != nil {
		return isoTime(m)
	}
	whole, frac, _ := bytes.Cut(v, []byte("."))
	return epochTime(whole, frac)
}

// epochTime reads seconds (10 digits), milliseconds (13), microseconds (16) or nanoseconds (19).
func epochTime(whole, frac []byte) (time.Time, bool) {
	n, err := strconv.ParseInt(string(whole), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	switch len(whole) {
	case 9, 10:
		return time.Unix(n, int64(fraction(frac))).UTC(), true
	case 12, 13:
		return time.UnixMilli(n).UTC(), true
	case 15, 16:
		return time.UnixMicro(n).UTC(), true
	case 18, 19:
		return time.Unix(0, n).UTC(), true
	}
	return time.Time{}, false
}

// offsetZone reads "+0200" / "-0700".
func offsetZone(b []byte) (*time.Location, bool) {
	if len(b) != 5 {
		return nil, false
	}
	h, m := atoi(b[1:3]), atoi(b[3:5])
	if h > 23 || m > 59 {
		return nil, false
	}
	secs := (h*60 + m) * 60
	if b[0] == '-' {
		secs = -secs
	}
	return time.FixedZone("", secs), true
}

// fraction turns the digits after a decimal point into nanoseconds.
func fraction(b []byte) int {
	if len(b) > 9 {
		b = b[:9]
	}
	n := atoi(b)
	for i := len(b); i < 9; i++ {
		n *= 10
	}
	return n
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// leadingISO parses the common case without a regular expression: a line that starts with
// 2006-01-02T15:04:05[.fraction](Z|±hh:mm) and a space.
func leadingISO(line []byte) (time.Time, bool) {
	end := bytes.IndexByte(line, ' ')
	if end < 20 || end > 35 || line[4] != '-' || line[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[:end]))
	return t, err == nil
}

// lazyRegexp compiles expr on first use. diagnose is linked into every tokctl, and the hot path
// ("tokctl token" on a valid token) must not pay for compiling patterns it never uses.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
