package oauthtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authCode is the server's record of one authorization code.
type authCode struct {
	clientID    string
	redirectURI string // byte for byte as the authorization request sent it
	challenge   string // the S256 code_challenge
	nonce       string
	scope       []string
	authTime    time.Time
	expires     time.Time
	used        bool    // redeemed, or burned by a failed redemption
	fam         *family // the tokens issued from it, revoked on reuse
}

// minStateLen is the shortest state accepted, as in Hydra: a shorter one
// is too weak to protect against CSRF.
const minStateLen = 8

// handleAuthorize serves GET /authorize, the authorization endpoint of the
// code flow (RFC 6749 §4.1) with mandatory PKCE (RFC 7636, S256 only) for a
// native app's loopback redirect (RFC 8252).
//
// A missing or unknown client_id, or a missing or unacceptable redirect_uri
// (see checkRedirectURI), gets a 400 HTML page and no redirect (§4.1.2.1).
// Every other answer is a 302 to redirect_uri with state echoed exactly and,
// with Options.IssParameter, iss=URL() (RFC 9207). Errors, in this order:
// a repeated parameter, a missing state or one shorter than 8 characters,
// a missing response_type → invalid_request; response_type other than
// "code" → unsupported_response_type; a missing code_challenge, a
// code_challenge_method other than S256 (plain or none included), a
// challenge that is not 43 base64url characters → invalid_request; a scope
// outside Options.Scopes → invalid_scope; Options.DenyAuthorize →
// access_denied. Otherwise the user (Options.User) approves at once: the
// redirect carries a single-use code valid for Options.CodeTTL. Queued
// AuthorizeFaults alter the redirect.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet { // not HEAD: a request has side effects
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	s.noteAuthorize(q)
	redirectURI := q.Get("redirect_uri")
	if perr := s.checkClientAndRedirect(q, qerr); perr != nil {
		writeErrorPage(w, perr.status, perr.code, perr.desc)
		s.logf("GET /authorize: %d page %s: %s", perr.status, perr.code, perr.desc)
		return
	}

	params := url.Values{}
	var outcome string
	fault, faulted := s.nextAuthorizeFault()
	switch aerr := s.checkAuthorizeRequest(q); {
	case faulted && fault.Kind == AuthorizeError:
		params.Set("error", orDefault(fault.Code, "server_error"))
		if fault.Description != "" {
			params.Set("error_description", fault.Description)
		}
	case aerr != nil:
		params.Set("error", aerr.code)
		params.Set("error_description", aerr.desc)
	case s.opt.DenyAuthorize:
		params.Set("error", "access_denied")
		params.Set("error_description", "The resource owner denied the request.")
	case faulted && fault.Kind == AuthorizeNoCode:
	default:
		code := s.newCode(q, redirectURI)
		params.Set("code", code)
		outcome = "code=" + fingerprint(code)
	}
	if e := params.Get("error"); e != "" {
		outcome = "error=" + e + ": " + params.Get("error_description")
	}
	if q.Has("state") {
		params.Set("state", q.Get("state"))
	}
	if s.opt.IssParameter {
		params.Set("iss", s.url)
	}
	if faulted {
		applyAuthorizeFault(fault, params)
		outcome += " [fault " + fault.Kind.String() + "]"
	}
	setNoStore(w.Header())
	http.Redirect(w, r, authorizationResponse(redirectURI, params), http.StatusFound)
	s.logf("GET /authorize: 302 %s", outcome)
}

// noteAuthorize counts an authorization request and remembers its query.
func (s *Server) noteAuthorize(q url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.AuthorizeRequests++
	s.lastAuthz = cloneValues(q)
}

// LastAuthorizeRequest returns the query parameters of the most recent
// request to /authorize, whatever its outcome, or nil if there was none:
// tests assert what the client asked for (S256, state, nonce, scope …).
func (s *Server) LastAuthorizeRequest() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastAuthz)
}

// cloneValues returns a deep copy of v (nil for nil).
func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// checkClientAndRedirect finds the errors that must not be redirected.
func (s *Server) checkClientAndRedirect(q url.Values, qerr error) *oauthError {
	bad := func(code, desc string) *oauthError { return newError(http.StatusBadRequest, code, desc) }
	switch {
	case qerr != nil:
		return bad("invalid_request", "malformed query")
	case len(q["client_id"]) > 1 || len(q["redirect_uri"]) > 1:
		return bad("invalid_request", "client_id or redirect_uri repeated")
	case q.Get("client_id") == "":
		return bad("invalid_request", "missing client_id")
	case q.Get("client_id") != s.opt.ClientID:
		return bad("invalid_client", "unknown client")
	case q.Get("redirect_uri") == "":
		return bad("invalid_request", "missing redirect_uri")
	}
	if err := s.checkRedirectURI(q.Get("redirect_uri")); err != nil {
		return bad("invalid_request", err.Error())
	}
	return nil
}

// checkAuthorizeRequest finds the errors that are redirected to the client.
func (s *Server) checkAuthorizeRequest(q url.Values) *oauthError {
	bad := func(code, desc string) *oauthError { return newError(http.StatusFound, code, desc) }
	for k, v := range q {
		if len(v) > 1 {
			return bad("invalid_request", "parameter "+k+" repeated")
		}
	}
	switch method := q.Get("code_challenge_method"); {
	case len(q.Get("state")) < minStateLen:
		return bad("invalid_request", "state missing or shorter than 8 characters")
	case q.Get("response_type") == "":
		return bad("invalid_request", "missing response_type")
	case q.Get("response_type") != "code":
		return bad("unsupported_response_type", "only response_type=code is supported")
	case q.Get("code_challenge") == "":
		return bad("invalid_request", "code challenge required (PKCE with S256)")
	case method == "" || method == "plain":
		return bad("invalid_request", "code_challenge_method must be S256; plain is not allowed")
	case method != "S256":
		return bad("invalid_request", "transform algorithm not supported")
	case !isChallenge(q.Get("code_challenge")):
		return bad("invalid_request", "code_challenge must be 43 base64url characters (S256)")
	}
	if err := s.checkScope(strings.Fields(q.Get("scope"))); err != nil {
		return bad(err.code, err.desc)
	}
	return nil
}

// isChallenge reports whether c looks like an S256 challenge: the unpadded
// base64url encoding of 32 bytes.
func isChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// checkScope rejects a scope outside Options.Scopes, when that is set.
func (s *Server) checkScope(scope []string) *oauthError {
	if s.opt.Scopes != nil && !subset(scope, s.opt.Scopes) {
		return newError(http.StatusBadRequest, "invalid_scope", "requested scope is not supported")
	}
	return nil
}

// newCode issues an authorization code for the approved request q.
func (s *Server) newCode(q url.Values, redirectURI string) string {
	now := time.Now()
	code := newToken("ac_")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &authCode{
		clientID:    q.Get("client_id"),
		redirectURI: redirectURI,
		challenge:   q.Get("code_challenge"),
		nonce:       q.Get("nonce"),
		scope:       strings.Fields(q.Get("scope")),
		authTime:    now,
		expires:     now.Add(s.opt.CodeTTL),
	}
	return code
}
