package flows

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/oauthtest"
)

// noRedirects is a "browser" that stops at the authorization server's redirect, so a test can
// look at (and tamper with) the callback before delivering it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// run performs a login whose browser hands the redirect to edit before delivering it.
func run(t *testing.T, srv *oauthtest.Server, flow *AuthCode, edit func(cb *url.URL)) (*Result, error, *http.Response) {
	t.Helper()
	pages := make(chan *http.Response, 1) // what the browser showed after the redirect
	flow.Open = func(authURL string) error {
		go func() {
			var delivered *http.Response
			defer func() { pages <- delivered }()
			resp, err := noRedirects.Get(authURL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			cb, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || cb.Host == "" {
				t.Errorf("authorize answered %d without a redirect", resp.StatusCode)
				return
			}
			if edit != nil {
				edit(cb)
			}
			delivered, _ = http.Get(cb.String())
		}()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := flow.Run(ctx)
	select {
	case page := <-pages:
		return res, err, page
	case <-time.After(5 * time.Second):
		t.Fatal("the browser never finished")
		return nil, nil, nil
	}
}

func newFlow(srv *oauthtest.Server) *AuthCode {
	return &AuthCode{
		Config: oauth2.Config{ClientID: "tokctl-test", Scopes: []string{"openid", "offline_access"},
			Endpoint: oauth2.Endpoint{AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}},
		Issuer: srv.URL(),
	}
}

func TestLoginWithPKCE(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	res, err, page := run(t, srv, newFlow(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Credential.AccessToken == "" || res.Credential.RefreshToken == "" || res.Credential.IDToken == "" {
		t.Fatalf("incomplete credential: access %v refresh %v id %v", res.Credential.AccessToken != "", res.Credential.RefreshToken != "", res.Credential.IDToken != "")
	}
	q := srv.LastAuthorizeRequest()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" || q.Get("nonce") != res.Nonce {
		t.Fatalf("authorize request lacks PKCE S256, state or nonce: %v", q)
	}
	if q.Get("code_verifier") != "" {
		t.Fatal("the verifier left the process in the authorize URL")
	}
	if u, _ := url.Parse(q.Get("redirect_uri")); u.Hostname() != "127.0.0.1" || u.Path != "/callback" {
		t.Fatalf("redirect_uri %s", q.Get("redirect_uri"))
	}
	if page == nil || page.StatusCode != 200 {
		t.Fatalf("the browser got %v", page)
	}
	claims, err := VerifyIDToken(context.Background(), http.DefaultClient, srv.URL(), srv.JWKSURL(), "tokctl-test", res.Nonce, res.Credential.IDToken)
	if err != nil || claims.Who() != "alice@example.com" {
		t.Fatalf("ID token: %+v, %v", claims, err)
	}
	if _, err := VerifyIDToken(context.Background(), http.DefaultClient, srv.URL(), srv.JWKSURL(), "tokctl-test", "another-nonce", res.Credential.IDToken); err == nil {
		t.Fatal("an ID token with another login's nonce was accepted")
	}
}

// Every tampered or failed redirect is refused and nothing is exchanged.
func TestLoginRejectsBadRedirects(t *testing.T) {
	cases := map[string]struct {
		edit   func(cb *url.URL)
		setup  func(srv *oauthtest.Server, f *AuthCode)
		reason string
	}{
		"state mismatch": {edit: func(cb *url.URL) { set(cb, "state", "forged") }, reason: "state mismatch"},
		"missing code":   {edit: func(cb *url.URL) { set(cb, "code", "") }, reason: "no code"},
		"provider error": {setup: func(srv *oauthtest.Server, _ *AuthCode) {
			srv.InjectAuthorize(oauthtest.AuthorizeFault{Kind: oauthtest.AuthorizeError, Code: "access_denied", Description: "the user said no"})
		}, reason: "access_denied: the user said no"},
		"iss mismatch":             {edit: func(cb *url.URL) { set(cb, "iss", "https://evil.example") }, reason: "mix-up"},
		"iss required but missing": {setup: func(_ *oauthtest.Server, f *AuthCode) { f.RequireIss = true }, reason: "has none"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := oauthtest.NewServer(oauthtest.Options{})
			defer srv.Close()
			flow := newFlow(srv)
			if tc.setup != nil {
				tc.setup(srv, flow)
			}
			_, err, page := run(t, srv, flow, tc.edit)
			if !errors.Is(err, ErrLoginRejected) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Run = %v, want a rejection mentioning %q", err, tc.reason)
			}
			if page == nil || page.StatusCode != http.StatusBadRequest {
				t.Fatalf("the browser was not told the login failed: %v", page)
			}
			if n := srv.Stats().CodeExchanges; n != 0 {
				t.Fatalf("%d code exchanges after a rejected redirect", n)
			}
		})
	}
}

// The listener answers only its callback path, and only once.
func TestCallbackServesOnce(t *testing.T) {
	cb := newCallback("s", "", false)
	get := func(target string) int {
		rec := &statusRecorder{header: http.Header{}}
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		cb.ServeHTTP(rec, req)
		return rec.status
	}
	if s := get("http://127.0.0.1/other?state=s&code=c"); s != http.StatusNotFound {
		t.Fatalf("other path: %d", s)
	}
	if s := get("http://127.0.0.1/callback?state=s&code=c"); s != 0 && s != http.StatusOK {
		t.Fatalf("first callback: %d", s)
	}
	if s := get("http://127.0.0.1/callback?state=s&code=c2"); s != http.StatusConflict {
		t.Fatalf("second callback: %d, want 409", s)
	}
	if r := <-cb.result; r.code != "c" || r.err != nil {
		t.Fatalf("result %+v", r)
	}
}

func TestPastedRedirect(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	flow := newFlow(srv)
	pasted := make(chan string, 1)
	flow.Pasted = pasted
	flow.Show = func(authURL string) {
		go func() {
			resp, err := noRedirects.Get(authURL)
			if err == nil {
				resp.Body.Close()
				pasted <- resp.Header.Get("Location") // what the user copies from the address bar
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := flow.Run(ctx)
	if err != nil || res.Credential.AccessToken == "" {
		t.Fatalf("Run = %v", err)
	}
}

func set(u *url.URL, k, v string) {
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
}

type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(s int)           { r.status = s }

// The listener is on loopback only; for a localhost redirect the URI says localhost.
func TestListenerIsLoopbackOnly(t *testing.T) {
	listeners, err := listenLoopback(0, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range listeners {
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("listening on %s", ln.Addr())
		}
		ln.Close()
	}
	srv := oauthtest.NewServer(oauthtest.Options{AllowLocalhostRedirect: true})
	defer srv.Close()
	flow := newFlow(srv)
	flow.RedirectHost = "localhost"
	if _, err, _ := run(t, srv, flow, nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(srv.LastAuthorizeRequest().Get("redirect_uri")); u.Hostname() != "localhost" {
		t.Fatalf("redirect_uri %s", u)
	}
}
