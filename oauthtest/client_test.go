package oauthtest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/oauthtest"
)

// basic sets client_secret_basic credentials, form-urlencoded per RFC 6749 §2.3.1.
func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func TestClientAuthentication(t *testing.T) {
	const id, secret = "tokctl-ci", "s3cr:t/+&="
	s := newServer(t, oauthtest.Options{ClientID: id, ClientSecret: secret})
	form := func(rt string, kv ...string) url.Values {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	rt := s.Issue("read", time.Hour).RefreshToken

	t.Run("client_secret_basic", func(t *testing.T) {
		rt = postForm(nil, s.TokenURL(), form(rt), basic(id, secret)).token(t).RefreshToken
	})
	t.Run("client_secret_post", func(t *testing.T) {
		rt = postForm(nil, s.TokenURL(), form(rt, "client_id", id, "client_secret", secret)).token(t).RefreshToken
	})
	rejected := map[string]reply{
		"no credentials":     postForm(nil, s.TokenURL(), form(rt)),
		"no secret":          postForm(nil, s.TokenURL(), form(rt, "client_id", id)),
		"wrong secret post":  postForm(nil, s.TokenURL(), form(rt, "client_id", id, "client_secret", "nope")),
		"wrong secret basic": postForm(nil, s.TokenURL(), form(rt), basic(id, "nope")),
		"wrong client":       postForm(nil, s.TokenURL(), form(rt, "client_id", "intruder", "client_secret", secret)),
		"wrong client basic": postForm(nil, s.TokenURL(), form(rt), basic("intruder", secret)),
		"bearer scheme": postForm(nil, s.TokenURL(), form(rt), func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+secret)
		}),
	}
	for name, r := range rejected {
		t.Run(name, func(t *testing.T) {
			r.wantError(t, http.StatusUnauthorized, "invalid_client")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("both methods", func(t *testing.T) {
		r := postForm(nil, s.TokenURL(), form(rt, "client_secret", secret), basic(id, secret))
		r.wantError(t, http.StatusBadRequest, "invalid_request")
	})
	// None of the rejected requests consumed the refresh token.
	wantActive(t, s, true, rt)
}

func TestPublicClientMustNameItself(t *testing.T) {
	s := newServer(t, oauthtest.Options{})
	rt := s.Issue("read", time.Hour).RefreshToken
	anonymous := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	postForm(nil, s.TokenURL(), anonymous).wantError(t, http.StatusUnauthorized, "invalid_client")
	postForm(nil, s.TokenURL(), anonymous, basic("tokctl-test", "")).token(t)
}

// golang.org/x/oauth2 as a real client: an expired token is refreshed
// through the server with each explicit auth style.
func TestXOAuth2ClientRefreshes(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		s := newServer(t, oauthtest.Options{ClientSecret: "hunter2", AccessTTL: time.Minute})
		login := s.Issue("read", -time.Second)
		conf := &oauth2.Config{
			ClientID:     "tokctl-test",
			ClientSecret: "hunter2",
			Endpoint:     oauth2.Endpoint{TokenURL: s.TokenURL(), AuthStyle: style},
		}
		old := &oauth2.Token{AccessToken: login.AccessToken, RefreshToken: login.RefreshToken,
			Expiry: time.Now().Add(-time.Second)}
		got, err := conf.TokenSource(context.Background(), old).Token()
		if err != nil {
			t.Fatalf("style %d: refresh: %v", style, err)
		}
		if got.RefreshToken == old.RefreshToken || !s.Active(got.AccessToken) || !s.Active(got.RefreshToken) {
			t.Errorf("style %d: got %+v, want a rotated, active pair", style, got)
		}
		if left := time.Until(got.Expiry); left < 50*time.Second || left > 61*time.Second {
			t.Errorf("style %d: expiry in %v, want about 1m", style, left)
		}
		wantActive(t, s, false, old.RefreshToken)

		// Presenting the rotated-away token again is reuse: x/oauth2 sees
		// invalid_grant as a *RetrieveError.
		_, err = conf.TokenSource(context.Background(), old).Token()
		if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
			t.Errorf("style %d: reuse gave %v, want RetrieveError invalid_grant", style, err)
		}
		wantActive(t, s, false, got.AccessToken)
	}
}
