package oauthtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/oauthtest"
)

// The whole login as tokctl will do it, with x/oauth2 as the client: the
// browser follows the redirect to a real loopback listener, the code is
// exchanged with the PKCE verifier, and the tokens refresh with rotation.
func TestCodeFlowWithXOAuth2(t *testing.T) {
	s := newServer(t, oauthtest.Options{AccessTTL: time.Minute})
	callback := make(chan url.Values, 1)
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			callback <- r.URL.Query()
		}
		w.Write([]byte("you may close this window"))
	}))
	defer loopback.Close()

	conf := &oauth2.Config{
		ClientID:    "tokctl-test",
		Endpoint:    oauth2.Endpoint{AuthURL: s.AuthorizeURL(), TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: loopback.URL + "/callback",
		Scopes:      []string{"openid", "offline_access"},
	}
	verifier, state, nonce := oauth2.GenerateVerifier(), "state-0123456789", "nonce-abcdef"
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	resp, err := http.Get(authURL) // the "browser"
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := <-callback
	if got.Get("state") != state || got.Get("code") == "" {
		t.Fatalf("callback got %v", got)
	}
	asked := s.LastAuthorizeRequest()
	if asked.Get("code_challenge_method") != "S256" || asked.Get("nonce") != nonce ||
		asked.Get("scope") != "openid offline_access" {
		t.Errorf("authorization request %v", asked)
	}

	tok, err := conf.Exchange(context.Background(), got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "openid offline_access" || !s.Active(tok.AccessToken) {
		t.Errorf("token %+v scope %v", tok, tok.Extra("scope"))
	}
	idt, err := verifyIDToken(t, s, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Claims["nonce"] != nonce || idt.Claims["aud"] != "tokctl-test" || idt.Claims["iss"] != s.URL() ||
		idt.Claims["sub"] != "user-1" || idt.Claims["email"] != "alice@example.com" ||
		idt.Claims["preferred_username"] != "alice" {
		t.Errorf("ID token claims %v", idt.Claims)
	}

	// Refresh through x/oauth2: rotation, and a fresh ID token without nonce.
	tok.Expiry = time.Now().Add(-time.Second)
	fresh, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == tok.RefreshToken || !s.Active(fresh.RefreshToken) {
		t.Errorf("refresh did not rotate: %+v", fresh)
	}
	wantActive(t, s, false, tok.RefreshToken, tok.AccessToken)
	idt, err = verifyIDToken(t, s, fresh.Extra("id_token").(string))
	if err != nil || idt.Claims["nonce"] != nil || idt.Claims["sub"] != "user-1" {
		t.Errorf("refreshed ID token %v: %v", idt.Claims, err)
	}
	if st := s.Stats(); st.AuthorizeRequests != 1 || st.CodeExchanges != 1 || st.Refreshes != 1 || st.InvalidGrants != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Every way an exchange can go wrong. invalid_request leaves the code
// usable; invalid_grant burns it.
func TestCodeExchangeErrors(t *testing.T) {
	s := newServer(t, oauthtest.Options{CodeTTL: 100 * time.Millisecond})
	for name, tc := range map[string]struct {
		edit   func(url.Values)
		status int
		code   string
		burns  bool
	}{
		"wrong verifier": {func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, 400, "invalid_grant", true},
		"redirect port":  {func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:49153/callback") }, 400, "invalid_grant", true},
		"redirect [::1]": {func(f url.Values) { f.Set("redirect_uri", "http://[::1]:49152/callback") }, 400, "invalid_grant", true},
		"unknown code":   {func(f url.Values) { f.Set("code", "ac_forged") }, 400, "invalid_grant", false},
		"no verifier":    {func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request", false},
		"short verifier": {func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 42)) }, 400, "invalid_request", false},
		"long verifier":  {func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 129)) }, 400, "invalid_request", false},
		"verifier chars": {func(f url.Values) { f.Set("code_verifier", strings.Repeat("a+", 22)) }, 400, "invalid_request", false},
		"no redirect":    {func(f url.Values) { f.Del("redirect_uri") }, 400, "invalid_request", false},
		"no code":        {func(f url.Values) { f.Del("code") }, 400, "invalid_request", false},
		"other client":   {func(f url.Values) { f.Set("client_id", "intruder") }, 401, "invalid_client", false},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLogin()
			code := l.code(t, s)
			f := l.exchangeForm(code)
			tc.edit(f)
			postForm(nil, s.TokenURL(), f).wantError(t, tc.status, tc.code)
			r := postForm(nil, s.TokenURL(), l.exchangeForm(code))
			if tc.burns {
				r.wantError(t, http.StatusBadRequest, "invalid_grant")
			} else {
				r.token(t)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		l := newLogin()
		code := l.code(t, s)
		time.Sleep(150 * time.Millisecond)
		postForm(nil, s.TokenURL(), l.exchangeForm(code)).wantError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("x/oauth2 without verifier", func(t *testing.T) {
		l := newLogin()
		conf := &oauth2.Config{ClientID: "tokctl-test", RedirectURL: l.redirect,
			Endpoint: oauth2.Endpoint{TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
		_, err := conf.Exchange(context.Background(), l.code(t, s))
		if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_request" {
			t.Errorf("got %v, want RetrieveError invalid_request", err)
		}
	})
}

// A code presented again revokes every token issued from it, including
// those rotated in since (RFC 6749 §4.1.2).
func TestCodeReuseRevokesIssuedTokens(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	l := newLogin()
	code := l.code(t, s)
	first := postForm(nil, s.TokenURL(), l.exchangeForm(code)).token(t)
	second := refresh(s, first.RefreshToken).token(t)
	wantActive(t, s, true, second.AccessToken, second.RefreshToken)

	postForm(nil, s.TokenURL(), l.exchangeForm(code)).wantError(t, http.StatusBadRequest, "invalid_grant")
	wantActive(t, s, false, first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken)
	refresh(s, second.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")
	if st := s.Stats(); st.FamiliesRevoked != 1 || st.CodeExchanges != 1 || st.InvalidGrants != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Of concurrent redemptions of one code exactly one gets tokens; the
// others are reuse, so the winner's tokens end up revoked.
func TestConcurrentCodeRedemption(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	l := newLogin()
	code := l.code(t, s)
	var wg sync.WaitGroup
	replies := make([]reply, 8)
	for i := range replies {
		wg.Go(func() { replies[i] = postForm(nil, s.TokenURL(), l.exchangeForm(code)) })
	}
	wg.Wait()
	var won []oauthtest.TokenResponse
	for _, r := range replies {
		if r.Status == http.StatusOK {
			won = append(won, r.token(t))
		} else {
			r.wantError(t, http.StatusBadRequest, "invalid_grant")
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d redemptions succeeded, want 1", len(won))
	}
	wantActive(t, s, false, won[0].AccessToken, won[0].RefreshToken)
}

// Okta and Hydra issue refresh tokens only for offline_access; a
// NoRefreshToken fault withholds it too.
func TestRefreshTokenNeedsOfflineAccess(t *testing.T) {
	s := newServer(t, oauthtest.Options{RequireOfflineAccess: true})
	l := newLogin()
	l.scope = "openid"
	if tok := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s))).token(t); tok.RefreshToken != "" || tok.IDToken == "" {
		t.Errorf("scope openid: got %+v, want an ID token and no refresh token", tok)
	}
	l = newLogin()
	if tok := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s))).token(t); tok.RefreshToken == "" {
		t.Error("scope offline_access: no refresh token")
	}
	s.Inject(oauthtest.Fault{Kind: oauthtest.NoRefreshToken})
	l = newLogin()
	if tok := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s))).token(t); tok.RefreshToken != "" {
		t.Error("NoRefreshToken fault: got a refresh token")
	}
	l = newLogin()
	l.scope = "profile"
	if tok := postForm(nil, s.TokenURL(), l.exchangeForm(l.code(t, s))).token(t); tok.IDToken != "" || tok.Scope != "profile" {
		t.Errorf("scope profile: got %+v, want scope profile and no ID token", tok)
	}
}

// A confidential client must authenticate when it redeems its code.
func TestCodeExchangeByConfidentialClient(t *testing.T) {
	s := newServer(t, oauthtest.Options{ClientSecret: "pw"})
	l := newLogin()
	code := l.code(t, s)
	postForm(nil, s.TokenURL(), l.exchangeForm(code)).wantError(t, http.StatusUnauthorized, "invalid_client")
	postForm(nil, s.TokenURL(), l.exchangeForm(code), basic("tokctl-test", "pw")).token(t)
}
