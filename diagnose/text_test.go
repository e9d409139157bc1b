package diagnose

import (
	"strings"
	"testing"
)

// Logs are not always UTF-8 (a Latin-1 user name, a truncated multi-byte character). The token
// endpoint's status is found at the same offset in such a line as in a clean one.
func TestStatusOfLineWithInvalidUTF8(t *testing.T) {
	for _, line := range []string{
		strings.Repeat("\xe9", 10) + " POST /TOKEN 400",
		"10.0.0.5 - j\xe9r\xf4me [10/Oct/2026:06:55:36 -0700] \"POST /oauth2/token HTTP/1.1\" 401 512",
		"\u0130\u0130\u0130 POST /token 403", // İ: its lower case is longer than it is
	} {
		out, code, ok := classifyText([]byte(line))
		if !ok || out != Failure || !strings.HasPrefix(code, "HTTP 4") {
			t.Errorf("%q: got %v %q %v, want a failure with its HTTP status", line, out, code, ok)
		}
	}
}
