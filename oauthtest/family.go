package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// tokenKind tells access tokens from refresh tokens.
type tokenKind int

const (
	accessToken tokenKind = iota + 1
	refreshToken
)

// token is the server's record of one issued token value.
type token struct {
	kind    tokenKind
	fam     *family
	scope   []string // access token: the scope it grants
	issued  time.Time
	expires time.Time // access token only; refresh tokens do not expire
	revoked bool
	usedAt  time.Time // refresh token: when it was rotated away; zero while current
	access  string    // refresh token: the access token issued with it
}

// family is every token descended from one login: one Issue call, one
// redeemed authorization or device code, or one client credentials grant.
type family struct {
	id       int
	clientID string
	scope    []string // the original grant; refreshes may narrow, never widen
	revoked  bool
	tokens   []string
	// user is who logged in through the authorization code or device flow;
	// nil for Issue and client credentials families. Only a family with a
	// user and the openid scope gets ID tokens, also on refresh.
	user     *User
	authTime time.Time // when user approved the login
}

// newFamilyLocked starts a token family of clientID granting scope.
func (s *Server) newFamilyLocked(clientID string, scope []string, user *User, authTime time.Time) *family {
	s.families++
	return &family{id: s.families, clientID: clientID, scope: scope, user: user, authTime: authTime}
}

// newToken returns prefix + base64url(24 random bytes).
func newToken(prefix string) string {
	var b [24]byte
	rand.Read(b[:]) //nolint:errcheck // never fails since Go 1.24
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// fingerprint identifies a token in logs without revealing it:
// its prefix and 8 hex digits of its SHA-256.
func fingerprint(v string) string {
	if v == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(v))
	prefix := ""
	if i := strings.IndexByte(v, '_'); i >= 0 && i <= 3 {
		prefix = v[:i+1]
	}
	return prefix + "#" + hex.EncodeToString(sum[:4])
}

// expiresIn renders a lifetime as RFC 6749 expires_in seconds. A positive
// lifetime under a second rounds up to 1; a lifetime <= 0 (an already-expired
// token) becomes at most -1, so that it is never 0 and therefore never
// omitted from the JSON (a missing expires_in would read as "unknown").
func expiresIn(ttl time.Duration) int64 {
	secs := int64(ttl / time.Second)
	switch {
	case ttl > 0 && secs == 0:
		return 1
	case ttl <= 0 && secs > -1:
		return -1
	}
	return secs
}

// Issue creates a new token family as if the user had just logged in and
// returns its RFC 6749 §5.1 token response. The access token expires after
// ttl; ttl <= 0 gives an already-expired one, reported as expires_in <= -1
// (see expiresIn). scope is space-separated and becomes the family's grant.
// The family has no user: neither Issue nor its refreshes return ID tokens,
// even for the openid scope (the login flows do).
func (s *Server) Issue(scope string, ttl time.Duration) TokenResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFamilyLocked(s.opt.ClientID, strings.Fields(scope), nil, time.Time{})
	resp := s.mintLocked(f, f.scope, ttl, true)
	s.logf("issue: family %d at=%s rt=%s", f.id, fingerprint(resp.AccessToken), fingerprint(resp.RefreshToken))
	return resp
}

// mintLocked issues an access token (and, if withRefresh, a refresh token
// bound to it) in family f and returns the token response.
func (s *Server) mintLocked(f *family, scope []string, ttl time.Duration, withRefresh bool) TokenResponse {
	now := time.Now()
	at := newToken("at_")
	s.tokens[at] = &token{kind: accessToken, fam: f, scope: scope, issued: now, expires: now.Add(ttl)}
	f.tokens = append(f.tokens, at)
	resp := TokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   expiresIn(ttl),
		Scope:       strings.Join(scope, " "),
	}
	if withRefresh {
		rt := newToken("rt_")
		s.tokens[rt] = &token{kind: refreshToken, fam: f, issued: now, access: at}
		f.tokens = append(f.tokens, rt)
		resp.RefreshToken = rt
	}
	return resp
}

// Active reports whether token is currently valid: an access token that is
// neither expired nor revoked, or a refresh token that is current (neither
// revoked nor rotated away — a rotated-away token is reported inactive even
// while Options.Grace would still accept it).
func (s *Server) Active(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[token]
	return t != nil && t.activeLocked(time.Now())
}

func (t *token) activeLocked(now time.Time) bool {
	if t.revoked || t.fam.revoked {
		return false
	}
	if t.kind == accessToken {
		return now.Before(t.expires)
	}
	return t.usedAt.IsZero()
}

// RevokeFamilyOf revokes every token in the family of refreshToken (any
// token of the family will do), as when the user revokes the app's access.
// Unknown tokens are ignored.
func (s *Server) RevokeFamilyOf(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[refreshToken]; t != nil {
		s.revokeFamilyLocked(t.fam, "revoked by the user")
	}
}

// revokeFamilyLocked revokes every token of f and reports whether f was
// still alive.
func (s *Server) revokeFamilyLocked(f *family, why string) bool {
	if f.revoked {
		return false
	}
	f.revoked = true
	for _, v := range f.tokens {
		s.tokens[v].revoked = true
	}
	s.stats.FamiliesRevoked++
	s.logf("family %d revoked (%d tokens): %s", f.id, len(f.tokens), why)
	return true
}

// hasScope reports whether scope contains s.
func hasScope(scope []string, s string) bool { return subset([]string{s}, scope) }

// subset reports whether every scope in req is in granted.
func subset(req, granted []string) bool {
	for _, r := range req {
		found := false
		for _, g := range granted {
			found = found || r == g
		}
		if !found {
			return false
		}
	}
	return true
}
