package oauthtest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokctl/tokctl/oauthtest"
)

func TestRefreshRotatesAndRevokesPreviousAccessToken(t *testing.T) {
	s := newServer(t, oauthtest.Options{AccessTTL: 90 * time.Second})
	login := s.Issue("openid offline_access", time.Hour)
	if !strings.HasPrefix(login.AccessToken, "at_") || !strings.HasPrefix(login.RefreshToken, "rt_") {
		t.Fatalf("Issue returned %+v, want at_/rt_ prefixes", login)
	}

	r := refresh(s, login.RefreshToken)
	got := r.token(t)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if got.TokenType != "Bearer" || got.ExpiresIn != 90 || got.Scope != "openid offline_access" {
		t.Errorf("response %+v, want Bearer, 90 s, original scope", got)
	}
	if got.RefreshToken == "" || got.RefreshToken == login.RefreshToken || got.AccessToken == login.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", got)
	}
	wantActive(t, s, false, login.RefreshToken, login.AccessToken)
	wantActive(t, s, true, got.RefreshToken, got.AccessToken)

	// The new refresh token works in turn and rotates again.
	next := refresh(s, got.RefreshToken).token(t)
	wantActive(t, s, false, got.RefreshToken, got.AccessToken)
	wantActive(t, s, true, next.RefreshToken, next.AccessToken)
	if st := s.Stats(); st.Refreshes != 2 || st.TokenRequests != 2 || st.InvalidGrants != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReuseRevokesWholeFamily(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read", time.Hour)
	other := s.Issue("read", time.Hour) // another login: must survive
	rotated := refresh(s, login.RefreshToken).token(t)

	r := refresh(s, login.RefreshToken)
	r.wantError(t, http.StatusBadRequest, "invalid_grant")
	if desc, _ := r.fields(t)["error_description"].(string); !strings.Contains(desc, "reuse detected") {
		t.Errorf("error_description %q does not say why", desc)
	}
	// The token issued before the reuse dies with the family, access token too.
	wantActive(t, s, false, rotated.RefreshToken, rotated.AccessToken, login.AccessToken)
	wantActive(t, s, true, other.RefreshToken, other.AccessToken)
	refresh(s, rotated.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")

	st := s.Stats()
	if st.ReuseDetected != 1 || st.FamiliesRevoked != 1 || st.InvalidGrants != 2 || st.Refreshes != 1 {
		t.Errorf("stats %+v, want 1 reuse, 1 family revoked, 2 invalid grants, 1 refresh", st)
	}
}

func TestGraceWindowAcceptsReuseThenTurnsStrict(t *testing.T) {
	t.Parallel()
	const grace = 800 * time.Millisecond
	s := newServer(t, oauthtest.Options{Grace: grace})
	login := s.Issue("read", time.Hour)
	first := refresh(s, login.RefreshToken).token(t)

	// A sibling that still holds the old token, within the grace period.
	second := refresh(s, login.RefreshToken).token(t)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("grace reuse must issue a fresh pair, got %+v", second)
	}
	wantActive(t, s, true, first.RefreshToken, second.RefreshToken, second.AccessToken)
	wantActive(t, s, false, login.RefreshToken)
	if st := s.Stats(); st.GraceReuses != 1 || st.ReuseDetected != 0 || st.Refreshes != 2 {
		t.Fatalf("stats %+v, want 1 grace reuse", st)
	}

	time.Sleep(grace + 100*time.Millisecond)
	refresh(s, login.RefreshToken).wantError(t, http.StatusBadRequest, "invalid_grant")
	wantActive(t, s, false, first.RefreshToken, second.RefreshToken, second.AccessToken)
	if st := s.Stats(); st.ReuseDetected != 1 || st.FamiliesRevoked != 1 {
		t.Errorf("stats %+v, want reuse detected after the grace period", st)
	}
}

func TestNoRotationKeepsRefreshTokenAndOmitsIt(t *testing.T) {
	s := newServer(t, oauthtest.Options{NoRotation: true})
	login := s.Issue("read", time.Hour)
	for i := range 3 {
		r := refresh(s, login.RefreshToken)
		if _, ok := r.fields(t)["refresh_token"]; ok {
			t.Fatalf("refresh %d: response has refresh_token: %s", i, r.Body)
		}
		if tok := r.token(t); !s.Active(tok.AccessToken) {
			t.Fatalf("refresh %d: new access token inactive", i)
		}
	}
	wantActive(t, s, true, login.RefreshToken, login.AccessToken) // Google keeps old ATs too
	if st := s.Stats(); st.Refreshes != 3 || st.ReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestScopeMayNarrowButNotWiden(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read write", time.Hour)

	wide := refreshForm(login.RefreshToken)
	wide.Set("scope", "read admin")
	postForm(nil, s.TokenURL(), wide).wantError(t, http.StatusBadRequest, "invalid_scope")
	wantActive(t, s, true, login.RefreshToken) // a rejected request consumes nothing

	narrow := refreshForm(login.RefreshToken)
	narrow.Set("scope", "read")
	got := postForm(nil, s.TokenURL(), narrow).token(t)
	if got.Scope != "read" {
		t.Errorf("scope %q, want read", got.Scope)
	}
	// The family keeps its original grant.
	if again := refresh(s, got.RefreshToken).token(t); again.Scope != "read write" {
		t.Errorf("scope after narrowing %q, want the original grant", again.Scope)
	}
}

func TestInvalidGrantReasons(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	login := s.Issue("read", time.Hour)
	revoked := s.Issue("read", time.Hour)
	s.RevokeFamilyOf(revoked.RefreshToken)
	for name, rt := range map[string]string{
		"unknown":         "rt_nosuchtoken",
		"access token":    login.AccessToken,
		"revoked by user": revoked.RefreshToken,
	} {
		r := refresh(s, rt)
		r.wantError(t, http.StatusBadRequest, "invalid_grant")
		if desc, _ := r.fields(t)["error_description"].(string); desc == "" {
			t.Errorf("%s: no error_description", name)
		}
	}
	wantActive(t, s, true, login.RefreshToken, login.AccessToken)
	if st := s.Stats(); st.InvalidGrants != 3 || st.FamiliesRevoked != 1 || st.ReuseDetected != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIssueExpiredAccessToken(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	for _, ttl := range []time.Duration{0, -time.Minute} {
		tok := s.Issue("read", ttl)
		if tok.ExpiresIn > -1 {
			t.Errorf("Issue(ttl %v).ExpiresIn = %d, want <= -1", ttl, tok.ExpiresIn)
		}
		wantActive(t, s, false, tok.AccessToken)
		wantActive(t, s, true, tok.RefreshToken)
	}
	if tok := s.Issue("", 1500*time.Millisecond); tok.ExpiresIn != 1 || tok.Scope != "" {
		t.Errorf("Issue(1.5s) = %+v, want expires_in 1, no scope", tok)
	}
}
