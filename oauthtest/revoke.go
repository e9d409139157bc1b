package oauthtest

import "net/http"

// handleRevoke serves POST /revoke, RFC 7009 token revocation.
//
// The client authenticates as at /token. The token parameter is required;
// token_type_hint is accepted and ignored, since both kinds are looked up
// (RFC 7009 §2.1 lets the server extend its search). Revoking a refresh
// token revokes its whole family, access tokens included; revoking an access
// token (of any family, client credentials included) revokes only that
// token. Unknown, expired or already revoked tokens are not an error
// (§2.2): the answer is 200 with an empty body either way, and counts in
// Stats.Revocations.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	v, ok := s.tokenParam(w, r, "/revoke")
	if !ok {
		return
	}
	what := s.revoke(v) // counts the revocation
	s.logf("POST /revoke token=%s: %s", fingerprint(v), what)
	setNoStore(w.Header())
	w.WriteHeader(http.StatusOK)
}

// revoke revokes token v as described on handleRevoke and says what it did.
func (s *Server) revoke(v string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Revocations++
	t := s.tokens[v]
	switch {
	case t == nil:
		return "unknown token"
	case t.fam.clientID != s.opt.ClientID:
		return "token of another client; ignored"
	case t.kind == refreshToken:
		if s.revokeFamilyLocked(t.fam, "refresh token revoked at /revoke") {
			return "family revoked"
		}
		return "family already revoked"
	}
	t.revoked = true
	return "access token revoked"
}
