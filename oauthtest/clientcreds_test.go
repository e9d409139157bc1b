package oauthtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokctl/tokctl/oauthtest"
)

// A confidential client gets an access token, and no refresh token, for
// the scope it asks; the token introspects and revokes like any other.
func TestClientCredentialsWithXOAuth2(t *testing.T) {
	s := newServer(t, oauthtest.Options{ClientSecret: "hunter2", AccessTTL: time.Minute})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := &clientcredentials.Config{ClientID: "tokctl-test", ClientSecret: "hunter2",
			TokenURL: s.TokenURL(), Scopes: []string{"read", "write"}, AuthStyle: style}
		tok, err := conf.Token(context.Background())
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.RefreshToken != "" || tok.Extra("scope") != "read write" || tok.Extra("id_token") != nil ||
			!s.Active(tok.AccessToken) || time.Until(tok.Expiry) > time.Minute {
			t.Errorf("style %d: token %+v scope %v", style, tok, tok.Extra("scope"))
		}
	}
	wrong := &clientcredentials.Config{ClientID: "tokctl-test", ClientSecret: "guess",
		TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
	if _, err := wrong.Token(context.Background()); !isRetrieveError(err, "invalid_client") {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
	if st := s.Stats(); st.ClientCredentials != 2 {
		t.Errorf("ClientCredentials = %d, want 2", st.ClientCredentials)
	}
}

// A public client (no secret configured) may not use the grant.
func TestClientCredentialsNeedsSecret(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	postForm(nil, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"tokctl-test"}}).
		wantError(t, http.StatusBadRequest, "unauthorized_client")
	conf := &clientcredentials.Config{ClientID: "tokctl-test", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}
	if _, err := conf.Token(context.Background()); !isRetrieveError(err, "unauthorized_client") {
		t.Errorf("got %v, want unauthorized_client", err)
	}
	if st := s.Stats(); st.ClientCredentials != 0 {
		t.Errorf("ClientCredentials = %d", st.ClientCredentials)
	}
}

// Revoking an access token (RFC 7009) ends it and only it; every 200
// answer counts.
func TestRevokeAccessTokenCounts(t *testing.T) {
	s := newServer(t, oauthtest.Options{ClientSecret: "pw"})
	cc := postForm(nil, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, basic("tokctl-test", "pw")).token(t)
	l := newLogin()
	login := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s)), basic("tokctl-test", "pw")).token(t)
	revoke := func(tok string) {
		t.Helper()
		r := postForm(nil, s.RevokeURL(), url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, basic("tokctl-test", "pw"))
		if r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
	}
	revoke(cc.AccessToken)
	revoke(login.AccessToken)
	revoke("at_unknown")
	wantActive(t, s, false, cc.AccessToken, login.AccessToken)
	wantActive(t, s, true, login.RefreshToken)
	if st := s.Stats(); st.Revocations != 3 || st.FamiliesRevoked != 0 {
		t.Errorf("stats %+v, want 3 revocations, no family revoked", st)
	}
	s.ResetStats()
	if st := s.Stats(); st != (oauthtest.Stats{}) {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestDiscoveryAdvertisesLoginFlows(t *testing.T) {
	s := newServer(t, oauthtest.Options{Scopes: []string{"openid", "read"}})
	doc := fetchJSON(t, s.URL()+"/.well-known/openid-configuration")
	for k, want := range map[string]string{"authorization_endpoint": s.AuthorizeURL(),
		"device_authorization_endpoint": s.URL() + "/device/code", "jwks_uri": s.URL() + "/jwks"} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
	for k, want := range map[string][]any{
		"grant_types_supported": {"authorization_code", "refresh_token",
			"urn:ietf:params:oauth:grant-type:device_code", "client_credentials"},
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"subject_types_supported":               {"public"},
		"scopes_supported":                      {"openid", "read"},
	} {
		if got, _ := doc[k].([]any); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, doc[k], want)
		}
	}
}

// Codes, verifiers, device codes and tokens appear in the log only as
// fingerprints.
func TestLoginLogNeverShowsSecrets(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	s := newServer(t, oauthtest.Options{DeviceInterval: time.Millisecond, Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, format+"\n", args...)
	}})
	l := newLogin()
	code := l.code(t, s)
	tok := postForm(nil, s.TokenURL(), l.exchangeForm(code)).token(t)
	postForm(nil, s.TokenURL(), l.exchangeForm(code)) // reuse
	dev := startDevice(t, s, "read")
	s.ApproveDevice(dev["user_code"].(string))
	dtok := poll(s, dev["device_code"].(string)).token(t)
	s.Close()

	mu.Lock()
	defer mu.Unlock()
	for _, secret := range []string{code, l.verifier, tok.AccessToken, tok.RefreshToken, tok.IDToken,
		dev["device_code"].(string), dtok.AccessToken, dtok.RefreshToken} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("log contains %.8s…:\n%s", secret, log.String())
		}
	}
	if !strings.Contains(log.String(), "authorization code reuse") {
		t.Errorf("log does not mention the code reuse:\n%s", log.String())
	}
}

func isRetrieveError(err error, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.ErrorCode == code
}
