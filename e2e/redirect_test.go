package e2e

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestHydraRedirectRules documents what "tokctl login" relies on for a client registered with
// http://127.0.0.1/callback: Hydra accepts that redirect on any port (RFC 8252 §7.3), so the
// loopback listener can take whatever port is free, but rejects "localhost" and other paths.
func TestHydraRedirectRules(t *testing.T) {
	clientID := stack.newClient(t)
	port := freePort()
	for _, tc := range []struct {
		redirect string
		accepted bool
	}{
		{"http://127.0.0.1:" + port + callbackPath, true},
		{"http://127.0.0.1" + callbackPath, true},
		{"http://localhost:" + port + callbackPath, false},
		{"http://127.0.0.1:" + port + "/elsewhere", false},
	} {
		if got := stack.redirectAccepted(t, clientID, tc.redirect); got != tc.accepted {
			t.Errorf("redirect_uri %s: accepted = %v, want %v", tc.redirect, got, tc.accepted)
		}
	}
}

// redirectAccepted starts an authorization request and reports whether Hydra moved on to the
// login app (the redirect URI is acceptable) rather than to its error page.
func (s *hydraStack) redirectAccepted(t *testing.T, clientID, redirect string) bool {
	t.Helper()
	cfg := &oauth2.Config{ClientID: clientID, RedirectURL: redirect, Scopes: []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: s.public + "/oauth2/auth"}}
	authURL := cfg.AuthCodeURL(randomHex(16), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next := resp.Header.Get("Location")
	switch {
	case strings.Contains(next, "/login?login_challenge="):
		return true
	case strings.Contains(next, "/oauth2/fallbacks/error"):
		return false
	}
	t.Fatalf("redirect_uri %s: Hydra answered %s, Location %q", redirect, resp.Status, mustParse(t, next).Path)
	return false
}
