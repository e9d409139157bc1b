package oauthtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

func TestTokenEndpointIsStrict(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	rt := s.Issue("read", time.Hour).RefreshToken

	resp, err := http.Get(s.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /token: %d Allow %q, want 405 Allow POST", resp.StatusCode, resp.Header.Get("Allow"))
	}

	asJSON := func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }
	inQuery := func(r *http.Request) { r.URL.RawQuery = refreshForm(rt).Encode() }
	for name, tc := range map[string]struct {
		form url.Values
		edit func(*http.Request)
		code string
	}{
		"json body":        {refreshForm(rt), asJSON, "invalid_request"},
		"params in query":  {url.Values{}, inQuery, "invalid_request"},
		"no grant_type":    {url.Values{"refresh_token": {rt}, "client_id": {"tokctl-test"}}, nil, "invalid_request"},
		"no refresh_token": {url.Values{"grant_type": {"refresh_token"}, "client_id": {"tokctl-test"}}, nil, "invalid_request"},
		"repeated param":   {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt, rt}}, nil, "invalid_request"},
		"unknown grant":    {url.Values{"grant_type": {"password"}, "client_id": {"tokctl-test"}}, nil, "unsupported_grant_type"},
	} {
		t.Run(name, func(t *testing.T) {
			edit := func(*http.Request) {}
			if tc.edit != nil {
				edit = tc.edit
			}
			postForm(nil, s.TokenURL(), tc.form, edit).wantError(t, http.StatusBadRequest, tc.code)
		})
	}
	wantActive(t, s, true, rt)
	if st := s.Stats(); st.TokenRequests != 6 || st.Refreshes != 0 || st.InvalidGrants != 0 {
		t.Errorf("stats %+v: want 6 POSTs counted, the GET not", st)
	}
}

