package creds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// shape records how a credential file spells its fields, so that tokctl writes a foreign file
// back the way its owner wrote it. The zero shape is tokctl's own format, which is also the
// format golang.org/x/oauth2 marshals a Token to: snake_case names and "expiry" in RFC 3339.
type shape struct {
	camel    bool       // accessToken instead of access_token
	expiry   expiryForm // how the expiry is written
	expKey   string     // the key holding the expiry (or expires_in)
	issuedAt string     // for expiresIn: the key holding the obtained-at time
	millis   bool       // epoch numbers are milliseconds
	rfc3339  bool       // for expiresIn: obtained-at is an RFC 3339 string
}

type expiryForm int

const (
	expiryRFC3339   expiryForm = iota // "expiry": "2026-11-29T17:03:49Z"
	expiryEpoch                       // "expires_at": 1764435829 (s or ms)
	expiryExpiresIn                   // "expires_in": 3600 plus an obtained-at time
	expiryNone                        // the file has no expiry at all
)

var (
	expiryKeys   = []string{"expiry", "expires_at", "expiresAt", "expires_on", "expiresOn"}
	issuedAtKeys = []string{"obtained_at", "obtainedAt", "issued_at", "issuedAt", "created_at", "createdAt", "iat"}
)

// parseCredential decodes a credential file in any of the shapes tokctl understands. fileTime
// stands in for the obtained-at time of a file that has only expires_in.
func parseCredential(data []byte, fileTime time.Time) (*Credential, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	if raw == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	c := &Credential{Extra: raw}
	_, camelAT := raw["accessToken"]
	_, camelRT := raw["refreshToken"]
	c.shape.camel = camelAT || camelRT
	var err error
	for _, f := range []struct {
		dst          *string
		snake, camel string
	}{
		{&c.AccessToken, "access_token", "accessToken"},
		{&c.RefreshToken, "refresh_token", "refreshToken"},
		{&c.TokenType, "token_type", "tokenType"},
		{&c.IDToken, "id_token", "idToken"},
		{&c.Scope, "scope", "scope"},
	} {
		if *f.dst, err = takeString(raw, c.shape.key(f.snake, f.camel)); err != nil {
			return nil, err
		}
	}
	if c.AccessToken == "" && c.RefreshToken == "" {
		return nil, fmt.Errorf("neither %s nor %s is present", c.shape.key("access_token", "accessToken"), c.shape.key("refresh_token", "refreshToken"))
	}
	if err := c.parseExpiry(raw, fileTime); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		c.Extra = nil
	}
	return c, nil
}

func (s shape) key(snake, camel string) string {
	if s.camel {
		return camel
	}
	return snake
}

func (c *Credential) parseExpiry(raw map[string]json.RawMessage, fileTime time.Time) error {
	for _, k := range expiryKeys {
		v, ok := raw[k]
		if !ok {
			continue
		}
		delete(raw, k)
		c.shape.expKey = k
		if t, err := time.Parse(time.RFC3339Nano, unquote(v)); err == nil && v[0] == '"' {
			c.Expiry, c.shape.expiry = t, expiryRFC3339
			return nil
		}
		n, err := number(v)
		if err != nil {
			return fmt.Errorf("%s: want RFC 3339 time or epoch number: %w", k, err)
		}
		c.shape.expiry = expiryEpoch
		c.Expiry, c.shape.millis = epoch(n)
		return nil
	}
	ein := c.shape.key("expires_in", "expiresIn")
	v, ok := raw[ein]
	if !ok {
		c.shape.expiry, c.shape.expKey = expiryNone, c.shape.key("expiry", "expiresAt")
		return nil
	}
	delete(raw, ein)
	secs, err := number(v)
	if err != nil {
		return fmt.Errorf("%s: %w", ein, err)
	}
	c.shape.expiry, c.shape.expKey = expiryExpiresIn, ein
	obtained := fileTime
	for _, k := range issuedAtKeys {
		iv, ok := raw[k]
		if !ok {
			continue
		}
		delete(raw, k)
		c.shape.issuedAt = k
		if t, err := time.Parse(time.RFC3339Nano, unquote(iv)); err == nil && iv[0] == '"' {
			obtained, c.shape.rfc3339 = t, true
			break
		}
		n, err := number(iv)
		if err != nil {
			return fmt.Errorf("%s: want RFC 3339 time or epoch number: %w", k, err)
		}
		obtained, c.shape.millis = epoch(n)
		break
	}
	c.Expiry = obtained.Add(time.Duration(min(secs, 1e9) * float64(time.Second))) // 1e9 s: ~31 years
	return nil
}

// encode writes the credential back in its shape; now is the obtained-at time for expires_in files.
func (c *Credential) encode(now time.Time) ([]byte, error) {
	out := make(map[string]any, len(c.Extra)+7)
	for k, v := range c.Extra {
		out[k] = v
	}
	s := c.shape
	put := func(snake, camel, v string) {
		if v != "" {
			out[s.key(snake, camel)] = v
		}
	}
	put("access_token", "accessToken", c.AccessToken)
	put("token_type", "tokenType", c.TokenType)
	put("refresh_token", "refreshToken", c.RefreshToken)
	put("id_token", "idToken", c.IDToken)
	put("scope", "scope", c.Scope)
	if !c.Expiry.IsZero() {
		switch s.expiry {
		case expiryRFC3339, expiryNone:
			key := s.expKey
			if key == "" {
				key = "expiry"
			}
			out[key] = c.Expiry.UTC().Format(time.RFC3339Nano)
		case expiryEpoch:
			out[s.expKey] = toEpoch(c.Expiry, s.millis)
		case expiryExpiresIn:
			out[s.expKey] = int64(math.Round(c.Expiry.Sub(now).Seconds()))
			if s.issuedAt == "" {
				break // the file's mtime is the obtained-at time
			}
			if s.rfc3339 {
				out[s.issuedAt] = now.UTC().Format(time.RFC3339Nano)
			} else {
				out[s.issuedAt] = toEpoch(now, s.millis)
			}
		}
	}
	return json.MarshalIndent(out, "", "  ")
}

func takeString(raw map[string]json.RawMessage, key string) (string, error) {
	v, ok := raw[key]
	if !ok {
		return "", nil
	}
	delete(raw, key)
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		if string(v) == "null" {
			return "", nil
		}
		return "", fmt.Errorf("%s: want a string", key)
	}
	return s, nil
}

func unquote(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// number accepts a JSON number or a numeric string (some tools quote epoch times).
func number(v json.RawMessage) (float64, error) {
	s := string(v)
	if len(s) > 1 && s[0] == '"' {
		s = unquote(v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return 0, fmt.Errorf("not a number: %.40q", s)
	}
	return f, nil
}

// epoch interprets n as seconds or, when it is too large to be seconds, milliseconds.
func epoch(n float64) (time.Time, bool) {
	if math.Abs(n) > 1e11 { // 1e11 s is the year 5138; 1e11 ms is 1973
		return time.UnixMilli(int64(n)), true
	}
	sec, frac := math.Modf(n)
	return time.Unix(int64(sec), int64(frac*1e9)), false
}

func toEpoch(t time.Time, millis bool) int64 {
	if millis {
		return t.UnixMilli()
	}
	return t.Unix()
}

// ParseTokenResponse reads an RFC 6749 §5.1 token response (or a credential in any shape tokctl
// reads) as a credential in tokctl's own format; expires_in counts from obtained.
func ParseTokenResponse(data []byte, obtained time.Time) (*Credential, error) {
	c, err := parseCredential(data, obtained)
	if err != nil {
		return nil, err
	}
	c.shape = shape{}
	return c, nil
}
