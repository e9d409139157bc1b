package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// callbackPage is what a client's loopback listener shows the browser after a login.
const callbackPage = "tokctl-e2e: login complete; you can close this window."

// callback is a client's loopback redirect listener, http://127.0.0.1:PORT/callback: it
// captures the authorization response and answers with a page a browser can show.
type callback struct {
	url string
	got chan url.Values
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callback{url: fmt.Sprintf("http://127.0.0.1:%d%s", ln.Addr().(*net.TCPAddr).Port, callbackPath), got: make(chan url.Values, 1)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != callbackPath {
			http.NotFound(w, r)
			return
		}
		select {
		case cb.got <- r.URL.Query():
		default: // only the first answer counts
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Login complete</title><p>%s</p>\n", callbackPage)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return cb
}

// authRequest is one authorization-code + PKCE (S256) request, as "tokctl login" makes it.
type authRequest struct {
	URL      string // where the browser goes first: Hydra's authorization endpoint
	cfg      *oauth2.Config
	state    string
	verifier string
	cb       *callback
}

// newAuthRequest prepares a login for the client, with a fresh loopback listener.
func (s *hydraStack) newAuthRequest(t *testing.T, clientID string) *authRequest {
	t.Helper()
	a := &authRequest{cb: newCallback(t), state: randomHex(16), verifier: oauth2.GenerateVerifier()}
	a.cfg = &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.public + "/oauth2/auth",
			TokenURL:  s.public + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams, // a public client: client_id in the form, no secret
		},
		RedirectURL: a.cb.url,
		Scopes:      []string{"openid", "offline_access"},
	}
	a.URL = a.cfg.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier), oauth2.SetAuthURLParam("nonce", randomHex(16)))
	return a
}

// finish waits for the redirect to the loopback listener, checks it, and exchanges the code.
func (a *authRequest) finish(t *testing.T, wait time.Duration) *oauth2.Token {
	t.Helper()
	var q url.Values
	select {
	case q = <-a.cb.got:
	case <-time.After(wait):
		t.Fatalf("no redirect reached the loopback listener within %v", wait)
	}
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization failed: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != a.state {
		t.Fatal("the redirect carries a different state")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := a.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("Hydra issued no refresh token (offline_access not granted?)")
	}
	return tok
}

// login runs the whole authorization-code flow without a browser: an HTTP client with a cookie
// jar follows Hydra's redirects through the login and consent app to the loopback listener.
func (s *hydraStack) login(t *testing.T, clientID string) *oauth2.Token {
	t.Helper()
	a := s.newAuthRequest(t, clientID)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := client.Get(a.URL)
	if err != nil {
		t.Fatalf("follow the login redirects: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != mustParse(t, a.cb.url).Host {
		t.Fatalf("the login ended at %s %s (%s), not at the loopback listener", resp.Request.URL.Host, resp.Request.URL.Path, resp.Status)
	}
	return a.finish(t, time.Second)
}

// tokenResponse renders a token as the token endpoint's JSON answer (RFC 6749 §5.1), the
// input of "tokctl import".
func tokenResponse(t *testing.T, tok *oauth2.Token) []byte {
	t.Helper()
	expiresIn := tok.ExpiresIn
	if expiresIn == 0 && !tok.Expiry.IsZero() {
		expiresIn = int64(time.Until(tok.Expiry).Round(time.Second) / time.Second)
	}
	data, err := json.Marshal(map[string]any{
		"access_token":  tok.AccessToken,
		"token_type":    tok.TokenType,
		"expires_in":    expiresIn,
		"refresh_token": tok.RefreshToken,
		"scope":         tok.Extra("scope"),
		"id_token":      tok.Extra("id_token"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
