package main

import (
	"time"

	"github.com/tokctl/tokctl/bench/torture/engine"
	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

// provider is oauthtest seen through engine.Provider.
type provider struct{ srv *oauthtest.Server }

// NewFamily logs in anew: a family whose access token expired a minute ago.
func (p *provider) NewFamily() (*creds.Credential, error) {
	r := p.srv.Issue("openid", -time.Minute)
	p.srv.ResetStats()
	return &creds.Credential{
		AccessToken: r.AccessToken, TokenType: "Bearer", RefreshToken: r.RefreshToken,
		Scope: r.Scope, Expiry: time.Now().Add(-time.Minute),
	}, nil
}

// Counts reads the server's counters. Reuse is oauthtest's reuse detection: a rotated-away
// refresh token presented again, which revoked the family.
func (p *provider) Counts() (engine.Counts, error) {
	st := p.srv.Stats()
	return engine.Counts{Calls: st.TokenRequests, Rotations: st.Refreshes, PresentedTwice: st.PresentedTwice, Reuse: st.ReuseDetected}, nil
}

// Active reports whether refreshToken is current in a live family.
func (p *provider) Active(refreshToken string) (bool, error) { return p.srv.Active(refreshToken), nil }
