package oauthtest

import (
	"net/http"
	"strings"
	"time"
)

// introspection is an RFC 7662 §2.2 introspection response. An inactive
// token gets {"active":false} and nothing else.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub,omitempty"`        // the user of a login flow
	TokenType string `json:"token_type,omitempty"` // "Bearer" for access tokens
	Exp       int64  `json:"exp,omitempty"`        // access tokens only
	Iat       int64  `json:"iat,omitempty"`
	Iss       string `json:"iss,omitempty"`
	// TokenUse is Hydra's extension: "access_token" or "refresh_token".
	TokenUse string `json:"token_use,omitempty"`
}

// handleIntrospect serves POST /introspect, RFC 7662 token introspection.
// The caller authenticates as a client does at /token (§2.1 requires some
// authorization). A token is active exactly when Active reports true.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	v, ok := s.tokenParam(w, r, "/introspect")
	if !ok {
		return
	}
	resp := s.introspect(v)
	s.logf("POST /introspect token=%s: active=%t", fingerprint(v), resp.Active)
	writeJSON(w, http.StatusOK, resp)
}

// introspect describes token v.
func (s *Server) introspect(v string) introspection {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[v]
	if t == nil || !t.activeLocked(time.Now()) {
		return introspection{}
	}
	resp := introspection{
		Active:   true,
		ClientID: t.fam.clientID,
		Iat:      t.issued.Unix(),
		Iss:      s.url,
		Scope:    strings.Join(t.fam.scope, " "),
		TokenUse: "refresh_token",
	}
	if t.fam.user != nil {
		resp.Sub = t.fam.user.Subject
	}
	if t.kind == accessToken {
		resp.Scope = strings.Join(t.scope, " ")
		resp.TokenType = "Bearer"
		resp.Exp = t.expires.Unix()
		resp.TokenUse = "access_token"
	}
	return resp
}
