package oauthtest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// deviceGrantType is the grant_type of RFC 8628 §3.4.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// deviceGrant performs the device_code grant (RFC 8628 §3.4, §3.5): one
// poll. withRefresh is false when the NoRefreshToken fault asks for no
// refresh token.
//
// The answers, checked in this order: missing device_code → invalid_request;
// unknown, another client's or already redeemed device code → invalid_grant;
// past Options.DeviceTTL → expired_token; Options.DeviceErrorCode when set;
// denied → access_denied; a poll less than the current interval after the
// previous one (5% tolerance, for clients that tick at exactly the
// interval) → slow_down, and the interval grows by Options.SlowDownStep;
// not yet approved → authorization_pending; approved → a new token family
// with the scope asked at /device/code (an ID token with openid, a refresh
// token unless Options.RequireOfflineAccess and no offline_access). A
// scope parameter in the poll is ignored. Every error is HTTP 400.
func (s *Server) deviceGrant(form url.Values, withRefresh bool) (TokenResponse, *oauthError) {
	dc := form.Get("device_code")
	if dc == "" {
		return TokenResponse{}, newError(http.StatusBadRequest, "invalid_request", "missing device_code")
	}
	s.mu.Lock()
	s.stats.DevicePolls++
	resp, claims, err := s.pollLocked(dc, withRefresh, time.Now())
	if err != nil && err.code == "invalid_grant" {
		s.stats.InvalidGrants++
	}
	s.mu.Unlock()
	resp.IDToken = s.signIDToken(claims) // outside the lock: it may generate the key
	return resp, err
}

// pollLocked answers one poll of device code dc at time now.
func (s *Server) pollLocked(dc string, withRefresh bool, now time.Time) (TokenResponse, *idClaims, *oauthError) {
	fail := func(code, desc string) (TokenResponse, *idClaims, *oauthError) {
		return TokenResponse{}, nil, newError(http.StatusBadRequest, code, desc)
	}
	g := s.devices[dc]
	switch {
	case g == nil:
		return fail("invalid_grant", "device code not recognised")
	case g.clientID != s.opt.ClientID:
		return fail("invalid_grant", "device code was issued to another client")
	case g.state == deviceUsed:
		return fail("invalid_grant", "device code already used")
	case !now.Before(g.expires):
		return fail("expired_token", "the device code has expired")
	case s.opt.DeviceErrorCode != "":
		return fail(s.opt.DeviceErrorCode, "injected device flow error")
	case g.state == deviceDenied:
		return fail("access_denied", "the user denied the authorization request")
	}
	last := g.lastPoll
	g.lastPoll = now
	if !last.IsZero() && now.Sub(last) < g.interval-g.interval/20 {
		g.interval += s.opt.SlowDownStep
		return fail("slow_down", "polling too fast: wait at least "+
			strconv.FormatInt(ceilSeconds(g.interval), 10)+"s between polls")
	}
	if g.state == devicePending {
		return fail("authorization_pending", "the user has not yet approved the request")
	}
	g.state = deviceUsed
	user := s.opt.User
	f := s.newFamilyLocked(g.clientID, g.scope, &user, g.decidedAt)
	resp := s.mintLocked(f, g.scope, s.opt.AccessTTL, withRefresh && s.offlineAllowed(g.scope))
	return resp, s.idClaimsLocked(f, ""), nil
}