func TestRevoke(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	a, b := s.Issue("read", time.Hour), s.Issue("read", time.Hour)
	revoke := func(tok string) reply {
		return postForm(nil, s.RevokeURL(), url.Values{"token": {tok}, "client_id": {"tokctl-test"}})
	}

	if r := revoke(a.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("revoke access token: %d %s", r.Status, r.Body)
	}
	wantActive(t, s, false, a.AccessToken)
	wantActive(t, s, true, a.RefreshToken) // revoking an AT leaves its family alone

	if r := revoke(b.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("revoke refresh token: %d %s", r.Status, r.Body)
	}
	wantActive(t, s, false, b.RefreshToken, b.AccessToken)
	refresh(s, b.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")

	if r := revoke("rt_unknown"); r.Status != http.StatusOK {
		t.Errorf("revoke unknown token: %d, want 200 (RFC 7009 §2.2)", r.Status)
	}
	postForm(nil, s.RevokeURL(), url.Values{"token": {a.RefreshToken}}).
		wantError(t, http.StatusUnauthorized, "invalid_client")
	postForm(nil, s.RevokeURL(), url.Values{"client_id": {"tokctl-test"}}).
		wantError(t, http.StatusBadRequest, "invalid_request")
	wantActive(t, s, true, a.RefreshToken)
	if st := s.Stats(); st.FamiliesRevoked != 1 {
		t.Errorf("FamiliesRevoked = %d, want 1", st.FamiliesRevoked)
	}
}

func TestIntrospect(t *testing.T) {
	s := newServer(t, oauthtest.Options{ClientSecret: "pw"})
	login := s.Issue("read write", time.Hour)
	introspect := func(tok string) reply {
		return postForm(nil, s.IntrospectURL(), url.Values{"token": {tok}}, basic("tokctl-test", "pw"))
	}

	at := introspect(login.AccessToken).fields(t)
	exp := time.Now().Add(time.Hour).Unix()
	if at["active"] != true || at["client_id"] != "tokctl-test" || at["token_type"] != "Bearer" ||
		at["scope"] != "read write" || at["exp"].(float64) < float64(exp-5) {
		t.Errorf("introspect access token: %v", at)
	}
	if rt := introspect(login.RefreshToken).fields(t); rt["active"] != true || rt["token_use"] != "refresh_token" {
		t.Errorf("introspect refresh token: %v", rt)
	}
	s.RevokeFamilyOf(login.RefreshToken)
	for _, tok := range []string{login.AccessToken, login.RefreshToken, "at_unknown"} {
		if r := introspect(tok); r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"active":false}` {
			t.Errorf("introspect inactive: %d %s", r.Status, r.Body)
		}
	}
	postForm(nil, s.IntrospectURL(), url.Values{"token": {login.AccessToken}}).
		wantError(t, http.StatusUnauthorized, "invalid_client")
}

func TestDiscovery(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	want := map[string]string{"issuer": s.URL(), "token_endpoint": s.TokenURL(),
		"revocation_endpoint": s.RevokeURL(), "introspection_endpoint": s.IntrospectURL()}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		doc := fetchJSON(t, s.URL()+path)
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("%s: %s = %v, want %s", path, k, doc[k], v)
			}
		}
		grants, _ := doc["grant_types_supported"].([]any)
		if !slices.Contains(grants, any("refresh_token")) {
			t.Errorf("%s: grant_types_supported = %v", path, grants)
		}
	}
}

func fetchJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServeStopsWithContextAndHandlerEmbeds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := oauthtest.Serve(ctx, ln, oauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + ln.Addr().String(); s.URL() != want {
		t.Errorf("URL %q, want %q", s.URL(), want)
	}
	rt := s.Issue("read", time.Hour).RefreshToken

	// Mounted in another server, the handler shares the state.
	outer := httptest.NewServer(s.Handler())
	defer outer.Close()
	postForm(nil, outer.URL+"/token", refreshForm(rt)).token(t)
	wantActive(t, s, false, rt)

	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get(s.URL() + "/.well-known/openid-configuration"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still answering after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogNeverShowsTokens(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, format+"\n", args...)
	}
	s := newServer(t, oauthtest.Options{Logf: logf})
	login := s.Issue("read", time.Hour)
	got := refresh(s, login.RefreshToken).token(t)
	refresh(s, login.RefreshToken) // reuse
	postForm(nil, s.RevokeURL(), url.Values{"token": {got.RefreshToken}, "client_id": {"tokctl-test"}})
	s.Close()

	mu.Lock()
	defer mu.Unlock()
	for _, tok := range []string{login.AccessToken, login.RefreshToken, got.AccessToken, got.RefreshToken} {
		if strings.Contains(log.String(), tok) {
			t.Errorf("log contains a full token:\n%s", log.String())
		}
	}
	if !strings.Contains(log.String(), "reuse detected") {
		t.Errorf("log does not mention the reuse:\n%s", log.String())
	}
}

// Close returns only after running handlers have finished, so a test can
// inspect the server (and its log) without racing a request still in flight.
func TestCloseWaitsForRunningRequests(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		time.Sleep(50 * time.Millisecond) // a slow logger makes an early return visible
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	s := oauthtest.NewServer(oauthtest.Options{Logf: logf})
	login := s.Issue("read", time.Hour)
	s.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: time.Minute})
	done := make(chan reply)
	go func() { done <- refresh(s, login.RefreshToken) }()
	for s.Stats().TokenRequests == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	mu.Lock()
	logged := strings.Join(lines, "\n")
	mu.Unlock()
	if !strings.Contains(logged, "abandoned") {
		t.Errorf("Close returned before the slow request finished; log:\n%s", logged)
	}
	if r := <-done; r.Err == nil {
		t.Errorf("request to a closed server answered %d", r.Status)
	}
	wantActive(t, s, true, login.RefreshToken)
}

// Mounted elsewhere, a closed server answers 503, also to requests that
// were waiting when it closed: never an empty 200.
func TestEmbeddedHandlerAfterClose(t *testing.T) {
	s := oauthtest.NewServer(oauthtest.Options{})
	outer := httptest.NewServer(s.Handler())
	defer outer.Close()
	rt := s.Issue("read", time.Hour).RefreshToken
	s.Inject(oauthtest.Fault{Kind: oauthtest.Slow, Delay: time.Minute})
	done := make(chan reply)
	go func() { done <- postForm(nil, outer.URL+"/token", refreshForm(rt)) }()
	for s.Stats().TokenRequests == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	(<-done).wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	postForm(nil, outer.URL+"/token", refreshForm(rt)).
		wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	wantActive(t, s, true, rt)
}
