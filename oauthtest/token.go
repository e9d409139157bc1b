package oauthtest

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenResponse is an RFC 6749 §5.1 successful token response.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// grantTypes lists the grant types /token accepts, as discovery advertises
// them. A new grant is added here and in grant, with its handler in a file
// of its own.
var grantTypes = []string{"authorization_code", "refresh_token", deviceGrantType, "client_credentials"}

// handleToken serves POST /token. Order of events: count the request and
// take the next injected fault; read the form and note the presented
// refresh token; sleep the configured latency (outside the lock; a request
// whose client gives up meanwhile is dropped unprocessed); answer with a
// pre-processing fault, or process the grant under the lock and answer,
// possibly altered by an after-processing fault.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	fault, faulted := s.beginTokenRequest()
	defer s.endTokenRequest()
	var subject, outcome string
	defer func() {
		if faulted {
			outcome += " [fault " + fault.Kind.String() + "]"
		}
		s.logf("POST /token %s: %s", subject, outcome)
	}()

	form, perr := parseForm(w, r)
	if rt := form.Get("refresh_token"); rt != "" {
		s.recordPresented(rt)
	}
	subject = describeGrant(form)
	if !s.sleep(r.Context(), s.latency()) {
		outcome = "abandoned during latency"
		s.abandon(w)
		return
	}
	if faulted {
		if handled, what := s.preFault(w, r, fault); handled {
			outcome = what
			return
		}
	}
	if perr != nil {
		perr.write(w)
		outcome = perr.code + ": " + perr.desc
		return
	}
	resp, oerr := s.grant(r, form, !faulted || fault.Kind != NoRefreshToken)
	switch {
	case faulted && fault.Kind == ServerErrorAfterProcessing:
		writeError(w, http.StatusBadGateway, "server_error", "bad gateway")
		outcome = "502 after processing"
		if oerr != nil {
			outcome += " (" + oerr.code + ")"
		}
	case oerr != nil:
		oerr.write(w)
		outcome = oerr.code + ": " + oerr.desc
	default:
		if faulted && fault.Kind == NoExpiresIn {
			resp.ExpiresIn = 0
		}
		writeJSON(w, http.StatusOK, resp)
		outcome = "200 at=" + fingerprint(resp.AccessToken) + " new rt=" + fingerprint(resp.RefreshToken)
	}
}

// describeGrant names a token request in the log without revealing its
// secrets: the grant and a fingerprint of what it redeems.
func describeGrant(form url.Values) string {
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return "grant=authorization_code code=" + fingerprint(form.Get("code"))
	case deviceGrantType:
		return "grant=device_code device_code=" + fingerprint(form.Get("device_code"))
	case "client_credentials":
		return "grant=client_credentials"
	}
	return "rt=" + fingerprint(form.Get("refresh_token"))
}

// latency returns Options.Latency plus a random share of Options.Jitter.
func (s *Server) latency() time.Duration {
	d := s.opt.Latency
	if s.opt.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(s.opt.Jitter) + 1))
	}
	return d
}

// grant authenticates the client and dispatches on grant_type. rotate is
// false when the NoRefreshToken fault asks to keep the refresh token; the
// login grants then issue none.
func (s *Server) grant(r *http.Request, form url.Values, rotate bool) (TokenResponse, *oauthError) {
	gt := form.Get("grant_type")
	if gt == "" {
		return TokenResponse{}, newError(http.StatusBadRequest, "invalid_request", "missing grant_type")
	}
	if err := s.authenticateClient(r, form); err != nil {
		return TokenResponse{}, err
	}
	switch gt {
	case "refresh_token":
		return s.refreshGrant(form, rotate)
	case "authorization_code":
		return s.codeGrant(form, rotate)
	case deviceGrantType:
		return s.deviceGrant(form, rotate)
	case "client_credentials":
		return s.clientCredentialsGrant(form)
	}
	return TokenResponse{}, newError(http.StatusBadRequest, "unsupported_grant_type",
		"grant_type "+gt+" is not supported")
}

// refreshGrant performs the RFC 6749 §6 refresh_token grant. A family of a
// login flow whose grant has the openid scope gets a fresh ID token (no
// nonce), as from Hydra.
func (s *Server) refreshGrant(form url.Values, rotate bool) (TokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return TokenResponse{}, newError(http.StatusBadRequest, "invalid_request", "missing refresh_token")
	}
	var scope []string // nil: keep the original grant
	if f := strings.Fields(form.Get("scope")); len(f) > 0 {
		scope = f
	}
	s.mu.Lock()
	resp, err := s.refreshLocked(rt, scope, rotate)
	var claims *idClaims
	switch {
	case err == nil:
		claims = s.idClaimsLocked(s.tokens[rt].fam, "")
	case err.code == "invalid_grant":
		s.stats.InvalidGrants++
	}
	s.mu.Unlock()
	resp.IDToken = s.signIDToken(claims) // outside the lock: it may generate the key
	return resp, err
}

// refreshLocked redeems refresh token v. The checks and the rotation happen
// in one critical section, so of any number of concurrent requests
// presenting the same token exactly one wins.
func (s *Server) refreshLocked(v string, scope []string, rotate bool) (TokenResponse, *oauthError) {
	invalid := func(desc string) (TokenResponse, *oauthError) {
		return TokenResponse{}, newError(http.StatusBadRequest, "invalid_grant", desc)
	}
	now := time.Now()
	t := s.tokens[v]
	switch {
	case t == nil:
		return invalid("refresh token not recognised")
	case t.kind != refreshToken:
		return invalid("presented token is not a refresh token")
	case t.fam.clientID != s.opt.ClientID:
		return invalid("refresh token was issued to another client")
	case t.fam.revoked:
		return invalid("refresh token revoked; token family revoked")
	case t.revoked:
		return invalid("refresh token revoked")
	}
	grace := false
	if !t.usedAt.IsZero() {
		if s.opt.Grace <= 0 || now.Sub(t.usedAt) > s.opt.Grace {
			s.stats.ReuseDetected++
			s.revokeFamilyLocked(t.fam, "refresh token reuse detected")
			return invalid("refresh token reuse detected; token family revoked")
		}
		grace = true
	}
	granted := t.fam.scope
	if scope != nil {
		if !subset(scope, t.fam.scope) {
			return TokenResponse{}, newError(http.StatusBadRequest, "invalid_scope",
				"requested scope exceeds the original grant")
		}
		granted = scope
	}

	keep := s.opt.NoRotation || !rotate
	if !s.opt.NoRotation { // Hydra: redeeming a refresh token revokes its access token
		if at := s.tokens[t.access]; at != nil {
			at.revoked = true
		}
	}
	resp := s.mintLocked(t.fam, granted, s.opt.AccessTTL, !keep)
	if keep {
		t.access = resp.AccessToken // the same refresh token stays current
	} else if t.usedAt.IsZero() {
		t.usedAt = now // rotated away; a grace reuse keeps the first rotation time
	}
	s.stats.Refreshes++
	if grace {
		s.stats.GraceReuses++
	}
	return resp, nil
}
