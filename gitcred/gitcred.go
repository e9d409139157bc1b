// Package gitcred speaks git's credential helper protocol (gitcredentials(7), git-credential(1)):
// it parses the attributes git writes to a helper's stdin and formats the helper's answer.
//
// The format is one "key=value" line per attribute, ended by a blank line or end of input. Keys
// ending in "[]" (capability[], wwwauth[]) may repeat and form a list; any other key repeated
// replaces its earlier value, as in git. Unknown keys are ignored. There is no quoting: a value
// can never hold a newline or NUL, and this package also refuses a carriage return inside a
// value (git ≥ 2.48 rejects them in URLs for the same reason: CVE-2024-52006). A trailing
// "\r" (CRLF line ending) is tolerated on input.
//
// The package knows nothing of tokctl's profiles or tokens; it imports only the standard library.
package gitcred

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits on what Parse reads. MaxLine is git's own limit (git-credential(1), since 2.45: a line
// including its newline may not exceed 65535 bytes).
const (
	MaxLine  = 65535
	MaxInput = 1 << 20
)

// Request is a credential description as git sends it to a helper's get, store or erase.
// git 2.39 sends protocol and host, and path and username when configured; newer versions add
// wwwauth[] (2.41), password_expiry_utc and oauth_refresh_token (2.40–2.41), capability[],
// authtype and credential (2.46). Attributes this type does not name are read and dropped.
type Request struct {
	Protocol string // "https", "http", …
	Host     string // host name, with ":port" when the URL had one
	Path     string // repository path without leading slash; only with credential.useHttpPath
	Username string
	// Password is the rejected or approved password in erase and store requests.
	Password string
	// AuthType and Credential are the pre-encoded credential of git ≥ 2.46 (erase and store).
	AuthType, Credential string
	// Capabilities are the capability[] values: what git understands in the answer.
	Capabilities []string
	// WWWAuth are the server's WWW-Authenticate headers (wwwauth[], git ≥ 2.41).
	WWWAuth []string
}

// HasCapability reports whether git announced capability[]=name.
func (r *Request) HasCapability(name string) bool {
	for _, c := range r.Capabilities {
		if c == name {
			return true
		}
	}
	return false
}

// URL describes the request as "protocol://host/path", for messages and matching. The username
// and secrets are never part of it.
func (r *Request) URL() string {
	u := r.Protocol + "://" + r.Host
	if r.Path != "" {
		u += "/" + r.Path
	}
	return u
}

// ErrSyntax is matched (errors.Is) by every error Parse returns for malformed input.
var ErrSyntax = errors.New("malformed credential description")

// Parse reads one credential description from r: lines up to the first blank line or the end of
// input, at most MaxInput bytes. Input after the blank line may be buffered and lost; a caller
// that needs it uses ParseReader.
func Parse(r io.Reader) (*Request, error) {
	return ParseReader(bufio.NewReaderSize(r, MaxLine))
}

// ParseReader is Parse on a caller's buffered reader; reading stops after the blank line.
// br's buffer must hold MaxLine bytes (bufio.NewReaderSize(r, MaxLine)) or longer lines are
// refused early.
func ParseReader(br *bufio.Reader) (*Request, error) {
	req := &Request{}
	total := 0
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		total += len(raw)
		switch {
		case errors.Is(err, bufio.ErrBufferFull) || len(raw) > MaxLine:
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrSyntax, n, MaxLine)
		case total > MaxInput:
			return nil, fmt.Errorf("%w: more than %d bytes", ErrSyntax, MaxInput)
		case err != nil && err != io.EOF:
			return nil, fmt.Errorf("read credential description: %w", err)
		}
		line := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
		if line == "" {
			return req, nil // blank line or end of input
		}
		if err := req.set(line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, n, err)
		}
		if err == io.EOF {
			return req, nil
		}
	}
}

// set applies one "key=value" line.
func (r *Request) set(line string) error {
	key, value, ok := strings.Cut(line, "=")
	if !ok {
		return errors.New("no '=' in the line")
	}
	if strings.ContainsAny(line, "\x00\r") {
		return fmt.Errorf("attribute %q holds a NUL or carriage return", clip(key))
	}
	switch key {
	case "protocol":
		r.Protocol = value
	case "host":
		r.Host = value
	case "path":
		r.Path = value
	case "username":
		r.Username = value
	case "password":
		r.Password = value
	case "authtype":
		r.AuthType = value
	case "credential":
		r.Credential = value
	case "capability[]":
		r.Capabilities = append(r.Capabilities, value)
	case "wwwauth[]":
		r.WWWAuth = append(r.WWWAuth, value)
	case "url":
		return r.setURL(value)
	}
	return nil // unknown attributes are ignored, as gitcredentials(7) asks
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Response is a helper's answer to get. Empty fields are left out.
type Response struct {
	// Capabilities are announced first (capability[]=authtype must precede authtype and
	// credential for git ≥ 2.46 to use them).
	Capabilities []string
	AuthType     string // e.g. "Bearer"
	Credential   string // the pre-encoded credential for AuthType
	Username     string
	Password     string
	// PasswordExpiry becomes password_expiry_utc (Unix seconds; git ≥ 2.40 drops a credential
	// whose expiry has passed). Zero means unknown and is left out.
	PasswordExpiry time.Time
}

// Format renders the response as git reads it: "key=value\n" lines and no blank line. It refuses
// a value holding a newline, carriage return or NUL rather than emit a line git would split.
func (resp *Response) Format() ([]byte, error) {
	var b strings.Builder
	add := func(key, value string) error {
		if value == "" {
			return nil
		}
		if strings.ContainsAny(value, "\n\r\x00") {
			return fmt.Errorf("credential attribute %s holds a newline, carriage return or NUL", key)
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
		b.WriteByte('\n')
		return nil
	}
	for _, c := range resp.Capabilities {
		if err := add("capability[]", c); err != nil {
			return nil, err
		}
	}
	expiry := ""
	if !resp.PasswordExpiry.IsZero() {
		expiry = strconv.FormatInt(resp.PasswordExpiry.Unix(), 10)
	}
	for _, kv := range [][2]string{{"authtype", resp.AuthType}, {"credential", resp.Credential},
		{"username", resp.Username}, {"password", resp.Password}, {"password_expiry_utc", expiry}} {
		if err := add(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}
