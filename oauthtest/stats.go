package oauthtest

// Stats counts what clients did to the server since it started or since the
// last ResetStats: requests to /token, and the few other counters marked
// as counting /authorize and /revoke requests.
type Stats struct {
	// TokenRequests counts every POST to /token, whatever its fate and grant.
	TokenRequests int
	// Refreshes counts performed refresh grants, including grace reuses and
	// refreshes whose answer a fault then replaced (ServerErrorAfterProcessing).
	Refreshes int
	// InvalidGrants counts grants (of any type) answered with
	// invalid_grant, refresh token and authorization code reuse included.
	InvalidGrants int
	// ReuseDetected counts presentations of a rotated-away refresh token
	// outside the grace period, each of which revoked its family. Later
	// presentations of tokens of an already revoked family are plain
	// invalid_grants and are not counted again.
	ReuseDetected int
	// FamiliesRevoked counts families revoked by reuse detection (of a
	// refresh token or an authorization code), /revoke or RevokeFamilyOf.
	FamiliesRevoked int
	// GraceReuses counts rotated-away refresh tokens accepted within Grace.
	GraceReuses int
	// MaxConcurrent is the highest number of token requests in flight at
	// once, counting their latency.
	MaxConcurrent int
	// PresentedTwice counts distinct refresh token values that were sent in
	// more than one token request, whatever the outcome (a client retrying
	// after an injected fault counts too). A correct client keeps it 0.
	PresentedTwice int
	// Faults counts token requests that consumed an injected fault.
	Faults int

	// AuthorizeRequests counts every request to /authorize, whatever its
	// outcome (error page, error redirect or code).
	AuthorizeRequests int
	// CodeExchanges counts authorization codes redeemed for tokens.
	CodeExchanges int
	// DevicePolls counts device_code grant requests that named a device
	// code, whatever the answer (authorization_pending, slow_down, tokens …).
	DevicePolls int
	// ClientCredentials counts access tokens issued by the
	// client_credentials grant.
	ClientCredentials int
	// Revocations counts revocation requests answered 200 at /revoke,
	// whether or not the token was known (RFC 7009 §2.2).
	Revocations int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes all counters and forgets which refresh tokens were
// presented. MaxConcurrent restarts from the requests in flight now. Tokens,
// families, codes, device authorizations, queued faults and
// LastAuthorizeRequest are kept.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{MaxConcurrent: s.inflight}
	clear(s.presented)
}

// beginTokenRequest counts a token request as in flight and takes the next
// queued fault, if any.
func (s *Server) beginTokenRequest() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.TokenRequests++
	s.inflight++
	s.stats.MaxConcurrent = max(s.stats.MaxConcurrent, s.inflight)
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	s.stats.Faults++
	return f, true
}

// endTokenRequest marks a token request as finished.
func (s *Server) endTokenRequest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
}

// recordPresented notes that a token request carried refresh token v.
func (s *Server) recordPresented(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.presented[v]++
	if s.presented[v] == 2 {
		s.stats.PresentedTwice++
	}
}
