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
// them. A new grant (authorization_code + PKCE, device_code, …) is added
// here and in grant, with its handler in a file of its own.
var grantTypes = []string{"refresh_token"}

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
	var rt, outcome string
	defer func() {
		if faulted {
			outcome += " [fault " + fault.Kind.String() + "]"
		}
		s.logf("POST /token rt=%s: %s", fingerprint(rt), outcome)
	}()

	form, perr := parseForm(w, r)
	if rt = form.Get("refresh_token"); rt != "" {
		s.recordPresented(rt)
	}
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

// latency returns Options.Latency plus a random share of Options.Jitter.
func (s *Server) latency() time.Duration {
	d := s.opt.Latency
	if s.opt.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(s.opt.Jitter) + 1))
	}
	return d
}

// grant authenticates the client and dispatches on grant_type. rotate is
// false when the NoRefreshToken fault asks to keep the refresh token.
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
	}
	return TokenResponse{}, newError(http.StatusBadRequest, "unsupported_grant_type",
		"grant_type "+gt+" is not supported")
}

// refreshGrant performs the RFC 6749 §6 refresh_token grant.
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
	defer s.mu.Unlock()
	resp, err := s.refreshLocked(rt, scope, rotate)
	if err != nil && err.code == "invalid_grant" {
		s.stats.InvalidGrants++
	}
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
