package oauthtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokctl/tokctl/oauthtest"
)

// A bad client_id or redirect_uri must never be redirected to (RFC 6749
// §4.1.2.1): the user sees an error page instead. Only loopback IP
// literals with an explicit port and a registered path are accepted.
func TestAuthorizeRejectsBadRedirectWithoutRedirecting(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	for name, edit := range map[string]func(url.Values){
		"localhost":         func(q url.Values) { q.Set("redirect_uri", "http://localhost:49152/callback") },
		"non-loopback host": func(q url.Values) { q.Set("redirect_uri", "http://192.168.1.7:49152/callback") },
		"domain":            func(q url.Values) { q.Set("redirect_uri", "http://evil.example:49152/callback") },
		"https":             func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1:49152/callback") },
		"custom scheme":     func(q url.Values) { q.Set("redirect_uri", "com.example.app:/callback") },
		"wrong path":        func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:49152/cb") },
		"path prefix":       func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:49152/callback/x") },
		"no port":           func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1/callback") },
		"port 0":            func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:0/callback") },
		"query":             func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:49152/callback?x=1") },
		"fragment":          func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:49152/callback#f") },
		"user info":         func(q url.Values) { q.Set("redirect_uri", "http://u@127.0.0.1:49152/callback") },
		"other ::":          func(q url.Values) { q.Set("redirect_uri", "http://[::2]:49152/callback") },
		"missing redirect":  func(q url.Values) { q.Del("redirect_uri") },
		"repeated redirect": func(q url.Values) { q.Add("redirect_uri", q.Get("redirect_uri")) },
		"missing client":    func(q url.Values) { q.Del("client_id") },
		"unknown client":    func(q url.Values) { q.Set("client_id", "intruder") },
	} {
		t.Run(name, func(t *testing.T) {
			q := newLogin().query()
			edit(q)
			r := authorize(t, s, q)
			if r.Status != http.StatusBadRequest || r.Location != nil {
				t.Fatalf("got %d Location %v, want 400 without redirect", r.Status, r.Location)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(r.Body, "error: invalid_") {
				t.Errorf("error page %q (%s)", r.Body, r.Header.Get("Content-Type"))
			}
		})
	}
	if st := s.Stats(); st.AuthorizeRequests != 17 {
		t.Errorf("AuthorizeRequests = %d, want 17", st.AuthorizeRequests)
	}
}

func TestAuthorizeAcceptsLoopbackRedirects(t *testing.T) {
	strict := newServer(t, oauthtest.Options{RedirectPaths: []string{"/callback", "/oauth2/cb"}})
	lenient := newServer(t, oauthtest.Options{AllowLocalhostRedirect: true})
	for _, tc := range []struct {
		s        *oauthtest.Server
		redirect string
	}{
		{strict, "http://127.0.0.1:1/callback"},
		{strict, "http://127.0.0.1:65535/oauth2/cb"},
		{strict, "http://[::1]:8080/callback"},
		{lenient, "http://localhost:49152/callback"},
		{lenient, "http://127.0.0.1:49152/callback"},
	} {
		l := newLogin()
		l.redirect = tc.redirect
		l.code(t, tc.s)
	}
}

// Errors about the request itself go back to the client, with its state.
func TestAuthorizeErrorsAreRedirected(t *testing.T) {
	s := newServer(t, oauthtest.Options{Scopes: []string{"openid", "offline_access"}})
	for name, tc := range map[string]struct {
		edit func(url.Values)
		code string
	}{
		"plain PKCE":        {func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"no method":         {func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		"unknown method":    {func(q url.Values) { q.Set("code_challenge_method", "S512") }, "invalid_request"},
		"no challenge":      {func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		"short challenge":   {func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		"challenge charset": {func(q url.Values) { q.Set("code_challenge", strings.Repeat("+", 43)) }, "invalid_request"},
		"implicit":          {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"no response_type":  {func(q url.Values) { q.Del("response_type") }, "invalid_request"},
		"short state":       {func(q url.Values) { q.Set("state", "1234567") }, "invalid_request"},
		"repeated nonce":    {func(q url.Values) { q.Add("nonce", "x") }, "invalid_request"},
		"unknown scope":     {func(q url.Values) { q.Set("scope", "openid admin") }, "invalid_scope"},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLogin()
			q := l.query()
			tc.edit(q)
			p := authorize(t, s, q).wantRedirect(t, l)
			if p.Get("error") != tc.code || p.Get("error_description") == "" || p.Has("code") {
				t.Errorf("redirect %v, want error=%s with a description and no code", p, tc.code)
			}
			if p.Get("state") != q.Get("state") {
				t.Errorf("state %q, want %q echoed", p.Get("state"), q.Get("state"))
			}
		})
	}
	t.Run("no state", func(t *testing.T) {
		l := newLogin()
		q := l.query()
		q.Del("state")
		if p := authorize(t, s, q).wantRedirect(t, l); p.Get("error") != "invalid_request" || p.Has("state") {
			t.Errorf("redirect %v, want invalid_request without state", p)
		}
	})
}

func TestAuthorizeEchoesStateExactly(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	l := newLogin()
	l.state = " s+t/a%20te =&é? " + l.state + " "
	if p := authorize(t, s, l.query()).wantRedirect(t, l); p.Get("state") != l.state || p.Has("iss") {
		t.Errorf("redirect %v: want state %q byte for byte and no iss", p, l.state)
	}
}

// RFC 9207: with IssParameter, every authorization response names the
// issuer, errors included, and discovery says so.
func TestAuthorizeIssParameter(t *testing.T) {
	s := newServer(t, oauthtest.Options{IssParameter: true})
	l := newLogin()
	if p := authorize(t, s, l.query()).wantRedirect(t, l); p.Get("iss") != s.URL() || p.Get("code") == "" {
		t.Errorf("success %v: want code and iss=%s", p, s.URL())
	}
	q := l.query()
	q.Set("code_challenge_method", "plain")
	if p := authorize(t, s, q).wantRedirect(t, l); p.Get("iss") != s.URL() || p.Get("error") == "" {
		t.Errorf("error %v: want iss=%s", p, s.URL())
	}
	if doc := fetchJSON(t, s.URL()+"/.well-known/oauth-authorization-server"); doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("discovery: authorization_response_iss_parameter_supported = %v", doc["authorization_response_iss_parameter_supported"])
	}
	plain := newServer(t, oauthtest.Options{})
	if doc := fetchJSON(t, plain.URL()+"/.well-known/openid-configuration"); doc["authorization_response_iss_parameter_supported"] != nil {
		t.Error("discovery advertises the iss parameter without IssParameter")
	}
}

func TestAuthorizeDenied(t *testing.T) {
	s := newServer(t, oauthtest.Options{DenyAuthorize: true})
	l := newLogin()
	p := authorize(t, s, l.query()).wantRedirect(t, l)
	if p.Get("error") != "access_denied" || p.Get("error_description") == "" || p.Get("state") != l.state || p.Has("code") {
		t.Errorf("redirect %v, want access_denied with description and state, no code", p)
	}
}

// Each injected fault alters exactly one redirect, in queue order; the
// next request is served normally.
func TestAuthorizeFaults(t *testing.T) {
	s := newServer(t, oauthtest.Options{IssParameter: true})
	s.InjectAuthorize(oauthtest.AuthorizeFault{Kind: oauthtest.AuthorizeWrongState})
	s.InjectAuthorize(oauthtest.AuthorizeFault{Kind: oauthtest.AuthorizeWrongIss},
		oauthtest.AuthorizeFault{Kind: oauthtest.AuthorizeNoCode},
		oauthtest.AuthorizeFault{Kind: oauthtest.AuthorizeError, Code: "temporarily_unavailable", Description: "try later"})
	l := newLogin()
	check := func(name string, ok func(p url.Values) bool) {
		t.Helper()
		if p := authorize(t, s, l.query()).wantRedirect(t, l); !ok(p) {
			t.Errorf("%s: redirect %v", name, p)
		}
	}
	check("AuthorizeWrongState", func(p url.Values) bool {
		return p.Get("code") != "" && p.Get("state") != l.state && p.Get("state") != "" && p.Get("iss") == s.URL()
	})
	check("AuthorizeWrongIss", func(p url.Values) bool {
		return p.Get("code") != "" && p.Get("state") == l.state && p.Get("iss") == "https://evil.example"
	})
	check("AuthorizeNoCode", func(p url.Values) bool {
		return !p.Has("code") && !p.Has("error") && p.Get("state") == l.state
	})
	check("AuthorizeError", func(p url.Values) bool {
		return !p.Has("code") && p.Get("error") == "temporarily_unavailable" &&
			p.Get("error_description") == "try later" && p.Get("state") == l.state
	})
	check("queue empty", func(p url.Values) bool {
		return p.Get("code") != "" && p.Get("state") == l.state && p.Get("iss") == s.URL()
	})
	if got := oauthtest.AuthorizeNoCode.String(); got != "AuthorizeNoCode" {
		t.Errorf("String() = %q", got)
	}
}

// LastAuthorizeRequest shows what the client asked for, so that tests of
// tokctl can assert it sent S256, a state, a nonce and its scopes.
func TestLastAuthorizeRequest(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	if s.LastAuthorizeRequest() != nil {
		t.Error("LastAuthorizeRequest before any request is not nil")
	}
	l := newLogin()
	l.code(t, s)
	got := s.LastAuthorizeRequest()
	if got.Encode() != l.query().Encode() {
		t.Errorf("LastAuthorizeRequest() = %v, want %v", got, l.query())
	}
	got.Set("state", "mutated")
	if s.LastAuthorizeRequest().Get("state") != l.state {
		t.Error("LastAuthorizeRequest returned the server's own map")
	}
}
