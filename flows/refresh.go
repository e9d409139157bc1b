// Package flows talks to an authorization server's token endpoint: the refresh grant that
// tokctl token runs under its lock (Refresher, a creds.Refresher: give it to a creds.Source,
// never call it beside one), the authorization code grant with PKCE through a loopback
// listener, the device and client-credentials grants, ID token checks and revocation.
//
// The refresh request is built here rather than through golang.org/x/oauth2's TokenSource
// because tokctl needs what that API does not expose: extra refresh parameters (GitLab repeats
// redirect_uri, Auth0 sends audience), the error classification Source depends on (HTTP-200
// errors, Retry-After, provider-specific grant errors), a hard cap on response size and time,
// and a refusal to follow redirects away from the token endpoint. The client-authentication
// style is always explicit: never x/oauth2's AutoDetect, which silently re-sends a failed token
// request — and with it a single-use refresh token — in the other style.
package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokctl/tokctl/creds"
)

// DefaultLifetime is assumed for an access token whose response has no expires_in and whose
// provider documents none.
const DefaultLifetime = time.Hour

// Refresher implements creds.Refresher for one client at one token endpoint.
type Refresher struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	// AuthStyle is oauth2.AuthStyleInHeader or oauth2.AuthStyleInParams; AutoDetect is refused.
	AuthStyle oauth2.AuthStyle
	// Params are added to every refresh request (audience, redirect_uri …).
	Params url.Values
	// IsGrantError reports whether an error code (and description) means the refresh token is
	// dead; nil means only "invalid_grant".
	IsGrantError func(code, description string) bool
	// Lifetime is used when a response has no expires_in (zero: DefaultLifetime).
	Lifetime time.Duration
	// Client sends the request; nil means a client built by NewHTTPClient.
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Refresh implements creds.Refresher.
func (r *Refresher) Refresh(ctx context.Context, c *creds.Credential) (*creds.Credential, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.RefreshToken}}
	for k, vs := range r.Params {
		form[k] = vs
	}
	req, err := r.newRequest(ctx, form)
	if err != nil {
		return nil, err
	}
	client := r.Client
	if client == nil {
		client = NewHTTPClient()
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, transportError(ctx, r.TokenURL, err)
	}
	defer resp.Body.Close()
	return r.parse(resp, start)
}

func (r *Refresher) newRequest(ctx context.Context, form url.Values) (*http.Request, error) {
	switch r.AuthStyle {
	case oauth2.AuthStyleInParams:
		form.Set("client_id", r.ClientID)
		if r.ClientSecret != "" {
			form.Set("client_secret", r.ClientSecret)
		}
	case oauth2.AuthStyleInHeader:
	default:
		return nil, fmt.Errorf("refresh: client authentication style must be explicit (in header or in params)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("refresh: token url %q: %w", r.TokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if r.AuthStyle == oauth2.AuthStyleInHeader {
		// RFC 6749 §2.3.1: form-encode both before base64.
		req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(r.ClientSecret))
	}
	return req, nil
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refresher) isGrantError(code, description string) bool {
	if r.IsGrantError != nil {
		return r.IsGrantError(code, description)
	}
	return code == "invalid_grant"
}
