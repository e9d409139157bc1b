package oauthtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// clientCredentialsGrant performs the client_credentials grant (RFC 6749
// §4.4). The client has already authenticated (see grant); only a
// confidential client may use this grant, so a server without
// Options.ClientSecret answers unauthorized_client. A scope outside
// Options.Scopes is invalid_scope. Success starts a token family of its
// own with an access token for the scope as asked: no refresh token
// (§4.4.3), no ID token; the token can be introspected and revoked.
func (s *Server) clientCredentialsGrant(form url.Values) (TokenResponse, *oauthError) {
	if s.opt.ClientSecret == "" {
		return TokenResponse{}, newError(http.StatusBadRequest, "unauthorized_client",
			"a public client may not use the client_credentials grant")
	}
	scope := strings.Fields(form.Get("scope"))
	if err := s.checkScope(scope); err != nil {
		return TokenResponse{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFamilyLocked(s.opt.ClientID, scope, nil, time.Time{})
	s.stats.ClientCredentials++
	return s.mintLocked(f, scope, s.opt.AccessTTL, false), nil
}
