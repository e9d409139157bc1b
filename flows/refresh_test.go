package flows

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/oauthtest"
)

func newRefresher(srv *oauthtest.Server) *Refresher {
	return &Refresher{TokenURL: srv.TokenURL(), ClientID: "tokctl-test", AuthStyle: oauth2.AuthStyleInParams}
}

func expiredFamily(srv *oauthtest.Server) *creds.Credential {
	r := srv.Issue("openid", -time.Minute)
	return &creds.Credential{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken}
}

func TestRefreshRotates(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{AccessTTL: 10 * time.Minute})
	defer srv.Close()
	old := expiredFamily(srv)
	got, err := newRefresher(srv).Refresh(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == "" || got.RefreshToken == "" || got.RefreshToken == old.RefreshToken {
		t.Fatalf("not a rotated pair: %+v", got)
	}
	if d := time.Until(got.Expiry); d < 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("expiry in %s, want about 10m", d)
	}
	if !srv.Active(got.RefreshToken) || srv.Active(old.RefreshToken) {
		t.Fatal("server does not agree on the rotation")
	}
}

// Each failure comes back as the kind creds.Source acts on.
func TestRefreshClassifiesFailures(t *testing.T) {
	type kind int
	const (
		transient kind = iota
		grant
		final
		ok
	)
	cases := []struct {
		name  string
		fault *oauthtest.Fault
		edit  func(*Refresher)
		want  kind
		check func(t *testing.T, c *creds.Credential, err error)
	}{
		{name: "500", fault: &oauthtest.Fault{Kind: oauthtest.ServerError}, want: transient},
		{name: "502 after rotating", fault: &oauthtest.Fault{Kind: oauthtest.ServerErrorAfterProcessing}, want: transient},
		{name: "429 with Retry-After", fault: &oauthtest.Fault{Kind: oauthtest.RateLimited, RetryAfter: 7 * time.Second}, want: transient,
			check: func(t *testing.T, _ *creds.Credential, err error) {
				var te *creds.TransientError
				if errors.As(err, &te) && te.RetryAfter != 7*time.Second {
					t.Fatalf("RetryAfter %s, want 7s", te.RetryAfter)
				}
			}},
		{name: "503 temporarily_unavailable", fault: &oauthtest.Fault{Kind: oauthtest.Unavailable}, want: transient},
		{name: "truncated 200", fault: &oauthtest.Fault{Kind: oauthtest.Truncated}, want: transient},
		{name: "connection hung up", fault: &oauthtest.Fault{Kind: oauthtest.HangUp}, want: transient},
		{name: "10 MB body refused", fault: &oauthtest.Fault{Kind: oauthtest.HugeBody}, want: final,
			check: func(t *testing.T, _ *creds.Credential, err error) {
				if !strings.Contains(err.Error(), "larger than") {
					t.Fatalf("error %q does not say why", err)
				}
			}},
		{name: "HTTP 200 bad_refresh_token (GitHub)", fault: &oauthtest.Fault{Kind: oauthtest.HTTP200Error, Code: "bad_refresh_token"},
			edit: func(r *Refresher) {
				r.IsGrantError = func(code, _ string) bool { return code == "invalid_grant" || code == "bad_refresh_token" }
			}, want: grant},
		{name: "HTTP 200 unknown error code", fault: &oauthtest.Fault{Kind: oauthtest.HTTP200Error, Code: "incorrect_client_credentials"}, want: final},
		{name: "400 invalid_scope", fault: &oauthtest.Fault{Kind: oauthtest.ErrorStatus, Status: 400, Code: "invalid_scope"}, want: final},
		{name: "wrong client", edit: func(r *Refresher) { r.ClientID = "nobody" }, want: final,
			check: func(t *testing.T, _ *creds.Credential, err error) {
				var pe *ProviderError
				if !errors.As(err, &pe) || pe.Code != "invalid_client" {
					t.Fatalf("error %v, want invalid_client", err)
				}
			}},
		{name: "no expires_in: the configured lifetime", fault: &oauthtest.Fault{Kind: oauthtest.NoExpiresIn},
			edit: func(r *Refresher) { r.Lifetime = 15 * time.Minute }, want: ok,
			check: func(t *testing.T, c *creds.Credential, _ error) {
				if d := time.Until(c.Expiry); d < 14*time.Minute || d > 15*time.Minute {
					t.Fatalf("expiry in %s, want 15m", d)
				}
			}},
		{name: "no refresh_token in the response", fault: &oauthtest.Fault{Kind: oauthtest.NoRefreshToken}, want: ok,
			check: func(t *testing.T, c *creds.Credential, _ error) {
				if c.RefreshToken != "" {
					t.Fatal("invented a refresh token")
				}
			}},
		{name: "auto-detected auth style refused", edit: func(r *Refresher) { r.AuthStyle = oauth2.AuthStyleAutoDetect }, want: final},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := oauthtest.NewServer(oauthtest.Options{})
			defer srv.Close()
			r := newRefresher(srv)
			if tc.edit != nil {
				tc.edit(r)
			}
			if tc.fault != nil {
				srv.Inject(*tc.fault)
			}
			c, err := r.Refresh(context.Background(), expiredFamily(srv))
			var (
				te *creds.TransientError
				ge *creds.GrantError
			)
			got := final
			switch {
			case err == nil:
				got = ok
			case errors.As(err, &te):
				got = transient
			case errors.As(err, &ge):
				got = grant
			}
			if got != tc.want {
				t.Fatalf("Refresh = %v (kind %d), want kind %d", err, got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, c, err)
			}
		})
	}
}

func TestRevokedFamilyIsAGrantError(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	c := expiredFamily(srv)
	srv.RevokeFamilyOf(c.RefreshToken)
	var ge *creds.GrantError
	if _, err := newRefresher(srv).Refresh(context.Background(), c); !errors.As(err, &ge) || ge.Code != "invalid_grant" {
		t.Fatalf("Refresh = %v, want invalid_grant", err)
	}
}

// A token endpoint that redirects is refused: the refresh token is never sent elsewhere.
func TestRedirectIsNotFollowed(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{})
	defer srv.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.TokenURL(), http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	r := newRefresher(srv)
	r.TokenURL = redirector.URL
	_, err := r.Refresh(context.Background(), expiredFamily(srv))
	var te *creds.TransientError
	if err == nil || errors.As(err, &te) || !strings.Contains(err.Error(), "refusing to follow") {
		t.Fatalf("Refresh = %v, want a final redirect refusal", err)
	}
	if n := srv.Stats().TokenRequests; n != 0 {
		t.Fatalf("the redirect was followed: %d requests reached the server", n)
	}
}

// Both client authentication styles reach a confidential client's server.
func TestClientSecretStyles(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		srv := oauthtest.NewServer(oauthtest.Options{ClientSecret: "s3cr%t&"})
		r := newRefresher(srv)
		r.AuthStyle, r.ClientSecret = style, "s3cr%t&"
		if _, err := r.Refresh(context.Background(), expiredFamily(srv)); err != nil {
			t.Errorf("style %d: %v", style, err)
		}
		srv.Close()
	}
}

func TestCancelIsNotTransient(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{Latency: 5 * time.Second})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := newRefresher(srv).Refresh(ctx, expiredFamily(srv)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh = %v, want context.Canceled", err)
	}
}
