package oauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"
)

// codeGrant performs the authorization_code grant (RFC 6749 §4.1.3) with
// the PKCE check of RFC 7636 §4.6. withRefresh is false when the
// NoRefreshToken fault asks for no refresh token.
//
// A missing code, redirect_uri or code_verifier, or a verifier that is not
// 43–128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1), is invalid_request
// and leaves the code alone. Everything else about the code is
// invalid_grant: unknown; expired (Options.CodeTTL); issued to another
// client; redirect_uri not byte-equal to the authorization request's;
// BASE64URL(SHA256(code_verifier)) not equal to the code_challenge. Such a
// failed redemption burns the code. A code presented again after it was
// redeemed revokes every token issued from it (§4.1.2, §10.5). (Hydra
// answers invalid_grant also for a missing or malformed verifier: clients
// should treat both as "start the login again".)
//
// Success starts a new token family with the scope of the authorization
// request: an access token, a refresh token (unless Options.RequireOfflineAccess
// and no offline_access), and with the openid scope an ID token carrying
// the request's nonce.
func (s *Server) codeGrant(form url.Values, withRefresh bool) (TokenResponse, *oauthError) {
	code, verifier, redirectURI := form.Get("code"), form.Get("code_verifier"), form.Get("redirect_uri")
	invalid := func(desc string) (TokenResponse, *oauthError) {
		return TokenResponse{}, newError(http.StatusBadRequest, "invalid_request", desc)
	}
	switch {
	case code == "":
		return invalid("missing code")
	case redirectURI == "":
		return invalid("missing redirect_uri")
	case verifier == "":
		return invalid("missing code_verifier (PKCE is required)")
	case !isVerifier(verifier):
		return invalid("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
	}
	s.mu.Lock()
	resp, claims, err := s.redeemCodeLocked(code, redirectURI, verifier, withRefresh)
	if err != nil && err.code == "invalid_grant" {
		s.stats.InvalidGrants++
	}
	s.mu.Unlock()
	resp.IDToken = s.signIDToken(claims) // outside the lock: it may generate the key
	return resp, err
}

// redeemCodeLocked checks code and, if it may be redeemed, issues its
// tokens. Checks and redemption happen in one critical section, so of any
// number of concurrent requests presenting the same code at most one wins.
func (s *Server) redeemCodeLocked(code, redirectURI, verifier string, withRefresh bool) (TokenResponse, *idClaims, *oauthError) {
	invalid := func(desc string) (TokenResponse, *idClaims, *oauthError) {
		return TokenResponse{}, nil, newError(http.StatusBadRequest, "invalid_grant", desc)
	}
	c := s.codes[code]
	if c == nil {
		return invalid("authorization code not recognised")
	}
	if c.used {
		if c.fam != nil && s.revokeFamilyLocked(c.fam, "authorization code reuse") {
			return invalid("authorization code already used; tokens issued from it revoked")
		}
		return invalid("authorization code already used")
	}
	c.used = true // from here on, success or failure, the code is spent
	switch {
	case !time.Now().Before(c.expires):
		return invalid("authorization code expired")
	case c.clientID != s.opt.ClientID:
		return invalid("authorization code was issued to another client")
	case redirectURI != c.redirectURI:
		return invalid("redirect_uri does not match the authorization request")
	case !pkceMatches(verifier, c.challenge):
		return invalid("code_verifier does not match the code_challenge")
	}
	user := s.opt.User
	c.fam = s.newFamilyLocked(c.clientID, c.scope, &user, c.authTime)
	resp := s.mintLocked(c.fam, c.scope, s.opt.AccessTTL, withRefresh && s.offlineAllowed(c.scope))
	s.stats.CodeExchanges++
	return resp, s.idClaimsLocked(c.fam, c.nonce), nil
}

// offlineAllowed reports whether a login granting scope gets a refresh
// token, as Options.RequireOfflineAccess decides.
func (s *Server) offlineAllowed(scope []string) bool {
	return !s.opt.RequireOfflineAccess || hasScope(scope, "offline_access")
}

// pkceMatches is the S256 check of RFC 7636 §4.6, in constant time.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// isVerifier reports whether v is a well-formed code_verifier (RFC 7636
// §4.1): 43 to 128 characters of the unreserved set.
func isVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' ||
			r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return true
}
