package oauthtest_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/oauthtest"
)

// startDevice asks s for a device code as the default public client.
func startDevice(t *testing.T, s *oauthtest.Server, scope string) map[string]any {
	t.Helper()
	return postForm(nil, s.DeviceURL(), url.Values{"client_id": {"tokctl-test"}, "scope": {scope}}).fields(t)
}

// poll is one device_code grant request.
func poll(s *oauthtest.Server, deviceCode string) reply {
	return postForm(nil, s.TokenURL(), url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode}, "client_id": {"tokctl-test"}})
}

// x/oauth2 as the client: it polls (every whole second: the 100ms interval
// is advertised rounded up) until the user approves, then gets a token
// family with an ID token.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	t.Parallel()
	s := newServer(t, oauthtest.Options{DeviceInterval: 100 * time.Millisecond})
	conf := &oauth2.Config{
		ClientID: "tokctl-test",
		Endpoint: oauth2.Endpoint{DeviceAuthURL: s.DeviceURL(), TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "offline_access"},
	}
	ctx := context.Background()
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[B-Z]{4}-[B-Z]{4}$`).MatchString(da.UserCode) || da.Interval != 1 ||
		da.VerificationURI != s.URL()+"/device" ||
		da.VerificationURIComplete != s.URL()+"/device?user_code="+da.UserCode ||
		time.Until(da.Expiry) < 590*time.Second {
		t.Errorf("device authorization %+v", da)
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := conf.DeviceAccessToken(ctx, da)
		done <- result{tok, err}
	}()
	for s.Stats().DevicePolls == 0 { // the first poll was answered authorization_pending
		time.Sleep(5 * time.Millisecond)
	}
	if !s.ApproveDevice(strings.ToLower(da.UserCode)) {
		t.Fatal("ApproveDevice: user code not pending")
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("DeviceAccessToken: %v", r.err)
	}
	if r.tok.RefreshToken == "" || !s.Active(r.tok.AccessToken) || r.tok.Extra("id_token") == nil {
		t.Errorf("token %+v", r.tok)
	}
	if idt, err := verifyIDToken(t, s, r.tok.Extra("id_token").(string)); err != nil || idt.Claims["sub"] != "user-1" {
		t.Errorf("ID token %v: %v", idt.Claims, err)
	}
	if st := s.Stats(); st.DevicePolls != 2 || st.InvalidGrants != 0 {
		t.Errorf("stats %+v, want 2 polls: pending, then tokens", st)
	}
	// The device code is spent.
	poll(s, da.DeviceCode).wantError(t, http.StatusBadRequest, "invalid_grant")
}

// Polling faster than the interval gets slow_down, and each slow_down
// raises the interval by SlowDownStep for all later polls.
func TestDeviceSlowDownGrowsInterval(t *testing.T) {
	t.Parallel()
	s := newServer(t, oauthtest.Options{DeviceInterval: 100 * time.Millisecond, SlowDownStep: 400 * time.Millisecond})
	resp := startDevice(t, s, "read")
	dc, uc := resp["device_code"].(string), resp["user_code"].(string)
	poll(s, dc).wantError(t, http.StatusBadRequest, "authorization_pending")
	poll(s, dc).wantError(t, http.StatusBadRequest, "slow_down") // interval now 500ms
	time.Sleep(150 * time.Millisecond)                           // enough for 100ms, not for 500ms
	poll(s, dc).wantError(t, http.StatusBadRequest, "slow_down") // interval now 900ms
	time.Sleep(950 * time.Millisecond)
	poll(s, dc).wantError(t, http.StatusBadRequest, "authorization_pending")
	s.ApproveDevice(uc)
	time.Sleep(950 * time.Millisecond)
	if tok := poll(s, dc).token(t); tok.Scope != "read" || tok.RefreshToken == "" || tok.IDToken != "" {
		t.Errorf("token %+v", tok)
	}
	if st := s.Stats(); st.DevicePolls != 5 {
		t.Errorf("DevicePolls = %d, want 5", st.DevicePolls)
	}
}

func TestDeviceDenied(t *testing.T) {
	s := newServer(t, oauthtest.Options{DeviceInterval: time.Millisecond})
	resp := startDevice(t, s, "read")
	dc, uc := resp["device_code"].(string), resp["user_code"].(string)
	if !s.DenyDevice(uc) {
		t.Fatal("DenyDevice: not pending")
	}
	if s.ApproveDevice(uc) {
		t.Error("ApproveDevice after DenyDevice succeeded")
	}
	poll(s, dc).wantError(t, http.StatusBadRequest, "access_denied")
	time.Sleep(2 * time.Millisecond)
	poll(s, dc).wantError(t, http.StatusBadRequest, "access_denied")
}

func TestDeviceCodeExpires(t *testing.T) {
	s := newServer(t, oauthtest.Options{DeviceTTL: 100 * time.Millisecond, DeviceInterval: time.Millisecond})
	resp := startDevice(t, s, "read")
	if resp["expires_in"] != 1.0 || resp["interval"] != 1.0 {
		t.Errorf("expires_in %v interval %v, want both rounded up to 1", resp["expires_in"], resp["interval"])
	}
	dc, uc := resp["device_code"].(string), resp["user_code"].(string)
	poll(s, dc).wantError(t, http.StatusBadRequest, "authorization_pending")
	time.Sleep(150 * time.Millisecond)
	if s.ApproveDevice(uc) {
		t.Error("ApproveDevice of an expired code succeeded")
	}
	poll(s, dc).wantError(t, http.StatusBadRequest, "expired_token")
}

// The verification page approves the code a browser brings; a second
// visit, or an unknown code, gets an error page.
func TestDeviceVerificationPage(t *testing.T) {
	s := newServer(t, oauthtest.Options{DeviceInterval: time.Millisecond})
	resp := startDevice(t, s, "read")
	get := func(u string) (int, string) {
		t.Helper()
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get(resp["verification_uri"].(string)); code != http.StatusOK || !strings.Contains(body, `name="user_code"`) {
		t.Errorf("form page: %d %q", code, body)
	}
	poll(s, resp["device_code"].(string)).wantError(t, http.StatusBadRequest, "authorization_pending")
	if code, body := get(resp["verification_uri_complete"].(string)); code != http.StatusOK || !strings.Contains(body, "device approved") {
		t.Fatalf("approval page: %d %q", code, body)
	}
	if code, _ := get(resp["verification_uri_complete"].(string)); code != http.StatusBadRequest {
		t.Errorf("second visit: %d, want 400", code)
	}
	if code, _ := get(s.VerificationURL() + "?user_code=BBBB-BBBB"); code != http.StatusBadRequest {
		t.Errorf("unknown code: %d, want 400", code)
	}
	time.Sleep(2 * time.Millisecond)
	poll(s, resp["device_code"].(string)).token(t)
}

func TestDeviceErrors(t *testing.T) {
	s := newServer(t, oauthtest.Options{Scopes: []string{"read"}})
	postForm(nil, s.DeviceURL(), url.Values{"scope": {"read"}}).wantError(t, http.StatusUnauthorized, "invalid_client")
	postForm(nil, s.DeviceURL(), url.Values{"client_id": {"tokctl-test"}, "scope": {"admin"}}).
		wantError(t, http.StatusBadRequest, "invalid_scope")
	poll(s, "dc_forged").wantError(t, http.StatusBadRequest, "invalid_grant")
	postForm(nil, s.TokenURL(), url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {"tokctl-test"}}).wantError(t, http.StatusBadRequest, "invalid_request")

	// Entra-style custom error codes.
	entra := newServer(t, oauthtest.Options{DeviceErrorCode: "authorization_declined"})
	resp := startDevice(t, entra, "read")
	entra.ApproveDevice(resp["user_code"].(string))
	poll(entra, resp["device_code"].(string)).wantError(t, http.StatusBadRequest, "authorization_declined")
}
